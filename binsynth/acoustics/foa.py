"""First-order ambisonic (FOA) room impulse responses: AmbiX, in the head frame.

Channels in ACN order **W, Y, Z, X** with SN3D normalisation — the DCASE / STARSS23 FOA
definition. For a plane wave from azimuth φ, elevation θ (head frame: +x nose, +y left,
+z up; φ counter-clockwise from the front, +90 = left; θ up):

    W = 1,  Y = sin φ cos θ,  Z = sin θ,  X = cos φ cos θ.

An FOA response comes from the same image-source enumeration as the BRIR
(:class:`binsynth.acoustics.brir.BRIRSynthesizer`): every early image is encoded with the
four gains of its own arrival direction, at its exact fractional delay r / c, with the same
1/r spreading, octave-band wall losses, air absorption and fade into the tail. The images
are ideal impulses, band-limited by a raised-cosine roll-off over the top ``1 - TAPER_START``
of the band (so a fractional delay rings for a few samples, not across the whole buffer).

The diffuse tail is four independent counter-based noises: W carries the image model's
expected energy (4π c / V) e^{-δ_b t} per band, as the binaural tail does for an omni
ear, and Y, Z, X each carry 1/3 of W's energy — the SN3D signature of an isotropic field —
mutually uncorrelated, joined to the early part by the same level match and cross-fade.
"""

from __future__ import annotations

import numpy as np
import torch

from binsynth.acoustics.bands import band_masks
from binsynth.acoustics.brir import IMAGE_CHUNK_BINS, BRIRSynthesizer, _delay_phasors
from binsynth.acoustics.tail import hop_samples, shaped_tail

#: AmbiX channel order (ACN).
CHANNELS: tuple[str, ...] = ("W", "Y", "Z", "X")
#: The image impulses are flat up to this fraction of Nyquist, then roll off to 0 at Nyquist.
TAPER_START = 0.8
#: Receiver name recorded where a BRIR records its HRTF set.
RECEIVER = "foa-ambix-sn3d"
#: Amplitudes of W, Y, Z, X in an isotropic diffuse field (SN3D: each first-order channel
#: carries 1/3 of W's energy); the tail and a dataset's FOA background use them.
DIFFUSE_GAINS: tuple[float, ...] = (1.0, 3**-0.5, 3**-0.5, 3**-0.5)


def ambix_gains(unit: torch.Tensor | np.ndarray):
    """SN3D gains (W, Y, Z, X) of plane waves from unit vectors (..., 3) in the head frame."""
    x, y, z = unit[..., 0], unit[..., 1], unit[..., 2]
    stack = torch.stack if isinstance(unit, torch.Tensor) else np.stack
    return stack([x * 0 + 1, y, z, x], -1)


def ambix_gains_deg(azimuth_deg, elevation_deg) -> np.ndarray:
    """SN3D gains (..., 4) for head-frame angles in degrees, from the formulas above."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack([np.ones_like(az), np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)], -1)


def taper(nfft: int) -> np.ndarray:
    """Zero-phase band limit of the image impulses over rfft bins: 1, then a raised-cosine
    fall from ``TAPER_START`` of Nyquist to 0 at Nyquist."""
    f = np.linspace(0.0, 1.0, nfft // 2 + 1)  # fraction of Nyquist
    fall = ((f - TAPER_START) / (1.0 - TAPER_START)).clip(0.0, 1.0)
    return 0.5 + 0.5 * np.cos(np.pi * fall)


def foa_tail(**kw) -> torch.Tensor:
    """Diffuse FOA tails (R, 4, n): :func:`binsynth.acoustics.tail.diffuse_tail`'s keywords
    without ``hrtf``; W at the omni level, Y, Z, X at 1/3 of its energy, all uncorrelated,
    band-limited like the early images (:func:`taper`), so the top band does not step up at
    the transition."""
    device = kw["device"]
    frame = 2 * hop_samples(kw["fs_hz"])
    scale = torch.tensor(DIFFUSE_GAINS, dtype=torch.float32, device=device)
    shape = scale[:, None] * torch.tensor(taper(frame), dtype=torch.float32, device=device)
    return shaped_tail(lambda z: z * shape, n_noises=4, tag="foa-tail", **kw)


class FOASynthesizer(BRIRSynthesizer):
    """Builds FOA room impulse responses (R, 4, n_taps), sample 0 = emission, for
    :class:`~binsynth.acoustics.brir.BRIRRequest` s, at one sample rate on one device."""

    channels = CHANNELS

    def __init__(self, fs_hz: int, device: str | torch.device = "cpu"):
        self._setup(fs_hz, device, "none")
        self.receiver_name, self.receiver_sha256 = RECEIVER, ""

    def _spread_samples(self) -> int:
        return int(0.010 * self.fs_hz) + self.pre

    def _tail(self, **kw) -> torch.Tensor:
        return foa_tail(**kw)

    def _accumulate(self, req, order, unit, gain, delay, nfft: int, n_req: int) -> torch.Tensor:
        dev = self.device
        n_bins = nfft // 2 + 1
        total = delay + self.pre  # samples in the early buffer
        masks = torch.tensor(band_masks(nfft, float(self.fs_hz)), dtype=torch.float32, device=dev)
        limit = torch.tensor(taper(nfft), dtype=torch.float32, device=dev)
        enc = ambix_gains(unit).to(torch.complex64)  # (K, 4)
        gain32 = gain.to(torch.float32)
        acc = torch.zeros(n_req, len(CHANNELS), n_bins, dtype=torch.complex64, device=dev)
        step = max(1, IMAGE_CHUNK_BINS // (len(CHANNELS) * n_bins))
        for s0 in range(0, len(req), step):
            sl = slice(s0, s0 + step)
            shift = _delay_phasors(total[sl], nfft, n_bins)  # (k, F) exact e^{-2πi f τ}
            shift *= (gain32[sl] @ masks) * limit  # octave-band losses, band limit
            contribution = enc[sl, :, None] * shift[:, None, :]  # (k, 4, F)
            torch.view_as_real(acc).index_add_(0, req[sl], torch.view_as_real(contribution))
        return acc
