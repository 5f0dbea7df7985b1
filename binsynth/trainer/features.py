"""Model inputs from a binaural clip: the semantic stream's log-mel of the mono downmix
(Whisper's features, through the checkpoint's own ``WhisperFeatureExtractor``) and the
spatial stream's binaural features, on the same 10 ms frame grid.

Binaural features (:func:`binaural_features`), per frame and per mel band (``n_bands``
bands, 0 Hz - 8 kHz at 16 kHz):

* left and right log-mel power, scaled like Whisper's features (log10, floor 8 decades
  below the clip's peak, ``(x + 4) / 4``);
* interaural phase difference of the band, ``IPD = arg Σ_k w_b(k) L(k) R*(k)`` (the
  band-weighted cross-spectrum), as cos and sin. Positive IPD: the right ear lags, i.e. the
  sound arrives at the left ear first (source on the left; channel 0 = left ear);
* interaural level difference ``ILD = 10 log10(P_L / P_R)`` in dB, divided by
  :data:`ILD_SCALE_DB` and clipped to ±1 (positive: louder at the left ear).

Channels are stacked as ``[logmel_L, logmel_R, cos IPD, sin IPD, ILD]`` → ``5 * n_bands``.
Frames: hop 160 samples (10 ms at 16 kHz), window 400 (25 ms, Hann), centred, the last
frame dropped — Whisper's grid, so frame t of both streams covers the same audio.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

#: Sample rate of both streams (Whisper's).
FS_HZ = 16000
N_FFT = 400
HOP = 160
#: ILD (dB) that maps to ±1.
ILD_SCALE_DB = 20.0
#: Bands whose power is this far (dB) below the frame's loudest band get IPD 0 and ILD 0:
#: their phase is noise.
BAND_FLOOR_DB = 60.0


def to_model_rate(audio: np.ndarray, fs_hz: int) -> np.ndarray:
    """(channels, n) float32 at ``fs_hz`` → (channels, m) float32 at 16 kHz (polyphase)."""
    audio = np.asarray(audio, dtype=np.float32)
    if fs_hz == FS_HZ:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(fs_hz), FS_HZ)
    return resample_poly(audio, FS_HZ // g, int(fs_hz) // g, axis=-1).astype(np.float32)


def mono(audio: np.ndarray) -> np.ndarray:
    """The semantic stream's input: (L + R) / 2. Lateral cues cancel to first order, so
    'where' must come from the spatial stream."""
    return np.asarray(audio, dtype=np.float32).mean(axis=0)


@lru_cache(maxsize=8)
def _mel_weights(n_bands: int) -> torch.Tensor:
    from transformers.audio_utils import mel_filter_bank

    w = mel_filter_bank(num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=n_bands, min_frequency=0.0,
                        max_frequency=FS_HZ / 2, sampling_rate=FS_HZ, norm="slaney", mel_scale="slaney")
    return torch.from_numpy(np.asarray(w, dtype=np.float32))  # (bins, bands)


def binaural_features(audio, n_bands: int = 64) -> torch.Tensor:
    """(2, n) or (B, 2, n) 16 kHz audio → (5 * n_bands, n // 160) or (B, 5 * n_bands, n // 160)
    float32 features (layout in the module docstring)."""
    x = torch.as_tensor(np.asarray(audio, dtype=np.float32) if not torch.is_tensor(audio) else audio,
                        dtype=torch.float32)
    single = x.dim() == 2
    if single:
        x = x[None]
    if x.dim() != 3 or x.shape[1] != 2:
        raise ValueError(f"binaural audio of shape {tuple(x.shape)}: expected (2, n) or (B, 2, n)")
    b, _, n = x.shape
    spec = torch.stft(x.reshape(b * 2, n), N_FFT, HOP, window=torch.hann_window(N_FFT, device=x.device),
                      center=True, return_complex=True)[..., :-1]           # (2B, bins, T)
    spec = spec.reshape(b, 2, spec.shape[-2], spec.shape[-1])
    w = _mel_weights(n_bands).to(x.device)                                   # (bins, bands)
    left, right = spec[:, 0], spec[:, 1]
    p_l = torch.einsum("bkt,km->bmt", left.abs() ** 2, w)
    p_r = torch.einsum("bkt,km->bmt", right.abs() ** 2, w)
    cross = torch.einsum("bkt,km->bmt", left * right.conj(), w.to(spec.dtype))
    tiny = 1e-10
    logmel = torch.log10(torch.stack([p_l, p_r], 1).clamp_min(tiny))         # (B, 2, bands, T)
    peak = logmel.amax(dim=(1, 2, 3), keepdim=True)
    logmel = (torch.maximum(logmel, peak - 8.0) + 4.0) / 4.0
    frame_max = torch.maximum(p_l, p_r).amax(dim=1, keepdim=True)
    live = torch.maximum(p_l, p_r) > frame_max * 10 ** (-BAND_FLOOR_DB / 10) + tiny
    phase = torch.where(live, torch.angle(cross), torch.zeros_like(p_l))
    ild = 10 * torch.log10((p_l + tiny) / (p_r + tiny)) / ILD_SCALE_DB
    ild = torch.where(live, ild.clamp(-1.0, 1.0), torch.zeros_like(ild))
    feats = torch.cat([logmel[:, 0], logmel[:, 1], torch.cos(phase) * live, torch.sin(phase), ild], dim=1)
    return feats[0] if single else feats


def pad_frames(feats: torch.Tensor, frames: int) -> torch.Tensor:
    """Zero-pad (or cut) the last axis to ``frames`` (the semantic stream's padded length)."""
    t = feats.shape[-1]
    if t >= frames:
        return feats[..., :frames]
    return torch.nn.functional.pad(feats, (0, frames - t))
