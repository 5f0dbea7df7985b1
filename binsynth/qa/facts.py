"""Spatial facts of a scene, and the definitions and thresholds every QA task uses.

Everything here is computed from the scene metadata alone (:class:`~binsynth.scene.record.SceneSpec`),
never from audio. Conventions are those of the head frame (AES69/SOFA): +x nose, +y left
ear, +z up; azimuth in degrees counter-clockwise from the nose in (-180, 180], +90 = left;
elevation in degrees, +90 = above; distance in metres from the head centre; times in
seconds from the clip start.

Definitions (they also go into the dataset card through :func:`binsynth.qa.describe_tasks`):

- **Sector**: eight 45° sectors centred on 0, 45, …, 180, -135, … degrees, named (counter-
  clockwise) front, front-left, left, back-left, back, back-right, right, front-right. A
  source within ``SECTOR_MARGIN_DEG`` of a sector boundary (±22.5°, ±67.5°, …) is not asked
  about, nor is the azimuth of a source more than ``MAX_ELEVATION_FOR_AZIMUTH_DEG`` above or
  below the horizontal plane (its azimuth is nearly meaningless there).
- **Lateral angle** φ = asin(sin az · cos el), +90 = fully left, -90 = fully right: the
  angle from the median plane, which interaural time and level differences encode. "X is to
  the left of Y" means φ_X > φ_Y; "leftmost" is the largest φ. A side (left/right) of one
  source is asked only when |φ| ≥ ``SIDE_MARGIN_DEG``; comparisons need a gap of at least
  ``LATERAL_MARGIN_DEG``.
- **Frontal angle** ψ = asin(cos az · cos el), +90 = straight ahead, -90 = straight behind.
  "In front" means ψ > 0, "X is in front of Y" means ψ_X > ψ_Y, with the same margins.
- **Elevation class**: above if el > +20°, below if el < -20°, level otherwise; not asked
  within ``ELEVATION_MARGIN_DEG`` of ±20°.
- **Distance**: metres rounded to 0.1; near if < 1.5 m, far otherwise; comparisons and the
  near/far class need a relative gap of ``RELATIVE_MARGIN`` (10 %).
- **Reverberation** from the room's RT60 at 1 kHz: free field → "no reverberation";
  dry < 0.3 s ≤ moderate < 0.8 s ≤ reverberant (10 % margin around each threshold).
- **Room size** from the volume: small < 50 m³ ≤ medium < 200 m³ ≤ large < 1000 m³ ≤ very
  large (10 % margin); not asked in free field.
- **Time**: onset order needs onsets ``ONSET_MARGIN_S`` (0.1 s) apart; two sources overlap
  when min(offsets) - max(onsets) ≥ 0.1 s, do not when it is ≤ -0.1 s, else not asked.
- **Motion** (scenes with moving sources), from each source's trajectory — the positions
  rendered at the 100 ms frames (:meth:`SceneSpec.trajectories`, or given to :class:`Facts`): a source
  *clearly moves* when its direction turns at least ``MOTION_MIN_TURN_DEG`` (great circle,
  from its first frame) or its distance changes by at least ``MOTION_MIN_RANGE`` of its
  start; a still source has no trajectory. Left-to-right / right-to-left: the lateral angle
  φ changes by at least ``LATERAL_MARGIN_DEG`` from the first frame to the last and never
  turns back by more than ``MONOTONE_SLACK_DEG``; approaching / receding: the distance
  changes by at least ``RELATIVE_MARGIN`` and never turns back by more than
  ``MONOTONE_SLACK_M``; start and end sectors as for a still source, at the first and last
  frames. Questions about where a source *is* (sector, side, distance, relations) are asked
  about still sources only, and questions that rank every source (leftmost, nearest, …) only
  in scenes where nothing moves.
- **Labels**: a source's display label is its class label with ``_`` read as a space,
  lower-cased, cut at the first comma (AudioSet style "Male speech, man speaking" →
  "male speech"). A question names a source only when its label is unique in the scene.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # qa reads a scene's fields; the scene sampler imports qa
    from binsynth.scene.record import SceneSpec

SECTORS: tuple[str, ...] = (
    "front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right",
)
SECTOR_CENTRE_DEG: dict[str, float] = {s: (45.0 * i if i <= 4 else 45.0 * i - 360.0) for i, s in enumerate(SECTORS)}

SECTOR_MARGIN_DEG = 5.0
MAX_ELEVATION_FOR_AZIMUTH_DEG = 60.0
ELEVATION_THRESHOLD_DEG = 20.0
ELEVATION_MARGIN_DEG = 5.0
SIDE_MARGIN_DEG = 10.0
HEMISPHERE_MARGIN_DEG = 20.0
LATERAL_MARGIN_DEG = 15.0
NEAR_FAR_THRESHOLD_M = 1.5
RELATIVE_MARGIN = 0.10
ONSET_MARGIN_S = 0.1
OVERLAP_MARGIN_S = 0.1
RT60_THRESHOLDS_S = (0.3, 0.8)
REVERB_CLASSES = ("no reverberation", "dry", "moderate", "reverberant")
VOLUME_THRESHOLDS_M3 = (50.0, 200.0, 1000.0)
ROOM_SIZES = ("small", "medium", "large", "very large")
TURN_ANGLES_DEG = (30, 45, 60, 90, 120, 135, 180)
MOTION_MIN_TURN_DEG = 10.0
MOTION_MIN_RANGE = 0.2
MONOTONE_SLACK_DEG = 1.0
MONOTONE_SLACK_M = 0.01

#: Sound classes used as "absent" distractors when the caller gives no vocabulary.
DEFAULT_VOCABULARY: tuple[str, ...] = (
    "speech", "dog", "cat", "siren", "car horn", "engine", "music", "piano", "guitar",
    "footsteps", "door knock", "telephone", "alarm", "bird", "baby crying", "clock",
    "water", "keyboard typing", "applause", "laughter", "vacuum cleaner", "bell",
)


def wrap_deg(angle_deg: float) -> float:
    """Wrap an angle in degrees to (-180, 180]."""
    a = math.fmod(angle_deg + 180.0, 360.0)
    a = a + 360.0 if a < 0 else a
    a -= 180.0
    return 180.0 if a == -180.0 else a


def angle_between_deg(a_deg: float, b_deg: float) -> float:
    """Smallest absolute difference of two azimuths, in [0, 180] degrees."""
    return abs(wrap_deg(a_deg - b_deg))


def sector_of(az_deg: float) -> str:
    """The 45° sector holding an azimuth (sectors centred on multiples of 45°)."""
    return SECTORS[int(math.floor((wrap_deg(az_deg) + 22.5) / 45.0)) % 8]


def sector_margin_deg(az_deg: float) -> float:
    """Distance in degrees from an azimuth to the nearest sector boundary (0 … 22.5)."""
    r = (wrap_deg(az_deg) + 22.5) % 45.0
    return min(r, 45.0 - r)


def lateral_deg(az_deg: float, el_deg: float) -> float:
    """Lateral angle asin(sin az · cos el) in degrees, +90 = left."""
    v = math.sin(math.radians(az_deg)) * math.cos(math.radians(el_deg))
    return math.degrees(math.asin(max(-1.0, min(1.0, v))))


def frontal_deg(az_deg: float, el_deg: float) -> float:
    """Frontal angle asin(cos az · cos el) in degrees, +90 = straight ahead."""
    v = math.cos(math.radians(az_deg)) * math.cos(math.radians(el_deg))
    return math.degrees(math.asin(max(-1.0, min(1.0, v))))


def elevation_class(el_deg: float) -> str | None:
    """above / level / below, or None within the margin of a threshold."""
    if abs(abs(el_deg) - ELEVATION_THRESHOLD_DEG) < ELEVATION_MARGIN_DEG:
        return None
    if el_deg > ELEVATION_THRESHOLD_DEG:
        return "above"
    return "below" if el_deg < -ELEVATION_THRESHOLD_DEG else "level"


def clearly_apart(a: float, b: float, rel: float = RELATIVE_MARGIN) -> bool:
    """True when two positive quantities differ by at least ``rel`` of the smaller one."""
    return abs(a - b) >= rel * min(a, b)


def binned(value: float, thresholds: tuple[float, ...], names: tuple[str, ...]) -> str | None:
    """The class of ``value`` between ascending thresholds, or None within 10 % of one."""
    if any(not clearly_apart(value, t) for t in thresholds):
        return None
    return names[sum(value >= t for t in thresholds)]


def near_far(distance_m: float) -> str | None:
    return binned(distance_m, (NEAR_FAR_THRESHOLD_M,), ("near", "far"))


def side_of(lat_deg: float) -> str | None:
    """left / right for a lateral angle, or None when |φ| < ``SIDE_MARGIN_DEG``."""
    if abs(lat_deg) < SIDE_MARGIN_DEG:
        return None
    return "left" if lat_deg > 0 else "right"


def front_back_of(front_deg: float) -> str | None:
    """front / back for a frontal angle, or None when |ψ| < ``SIDE_MARGIN_DEG``."""
    if abs(front_deg) < SIDE_MARGIN_DEG:
        return None
    return "front" if front_deg > 0 else "back"


def great_circle_deg(az1: float, el1: float, az2: float, el2: float) -> float:
    """Angle in degrees between two directions given as (azimuth, elevation) in degrees."""
    a1, e1, a2, e2 = map(math.radians, (az1, el1, az2, el2))
    c = math.sin(e1) * math.sin(e2) + math.cos(e1) * math.cos(e2) * math.cos(a1 - a2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def monotone_change(values: list[float], slack: float) -> float | None:
    """last - first when ``values`` never turn back by more than ``slack``; else None."""
    total = values[-1] - values[0]
    sign = 1.0 if total >= 0 else -1.0
    low = values[0]
    for v in values:  # the running extreme in the direction of travel
        if sign * (v - low) < -slack:
            return None
        low = v if sign * (v - low) > 0 else low
    return total


def display_label(label: str) -> str:
    """The label as questions and answers spell it (see the module docstring)."""
    text = str(label).split(",")[0].replace("_", " ").strip().lower()
    return " ".join(text.split())


def metres_text(distance_m: float) -> str:
    return f"{round(distance_m, 1):.1f} m"


def degrees_text(az_deg: float) -> str:
    return f"{int(wrap_deg(round(az_deg)))} degrees"


@dataclass(frozen=True)
class Src:
    """One source's facts, in the head frame."""

    index: int
    label: str  # display label
    az: float
    el: float
    dist: float
    onset: float
    offset: float
    #: (t, az, el, dist) per 100 ms frame for a moving source, () for a still one
    track: tuple = ()

    @property
    def moving(self) -> bool:
        return bool(self.track)

    @property
    def end(self) -> tuple[float, float, float]:
        """(az, el, dist) where the source ends: its last frame, or where it is if still."""
        return tuple(self.track[-1][1:]) if self.track else (self.az, self.el, self.dist)

    @property
    def start(self) -> tuple[float, float, float]:
        """(az, el, dist) where the source starts: its first frame, or where it is if still."""
        return tuple(self.track[0][1:]) if self.track else (self.az, self.el, self.dist)

    @property
    def clearly_moving(self) -> bool:
        """Moving, and by at least the motion margins (see the module docstring)."""
        if not self.track:
            return False
        a0, e0, d0 = self.track[0][1:]
        turn = max(great_circle_deg(a0, e0, a, e) for _, a, e, _ in self.track)
        reach = max(abs(d - d0) for *_, d in self.track) / d0
        return turn >= MOTION_MIN_TURN_DEG or reach >= MOTION_MIN_RANGE

    @property
    def lateral(self) -> float:
        return lateral_deg(self.az, self.el)

    @property
    def frontal(self) -> float:
        return frontal_deg(self.az, self.el)

    @property
    def azimuth_ok(self) -> bool:
        """Whether the azimuth is meaningful (not near the poles)."""
        return abs(self.el) <= MAX_ELEVATION_FOR_AZIMUTH_DEG

    def sector(self, turn_deg: float = 0.0) -> str | None:
        """The sector after the head turns ``turn_deg`` counter-clockwise; None if ambiguous."""
        az = wrap_deg(self.az - turn_deg)
        if not self.azimuth_ok or sector_margin_deg(az) < SECTOR_MARGIN_DEG:
            return None
        return sector_of(az)


class Facts:
    """Per-scene facts shared by the task generators."""

    def __init__(self, scene: SceneSpec, vocabulary=None, trajectories=None):
        """``trajectories``: per source, its (t, az, el, dist) frames ([] when still); None: the
        scene's own (:meth:`SceneSpec.trajectories`, from each source's path)."""
        self.scene = scene
        if trajectories is None:
            trajectories = scene.trajectories() if hasattr(scene, "trajectories") else None
        tracks = trajectories or [[] for _ in scene.sources]
        if len(tracks) != len(scene.sources):
            raise ValueError(f"{len(tracks)} trajectories for {len(scene.sources)} sources")
        self.srcs = [
            Src(i, display_label(s.label), float(s.azimuth_deg), float(s.elevation_deg), float(s.distance_m),
                float(s.onset_s), float(s.offset_s), tuple(tuple(map(float, f)) for f in tracks[i]))
            for i, s in enumerate(scene.sources)
        ]
        self.any_moving = any(s.moving for s in self.srcs)
        counts: dict[str, int] = {}
        for s in self.srcs:
            counts[s.label] = counts.get(s.label, 0) + 1
        self.labels = sorted(counts)
        self.named = [s for s in self.srcs if counts[s.label] == 1]  # sources a question may name
        vocab = DEFAULT_VOCABULARY if vocabulary is None else vocabulary
        present = set(self.labels)
        self.absent = sorted({display_label(v) for v in vocab} - present - {""})

    def still(self) -> "Facts":
        """These facts with the moving sources left out of ``srcs`` and ``named`` (for the
        questions about where a source is; names stay those of the whole scene)."""
        view = copy.copy(self)
        view.srcs = [s for s in self.srcs if not s.moving]
        view.named = [s for s in self.named if not s.moving]
        view.any_moving = False
        return view

    @cached_property
    def rt60_s(self) -> float | None:
        """RT60 at 1 kHz in seconds; None in free field."""
        room = self.scene.room
        if room.anechoic:
            return None
        if room.rt60_s is not None:
            return float(room.rt60_s)
        return float(self.scene.shoebox().rt60_s[3])  # band 3 = 1 kHz

    @cached_property
    def volume_m3(self) -> float | None:
        room = self.scene.room
        if room.anechoic or not room.dimensions_m:
            return None
        return float(math.prod(room.dimensions_m))
