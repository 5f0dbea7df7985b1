"""Shoebox rooms: geometry, octave-band wall absorption, reverberation times.

Room frame: metres, origin at a floor corner, +z up; the room spans [0, Lx]×[0, Ly]×[0, Lz].
Walls are ordered [x=0, x=Lx, y=0, y=Ly, z=0 (floor), z=Lz (ceiling)]. Absorption
coefficients are energy coefficients α in [0, 1) per wall and per octave band of
:data:`binsynth.constants.OCTAVE_BANDS_HZ`; a reflection scales pressure by sqrt(1 - α).

Reverberation follows Eyring with air absorption, which is also what the image-source
model decays at on average:  energy ∝ exp(-δ t),  δ = c (S Ā / (4 V) + m),
Ā = Σ_w S_w (-ln(1 - α_w)) / S,  RT60 = ln(10⁶) / δ.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from binsynth.constants import AIR_ENERGY_ATTENUATION_PER_M, OCTAVE_BANDS_HZ, SPEED_OF_SOUND_M_S
from binsynth.errors import ConfigError, GeometryError

N_BANDS = len(OCTAVE_BANDS_HZ)
LN_1E6 = 6.0 * np.log(10.0)
#: Index of the 1 kHz band, where a single-number RT60 target is met.
REFERENCE_BAND = OCTAVE_BANDS_HZ.index(1000.0)


@dataclass(frozen=True, eq=False)
class ShoeboxRoom:
    """A rectangular room (immutable; derived quantities are computed once).

    dimensions_m: (3,) lengths along x, y, z in metres.
    absorption: (6, 7) energy absorption per wall and octave band.
    air_absorption: apply ISO 9613-1 air attenuation (20 °C, 50 % RH) on every path.
    rt60_target_s: the single-number target the absorption was derived from, if any.
    """

    dimensions_m: np.ndarray
    absorption: np.ndarray
    air_absorption: bool = True
    rt60_target_s: float | None = None

    def __post_init__(self):
        dims = np.asarray(self.dimensions_m, dtype=np.float64).reshape(-1)
        if dims.size != 3 or not np.all(np.isfinite(dims)) or np.any(dims <= 0):
            raise GeometryError(f"room dimensions {self.dimensions_m!r}: expected three positive lengths in metres")
        alpha = np.broadcast_to(np.asarray(self.absorption, dtype=np.float64), (6, N_BANDS)).copy()
        if not np.all((alpha >= 0) & (alpha < 1)):
            raise ConfigError(f"room absorption {alpha.min():.3g}..{alpha.max():.3g}: coefficients must lie in [0, 1)")
        dims.setflags(write=False)
        alpha.setflags(write=False)
        object.__setattr__(self, "dimensions_m", dims)
        object.__setattr__(self, "absorption", alpha)

    @classmethod
    def from_rt60(cls, dimensions_m, rt60_s: float, air_absorption: bool = True) -> "ShoeboxRoom":
        """Uniform, frequency-flat absorption that gives ``rt60_s`` at 1 kHz (Eyring + air)."""
        room = cls(dimensions_m, np.zeros((6, N_BANDS)), air_absorption)
        rt60_s = float(rt60_s)
        m = AIR_ENERGY_ATTENUATION_PER_M[REFERENCE_BAND] if air_absorption else 0.0
        a_bar = (LN_1E6 / (SPEED_OF_SOUND_M_S * rt60_s) - m) * 4.0 * room.volume_m3 / room.surface_m2
        if not np.isfinite(a_bar) or a_bar <= 0:
            raise ConfigError(f"rt60 {rt60_s} s: too long for a {room.describe()} room with air absorption")
        alpha = 1.0 - np.exp(-a_bar)
        if alpha > 0.99:
            raise ConfigError(
                f"rt60 {rt60_s} s: too short for a {room.describe()} room (needs absorption {alpha:.3f} > 0.99)"
            )
        return cls(dimensions_m, np.full((6, N_BANDS), alpha), air_absorption, rt60_s)

    def describe(self) -> str:
        return "x".join(f"{d:g}" for d in self.dimensions_m) + " m"

    @cached_property
    def volume_m3(self) -> float:
        return float(np.prod(self.dimensions_m))

    @cached_property
    def wall_areas_m2(self) -> np.ndarray:
        """(6,) areas of the walls [x0, xL, y0, yL, z0, zL] in m²."""
        lx, ly, lz = self.dimensions_m
        return np.array([ly * lz, ly * lz, lx * lz, lx * lz, lx * ly, lx * ly])

    @cached_property
    def surface_m2(self) -> float:
        return float(self.wall_areas_m2.sum())

    @cached_property
    def log_reflection(self) -> np.ndarray:
        """(6, 7) natural log of the pressure reflection coefficient sqrt(1 - α)."""
        return 0.5 * np.log1p(-self.absorption)

    @cached_property
    def air_attenuation_per_m(self) -> np.ndarray:
        """(7,) energy attenuation m per metre of path (zeros without air absorption)."""
        return AIR_ENERGY_ATTENUATION_PER_M if self.air_absorption else np.zeros(N_BANDS)

    @cached_property
    def decay_rate_per_s(self) -> np.ndarray:
        """(7,) energy decay rate δ in 1/s per octave band (Eyring with air absorption)."""
        a_bar = (self.wall_areas_m2[:, None] * -np.log1p(-self.absorption)).sum(0) / self.surface_m2
        return SPEED_OF_SOUND_M_S * (self.surface_m2 * a_bar / (4.0 * self.volume_m3) + self.air_attenuation_per_m)

    @cached_property
    def rt60_s(self) -> np.ndarray:
        """(7,) Eyring reverberation time per octave band, seconds."""
        with np.errstate(divide="ignore"):
            return LN_1E6 / self.decay_rate_per_s

    @cached_property
    def mixing_time_s(self) -> float:
        """Perceptual mixing time 20 V/S + 12 ms (Lindau et al., JAES 2012), seconds."""
        return 0.020 * self.volume_m3 / self.surface_m2 + 0.012

    def check_inside(self, point_m, what: str, margin_m: float = 0.0) -> None:
        """Raise GeometryError unless ``point_m`` lies inside the room, ``margin_m`` from every wall."""
        p = np.asarray(point_m, dtype=np.float64)
        if p.shape != (3,) or not np.all(np.isfinite(p)):
            raise GeometryError(f"{what} {point_m!r}: expected three finite coordinates in metres")
        if np.any(p < margin_m) or np.any(p > self.dimensions_m - margin_m):
            raise GeometryError(
                f"{what} at ({p[0]:.3g}, {p[1]:.3g}, {p[2]:.3g}) m is outside the {self.describe()} room"
                + (f" (or within {margin_m:g} m of a wall)" if margin_m else "")
            )
