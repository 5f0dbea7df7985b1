"""Head-related transfer function sets: measured (SOFA) or analytic, one container.

Directions are in the head frame (AES69/SOFA): azimuth in degrees counter-clockwise from
the nose in (-180, 180], +90 = left; elevation in degrees, +90 = above. Ear axis 1 of
``irs`` is [left, right].

Timing. Each set stores its impulse responses as measured (``irs``), the onset of every
ear in samples (``onsets``, -10 dB threshold on an 8× oversampled copy unless the model
knows them exactly), and ``ref_delay_samples``: the head-centre arrival time inside
``irs``, taken as the mean of both ears' onsets at the direction nearest the front (a
frontal source reaches both ears when it would reach the head centre). ``ear_delays``
are the onsets relative to that reference; they carry the ITD.

Level. ``irs`` are scaled so the diffuse-field energy (Σ h² averaged over ears and over
directions weighted by their spherical-Voronoi area) is 1: a source at 1 m then carries
unit energy per ear on average, whatever set is used. The applied factor is ``gain``.

Interpolation ("interp" mode) is onset-aligned: the three nearest measured directions
are blended with inverse-angular-distance weights after removing each ear's onset, and
the blended onset is put back as an exact fractional delay. Blending unaligned HRIRs
would comb-filter (two copies of the wavefront a fraction of a millisecond apart), and a
spherical-harmonic fit needs a dense full-sphere grid that many sets (e.g. ones with no
directions below -45°) do not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import numpy as np

from binsynth.dsp.measures import onset_samples
from binsynth.errors import HRTFError
from binsynth.io.hashing import sha256_file
from binsynth.geometry import sph_to_cart, wrap_azimuth_deg


@dataclass(eq=False)
class HRTFSet:
    """A set of head-related impulse responses on a grid of directions.

    irs: (n_dirs, 2, n_taps) float32, channel 0 = left ear, at ``fs_hz``.
    azimuth_deg, elevation_deg: (n_dirs,) head-frame directions in degrees.
    onsets: (n_dirs, 2) onset of each ear within ``irs``, samples.
    """

    name: str
    fs_hz: int
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    irs: np.ndarray
    onsets: np.ndarray
    ref_delay_samples: float
    sha256: str
    gain: float = 1.0
    distance_m: float = float("nan")
    source: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_irs(
        cls,
        irs: np.ndarray,
        fs_hz: int,
        azimuth_deg: np.ndarray,
        elevation_deg: np.ndarray,
        *,
        name: str,
        sha256: str,
        onsets: np.ndarray | None = None,
        distance_m: float = float("nan"),
        source: str = "",
        normalise: bool = True,
    ) -> "HRTFSet":
        """Build a set from raw responses: detects onsets (unless given) and normalises level."""
        irs = np.asarray(irs, dtype=np.float64)
        az = wrap_azimuth_deg(azimuth_deg)
        el = np.asarray(elevation_deg, dtype=np.float64)
        if irs.ndim != 3 or irs.shape[1] != 2 or irs.shape[0] != az.size or az.size != el.size:
            raise HRTFError(
                f"{name}: impulse responses of shape {irs.shape} with {az.size} directions; "
                "expected (n_dirs, 2, n_taps) with one azimuth and elevation per direction"
            )
        if not np.all(np.isfinite(irs)) or not np.any(irs):
            raise HRTFError(f"{name}: impulse responses contain NaN/Inf or are all zero")
        on = onset_samples(irs) if onsets is None else np.asarray(onsets, dtype=np.float64)
        weights = direction_weights(az, el)
        energy = (irs**2).sum(axis=-1).mean(axis=-1)
        gain = 1.0 / np.sqrt(np.sum(weights * energy)) if normalise else 1.0
        front = int(np.argmax(sph_to_cart(az, el) @ np.array([1.0, 0.0, 0.0])))
        return cls(
            name=name,
            fs_hz=int(fs_hz),
            azimuth_deg=az,
            elevation_deg=el,
            irs=(irs * gain).astype(np.float32),
            onsets=on,
            ref_delay_samples=float(on[front].mean()),
            sha256=sha256,
            gain=float(gain),
            distance_m=float(distance_m),
            source=source,
        )

    @property
    def n_taps(self) -> int:
        return int(self.irs.shape[-1])

    @cached_property
    def unit_vectors(self) -> np.ndarray:
        """(n_dirs, 3) head-frame unit vectors of the measured directions."""
        return sph_to_cart(self.azimuth_deg, self.elevation_deg)

    @cached_property
    def weights(self) -> np.ndarray:
        """(n_dirs,) spherical-Voronoi area weights summing to 1."""
        return direction_weights(self.azimuth_deg, self.elevation_deg)

    @property
    def ear_delays_samples(self) -> np.ndarray:
        """(n_dirs, 2) arrival at each ear relative to the head centre, samples (ITD = R - L)."""
        return self.onsets - self.ref_delay_samples

    def itd_s(self, index: int) -> float:
        """Onset ITD (right minus left) of direction ``index`` in seconds; > 0 for a source on the left."""
        return float(self.onsets[index, 1] - self.onsets[index, 0]) / self.fs_hz

    def nearest(self, azimuth_deg: float, elevation_deg: float) -> int:
        """Index of the measured direction nearest a head-frame direction."""
        return int(np.argmax(self.unit_vectors @ sph_to_cart(azimuth_deg, elevation_deg)))

    def aligned_irs(self, lead: int) -> np.ndarray:
        """(n_dirs, 2, n_taps) responses shifted so every ear's onset sits at ``lead`` samples.

        The shift is an exact fractional delay applied on a zero-padded copy, so neither
        end wraps around.
        """
        key = ("aligned", lead)
        if key not in self._cache:
            n = self.n_taps
            spec = np.fft.rfft(self.irs.astype(np.float64), 2 * n, axis=-1)
            f = np.fft.rfftfreq(2 * n)
            shift = lead - self.onsets
            spec *= np.exp(-2j * np.pi * f * shift[..., None])
            self._cache[key] = np.fft.irfft(spec, 2 * n, axis=-1)[..., :n].astype(np.float32)
        return self._cache[key]

    def diffuse_power(self, nfft: int) -> np.ndarray:
        """(2, nfft//2+1) diffuse-field power spectrum per ear (area-weighted mean |H|²)."""
        return self._diffuse(nfft)[0]

    def diffuse_coherence(self, nfft: int) -> np.ndarray:
        """(nfft//2+1,) interaural coherence of a diffuse field, Re<H_L H_R*> / sqrt(P_L P_R)."""
        return self._diffuse(nfft)[1]

    def _diffuse(self, nfft: int) -> tuple[np.ndarray, np.ndarray]:
        key = ("diffuse", nfft)
        if key not in self._cache:
            spec = np.fft.rfft(self.irs.astype(np.float64), nfft, axis=-1)
            w = self.weights[:, None]
            p = np.stack([(w * np.abs(spec[:, e]) ** 2).sum(0) for e in (0, 1)])
            cross = (w * spec[:, 0] * np.conj(spec[:, 1])).sum(0).real
            coh = np.clip(cross / np.sqrt(np.maximum(p[0] * p[1], 1e-30)), -1.0, 1.0)
            self._cache[key] = (p, coh)
        return self._cache[key]

    def resampled(self, fs_hz: int) -> "HRTFSet":
        """The same set at another sample rate (polyphase, Kaiser-windowed FIR).

        The frequency response below both Nyquist frequencies is kept; the level
        normalisation of the original rate is kept too (not redone), so a set sounds the
        same at every rate.
        """
        fs_hz = int(fs_hz)
        if fs_hz == self.fs_hz:
            return self
        from scipy.signal import resample_poly

        ratio = Fraction(fs_hz, self.fs_hz)
        # an impulse response keeps its frequency response only if its taps scale with 1/fs
        irs = resample_poly(self.irs.astype(np.float64), ratio.numerator, ratio.denominator, axis=-1)
        irs *= self.fs_hz / fs_hz
        scale = fs_hz / self.fs_hz
        out = HRTFSet.from_irs(
            irs,
            fs_hz,
            self.azimuth_deg,
            self.elevation_deg,
            name=self.name,
            sha256=self.sha256,
            onsets=self.onsets * scale,
            distance_m=self.distance_m,
            source=self.source,
            normalise=False,
        )
        out.gain = self.gain
        return out


def direction_weights(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Quadrature weights (summing to 1) for directions on the sphere.

    Spherical-Voronoi cell areas: each direction stands for the part of the sphere nearest
    to it, so an uneven grid is not biased towards where it is dense. Parts of the sphere
    that were not measured count for their nearest measured direction. Repeated
    directions share their cell.
    """
    from scipy.spatial import SphericalVoronoi

    pts = sph_to_cart(azimuth_deg, elevation_deg)
    keys = np.round(pts, 9)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(uniq) < 4:
        return np.full(len(pts), 1.0 / len(pts))
    uniq = uniq / np.linalg.norm(uniq, axis=1, keepdims=True)
    try:
        areas = SphericalVoronoi(uniq, radius=1.0, threshold=1e-6).calculate_areas()
    except Exception:  # degenerate grids (e.g. all in one plane): fall back to equal weights
        areas = np.ones(len(uniq))
    counts = np.bincount(inverse, minlength=len(uniq))
    w = areas[inverse] / counts[inverse]
    return w / w.sum()


def load_sofa(path: str | Path, fs_hz: int | None = None, name: str | None = None) -> HRTFSet:
    """Load a SimpleFreeFieldHRIR SOFA file through sofar, optionally resampled to ``fs_hz``."""
    from binsynth.acoustics.sofa_checks import read_sofa_quiet, sampling_rate_hz, validate_sofa

    path = Path(path)
    sofa = read_sofa_quiet(path)
    validate_sofa(sofa, path)
    pos = np.asarray(sofa.SourcePosition, dtype=np.float64)
    hrtf = HRTFSet.from_irs(
        np.asarray(sofa.Data_IR, dtype=np.float64),
        int(round(sampling_rate_hz(sofa))),
        pos[:, 0],
        pos[:, 1],
        name=name or path.stem,
        sha256=sha256_file(path),
        distance_m=float(np.median(pos[:, 2])),
        source=str(path),
    )
    return hrtf.resampled(fs_hz) if fs_hz else hrtf
