"""Motion task generators, from the trajectories of moving sources (:mod:`binsynth.qa.facts`
defines "clearly moving", the monotone-change rule and the margins).

- ``moving_or_still`` (level 1): still sources are "still"; sources that clearly move are
  "moving"; a source that moves by less than the margins is not asked about.
- ``motion_direction`` (level 1): "left to right" when the lateral angle φ falls by at least
  ``LATERAL_MARGIN_DEG`` from first to last frame without turning back, "right to left"
  when it rises so (+φ = left).
- ``approach`` (level 1): "approaching" / "receding" when the distance falls / rises by at
  least ``RELATIVE_MARGIN`` of the smaller end without turning back.
- ``path_sectors`` (level 1): "from {start sector} to {end sector}", both ends unambiguous.
- ``which_moves`` (level 2): the one source that clearly moves while every other is still.
- ``nearer_at_end`` (level 3): of X and Y (at least one moving), which is nearer where they
  end — their last frames — with distances clearly apart; needs the path, not the start.
"""

from __future__ import annotations

from binsynth.qa import facts as F
from binsynth.qa.facts import Facts, Src
from binsynth.qa.tasks import Instance, _pair_key, _pairs, labels_pool, mirrors, the


def moving_or_still(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        if s.moving and not s.clearly_moving:
            continue
        out.append(Instance(("moving_or_still", s.index), "moving" if s.moving else "still", slots={"x": the(s)},
                            params={"sources": [s.index]}))
    return out


def lateral_change(s: Src) -> float | None:
    """φ(last) - φ(first) of a moving source when it never turns back, else None."""
    if not s.moving:
        return None
    return F.monotone_change([F.lateral_deg(a, e) for _, a, e, _ in s.track], F.MONOTONE_SLACK_DEG)


def distance_change(s: Src) -> float | None:
    """dist(last) - dist(first) of a moving source when it never turns back, else None."""
    if not s.moving:
        return None
    return F.monotone_change([d for *_, d in s.track], F.MONOTONE_SLACK_M)


def motion_direction(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        change = lateral_change(s)
        if change is not None and abs(change) >= F.LATERAL_MARGIN_DEG:
            out.append(Instance(("motion_direction", s.index), "left to right" if change < 0 else "right to left",
                                slots={"x": the(s)}, params={"sources": [s.index]}))
    return out


def approach(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        change = distance_change(s)
        if change is not None and F.clearly_apart(s.start[2], s.end[2]):
            out.append(Instance(("approach", s.index), "approaching" if change < 0 else "receding",
                                slots={"x": the(s)}, params={"sources": [s.index]}))
    return out


def _sector_at(az: float, el: float) -> str | None:
    if abs(el) > F.MAX_ELEVATION_FOR_AZIMUTH_DEG or F.sector_margin_deg(az) < F.SECTOR_MARGIN_DEG:
        return None
    return F.sector_of(az)


def path_text(start: str, end: str) -> str:
    return f"from {start} to {end}"


def path_sectors(f: Facts) -> list[Instance]:
    out = []
    for s in f.named:
        if not s.clearly_moving:
            continue
        first, last = _sector_at(*s.start[:2]), _sector_at(*s.end[:2])
        if first is None or last is None:
            continue

        def pool(first=first, last=last, s=s):
            ends = [last, first] + mirrors(s.start[0]) + mirrors(s.end[0])
            near = [path_text(last, first)] + [path_text(a, last) for a in ends] + [path_text(first, b) for b in ends]
            rest = [path_text(a, b) for a in F.SECTORS for b in F.SECTORS]
            answer = path_text(first, last)
            return [[x for x in dict.fromkeys(near) if x != answer], [x for x in rest if x != answer]]
        out.append(Instance(("path_sectors", s.index), path_text(first, last), slots={"x": the(s)},
                            params={"sources": [s.index]}, pool=pool))
    return out


def which_moves(f: Facts) -> list[Instance]:
    if len(f.srcs) < 2:
        return []
    movers = [s for s in f.srcs if s.moving]
    if len(movers) != 1 or not movers[0].clearly_moving or movers[0] not in f.named:
        return []
    s = movers[0]
    return [Instance(("which_moves",), s.label, params={"sources": [s.index]}, pool=labels_pool(f, s.label))]


def nearer_at_end(f: Facts) -> list[Instance]:
    out = []
    for a, b in _pairs(f):
        if not (a.clearly_moving or b.clearly_moving) or not F.clearly_apart(a.end[2], b.end[2]):
            continue
        win = min(a, b, key=lambda s: s.end[2])
        out.append(Instance(_pair_key("nearer_at_end", a, b), win.label, slots={"x": the(a), "y": the(b)},
                            params={"sources": [a.index, b.index]}))
    return out
