"""Moving sources: time-varying convolution by crossfaded segments.

A source that moves is cut into segments by Hann windows of 2 × ``hop`` samples placed every
``hop`` samples from its onset (centres 0, hop, 2 hop, …); 50 %-overlapping periodic Hann
windows sum to exactly 1, so the segments add back to the dry signal. Segment k is rendered
as a static source at the path's position at its centre, and the renderer sums all
segments: output = Σ_k (w_k · x) * h_k. Each impulse response is therefore faded in and out
over 2 × hop instead of switched (no click at a switch, unlike hard segment switching), and a
path that does not move gives exactly the static render. The segments share their source's
diffuse-tail key, so a still source's tail is one noise.

What this models: the direct sound's and every reflection's direction, delay and level
follow the path at the hop's resolution (a delay that changes across segments gives the
Doppler shift only to that resolution, as a phase step smoothed by the crossfade; there is no
sample-exact Doppler resampling). Positions are in the room frame, metres; times in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from binsynth.errors import ConfigError
from binsynth.render.renderer import Source

#: Spacing of the impulse responses along a path, seconds (segments are twice as long).
HOP_S = 0.05


def segment_windows(n: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (K,) in samples and windows (K, 2 hop) float64 of the segments covering n
    samples; window k spans samples [centre_k - hop, centre_k + hop) and the windows sum to 1
    on [0, n)."""
    if hop < 1:
        raise ConfigError(f"hop {hop}: must be at least one sample")
    centres = np.arange(0, n + hop, hop)
    window = 0.5 - 0.5 * np.cos(np.pi * np.arange(2 * hop) / hop)
    return centres, np.broadcast_to(window, (centres.size, 2 * hop))


def moving_source(signal: np.ndarray, fs_hz: int, position_at: Callable[[float], np.ndarray], *,
                  onset_s: float = 0.0, gain_db: float = 0.0, tail_index: int, hop_s: float = HOP_S) -> list[Source]:
    """The segments of a dry mono ``signal`` whose position at ``t`` seconds after its onset is
    ``position_at(t)`` (room frame, metres): static :class:`Source` s to render together.

    ``tail_index``: the source's index in its scene (the key of its diffuse tail).
    """
    x = np.asarray(signal, dtype=np.float32)
    hop = int(round(hop_s * fs_hz))
    start = int(round(onset_s * fs_hz))  # rounded once: every segment lands on the same grid
    centres, windows = segment_windows(x.size, hop)
    out = []
    for c, w in zip(centres, windows):
        lo, hi = max(0, c - hop), min(x.size, c + hop)
        if hi <= lo:
            continue
        part = (x[lo:hi] * w[lo - (c - hop) : hi - (c - hop)]).astype(np.float32)
        out.append(Source(part, np.asarray(position_at(c / fs_hz), dtype=np.float64), onset_s=(start + lo) / fs_hz,
                          gain_db=gain_db, tail_index=tail_index))
    return out
