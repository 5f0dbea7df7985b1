"""Reference binaural renderer: pyroomacoustics' image sources + a measured HRTF.

This is the renderer binsynth's own BRIR/render path is tested and benchmarked
against. It is deliberately *pyroomacoustics' own* binaural path, unmodified:

* the listener is a two-microphone array, both microphones at the head centre
  (the HRIRs already carry the interaural delay), microphone 0 with the left-ear
  HRIRs and microphone 1 with the right-ear HRIRs of a SOFA file, loaded as
  :class:`pyroomacoustics.directivities.MeasuredDirectivity` objects;
* the shoebox image-source model runs as usual and every image source is filtered
  by the HRIR measured nearest to *its own* arrival direction (nearest neighbour
  on the measurement grid, no interpolation by default), delayed by a windowed-sinc
  fractional delay and scaled by its wall attenuation over distance
  (``pyroomacoustics/simulation/ism.py``, ``compute_ism_rir``, "Case 3");
* :func:`pra_render_scene` then runs ``room.simulate()`` (one ``fftconvolve`` per
  source and ear).

Conventions (what the code below relies on, pyroomacoustics 0.10.1):

Room frame
    metres, origin at a floor corner, z up. The listener faces ``yaw`` degrees
    counter-clockwise from +x (seen from above), ``pitch`` degrees nose-up.
Head frame (AES69/SOFA)
    +x nose, +y left ear, +z up; azimuth counter-clockwise from the front,
    +90 = left; elevation up. Channel 0 = left ear.
SOFA reader callback
    ``MeasuredDirectivityFile(path, fs, interp_order, interp_n_points,
    file_reader_callback, ...)`` calls ``file_reader_callback(path=Path, fs=fs)``
    with keywords (``directivities/measured.py`` l.425-435) and unpacks six values:
    ``ir`` (n_sources, n_mics, taps), ``fs`` (int), source directions
    (3, n_sources) as *radians* ``[azimuth, colatitude, distance]`` (colatitude =
    90 deg - elevation; ``get_mic_directivity`` feeds rows 0-1 to
    ``GridSphere(spherical_points=...)``, l.552, which calls ``spher2cart``),
    receiver positions (3, n_mics) *cartesian* metres, source labels, microphone
    labels. :func:`sofar_file_reader` implements it with sofar; pyroomacoustics'
    default reader (``directivities/sofa.py``, ``open_sofa_file``) needs
    python-sofa and consults a database that can download files - never used here.
Orientation
    ``MeasuredDirectivity.set_orientation`` (``measured.py`` l.216-236) rotates the
    measurement grid by ``Rotation3D.rotate`` (``R @ points``) and queries a KD-tree
    with the room-frame direction from the microphone to each image source
    (``ism.py`` l.144-152, ``utilities.angle_function`` = ``cart2spher(image - mic)``).
    So ``R`` must map head-frame vectors to room-frame vectors:
    ``R = Rz(yaw) @ Ry(-pitch)`` = ``Rotation3D([-pitch, yaw], "yz", degrees=True)``
    (``direction.py`` l.190-199 left-multiplies the axis rotations in order, and
    ``_make_rot_matrix(a, 2)`` is the counter-clockwise rotation about +z, l.102-109).
Delay
    Image sources with an impulse-response directivity get
    ``floor(t*fs)`` integer delay (``libroom.delay_sum``) convolved with a
    ``frac_delay_length`` (default 81) windowed-sinc filter centred on tap
    ``(fdl - 1) // 2`` (``libroom_src/rir_builder.cpp`` l.286-289 force an odd length
    and put the sinc peak at ``fdl2 + frac``). The pyroomacoustics RIR is therefore
    late by ``(fdl - 1) // 2`` samples (40 at the default) - the "global delay" of
    ``room.py`` l.280-286. We drop those samples: index 0 of our BRIR = emission.
    The HRIR's own onset delay (the measurement's propagation/pre-delay) is kept,
    as it is in the HRIR: the direct path of a source at r metres is
    ``HRIR_nearest`` delayed by ``r / c`` seconds.
Gain
    pyroomacoustics 0.10.1 scales an image source by ``attenuation / dist``
    (``ism.py`` l.136, no ``1/(4*pi)``; older releases used ``1/(4*pi*dist)``, as
    ``soundsource.py`` l.326 still does). binsynth wants the free-field direct path
    to be ``HRIR / r``. :func:`pra_gain_compensation` measures the factor once per
    process on a free-field omni RIR and returns 1.0 on 0.10.x (4*pi on releases
    that include the 1/(4*pi)); every output is multiplied by it.
High-pass
    pyroomacoustics applies its default 10 Hz Butterworth high-pass
    (``constants['rir_hpf_enable']``, zero-phase ``sosfiltfilt``, ``room.py``
    ``compute_rir``) to every RIR; we leave pyroomacoustics' defaults alone.

Only CPU numpy. pyroomacoustics is optional: it is imported inside the functions and a
missing install raises an ImportError that says ``pip install binsynth[dev]``.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from binsynth.errors import ConfigError, GeometryError, HRTFError
from binsynth.reference.pra_sofa import sofar_file_reader

__all__ = [
    "pra_brir",
    "pra_render_scene",
    "sofar_file_reader",
    "pra_gain_compensation",
    "pra_global_delay",
    "clear_cache",
]

_INSTALL_HINT = (
    "binsynth.reference.pra needs pyroomacoustics, an optional dependency: "
    "pip install binsynth[dev]"
)


def _import_pra():
    try:
        import pyroomacoustics as pra
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from exc
    return pra


# --------------------------------------------------------------------------------------
# Cached directivities, gain and delay constants
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _base_directivities(path: str, _mtime_ns: int, _size: int, fs_hz: int, interp_order):
    """(left, right) MeasuredDirectivity with identity orientation, built once.

    Building one costs ~0.2 s (octave-band energies and spherical Voronoi areas of
    every measured IR), so it is cached by (file identity, fs, interp_order).
    """
    _import_pra()
    from pyroomacoustics.directivities import MeasuredDirectivityFile, Rotation3D

    mdf = MeasuredDirectivityFile(
        path, fs=fs_hz, interp_order=interp_order, file_reader_callback=sofar_file_reader
    )
    labels = mdf.mic_labels
    if labels is None or "left" not in labels or "right" not in labels:
        raise HRTFError(f"{path}: need exactly two receivers (left/right ears) at distinct y")
    identity = Rotation3D([0.0], "z", degrees=True)
    return (
        mdf.get_mic_directivity("left", orientation=identity),
        mdf.get_mic_directivity("right", orientation=identity),
    )


def _ear_directivities(sofa_path, fs_hz: int, yaw_deg: float, pitch_deg: float, interp_order):
    from pyroomacoustics.directivities import Rotation3D

    p = Path(sofa_path)
    if not p.is_file():
        raise HRTFError(f"{p}: SOFA file not found")
    st = p.stat()
    base = _base_directivities(str(p.resolve()), st.st_mtime_ns, st.st_size, fs_hz, interp_order)
    # head frame -> room frame: R = Rz(yaw) @ Ry(-pitch) (positive pitch = nose up)
    rot = Rotation3D([-float(pitch_deg), float(yaw_deg)], "yz", degrees=True)
    out = []
    for d in base:
        # Shallow copy shares the IRs and band energies; set_orientation rebinds the
        # rotated grid and KD-tree on the copy only, so the cached object is untouched.
        dc = copy.copy(d)
        dc.set_orientation(rot)
        out.append(dc)
    return out


def clear_cache() -> None:
    """Forget the cached HRTF directivities (e.g. after rewriting a SOFA file in place)."""
    _base_directivities.cache_clear()


def pra_global_delay() -> int:
    """Samples by which pyroomacoustics' RIRs with IR directivities lag emission.

    ``(frac_delay_length - 1) // 2`` (40 by default); see the module docstring.
    """
    pra = _import_pra()
    return (int(pra.constants.get("frac_delay_length")) - 1) // 2


@functools.lru_cache(maxsize=1)
def pra_gain_compensation() -> float:
    """Factor that turns pyroomacoustics' distance law into ``1/r``.

    Measured once on a free-field (max_order=0) omnidirectional RIR with an
    integer-sample delay, where the peak equals pyroomacoustics' distance gain:
    returns 1.0 where it is ``1/r`` (0.10.x, ``simulation/ism.py`` l.136) and
    ``4*pi`` where it is ``1/(4*pi*r)``.
    """
    pra = _import_pra()
    fs = 16000
    n = 64
    c = float(pra.constants.get("c"))
    r = c * n / fs
    room = pra.ShoeBox([8.0, 8.0, 8.0], fs=fs, max_order=0)
    room.add_microphone(np.array([4.0, 4.0, 4.0]))
    room.add_source(np.array([4.0 + r, 4.0, 4.0]))
    room.compute_rir()
    peak = float(np.max(np.abs(room.rir[0][0]))) * r
    for factor in (1.0, 4.0 * math.pi):
        if abs(peak * factor - 1.0) < 0.05:
            return factor
    raise RuntimeError(
        f"unknown pyroomacoustics distance scaling (peak*r = {peak:.4g}); "
        "binsynth.reference.pra was validated with pyroomacoustics 0.10.1"
    )


# --------------------------------------------------------------------------------------
# Room construction
# --------------------------------------------------------------------------------------


def _vec3(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ConfigError(f"{name} must be three finite numbers, got {x!r}")
    return a


def _check_inside(p: np.ndarray, dim: np.ndarray, name: str) -> None:
    if np.any(p <= 0) or np.any(p >= dim):
        raise GeometryError(f"{name} {p.tolist()} is not strictly inside the room {dim.tolist()}")


def _materials(pra, absorption):
    if isinstance(absorption, (int, float, np.floating, np.integer)):
        a = float(absorption)
        if not 0.0 <= a <= 1.0:
            raise ConfigError(f"absorption must be in [0, 1], got {absorption}")
        return pra.Material(energy_absorption=a)
    return absorption  # a pyroomacoustics Material (or dict of wall -> Material)


def _make_room(
    room_dim,
    absorption,
    listener_pos,
    listener_yaw_deg,
    sofa_path,
    fs_hz,
    max_order,
    air_absorption,
    listener_pitch_deg,
    interp_order,
    timings: dict | None = None,
):
    pra = _import_pra()
    t0 = time.perf_counter()
    dim = _vec3(room_dim, "room_dim")
    if np.any(dim <= 0):
        raise ConfigError(f"room_dim must be positive, got {dim.tolist()}")
    lis = _vec3(listener_pos, "listener_pos")
    _check_inside(lis, dim, "listener_pos")
    fs = int(fs_hz)
    if fs != fs_hz or fs <= 0:
        raise ConfigError(f"fs_hz must be a positive integer, got {fs_hz}")
    if int(max_order) != max_order or max_order < 0:
        raise ConfigError(f"max_order must be a non-negative integer, got {max_order}")

    dirs = _ear_directivities(sofa_path, fs, listener_yaw_deg, listener_pitch_deg, interp_order)
    t1 = time.perf_counter()
    room = pra.ShoeBox(
        dim,
        fs=fs,
        max_order=int(max_order),
        materials=_materials(pra, absorption),
        air_absorption=bool(air_absorption),
    )
    # Both "ears" at the head centre: the HRIRs carry the interaural time difference.
    room.add_microphone_array(np.stack([lis, lis], axis=1), directivity=dirs)
    if timings is not None:
        timings["directivity_s"] = timings.get("directivity_s", 0.0) + (t1 - t0)
        timings["room_s"] = timings.get("room_s", 0.0) + (time.perf_counter() - t1)
    return room, dim, lis


def _add_source(room, pos, dim, lis, signal=None, index: int | None = None):
    name = "source_pos" if index is None else f"sources[{index}].position"
    p = _vec3(pos, name)
    _check_inside(p, dim, name)
    if np.linalg.norm(p - lis) < 1e-6:
        raise GeometryError(f"{name} {p.tolist()} coincides with the listener")
    room.add_source(p, signal=signal)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def pra_brir(
    room_dim: Sequence[float],
    absorption,
    listener_pos: Sequence[float],
    listener_yaw_deg: float,
    source_pos: Sequence[float],
    sofa_path: str | os.PathLike,
    fs_hz: int,
    max_order: int,
    air_absorption: bool = False,
    *,
    listener_pitch_deg: float = 0.0,
    interp_order: int | None = None,
) -> np.ndarray:
    """Binaural room impulse response from pyroomacoustics' image-source model.

    Every image source of a shoebox room is rendered with the HRIR measured nearest
    to its own arrival direction at the listener's head (pyroomacoustics'
    ``MeasuredDirectivity`` on a two-microphone "head").

    Parameters
    ----------
    room_dim:
        Shoebox size (x, y, z) in metres; the room spans [0, dim] from a floor corner.
    absorption:
        Energy absorption coefficient in [0, 1] for all six walls, flat over
        frequency; or a ``pyroomacoustics.Material`` (or dict wall -> Material).
    listener_pos, source_pos:
        Room-frame positions in metres, strictly inside the room.
    listener_yaw_deg:
        Direction the listener faces, degrees counter-clockwise from +x.
    sofa_path:
        SOFA HRIR file (read through sofar, resampled to ``fs_hz``).
    fs_hz, max_order:
        Sampling rate and image-source reflection order (0 = direct path only).
    air_absorption:
        pyroomacoustics' octave-band air absorption (turns on multi-band rendering).
    listener_pitch_deg:
        Head pitch, degrees, positive = nose up.
    interp_order:
        ``None`` (default): nearest measured HRIR. An int: pyroomacoustics'
        spherical-harmonic interpolation of that order.

    Returns
    -------
    ndarray, shape (2, n_taps), float64
        Channel 0 = left ear. Index 0 = the moment of emission (pyroomacoustics'
        ``(frac_delay_length - 1) // 2`` samples of global delay removed), scaled so
        a free-field direct path at distance r is ``HRIR / r`` delayed by ``r / c``
        (c = ``pyroomacoustics.constants.get("c")``, 343 m/s by default).
    """
    room, dim, lis = _make_room(
        room_dim, absorption, listener_pos, listener_yaw_deg, sofa_path, fs_hz,
        max_order, air_absorption, listener_pitch_deg, interp_order,
    )
    _add_source(room, source_pos, dim, lis)
    room.compute_rir()
    off = pra_global_delay()
    gain = pra_gain_compensation()
    h = [np.asarray(room.rir[m][0], dtype=np.float64) for m in (0, 1)]
    n = max(len(x) for x in h) - off
    out = np.zeros((2, max(n, 1)), dtype=np.float64)
    for m in (0, 1):
        seg = h[m][off:]
        out[m, : len(seg)] = seg
    out *= gain
    return out


def pra_render_scene(
    room_dim: Sequence[float],
    absorption,
    listener_pos: Sequence[float],
    listener_yaw_deg: float,
    sources: Sequence[tuple[Sequence[float], np.ndarray]],
    sofa_path: str | os.PathLike,
    fs_hz: int,
    max_order: int,
    air_absorption: bool = False,
    *,
    listener_pitch_deg: float = 0.0,
    interp_order: int | None = None,
    timings: dict | None = None,
) -> np.ndarray:
    """Render static sources to two ears with pyroomacoustics' ``room.simulate()``.

    The benchmark baseline: pyroomacoustics' binaural path, per-image-source SOFA
    HRIRs, ``room.simulate()`` (its own ``fftconvolve`` per source and ear).

    Parameters are those of :func:`pra_brir`, with ``sources`` a list of
    ``(position, signal)``: room-frame position (m) and a 1-D dry signal at ``fs_hz``.
    ``timings``, if a dict, receives wall-clock seconds per stage: ``directivity_s``
    (HRTF directivity lookup/rotation; the SOFA file is read and the directivity built
    once per (file, fs) per process), ``room_s``, ``ism_s`` (image sources),
    ``rir_s`` (per-image HRIR selection, fractional delays, overlap-add, high-pass),
    ``simulate_s`` (convolution and mix), ``total_s``.

    Returns
    -------
    ndarray, shape (2, n), float64
        ``n = max_s(len(signal_s) + len(brir_s) - 1)``; the same alignment and gain as
        :func:`pra_brir`, i.e. ``sum_s convolve(signal_s, pra_brir(source_s))``.
    """
    if len(sources) == 0:
        raise ConfigError("sources is empty")
    t_start = time.perf_counter()
    tm: dict = {}
    room, dim, lis = _make_room(
        room_dim, absorption, listener_pos, listener_yaw_deg, sofa_path, fs_hz,
        max_order, air_absorption, listener_pitch_deg, interp_order, timings=tm,
    )
    max_sig = 0
    for i, src in enumerate(sources):
        try:
            pos, sig = src
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"sources[{i}] must be a (position, signal) pair") from exc
        sig = np.asarray(sig, dtype=np.float64)
        if sig.ndim != 1 or sig.size == 0:
            raise ConfigError(f"sources[{i}].signal must be a non-empty 1-D array, got shape {sig.shape}")
        max_sig = max(max_sig, sig.size)
        _add_source(room, pos, dim, lis, signal=sig, index=i)

    t = time.perf_counter()
    room.image_source_model()
    tm["ism_s"] = time.perf_counter() - t
    t = time.perf_counter()
    room.compute_rir()
    tm["rir_s"] = time.perf_counter() - t
    t = time.perf_counter()
    room.simulate()  # RIRs already computed: convolution + mix only
    tm["simulate_s"] = time.perf_counter() - t

    off = pra_global_delay()
    max_rir = max(len(r) for row in room.rir for r in row)
    n_out = max(max_rir - off, 1) + max_sig - 1
    sig_out = np.asarray(room.mic_array.signals, dtype=np.float64)
    out = np.zeros((2, n_out), dtype=np.float64)
    seg = sig_out[:, off : off + n_out]
    out[:, : seg.shape[1]] = seg
    out *= pra_gain_compensation()
    tm["total_s"] = time.perf_counter() - t_start
    if timings is not None:
        timings.update(tm)
    return out
