"""Checks that compare recipe sections, on the distributions' supports (min / max).

Each check returns ``(loc, message)`` pairs; ``loc`` is the field path as a tuple (the
field that should change), the message names the other field it contradicts. They run
after every section validated on its own, so they may assume well-formed sections.

Only contradictions are errors: a recipe for which *no* draw (or the extreme draws of the
distributions named) can work. Whether one particular draw fits (a source in a corner of a
small room) is the scene sampler's business.

``r`` is the :class:`~binsynth.recipe.model.Recipe` being validated, typed as its base
:class:`~binsynth.recipe.sections.Section`: the model imports these checks, not the reverse.
"""

from __future__ import annotations

import math
from pathlib import Path

from binsynth.constants import HEAD_RADIUS_M
from binsynth.recipe.distributions import fmt
from binsynth.recipe.room import MAX_RT60_S
from binsynth.recipe.sections import MAX_ABSORPTION, Section

Problem = tuple[tuple, str]


def cross_problems(r: Section) -> list[Problem]:
    """Every cross-section contradiction in ``r`` (empty when there is none)."""
    problems: list[Problem] = []
    for check in (_room, _placement, _timing, _separation, _hrtf_splits, _corpora):
        problems += check(r)
    return problems


def _dims(values) -> str:
    return " × ".join(fmt(v) for v in values) + " m"


def _room(r: Section) -> list[Problem]:
    room = r.room
    if room.anechoic or room.dimensions_m is None:
        return []
    out: list[Problem] = []
    d = room.dimensions_m
    lo = {a: getattr(d, a).low for a in "xyz"}
    hi = {a: getattr(d, a).high for a in "xyz"}
    lis = room.listener
    h = lis.height_m.high
    if lo["z"] <= h:
        out.append((("room", "dimensions_m", "z"),
                    f"minimum {fmt(lo['z'])} m is below room.listener.height_m maximum {fmt(h)} m "
                    "(the listener would not fit)"))
    elif lo["z"] < h + HEAD_RADIUS_M:
        out.append((("room", "dimensions_m", "z"),
                    f"minimum {fmt(lo['z'])} m leaves less than the {fmt(HEAD_RADIUS_M)} m head radius above "
                    f"room.listener.height_m maximum {fmt(h)} m (the listener would not fit)"))
    for axis in "xy":
        if lis.position_frac is not None:
            f = getattr(lis.position_frac, axis)
            loc = ("room", "listener", "position_frac", axis)
            for frac, edge in ((f.low, "minimum"), (1.0 - f.high, "maximum")):
                gap = frac * lo[axis]
                if gap < HEAD_RADIUS_M:
                    value = f.low if edge == "minimum" else f.high
                    out.append((loc, f"{edge} {fmt(value)} puts the head centre {fmt(gap)} m from a wall in the "
                                     f"smallest room ({axis} = {fmt(lo[axis])} m); it needs the "
                                     f"{fmt(HEAD_RADIUS_M)} m head radius"))
        if lis.position_m is not None:
            p = getattr(lis.position_m, axis)
            loc = ("room", "listener", "position_m", axis)
            if p.low < HEAD_RADIUS_M:
                out.append((loc, f"minimum {fmt(p.low)} m is closer to the wall than the "
                                 f"{fmt(HEAD_RADIUS_M)} m head radius"))
            if p.high + HEAD_RADIUS_M > lo[axis]:
                out.append((loc, f"maximum {fmt(p.high)} m does not fit in the smallest room "
                                 f"(room.dimensions_m.{axis} minimum {fmt(lo[axis])} m) with the "
                                 f"{fmt(HEAD_RADIUS_M)} m head radius"))
    if room.rt60_s is not None:
        out += _rt60(room.rt60_s, lo, hi, room.air_absorption)
    if room.materials is not None:
        out += _materials_rt60(room.materials.absorption, hi, room.air_absorption)
    return out


def _materials_rt60(absorption, hi: dict, air: bool) -> list[Problem]:
    """Walls that absorb too little ring longer than room.rt60_s may (BRIRs run to 1.1 × the
    longest band's RT60): checked with the least absorption in the largest room."""
    import numpy as np

    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.constants import OCTAVE_BANDS_HZ

    alpha = np.asarray(absorption) if isinstance(absorption, list) else absorption.low
    rt60 = ShoeboxRoom([hi["x"], hi["y"], hi["z"]], alpha, air_absorption=air).rt60_s
    band = int(np.argmax(rt60))
    if not rt60[band] <= MAX_RT60_S:
        return [(("room", "materials", "absorption"),
                 f"gives an RT60 of {fmt(rt60[band])} s ({fmt(OCTAVE_BANDS_HZ[band])} Hz band) in the largest "
                 f"room ({_dims(hi.values())}); at most {fmt(MAX_RT60_S)} s, as for room.rt60_s: absorb more")]
    return []


def _rt60(rt60, lo: dict, hi: dict, air: bool) -> list[Problem]:
    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.errors import BinsynthError

    out: list[Problem] = []
    # The absorption an RT60 needs grows with V/S, which grows with every dimension: the
    # shortest RT60 is hardest in the largest room; too long fails in any room (air alone).
    for t, dims, what in ((rt60.low, hi, "largest"), (rt60.high, lo, "smallest")):
        try:
            ShoeboxRoom.from_rt60([dims["x"], dims["y"], dims["z"]], t, air_absorption=air)
        except BinsynthError:
            size = _dims(dims.values())
            if what == "largest":
                msg = (f"minimum {fmt(t)} s is too short for the largest room ({size}): it would need "
                       f"wall absorption above {MAX_ABSORPTION}")
            else:
                msg = f"maximum {fmt(t)} s is too long: air absorption alone decays faster (room {size})"
            out.append((("room", "rt60_s"), msg))
    return out


def _placement(r: Section) -> list[Problem]:
    room, pl = r.room, r.placement
    if room.anechoic or room.dimensions_m is None or not pl.inside_room:
        return []
    d = room.dimensions_m
    lo = [getattr(d, a).low for a in "xyz"]
    hi = [getattr(d, a).high for a in "xyz"]
    out: list[Problem] = []
    if 2 * pl.margin_m >= min(lo):
        out.append((("placement", "margin_m"),
                    f"{fmt(pl.margin_m)} m from each wall leaves no space in the smallest room ({_dims(lo)})"))
        return out
    diag = math.sqrt(sum((v - 2 * pl.margin_m) ** 2 for v in hi))
    if pl.distance_m.low > diag:
        out.append((("placement", "distance_m"),
                    f"minimum {fmt(pl.distance_m.low)} m does not fit in the largest room ({_dims(hi)}): its "
                    f"longest diagonal inside placement.margin_m {fmt(pl.margin_m)} m is {fmt(diag)} m"))
    return out


def _timing(r: Section) -> list[Problem]:
    src, clip = r.sources, r.audio.duration_s
    out: list[Problem] = []
    if src.onset_s.high >= clip.low:
        out.append((("sources", "onset_s"),
                    f"maximum {fmt(src.onset_s.high)} s is not below audio.duration_s minimum {fmt(clip.low)} s "
                    "(a source would start after the clip ends)"))
    n = int(src.n_sources.high)
    span = src.onset_s.high - src.onset_s.low
    if n > 1 and src.min_gap_s > 0 and (n - 1) * src.min_gap_s > span + 1e-9:
        out.append((("sources", "min_gap_s"),
                    f"{n} sources {fmt(src.min_gap_s)} s apart need onsets spread over "
                    f"{fmt((n - 1) * src.min_gap_s)} s, but sources.onset_s ({src.onset_s.describe()}) "
                    f"spans {fmt(span)} s"))
    return out


def _angle_deg(delta_az_deg: float, elevation_deg: float) -> float:
    """Great-circle angle between two directions at one elevation, delta_az apart."""
    e, da = math.radians(elevation_deg), math.radians(delta_az_deg)
    c = math.sin(e) ** 2 + math.cos(e) ** 2 * math.cos(da)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def _separation(r: Section) -> list[Problem]:
    pl, n = r.placement, int(r.sources.n_sources.high)
    s = pl.min_separation_deg
    if s <= 0 or n < 2:
        return []
    loc = ("placement", "min_separation_deg")
    # Spherical caps of angular radius s/2 around each source may not overlap.
    cap = 2 * math.pi * (1 - math.cos(math.radians(s / 2)))
    if n * cap > 4 * math.pi * (1 + 1e-9):
        return [(loc, f"{n} sources (sources.n_sources maximum) cannot all be {fmt(s)}° apart on a sphere")]
    el_lo, el_hi = pl.elevation_deg.support
    if el_lo != el_hi:
        return []
    az_lo, az_hi = pl.azimuth_deg.support
    span = az_hi - az_lo
    spacing = 360.0 / n if span >= 360.0 else span / (n - 1)
    widest = _angle_deg(spacing, el_lo)
    if widest < s - 1e-9:
        return [(loc, f"{n} sources (sources.n_sources maximum) cannot be {fmt(s)}° apart: with elevation "
                      f"{fmt(el_lo)}° and azimuth in [{fmt(az_lo)}, {fmt(az_hi)}]° the widest spacing is "
                      f"{fmt(widest)}°")]
    return []


def _hrtf_splits(r: Section) -> list[Problem]:
    if not isinstance(r.hrtf, dict):
        return []
    splits = r.dataset.splits
    out: list[Problem] = []
    for key in r.hrtf:
        if key != "default" and key not in splits:
            out.append((("hrtf", key), f"no split {key!r} in dataset.splits ({', '.join(splits)}); "
                                       "keys are split names or 'default'"))
    if "default" not in r.hrtf:
        for split, n in splits.items():
            if n > 0 and split not in r.hrtf:
                out.append((("hrtf",), f"split {split!r} has {n} scenes but no HRTF set; "
                                       f"add '{split}: NAME' or 'default: NAME'"))
    return out


def _corpora(r: Section) -> list[Problem]:
    out: list[Problem] = []
    splits = r.dataset.splits
    explicit = [c.split_weights for c in r.sources.corpora]
    for i, w in enumerate(explicit):
        for key in w or {}:
            if key not in splits:
                out.append((("sources", "corpora", i, "split_weights", key),
                            f"no split {key!r} in dataset.splits ({', '.join(splits)})"))
    if all(w is not None for w in explicit):
        for split, n in splits.items():
            if n > 0 and not any(w.get(split, 0) > 0 for w in explicit):
                out.append((("sources", "corpora"),
                            f"split {split!r} has {n} scenes but no corpus gives it clips (split_weights)"))
    listed = [(i, c) for i, c in enumerate(r.sources.corpora) if c.type == "synthetic" and isinstance(c.classes, list)]
    known = _synthetic_classes() if listed else None  # importing the generators costs ~0.5 s
    if known is not None:
        for i, c in listed:
            unknown = [x for x in c.classes if x not in known]
            if unknown:
                out.append((("sources", "corpora", i, "classes"),
                            f"unknown synthetic class {', '.join(map(repr, unknown))} (known: {', '.join(known)})"))
    return out


def _synthetic_classes() -> tuple[str, ...] | None:
    """The built-in synthetic class names (None where the synthetic corpus is not installed)."""
    try:
        from binsynth.corpora.synthetic import CLASS_NAMES
    except ImportError:
        return None
    return tuple(CLASS_NAMES)


def file_problems(r: Section) -> list[Problem]:
    """Paths the recipe names that do not exist (corpora, a .sofa HRTF). Nothing is read."""
    out: list[Problem] = []
    for i, c in enumerate(r.sources.corpora):
        for field in ("root", "path"):
            value = getattr(c, field, None)
            if value is None:
                continue
            p = Path(value)
            if field == "root" and not p.is_dir():
                out.append((("sources", "corpora", i, field), f"folder {value} does not exist"))
            elif field == "path" and not p.exists():
                out.append((("sources", "corpora", i, field), f"{value} does not exist"))
    refs = r.hrtf.items() if isinstance(r.hrtf, dict) else [(None, r.hrtf)]
    for key, ref in refs:
        if ref.lower().endswith(".sofa") and not Path(ref).is_file():
            loc = ("hrtf",) if key is None else ("hrtf", key)
            out.append((loc, f"SOFA file {ref} does not exist"))
    return out
