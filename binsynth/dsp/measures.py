"""Measures of impulse responses: onset time, Schroeder decay, T30. Times in samples or
seconds as named; ``ir`` arrays hold time on the last axis."""

from __future__ import annotations

import numpy as np
from scipy import signal


def onset_samples(ir: np.ndarray, threshold_db: float = -10.0, upsample: int = 8) -> np.ndarray:
    """Onset of impulse responses in (fractional) samples, shape ir.shape[:-1].

    The onset is the first time |h| reaches ``threshold_db`` relative to its own peak,
    found on an ``upsample``-times oversampled copy (polyphase FIR) and refined by linear
    interpolation between the two oversampled samples around the crossing.
    """
    ir = np.asarray(ir, dtype=np.float64)
    up = signal.resample_poly(ir, upsample, 1, axis=-1)
    mag = np.abs(up)
    thr = mag.max(axis=-1, keepdims=True) * 10.0 ** (threshold_db / 20.0)
    above = mag >= thr
    first = np.argmax(above, axis=-1)
    prev = np.maximum(first - 1, 0)
    a = np.take_along_axis(mag, prev[..., None], -1)[..., 0]
    b = np.take_along_axis(mag, first[..., None], -1)[..., 0]
    t = thr[..., 0]
    frac = np.where((first > 0) & (b > a), (t - a) / np.where(b > a, b - a, 1.0), 0.0)
    return (prev + frac * (first > 0)) / upsample


def schroeder_decay_db(ir: np.ndarray) -> np.ndarray:
    """Schroeder backward-integrated energy decay curve in dB (0 dB at t=0).

    ``ir`` is (n,) or (channels, n); channel energies are summed.
    """
    energy = np.asarray(ir, dtype=np.float64) ** 2
    if energy.ndim > 1:
        energy = energy.reshape(-1, energy.shape[-1]).sum(axis=0)
    e = np.cumsum(energy[::-1])[::-1]
    if not e[0] > 0:  # a silent channel (an FOA Z in the horizontal plane): the floor throughout
        return np.full(e.shape, -3000.0)
    return 10.0 * np.log10(np.maximum(e / e[0], 1e-300))


def t30_s(ir: np.ndarray, fs_hz: float) -> float:
    """Reverberation time in seconds from a line fit to the Schroeder curve, -5 to -35 dB."""
    edc = schroeder_decay_db(ir)
    i5 = int(np.argmax(edc <= -5.0))
    i35 = int(np.argmax(edc <= -35.0))
    if i35 <= i5:
        raise ValueError("decay does not reach -35 dB; the impulse response is too short")
    t = np.arange(i5, i35) / fs_hz
    slope, _ = np.polyfit(t, edc[i5:i35], 1)
    return float(-60.0 / slope)
