"""Moving sources: time-varying convolution with crossfaded keyframe impulse responses.

A moving source carries **keyframes**: its positions at the centres c_k of the 100 ms label
frames (:mod:`binsynth.scene.paths`; hop H = fs / 10 samples). Periodic Hann windows w_k of
2 H samples centred on the keyframes overlap by half and sum to exactly 1, so the source's
mixture is

    y = Σ_k (w_k · x) ⊛ e_k  +  x ⊛ tail

with e_k the early part (direct sound and every image before the transition time) at
keyframe k, and one diffuse tail per source (level-matched at its middle keyframe). Each
early response is faded in and out over 2 H instead of switched (no click at a switch,
unlike hard segment switching), every keyframe of a source shares one transition time (the
latest of its keyframes', so every first-order reflection stays geometric) so early parts
and tail join as in a static BRIR, and a path that does not move gives the static render.

What this models: the direct sound's and every early reflection's direction, delay and
level follow the path at 100 ms resolution; the diffuse tail does not depend on where the
source is (a diffuse field). Not modelled: Doppler shift beyond what the crossfade of
responses with changing delays gives (no sample-exact resampling), and the source's own
directivity (sources are omnidirectional). Positions: room frame, metres; times: seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from binsynth.errors import ConfigError
from binsynth.scene.paths import hop_samples, keyframe_centres


@dataclass
class Keyframes:
    """Where a moving source is: ``centres`` (K,) clip samples (int64, spaced ``hop``) and
    ``positions_m`` (K, 3) room frame, metres."""

    centres: np.ndarray
    positions_m: np.ndarray
    hop: int

    def __post_init__(self):
        self.centres = np.asarray(self.centres, dtype=np.int64)
        self.positions_m = np.asarray(self.positions_m, dtype=np.float64).reshape(-1, 3)
        if self.hop < 1:
            raise ConfigError(f"keyframe hop {self.hop}: must be at least one sample")
        if self.centres.size == 0 or self.centres.size != self.positions_m.shape[0]:
            raise ConfigError(f"{self.centres.size} keyframe centres for {self.positions_m.shape[0]} positions")
        if self.centres.size > 1 and np.any(np.diff(self.centres) != self.hop):
            raise ConfigError(f"keyframe centres must be spaced {self.hop} samples apart")

    @property
    def reference(self) -> np.ndarray:
        """The middle keyframe's position: where the source's diffuse tail is level-matched."""
        return self.positions_m[self.positions_m.shape[0] // 2]


def window(hop: int) -> np.ndarray:
    """(2 hop,) float64 periodic Hann window; copies shifted by ``hop`` sum to 1."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(2 * hop) / hop)


def keyframes_for(n_samples: int, fs_hz: int, onset_s: float, position_at: Callable[[float], np.ndarray]) -> Keyframes:
    """The keyframes of a source of ``n_samples`` samples starting at ``onset_s``; ``position_at(t)``
    gives its room-frame position at clip time ``t`` seconds (for the keyframes, t = c / fs)."""
    hop = hop_samples(fs_hz)
    start = int(round(onset_s * fs_hz))
    centres = keyframe_centres(start, start + max(1, n_samples), hop)
    return Keyframes(centres, np.stack([np.asarray(position_at(c / fs_hz), dtype=np.float64) for c in centres]), hop)
