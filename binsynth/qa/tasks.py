"""Task generators: every unambiguous question a scene allows, one :class:`Instance` each.

A generator takes the scene's :class:`~binsynth.qa.facts.Facts` and returns all instances
of its task that the margins of :mod:`binsynth.qa.facts` allow (no randomness here; the
sampler in :mod:`binsynth.qa.generate` picks among them). Instances that are the same
question asked differently (X vs Y and Y vs X; "closer" and "farther" of one pair) share a
``key``, so a scene never gets both. ``pool`` returns tiers of multiple-choice distractor
candidates, most plausible first (front/back mirror images, the unturned direction, other
sources present before absent classes).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from binsynth.qa import facts as F
from binsynth.qa.facts import Facts, Src



@dataclass
class Instance:
    """One concrete question of a task, before phrasing and form are chosen."""

    key: tuple
    answer: str
    variant: str = ""
    slots: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    pool: Callable[[], list[list[str]]] | None = None


def the(s: Src) -> str:
    return f"the {s.label}"


def labels_pool(f: Facts, answer: str, first: tuple[str, ...] = ()) -> Callable[[], list[list[str]]]:
    def pool():
        present = [x for x in list(first) + f.labels if x != answer]
        return [list(dict.fromkeys(present)), list(f.absent)]
    return pool


def sectors_pool(answer: str, preferred: list[str]) -> Callable[[], list[list[str]]]:
    def pool():
        return [[s for s in dict.fromkeys(preferred) if s != answer], [s for s in F.SECTORS if s != answer]]
    return pool


def mirrors(az: float) -> list[str]:
    """Sectors of the front/back and left/right mirror images (typical confusions)."""
    return [F.sector_of(180.0 - az), F.sector_of(-az)]


def _other_distances(f: Facts, d: float) -> list[float]:
    """Distractor distances: other sources first, then scaled and shifted values, all ≥ 1 m off."""
    cands = [s.dist for s in f.srcs] + [d * k for k in (0.5, 2.0, 3.0)] + [d + k for k in (1.0, -1.0, 1.5, 2.0, 3.0)]
    out = []
    for c in cands:
        c = round(c, 1)
        if c >= 0.2 and abs(c - round(d, 1)) >= 1.0 - 1e-9 and c not in out:
            out.append(c)
    return out


# ------------------------------------------------------------------------ level 1


def presence(f: Facts) -> list[Instance]:
    if not f.srcs:
        return []
    labels = f.labels

    def pool():
        alts = []
        for p, a in itertools.product(labels, f.absent):
            alts.append(sorted(set(labels) - {p} | {a}))
        alts += [sorted(set(labels) - {p}) for p in labels if len(labels) > 1]
        alts += [sorted(set(labels) | {a}) for a in f.absent]
        return [[", ".join(x) for x in alts]]
    return [Instance(("presence",), ", ".join(labels), params={"labels": labels}, pool=pool)]


def count(f: Facts) -> list[Instance]:
    n = len(f.srcs)
    if n == 0:
        return []
    pool = lambda: [[str(k) for k in (n - 1, n + 1) if k >= 1], [str(k) for k in (n + 2, n - 2, n + 3) if k >= 1]]
    return [Instance(("count",), str(n), params={"count": n}, pool=pool)]


def sound_class(f: Facts) -> list[Instance]:
    """What the one sound is; asked only when the scene has exactly one source."""
    if len(f.srcs) != 1:
        return []
    s = f.srcs[0]
    return [Instance(("sound_class",), s.label, params={"sources": [0]}, pool=labels_pool(f, s.label))]


def side(f: Facts) -> list[Instance]:
    """Left or right of a named source, asked when its lateral angle is ≥ 20° from the median plane."""
    return [Instance(("side", s.index), "left" if s.lateral > 0 else "right", slots={"x": the(s)},
                     params={"sources": [s.index]})
            for s in f.named if abs(s.lateral) >= F.HEMISPHERE_MARGIN_DEG]


def direction_sector(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        sec = s.sector()
        if sec is not None:
            out.append(Instance(("direction_sector", s.index), sec, slots={"x": the(s)},
                                params={"sources": [s.index]}, pool=sectors_pool(sec, mirrors(s.az))))
    return out


def direction_degrees(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        if not s.azimuth_ok:
            continue

        def pool(az=s.az):
            first = [180.0 - az, -az]
            rest = [az + k for k in (30, -30, 45, -45, 60, -60, 90, -90, 120, -120, 180)]
            keep = lambda xs: [F.degrees_text(a) for a in xs if F.angle_between_deg(round(a), az) >= 30.0]
            return [keep(first), keep(rest)]
        out.append(Instance(("direction_degrees", s.index), F.degrees_text(s.az), slots={"x": the(s)},
                            params={"sources": [s.index]}, pool=pool))
    return out


def elevation(f: Facts) -> list[Instance]:
    return [Instance(("elevation", s.index), F.elevation_class(s.el), slots={"x": the(s)}, params={"sources": [s.index]})
            for s in f.named if F.elevation_class(s.el) is not None]


def distance(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        pool = lambda d=s.dist: [[F.metres_text(c) for c in _other_distances(f, d)]]
        out.append(Instance(("distance", s.index), F.metres_text(s.dist), slots={"x": the(s)},
                            params={"sources": [s.index]}, pool=pool))
    return out


def near_far(f: Facts) -> list[Instance]:
    return [Instance(("near_far", s.index), F.near_far(s.dist), slots={"x": the(s)}, params={"sources": [s.index]})
            for s in f.named if F.near_far(s.dist) is not None]


def reverberation(f: Facts) -> list[Instance]:
    rt60 = f.rt60_s
    cls = F.REVERB_CLASSES[0] if rt60 is None else F.binned(rt60, F.RT60_THRESHOLDS_S, F.REVERB_CLASSES[1:])
    if cls is None:
        return []
    pool = lambda: [[c for c in F.REVERB_CLASSES if c != cls]]
    return [Instance(("reverberation",), cls, params={"rt60_s": rt60}, pool=pool)]


def room_size(f: Facts) -> list[Instance]:
    v = f.volume_m3
    cls = None if v is None else F.binned(v, F.VOLUME_THRESHOLDS_M3, F.ROOM_SIZES)
    if cls is None:
        return []
    pool = lambda: [[c for c in F.ROOM_SIZES if c != cls]]
    return [Instance(("room_size",), cls, params={"volume_m3": v}, pool=pool)]


# ------------------------------------------------------------------------ level 2


def _pairs(f: Facts):
    """Ordered pairs of distinct named sources."""
    return [(a, b) for a, b in itertools.permutations(f.named, 2)]


def _pair_key(task: str, a: Src, b: Src) -> tuple:
    return (task, min(a.index, b.index), max(a.index, b.index))


def lateral_relation(f: Facts) -> list[Instance]:
    return [Instance(_pair_key("lateral_relation", a, b), "left" if a.lateral > b.lateral else "right",
                     slots={"x": the(a), "y": the(b)}, params={"sources": [a.index, b.index]})
            for a, b in _pairs(f) if abs(a.lateral - b.lateral) >= F.LATERAL_MARGIN_DEG]


def front_back_relation(f: Facts) -> list[Instance]:
    return [Instance(_pair_key("front_back_relation", a, b), "in front" if a.frontal > b.frontal else "behind",
                     slots={"x": the(a), "y": the(b)}, params={"sources": [a.index, b.index]})
            for a, b in _pairs(f) if abs(a.frontal - b.frontal) >= F.LATERAL_MARGIN_DEG]


def closer(f: Facts) -> list[Instance]:
    out = []
    for a, b in _pairs(f):
        if F.clearly_apart(a.dist, b.dist):
            for variant in ("near", "far"):
                win = min(a, b, key=lambda s: s.dist) if variant == "near" else max(a, b, key=lambda s: s.dist)
                out.append(Instance(_pair_key("closer", a, b), win.label, variant, {"x": the(a), "y": the(b)},
                                    {"sources": [a.index, b.index], "variant": variant}))
    return out


def _extreme(f: Facts, task: str, value: Callable[[Src], float], variants: dict[str, int],
             apart: Callable[[float, float], bool]) -> list[Instance]:
    """The source with the largest (+1) or smallest (-1) value, when clearly apart from the runner-up."""
    if len(f.srcs) < 2:
        return []
    out = []
    for variant, sign in variants.items():
        ranked = sorted(f.srcs, key=lambda s: -sign * value(s))
        if apart(value(ranked[0]), value(ranked[1])):
            out.append(Instance((task, variant), ranked[0].label, variant,
                                params={"sources": [ranked[0].index], "variant": variant},
                                pool=labels_pool(f, ranked[0].label)))
    return out


def extreme_lateral(f: Facts) -> list[Instance]:
    return _extreme(f, "extreme_lateral", lambda s: s.lateral, {"left": 1, "right": -1},
                    lambda a, b: abs(a - b) >= F.LATERAL_MARGIN_DEG)


def extreme_distance(f: Facts) -> list[Instance]:
    return _extreme(f, "extreme_distance", lambda s: s.dist, {"near": -1, "far": 1}, F.clearly_apart)


def _possible_sectors(s: Src) -> set[str]:
    """Sectors a source could be said to be in: two when it lies near a boundary."""
    return {F.sector_of(s.az + d) for d in (-F.SECTOR_MARGIN_DEG, 0.0, F.SECTOR_MARGIN_DEG)}


def source_at_sector(f: Facts) -> list[Instance]:
    if not f.srcs or not all(s.azimuth_ok for s in f.srcs):
        return []
    out = []
    for sec in F.SECTORS:
        inside = [s for s in f.srcs if _possible_sectors(s) == {sec}]
        unsure = [s for s in f.srcs if sec in _possible_sectors(s) and len(_possible_sectors(s)) > 1]
        if len(inside) == 1 and not unsure:
            s = inside[0]
            out.append(Instance(("source_at_sector", sec), s.label, slots={"sector": sec},
                                params={"sources": [s.index], "sector": sec}, pool=labels_pool(f, s.label)))
    return out


def where_how_far(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        sec = s.sector()
        if sec is None:
            continue

        def pool(s=s, sec=sec):
            dists = [F.metres_text(d) for d in _other_distances(f, s.dist)]
            mine = F.metres_text(s.dist)
            others = [x for x in dict.fromkeys(mirrors(s.az) + list(F.SECTORS)) if x != sec]
            first = [f"{o}, {mine}" for o in others[:2]] + [f"{sec}, {d}" for d in dists[:2]]
            rest = [f"{o}, {d}" for o in others for d in [mine] + dists]
            return [first, rest]
        out.append(Instance(("where_how_far", s.index), f"{sec}, {F.metres_text(s.dist)}", slots={"x": the(s)},
                            params={"sources": [s.index]}, pool=pool))
    return out


def temporal_order(f: Facts) -> list[Instance]:
    out = []
    for a, b in _pairs(f):
        if abs(a.onset - b.onset) >= F.ONSET_MARGIN_S:
            first, last = sorted((a, b), key=lambda s: s.onset)
            for variant, win in (("first", first), ("last", last)):
                out.append(Instance(_pair_key("temporal_order", a, b), win.label, variant, {"x": the(a), "y": the(b)},
                                    {"sources": [a.index, b.index], "variant": variant}))
    return out


def first_onset(f: Facts) -> list[Instance]:
    return _extreme(f, "first_onset", lambda s: s.onset, {"first": -1, "last": 1},
                    lambda a, b: abs(a - b) >= F.ONSET_MARGIN_S)


def overlap(f: Facts) -> list[Instance]:
    out = []
    for a, b in _pairs(f):
        o = min(a.offset, b.offset) - max(a.onset, b.onset)
        if abs(o) >= F.OVERLAP_MARGIN_S:
            out.append(Instance(_pair_key("overlap", a, b), "yes" if o > 0 else "no", slots={"x": the(a), "y": the(b)},
                                params={"sources": [a.index, b.index]}))
    return out
