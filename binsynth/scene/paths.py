"""Source paths: where a moving source is at each moment, and the 100 ms grid on which it is
rendered and labelled.

A moving source's :attr:`SourceSpec.motion <binsynth.scene.record.SourceSpec>` is one of

* ``{"path": "arc", "angular_speed_deg_s": w}``: distance and elevation stay those of its
  start (``azimuth_deg``, ``elevation_deg``, ``distance_m``, head frame); the azimuth turns
  at ``w`` degrees per second (signed: + is counter-clockwise seen from above, towards the
  left ear);
* ``{"path": "line", "end_m": [x, y, z]}``: a straight segment in the room frame from
  ``position_m`` to ``end_m`` (metres), run at constant speed over the source's span.

The path runs over the source's span, τ = t - onset_s in [0, offset_s - onset_s], and holds
its end points outside it. The grid: frame j covers [0.1 j, 0.1 (j + 1)) s of the clip (the
DCASE / STARSS23 label frame); its **keyframe** is at its centre, sample j·H + H // 2 with
H = fs / 10. The renderer places one impulse response per keyframe (see
:mod:`binsynth.render.motion`) and the ``trajectory`` label of a source is the path at the
keyframes of the frames it is active in, so labels are the positions actually rendered.
"""

from __future__ import annotations

import numpy as np

from binsynth.geometry import head_to_room, room_to_head, cart_to_sph

#: Label frame and keyframe spacing, seconds (DCASE / STARSS23).
FRAME_S = 0.1


def hop_samples(fs_hz: int) -> int:
    """Keyframe spacing in samples at ``fs_hz`` (every supported rate is a multiple of 10 Hz)."""
    return int(round(FRAME_S * fs_hz))


def keyframe_centres(start: int, stop: int, hop: int) -> np.ndarray:
    """Clip samples j·hop + hop // 2 of the keyframes whose windows [c - hop, c + hop) overlap
    the samples [start, stop) (int64, ascending)."""
    half = hop // 2
    first = (start - half - hop) // hop + 1
    last = -((half - hop - stop) // hop) - 1
    return np.arange(first, last + 1, dtype=np.int64) * hop + half


def active_frames(onset_s: float, offset_s: float, fs_hz: int) -> range:
    """Indices of the 100 ms frames holding a sample of a source placed over [onset_s, offset_s)
    (the renderer's samples: round(onset · fs) up to round(offset · fs))."""
    hop = hop_samples(fs_hz)
    start, stop = int(round(onset_s * fs_hz)), int(round(offset_s * fs_hz))
    return range(start // hop, (stop - 1) // hop + 1 if stop > start else start // hop)


def positions_at(source, listener, t_s) -> np.ndarray:
    """Room-frame positions (..., 3), metres, of ``source`` (a SourceSpec) at clip times ``t_s``
    (seconds; a static source is where it is at every time)."""
    t = np.asarray(t_s, dtype=np.float64)
    motion = source.motion
    if motion is None:
        return np.broadcast_to(np.asarray(source.position_m, dtype=np.float64), t.shape + (3,)).copy()
    span = source.offset_s - source.onset_s
    tau = np.clip(t - source.onset_s, 0.0, span)
    if motion["path"] == "arc":
        az = source.azimuth_deg + motion["angular_speed_deg_s"] * tau
        return head_to_room(az, source.elevation_deg, source.distance_m, listener.position_m, listener.yaw_deg,
                            listener.pitch_deg)
    start, end = np.asarray(source.position_m, dtype=np.float64), np.asarray(motion["end_m"], dtype=np.float64)
    return start + (tau / span)[..., None] * (end - start)


def head_directions(points_m: np.ndarray, listener) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(azimuth_deg, elevation_deg, distance_m) of room-frame points seen from ``listener``."""
    return cart_to_sph(room_to_head(points_m, listener.position_m, listener.yaw_deg, listener.pitch_deg))


def frame_times(source, fs_hz: int) -> np.ndarray:
    """Clip times (seconds) of the keyframes of the frames ``source`` is active in."""
    hop = hop_samples(fs_hz)
    frames = np.asarray(active_frames(source.onset_s, source.offset_s, fs_hz), dtype=np.int64)
    return (frames * hop + hop // 2) / fs_hz


def trajectory(source, listener, fs_hz: int) -> list[list[float]]:
    """``[[t_s, azimuth_deg, elevation_deg, distance_m], ...]`` at the keyframes of the frames the
    source is active in (t = the frame's centre); [] for a static source."""
    if source.motion is None:
        return []
    t = frame_times(source, fs_hz)
    az, el, dist = head_directions(positions_at(source, listener, t), listener)
    return [[float(a), float(b), float(c), float(d)] for a, b, c, d in zip(t, az, el, dist)]


def speeds_m_s(source, listener, fs_hz: int) -> np.ndarray:
    """Speeds (m/s) between consecutive keyframes of the active frames (empty when static)."""
    t = frame_times(source, fs_hz)
    if source.motion is None or t.size < 2:
        return np.zeros(0)
    p = positions_at(source, listener, t)
    return np.linalg.norm(np.diff(p, axis=0), axis=1) / np.diff(t)
