"""Diffuse binaural late reverberation.

In a room of volume V, image sources arrive at a rate 4π c³ t² / V per second, each with
amplitude 1/(c t) times its reflection and air losses, so the expected energy the image
model delivers per sample at time t is

    (4π c / (V fs)) · E_ear(f) · exp(-δ_b t)

with E_ear the diffuse-field (direction-averaged) HRTF power and δ_b the band's energy
decay rate (Eyring + air, :attr:`ShoeboxRoom.decay_rate_per_s`). The tail is exactly
that: two counter-based Gaussian noises (:mod:`binsynth.dsp.noise`) mixed per frequency as
L = √P_L (a n₁ + b n₂), R = √P_R (a n₁ − b n₂) with a² − b² = γ(f), the set's
diffuse-field interaural coherence, then split into octave bands (masks that sum to 1)
and shaped by each band's decay envelope. Being the image model's own expectation, it
joins the early part without an energy step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from binsynth.acoustics.bands import band_masks, band_response
from binsynth.acoustics.hrtf import HRTFSet
from binsynth.constants import SPEED_OF_SOUND_M_S
from binsynth.dsp.noise import gaussian, stream_key


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


def hop_samples(fs_hz: int) -> int:
    """Frame hop of the tail synthesis: the power of two nearest 10 ms."""
    return 1 << int(round(np.log2(0.010 * fs_hz)))


def diffuse_tail(*, hrtf: HRTFSet, fs_hz: int, device: torch.device, **shape) -> torch.Tensor:
    """Tails for R requests, (R, 2, max(n_taps)) float32; sample 0 = emission.

    ``shape`` holds :func:`shaped_tail`'s keywords: decay_rate_per_s (R, 7) energy decay
    rates; volume_m3, transition_s, n_taps (R,); fade_s; seeds (R keys); level_db (R, 7)
    per-band level offsets to match the early part (None: 0).
    Each tail fades in over ``fade_s`` centred on its transition time (sin ramp, the
    complement of the early part's cos ramp) and is zero from ``n_taps`` on.

    The noise is shaped in short-time frames (2 × hop samples, hop ≈ 10 ms, sqrt-Hann
    analysis and synthesis windows whose product sums to one): each frame's spectrum is
    shaped by the diffuse-field spectrum, the coherence mixing and the bands' decay at
    the frame's centre, then overlap-added. One inverse FFT per frame and ear replaces
    one per band, and frame m depends only on (seed, m), so a tail does not depend on
    what it is batched with or on its length.
    """
    power, coh = _diffuse_curves(hrtf, 2 * hop_samples(fs_hz))
    a = torch.as_tensor(np.sqrt((1 + coh) / 2), dtype=torch.float32, device=device)
    b = torch.as_tensor(np.sqrt((1 - coh) / 2), dtype=torch.float32, device=device)
    sp = torch.as_tensor(np.sqrt(power), dtype=torch.float32, device=device)

    def mix(z: torch.Tensor) -> torch.Tensor:  # (R, M, 2 noises, F) -> (R, M, 2 ears, F)
        left = sp[0] * (a * z[:, :, 0] + b * z[:, :, 1])
        right = sp[1] * (a * z[:, :, 0] - b * z[:, :, 1])
        return torch.stack([left, right], dim=2)

    return shaped_tail(mix, n_noises=2, tag="tail", fs_hz=fs_hz, device=device, **shape)


def shaped_tail(
    mix: Callable[[torch.Tensor], torch.Tensor],
    *,
    n_noises: int,
    tag: str,
    fs_hz: int,
    decay_rate_per_s: np.ndarray,
    volume_m3: np.ndarray,
    transition_s: np.ndarray,
    fade_s: float,
    n_taps: np.ndarray,
    seeds: list[int],
    level_db: np.ndarray | None = None,
    device: torch.device,
) -> torch.Tensor:
    """The framed noise shaping behind every receiver's tail, (R, C, max(n_taps)) float32.

    ``n_noises`` independent counter-based noises per request (keys ``(tag, seed, k)``) are
    cut into frames; ``mix`` turns their spectra (R, M, n_noises, F) into the receiver's
    channels (R, M, C, F) with unit expected power for a unit-power receiver (an omni
    microphone: 1); then each frame gets the level of the image model's expected energy
    and the bands' decay, as :func:`diffuse_tail` describes.
    """
    r = len(seeds)
    hop = hop_samples(fs_hz)
    frame = 2 * hop
    n_max = int(np.max(n_taps))
    n_frames = -(-n_max // hop) + 1  # frame m covers [(m - 1) hop, (m + 1) hop)
    window = torch.sin(torch.pi * torch.arange(frame, device=device, dtype=torch.float32) / frame)
    # white noise from time -hop on, cut into half-overlapping sqrt-Hann frames
    keys = [stream_key(tag, int(s), k) for s in seeds for k in range(n_noises)]
    noise = gaussian(keys, (n_frames + 1) * hop, device=device).reshape(r, n_noises, -1)
    z = torch.fft.rfft(noise.unfold(-1, frame, hop) * window, dim=-1, norm="ortho")  # (R, n, M, F)
    channels = mix(z.transpose(1, 2))  # (R, M, C, F)
    c = channels.shape[2]

    # octave-band decay at each frame's centre, (R, M, F)
    centre_s = torch.arange(n_frames, dtype=torch.float32, device=device) * (hop / fs_hz)
    rate = torch.as_tensor(decay_rate_per_s, dtype=torch.float32, device=device)
    level = np.sqrt(4 * np.pi * SPEED_OF_SOUND_M_S / (np.asarray(volume_m3, dtype=np.float64) * fs_hz))
    band_db = np.zeros_like(decay_rate_per_s) if level_db is None else np.asarray(level_db)
    gain = torch.as_tensor(level[:, None] * 10.0 ** (band_db / 20.0), dtype=torch.float32, device=device)
    env = gain[:, :, None] * torch.exp(-0.5 * rate[:, :, None] * centre_s)  # (R, B, M)
    masks = torch.tensor(band_masks(frame, float(fs_hz)), dtype=torch.float32, device=device)
    shape = band_response(env.transpose(1, 2), masks)  # (R, M, F)

    spec = channels * shape[:, :, None, :]  # (R, M, C, F)
    frames = torch.fft.irfft(spec, frame, dim=-1, norm="ortho") * window  # (R, M, C, 2 hop)
    out = torch.zeros(r, c, (n_frames + 2) * hop, dtype=frames.dtype, device=device)
    out[..., : n_frames * hop] = frames[..., :hop].transpose(1, 2).reshape(r, c, -1)  # first halves
    out[..., hop : (n_frames + 1) * hop] += frames[..., hop:].transpose(1, 2).reshape(r, c, -1)  # second halves
    out = out[..., hop : hop + n_max]

    t = torch.arange(n_max, dtype=torch.float64, device=device) / fs_hz
    start = torch.as_tensor(np.asarray(transition_s) - fade_s / 2, device=device)
    ramp = ((t[None, :] - start[:, None]) / fade_s).clamp(0.0, 1.0)
    inside = torch.arange(n_max, device=device)[None, :] < torch.as_tensor(n_taps, device=device)[:, None]
    ramp = torch.sin(0.5 * torch.pi * ramp) * inside
    return out * ramp[:, None, :].to(torch.float32)
