"""Analytic spherical-head HRTFs (Brown & Duda 1998 head model), no download needed.

Each ear sits on the interaural axis (±y, head frame). For the angle θ between the source
direction and an ear's axis, the ear receives the wavefront
  * delayed by τ(θ) = -(a/c) cos θ            for θ < 90°, and
                τ(θ) = (a/c) (θ - π/2)          for θ ≥ 90° (creeping round the head),
    relative to the head centre, which gives Woodworth's ITD (a/c)(φ + sin φ) for a
    horizontal source at lateral angle φ;
  * filtered by the head-shadow one-pole/one-zero filter
        H(ω, θ) = (1 + j α(θ) ω / (2 ω0)) / (1 + j ω / (2 ω0)),   ω0 = c / a,
        α(θ) = (1 + α_min/2) + (1 - α_min/2) cos(π θ / θ_min),  α_min = 0.1, θ_min = 150°,
    a +6 dB high-shelf on the lit side and a low-pass on the shadowed side.
Pinna and torso are not modelled. References: C. P. Brown and R. O. Duda, "A structural
model for binaural sound synthesis", IEEE Trans. Speech Audio Process. 6(5), 1998;
R. S. Woodworth, Experimental Psychology, 1938.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from binsynth.acoustics.hrtf import HRTFSet
from binsynth.constants import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from binsynth.geometry import sph_to_cart

ALPHA_MIN = 0.1
THETA_MIN_DEG = 150.0


def ear_angles_rad(azimuth_deg, elevation_deg) -> np.ndarray:
    """(..., 2) angle between the source direction and the left (+y) / right (-y) ear axis."""
    y = sph_to_cart(azimuth_deg, elevation_deg)[..., 1]
    return np.stack([np.arccos(np.clip(y, -1, 1)), np.arccos(np.clip(-y, -1, 1))], axis=-1)


def ear_delay_s(theta_rad: np.ndarray, radius_m: float = HEAD_RADIUS_M, c: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Arrival time at an ear relative to the head centre (s) for ear-axis angle θ (rad)."""
    theta = np.asarray(theta_rad, dtype=np.float64)
    return np.where(theta < np.pi / 2, -np.cos(theta), theta - np.pi / 2) * radius_m / c


def woodworth_itd_s(lateral_deg, radius_m: float = HEAD_RADIUS_M, c: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Woodworth's ITD (a/c)(φ + sin φ) in seconds for lateral angle φ in degrees (|φ| ≤ 90)."""
    phi = np.deg2rad(np.asarray(lateral_deg, dtype=np.float64))
    return radius_m / c * (phi + np.sin(phi))


class SphericalHead:
    """Spherical-head HRTF model sampled on a regular grid (``step_deg`` in azimuth and elevation)."""

    name = "spherical"

    def __init__(self, radius_m: float = HEAD_RADIUS_M, fs_hz: int = 48000, step_deg: float = 5.0, n_taps: int | None = None):
        self.radius_m = float(radius_m)
        self.fs_hz = int(fs_hz)
        self.step_deg = float(step_deg)
        # Long enough for the largest delay, the shadow filter's decay (1/(2 ω0) ≈ 0.13 ms) and a margin.
        self.n_taps = int(n_taps or 2 ** int(np.ceil(np.log2(0.004 * self.fs_hz))))

    @property
    def params(self) -> dict:
        return {
            "model": "brown-duda-1998-head",
            "radius_m": self.radius_m,
            "fs_hz": self.fs_hz,
            "step_deg": self.step_deg,
            "n_taps": self.n_taps,
            "c_m_s": SPEED_OF_SOUND_M_S,
            "alpha_min": ALPHA_MIN,
            "theta_min_deg": THETA_MIN_DEG,
        }

    @property
    def sha256(self) -> str:
        """Hash of the model's parameters: the same parameters give the same responses."""
        return hashlib.sha256(json.dumps(self.params, sort_keys=True).encode()).hexdigest()

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Azimuths and elevations (degrees) of the sampled directions; one direction per pole."""
        els = np.arange(-90.0, 90.0 + 1e-9, self.step_deg)
        azs = np.arange(-180.0 + self.step_deg, 180.0 + 1e-9, self.step_deg)
        az, el = [], []
        for e in els:
            ring = [0.0] if abs(abs(e) - 90.0) < 1e-9 else azs
            az.extend(ring)
            el.extend([e] * len(ring))
        return np.asarray(az), np.asarray(el)

    def responses(self, azimuth_deg, elevation_deg) -> tuple[np.ndarray, np.ndarray]:
        """HRIRs (n, 2, n_taps) and their exact onsets (n, 2) in samples."""
        theta = ear_angles_rad(np.atleast_1d(azimuth_deg), np.atleast_1d(elevation_deg))  # (n, 2)
        lead = 0.001 * self.fs_hz + self.radius_m / SPEED_OF_SOUND_M_S * self.fs_hz
        onsets = lead + ear_delay_s(theta, self.radius_m) * self.fs_hz
        nfft = 2 * self.n_taps
        w = 2 * np.pi * np.fft.rfftfreq(nfft, 1.0 / self.fs_hz)
        w0 = SPEED_OF_SOUND_M_S / self.radius_m
        alpha = (1 + ALPHA_MIN / 2) + (1 - ALPHA_MIN / 2) * np.cos(theta / np.deg2rad(THETA_MIN_DEG) * np.pi)
        shadow = (1 + 1j * alpha[..., None] * w / (2 * w0)) / (1 + 1j * w / (2 * w0))
        spec = shadow * np.exp(-1j * w * onsets[..., None] / self.fs_hz)
        irs = np.fft.irfft(spec, nfft, axis=-1)[..., : self.n_taps]
        return irs, onsets

    def to_hrtf_set(self) -> HRTFSet:
        az, el = self.grid()
        irs, onsets = self.responses(az, el)
        return HRTFSet.from_irs(
            irs, self.fs_hz, az, el, name=self.name, sha256=self.sha256, onsets=onsets, distance_m=float("inf"), source="analytic"
        )

    def to_sofa(self, path: str | Path) -> Path:
        """Write the sampled model as a SimpleFreeFieldHRIR SOFA file (distance 1 m nominal)."""
        import sofar

        hrtf = self.to_hrtf_set()
        sofa = sofar.Sofa("SimpleFreeFieldHRIR")
        sofa.Data_IR = hrtf.irs.astype(np.float64) / hrtf.gain
        sofa.Data_SamplingRate = float(self.fs_hz)
        sofa.SourcePosition = np.stack([np.mod(hrtf.azimuth_deg, 360.0), hrtf.elevation_deg, np.ones_like(hrtf.azimuth_deg)], axis=1)
        sofa.ReceiverPosition = np.array([[0.0, self.radius_m, 0.0], [0.0, -self.radius_m, 0.0]])
        sofa.GLOBAL_Title = "binsynth spherical-head model (Brown & Duda 1998 head shadow, Woodworth delays)"
        sofa.GLOBAL_Comment = json.dumps(self.params, sort_keys=True)
        sofa.GLOBAL_License = "CC0 1.0 (generated by binsynth)"
        sofa.GLOBAL_AuthorContact = "binsynth"
        sofa.GLOBAL_Organization = "binsynth"
        sofa.GLOBAL_ListenerShortName = "spherical"
        sofa.GLOBAL_DatabaseName = "binsynth-analytic"
        path = Path(path)
        sofar.write_sofa(str(path), sofa)
        return path
