"""Scene: the concrete, fully resolved record of one example — what a dataset row stores.

Every number a renderer needs is here, so a row's ``scene`` JSON re-renders the row
exactly (with the same corpora and HRTF file, checked by their hashes). Conventions:
room frame in metres (origin at a floor corner, z up); azimuth in degrees counter-clockwise
from the listener's nose in (-180, 180], +90 = left; elevation in degrees, +90 = above;
distance in metres from the head centre; times in seconds from the clip start; gains in dB.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from binsynth.io.jsonutil import plain

SCENE_FORMAT = 1


@dataclass
class SourceSpec:
    """One dry source placed in the scene. For a moving source, ``motion`` describes its path
    (:mod:`binsynth.scene.paths`) and the position fields hold where it starts (at onset);
    a still source has ``motion`` None and leaves it out of the scene JSON."""

    label: str
    clip_id: str
    azimuth_deg: float
    elevation_deg: float
    distance_m: float
    position_m: list[float]
    onset_s: float
    offset_s: float
    gain_db: float = 0.0
    motion: dict | None = None

    @property
    def moving(self) -> bool:
        return self.motion is not None


@dataclass
class RoomSpec:
    """A shoebox room, or free field (``anechoic``). absorption: 6 walls × 7 octave bands."""

    anechoic: bool
    dimensions_m: list[float] | None = None
    rt60_s: float | None = None
    absorption: list[list[float]] | None = None
    air_absorption: bool = True


@dataclass
class ListenerSpec:
    position_m: list[float]
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0


@dataclass
class SceneSpec:
    """One example. ``seed`` keys every random draw made while rendering it (tail noise)."""

    index: int
    split: str
    seed: int
    sample_rate_hz: int
    duration_s: float
    room: RoomSpec
    listener: ListenerSpec
    sources: list[SourceSpec]
    hrtf: str
    background: dict | None = None
    extra: dict = field(default_factory=dict)
    format: int = SCENE_FORMAT

    @property
    def id(self) -> str:
        return f"{self.split}-{self.index:08d}"

    def to_dict(self) -> dict:
        d = asdict(self)
        for s in d["sources"]:  # still sources: the JSON of scenes from before motion existed
            if s["motion"] is None:
                del s["motion"]
        return d

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the same scene always gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=plain)

    @classmethod
    def from_dict(cls, d: dict) -> "SceneSpec":
        d = dict(d)
        d["room"] = RoomSpec(**d["room"])
        d["listener"] = ListenerSpec(**d["listener"])
        d["sources"] = [SourceSpec(**s) for s in d["sources"]]
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "SceneSpec":
        return cls.from_dict(json.loads(text))

    def trajectories(self) -> list[list[list[float]]] | None:
        """Per source its ``[t, azimuth, elevation, distance]`` frames on the 100 ms grid ([] for
        a still source; :func:`binsynth.scene.paths.trajectory`), or None when nothing moves."""
        if not any(s.motion is not None for s in self.sources):
            return None
        from binsynth.scene.paths import trajectory

        return [trajectory(s, self.listener, self.sample_rate_hz) for s in self.sources]

    def shoebox(self):
        """The :class:`~binsynth.acoustics.room.ShoeboxRoom`, or None in free field."""
        from binsynth.acoustics.room import ShoeboxRoom

        r = self.room
        if r.anechoic:
            return None
        if r.absorption is not None:
            return ShoeboxRoom(r.dimensions_m, np.asarray(r.absorption), r.air_absorption, r.rt60_s)
        return ShoeboxRoom.from_rt60(r.dimensions_m, r.rt60_s, air_absorption=r.air_absorption)

