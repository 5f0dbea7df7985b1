"""Level-3 task generators: what changes under a hypothetical.

- ``rotation``: the head turns θ degrees left (counter-clockwise seen from above) or right;
  a source at azimuth az is then at az - θ (left turn) or az + θ (right turn).
- ``face_source``: the head turns (yaw only) to face X; Y is then at az_Y - az_X with its
  elevation unchanged.
- ``nearest_if_stopped``: X falls silent; the answer is the nearest of the others.
- ``behind_when_facing``: after turning (yaw only) to face X, as one starts walking toward
  it, a source S is behind when its frontal component in the turned frame,
  cos(el_S)·cos(az_S - az_X), is negative; the question is skipped if any source is within
  ``SIDE_MARGIN_DEG`` of that frontal plane or a label is split across it.
- ``compound``: an anchor (nearest, farthest, first to start, or a named source) and two
  conditions on different axes (side, front/back, elevation class, near/far); yes iff both
  hold, every condition's axis must be unambiguous for the anchor.
"""

from __future__ import annotations

import itertools

from binsynth.qa import facts as F
from binsynth.qa.facts import Facts, Src
from binsynth.qa.tasks import Instance, labels_pool, mirrors, sectors_pool, the
from binsynth.qa.templates import ANCHOR_PHRASES, CONDITION_PHRASES


def rotation(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        for theta in F.TURN_ANGLES_DEG:
            for direction in (("around",) if theta == 180 else ("left", "right")):
                turn = -float(theta) if direction == "right" else float(theta)
                sec = s.sector(turn)
                if sec is None:
                    continue
                preferred = [F.sector_of(s.az + turn), F.sector_of(s.az)] + mirrors(s.az - turn)
                variant = "around" if direction == "around" else "turn"
                out.append(Instance(("rotation", s.index, theta, direction), sec, variant,
                                    {"x": the(s), "theta": theta, "dir": direction},
                                    {"sources": [s.index], "turn_deg": turn}, sectors_pool(sec, preferred)))
    return out


def face_source(f: Facts) -> list[Instance]:
    out = []
    for x, y in itertools.permutations(f.named, 2):
        if not x.azimuth_ok:
            continue
        sec = y.sector(x.az)
        if sec is None:
            continue
        preferred = [F.sector_of(y.az), F.sector_of(y.az + x.az)] + mirrors(y.az - x.az)
        out.append(Instance(("face_source", x.index, y.index), sec, slots={"x": the(x), "y": the(y)},
                            params={"sources": [x.index, y.index]}, pool=sectors_pool(sec, preferred)))
    return out


def nearest_if_stopped(f: Facts) -> list[Instance]:
    if len(f.srcs) < 3:
        return []
    out = []
    for x in f.named:
        rest = sorted((s for s in f.srcs if s.index != x.index), key=lambda s: s.dist)
        if F.clearly_apart(rest[0].dist, rest[1].dist):
            out.append(Instance(("nearest_if_stopped", x.index), rest[0].label, slots={"x": the(x)},
                                params={"sources": [x.index, rest[0].index]},
                                pool=labels_pool(f, rest[0].label, first=(x.label,))))
    return out


def frontal_after_facing_deg(s: Src, facing_az_deg: float) -> float:
    """Frontal angle of ``s`` after a yaw turn to ``facing_az_deg``, degrees (+90 = ahead)."""
    return F.frontal_deg(s.az - facing_az_deg, s.el)


def behind_when_facing(f: Facts) -> list[Instance]:
    out = []
    for x in f.named:
        others = [s for s in f.srcs if s.index != x.index]
        if not x.azimuth_ok or not others:
            continue
        angles = {s.index: frontal_after_facing_deg(s, x.az) for s in others}
        if any(abs(a) < F.SIDE_MARGIN_DEG for a in angles.values()):
            continue
        behind = {s.label for s in others if angles[s.index] < 0}
        ahead = {s.label for s in others if angles[s.index] > 0}
        if behind & ahead:
            continue  # one label on both sides: the answer could not name them apart
        answer = ", ".join(sorted(behind)) or "none"
        labels = sorted(behind | ahead)

        def pool(labels=labels, behind=behind, ahead=ahead):
            first = [", ".join(sorted(ahead)) or "none"]
            subsets = [", ".join(c) or "none" for k in range(len(labels) + 1)
                       for c in itertools.combinations(labels, k)] if len(labels) <= 6 else []
            extra = [", ".join(sorted(behind | {a})) for a in f.absent[:4]]
            return [first, subsets + extra]
        out.append(Instance(("behind_when_facing", x.index), answer, slots={"x": the(x)},
                            params={"sources": [x.index], "behind": sorted(s.index for s in others if angles[s.index] < 0)},
                            pool=pool))
    return out


AXES: dict[str, tuple[str, ...]] = {
    "side": ("left", "right"),
    "front_back": ("front", "back"),
    "elevation": ("above", "level", "below"),
    "near_far": ("near", "far"),
}


def axis_value(s: Src, axis: str) -> str | None:
    """The true value of one compound-condition axis for a source, or None if ambiguous."""
    if axis == "side":
        return F.side_of(s.lateral)
    if axis == "front_back":
        return F.front_back_of(s.frontal)
    if axis == "elevation":
        return F.elevation_class(s.el)
    return F.near_far(s.dist)


def _anchors(f: Facts) -> list[tuple[str, str, Src]]:
    """(name, phrase, source) of every unambiguous anchor."""
    out = []
    if len(f.srcs) >= 2:
        by_d = sorted(f.srcs, key=lambda s: s.dist)
        if F.clearly_apart(by_d[0].dist, by_d[1].dist):
            out.append(("nearest", ANCHOR_PHRASES["nearest"], by_d[0]))
        if F.clearly_apart(by_d[-1].dist, by_d[-2].dist):
            out.append(("farthest", ANCHOR_PHRASES["farthest"], by_d[-1]))
        by_t = sorted(f.srcs, key=lambda s: s.onset)
        if by_t[1].onset - by_t[0].onset >= F.ONSET_MARGIN_S:
            out.append(("first", ANCHOR_PHRASES["first"], by_t[0]))
    out += [(f"source {s.index}", the(s), s) for s in f.named]
    return out


def compound(f: Facts) -> list[Instance]:
    out = []
    for name, phrase, s in _anchors(f):
        truth = {a: axis_value(s, a) for a in AXES}
        for a1, a2 in itertools.permutations([a for a in AXES if truth[a] is not None], 2):
            for v1, v2 in itertools.product(AXES[a1], AXES[a2]):
                cond = f"{CONDITION_PHRASES[(a1, v1)]} and {CONDITION_PHRASES[(a2, v2)]}"
                yes = v1 == truth[a1] and v2 == truth[a2]
                key = ("compound", name, *sorted([(a1, v1), (a2, v2)]))  # either order is one question
                out.append(Instance(key, "yes" if yes else "no",
                                    slots={"anchor": phrase, "cond": cond},
                                    params={"sources": [s.index], "anchor": name,
                                            "conditions": [[a1, v1], [a2, v2]]}))
    return out


__all__ = ["rotation", "face_source", "nearest_if_stopped", "behind_when_facing", "compound", "AXES",
           "axis_value", "frontal_after_facing_deg"]
