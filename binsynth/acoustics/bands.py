"""Octave-band frequency masks that split a spectrum into the bands of
:data:`binsynth.constants.OCTAVE_BANDS_HZ`.

Mask b is a raised-cosine bump in log2-frequency centred on band b, one octave wide on
each side; the first band is extended flat down to 0 Hz and the last up to Nyquist, so the
masks sum to exactly 1 at every frequency. A per-band gain vector g becomes the smooth,
zero-phase frequency response ``sum_b g_b M_b(f)``; a noise split with the masks and summed
back is the same noise.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from binsynth.constants import OCTAVE_BANDS_HZ


@lru_cache(maxsize=64)
def band_masks(nfft: int, fs_hz: float) -> np.ndarray:
    """Masks of shape (n_bands, nfft // 2 + 1), float64, summing to 1 over bands."""
    f = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    x = np.log2(np.maximum(f, 1e-9) / OCTAVE_BANDS_HZ[0])
    n_bands = len(OCTAVE_BANDS_HZ)
    x = np.clip(x, 0.0, n_bands - 1.0)
    masks = np.zeros((n_bands, f.size))
    for b in range(n_bands):
        d = np.abs(x - b)
        masks[b] = np.where(d < 1.0, np.cos(0.5 * np.pi * d) ** 2, 0.0)
    masks.setflags(write=False)
    return masks


def band_response(gain: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Σ_b gain[..., b] · masks[b]: per-band gains (..., B) to a response over frequency (..., F).

    Written as B multiply-adds rather than a matrix product, whose blocking (and so its
    rounding) depends on the number of rows: results must not depend on batch size.
    """
    out = gain[..., 0, None] * masks[0]
    for b in range(1, masks.shape[0]):
        out += gain[..., b, None] * masks[b]
    return out
