"""The ``room`` section of a recipe: shoebox dimensions, reverberation (RT60 or wall
materials) and the listener, as pydantic models; see :mod:`binsynth.recipe.sections` for
the conventions (units in names, room frame with the origin at a floor corner, +z up).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from binsynth.constants import OCTAVE_BANDS_HZ
from binsynth.recipe.distributions import Real, fmt, real_param
from binsynth.recipe.sections import (
    MAX_ABSORPTION,
    WALLS,
    AzimuthDeg,
    Bool,
    ElevationDeg,
    Section,
    problems_error,
)

RoomLengthM = real_param(1.0, 100.0, "m")
RoomHeightM = real_param(1.0, 30.0, "m")
#: Longest reverberation time in seconds (BRIRs run to 1.1 × RT60: 10 s is 0.5 M taps at 48 kHz).
MAX_RT60_S = 10.0
Rt60Seconds = real_param(0.05, MAX_RT60_S, "s")
AbsorptionDist = real_param(0.0, MAX_ABSORPTION)
Fraction = real_param(0.0, 1.0, low_open=True, high_open=True)
PositionM = real_param(0.0, 100.0, "m", low_open=True)
HeightM = real_param(0.0, 30.0, "m", low_open=True)


class Dimensions(Section):
    """``dimensions_m: {x, y, z}``: room lengths in metres, each a distribution."""

    x: RoomLengthM
    y: RoomLengthM
    z: RoomHeightM


def _absorption_tag(v: Any) -> str:
    return "~bands" if isinstance(v, (list, tuple)) else "~single"


def _absorption_matrix(v: list[list[float]]) -> list[list[float]]:
    n_b = len(OCTAVE_BANDS_HZ)
    layout = (f"{len(WALLS)} rows (walls {', '.join(WALLS)}) of {n_b} octave bands "
              f"({fmt(OCTAVE_BANDS_HZ[0])}–{fmt(OCTAVE_BANDS_HZ[-1])} Hz)")
    if len(v) != len(WALLS):
        raise ValueError(f"expected {layout}; got {len(v)} rows")
    problems = []
    for i, row in enumerate(v):
        if len(row) != n_b:
            problems.append(((i,), f"{WALLS[i]} has {len(row)} values; expected {layout}"))
            continue
        for j, a in enumerate(row):
            if not 0 <= a <= MAX_ABSORPTION:
                problems.append(((i, j), f"{fmt(a)} is outside [0, {MAX_ABSORPTION}] "
                                         f"({WALLS[i]}, {fmt(OCTAVE_BANDS_HZ[j])} Hz)"))
    if problems:
        raise problems_error(problems)
    return v


Absorption = Annotated[
    Union[  # noqa: UP007
        Annotated[AbsorptionDist, Tag("~single")],
        Annotated[Annotated[list[list[Real]], AfterValidator(_absorption_matrix)], Tag("~bands")],
    ],
    Discriminator(_absorption_tag),
]


class Materials(Section):
    """``materials: {absorption: α}``: one energy absorption coefficient for every wall and
    band (a number or distribution), or a 6 × 7 list: rows in :data:`WALLS` order, columns
    the octave bands 125 … 8000 Hz."""

    absorption: Absorption


class XYFrac(Section):
    """Listener position as fractions of the room's x and y lengths, in (0, 1)."""

    x: Fraction = 0.5
    y: Fraction = 0.5


class XYMetres(Section):
    """Listener position in metres from the room's origin corner."""

    x: PositionM
    y: PositionM


class Listener(Section):
    """``listener``: head position (``position_frac`` or ``position_m``; default the room's
    centre), ear height above the floor, yaw counter-clockwise from +x, pitch nose-up."""

    position_frac: XYFrac | None = None
    position_m: XYMetres | None = None
    height_m: HeightM = 1.5
    yaw_deg: AzimuthDeg = 0.0
    pitch_deg: ElevationDeg = 0.0

    @model_validator(mode="before")
    @classmethod
    def _default_position(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("position_frac") is None and data.get("position_m") is None:
            data = {**data, "position_frac": {}}
        return data

    @model_validator(mode="after")
    def _one_position(self):
        if self.position_frac is not None and self.position_m is not None:
            raise problems_error([(("position_m",), "give position_frac or position_m, not both")])
        return self


class RoomSection(Section):
    """``room``: ``anechoic: true``, or a shoebox with ``dimensions_m`` and either
    ``rt60_s`` (uniform absorption fitted at 1 kHz) or ``materials``."""

    anechoic: Bool = False
    dimensions_m: Dimensions | None = None
    rt60_s: Rt60Seconds | None = None
    materials: Materials | None = None
    listener: Listener = Field(default_factory=Listener)
    air_absorption: Bool = True

    @model_validator(mode="after")
    def _shape(self):
        problems = []
        if self.anechoic:
            for k in ("dimensions_m", "rt60_s", "materials"):
                if getattr(self, k) is not None:
                    problems.append(((k,), "an anechoic room has none; remove it or set room.anechoic: false"))
        else:
            if self.dimensions_m is None:
                problems.append((("dimensions_m",), "required field is missing (or set room.anechoic: true)"))
            if self.rt60_s is not None and self.materials is not None:
                problems.append((("materials",), "give room.rt60_s or room.materials, not both"))
            if self.rt60_s is None and self.materials is None:
                problems.append((("rt60_s",), "required field is missing (or give room.materials, "
                                              "or set room.anechoic: true)"))
        if problems:
            raise problems_error(problems)
        return self
