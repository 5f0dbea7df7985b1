"""Diffuse binaural late reverberation.

In a room of volume V, image sources arrive at a rate 4π c³ t² / V per second, each with
amplitude 1/(c t) times its reflection and air losses, so the expected energy the image
model delivers per sample at time t is

    (4π c / (V fs)) · E_ear(f) · exp(-δ_b t)

with E_ear the diffuse-field (direction-averaged) HRTF power and δ_b the band's energy
decay rate (Eyring + air, :attr:`ShoeboxRoom.decay_rate_per_s`). The tail is exactly
that: two counter-based Gaussian noises (:mod:`binsynth.noise`) mixed per frequency as
L = √P_L (a n₁ + b n₂), R = √P_R (a n₁ − b n₂) with a² − b² = γ(f), the set's
diffuse-field interaural coherence, then split into octave bands (masks that sum to 1)
and shaped by each band's decay envelope. Being the image model's own expectation, it
joins the early part without an energy step.
"""

from __future__ import annotations

import numpy as np
import torch

from binsynth.acoustics.bands import band_masks
from binsynth.acoustics.hrtf import HRTFSet
from binsynth.constants import SPEED_OF_SOUND_M_S
from binsynth.noise import gaussian, stream_key


def _diffuse_curves(hrtf: HRTFSet, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse power (2, F) and coherence (F,) at ``n_fft`` bins, interpolated from a short FFT.

    The HRIRs are short, so their spectra are smooth: computing them on 2 × n_taps points
    and interpolating avoids FFTs of every direction at the tail's length.
    """
    short = 2 * hrtf.n_taps
    f_short = np.fft.rfftfreq(short)
    f = np.fft.rfftfreq(n_fft)
    p = hrtf.diffuse_power(short)
    coh = hrtf.diffuse_coherence(short)
    return np.stack([np.interp(f, f_short, p[e]) for e in (0, 1)]), np.interp(f, f_short, coh)


def diffuse_tail(
    *,
    hrtf: HRTFSet,
    fs_hz: int,
    decay_rate_per_s: np.ndarray,
    volume_m3: np.ndarray,
    transition_s: np.ndarray,
    fade_s: float,
    n_taps: np.ndarray,
    n_fft: int,
    seeds: list[int],
    level_db: np.ndarray | None = None,
    device: torch.device,
) -> torch.Tensor:
    """Tails for R requests, (R, 2, n_fft) float32; sample 0 = emission.

    decay_rate_per_s: (R, 7) energy decay rates; volume_m3, transition_s, n_taps: (R,).
    level_db: (R, 7) per-band level offsets (to match the early part), default 0.
    Each tail fades in over ``fade_s`` centred on its transition time (sin ramp, the
    complement of the early part's cos ramp) and is zero from ``n_taps`` on.
    """
    r = len(seeds)
    power, coh = _diffuse_curves(hrtf, n_fft)
    keys = [stream_key("tail", int(s), k) for s in seeds for k in (0, 1)]
    noise = gaussian(keys, n_fft, device=device).reshape(r, 2, n_fft)
    spec = torch.fft.rfft(noise, dim=-1)  # (R, 2, F)
    a = torch.as_tensor(np.sqrt((1 + coh) / 2), dtype=torch.float32, device=device)
    b = torch.as_tensor(np.sqrt((1 - coh) / 2), dtype=torch.float32, device=device)
    sp = torch.as_tensor(np.sqrt(power), dtype=torch.float32, device=device)
    ears = torch.stack([sp[0] * (a * spec[:, 0] + b * spec[:, 1]), sp[1] * (a * spec[:, 0] - b * spec[:, 1])], dim=1)
    masks = torch.tensor(band_masks(n_fft, float(fs_hz)), dtype=torch.float32, device=device)
    bands = torch.fft.irfft(ears[:, :, None, :] * masks[None, None], n_fft, dim=-1)  # (R, 2, B, T)

    t = torch.arange(n_fft, dtype=torch.float64, device=device) / fs_hz
    rate = torch.as_tensor(decay_rate_per_s, dtype=torch.float64, device=device)
    level = torch.as_tensor(np.sqrt(4 * np.pi * SPEED_OF_SOUND_M_S / (np.asarray(volume_m3) * fs_hz)), device=device)
    band_gain = 10.0 ** (np.zeros_like(decay_rate_per_s) if level_db is None else np.asarray(level_db) / 20.0)
    level = level[:, None] * torch.as_tensor(band_gain, device=device)  # (R, B)
    env = level[:, :, None] * torch.exp(-0.5 * rate[:, :, None] * t)  # (R, B, T) pressure envelope
    start = torch.as_tensor(np.asarray(transition_s) - fade_s / 2, device=device)
    ramp = ((t[None, :] - start[:, None]) / fade_s).clamp(0.0, 1.0)
    ramp = torch.sin(0.5 * torch.pi * ramp) * (t[None, :] < torch.as_tensor(n_taps, device=device)[:, None] / fs_hz)
    env = (env * ramp[:, None, :]).to(torch.float32)
    return (bands * env[:, None]).sum(dim=2)
