"""Spatial QA: every answer recomputed from the scene metadata by an independent oracle.

The oracle reads the question *text* (slots recovered by matching the templates), not the
generator's own bookkeeping, and recomputes answers and margins with vectors in the head
frame (x nose, y left, z up), so a swapped slot, a wrong sign or a skipped margin fails.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pytest

from binsynth.errors import BinsynthError, ConfigError
from binsynth.io.schema import QA_TYPE
from binsynth.qa import TASKS, answer_matches, describe_tasks, format_mc, generate_items, generate_qa, normalize_answer
from binsynth.qa.templates import TEMPLATES
from binsynth.scene.record import ListenerSpec, RoomSpec, SceneSpec, SourceSpec

LABELS = ["dog", "siren", "speech", "piano", "door_knock", "bird", "engine"]
SECTORS = ["front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"]
CENTRES = dict(zip(SECTORS, [0, 45, 90, 135, 180, -135, -90, -45]))

# --------------------------------------------------------------------------- scenes


def random_scene(rng: np.random.Generator, index: int = 0) -> SceneSpec:
    """1–6 sources, labels often repeated, directions often on or near decision boundaries;
    in about a third of the scenes some sources move (their trajectories, which the
    generator is given, ride along in ``scene.extra["tracks"]``)."""
    n = int(rng.integers(1, 7))
    sources = []
    for _ in range(n):
        az = float(rng.uniform(-180, 180)) if rng.random() < 0.6 else float(rng.choice([22.5, -67.5, 90, 180, 0, 112.0, -157.0]) + rng.uniform(-6, 6))
        el = float(rng.choice([rng.uniform(-85, 85), rng.uniform(-25, 25), 0.0, float(rng.choice([20.0, -20.0, 61.0]))]))
        dist = float(rng.choice([rng.uniform(0.3, 8.0), 1.5 + rng.uniform(-0.3, 0.3)]))
        on = float(rng.uniform(0, 3))
        off = on + float(rng.uniform(0.2, 4))
        sources.append(SourceSpec(str(rng.choice(LABELS)), "c", az, el, dist, [0.0, 0.0, 0.0], on, off))
    r = rng.random()
    if r < 0.25:
        room = RoomSpec(anechoic=True)
    elif r < 0.3:
        room = RoomSpec(False, [4.0, 5.0, 3.0], None, np.full((6, 7), 0.3).tolist())
    else:
        room = RoomSpec(False, [float(x) for x in rng.uniform(2.0, 14.0, 3)], float(rng.uniform(0.1, 1.6)))
    scene = SceneSpec(index, "train", 1, 16000, 8.0, room, ListenerSpec([1.0, 1.0, 1.6]), sources, "test")
    if rng.random() < 0.35:
        tracks = [random_track(rng, s) if rng.random() < 0.6 else [] for s in sources]
        for s, track in zip(sources, tracks):
            if track:
                s.motion = {"path": "test"}
        scene.extra["tracks"] = tracks if any(tracks) else None
    return scene


def random_track(rng: np.random.Generator, s: SourceSpec) -> list[list[float]]:
    """(t, az, el, dist) at the centres of the 100 ms frames [onset, offset) overlaps: an arc,
    a straight line, a path that turns back, or one that barely moves."""
    t = (np.arange(math.floor(s.onset_s / 0.1), math.ceil(s.offset_s / 0.1)) + 0.5) * 0.1
    tau = np.clip(t - s.onset_s, 0.0, s.offset_s - s.onset_s)
    kind = rng.choice(["arc", "line", "line", "wobble", "tiny"])
    az = np.full(t.shape, s.azimuth_deg)
    el = np.full(t.shape, s.elevation_deg)
    dist = np.full(t.shape, s.distance_m)
    if kind == "arc":
        az = s.azimuth_deg + float(rng.choice([-40, -20, -10, 10, 20, 40])) * tau
    elif kind == "wobble":
        az = s.azimuth_deg + 35.0 * np.sin(2 * np.pi * tau / max(tau[-1], 1e-3))
    elif kind == "tiny":
        az = s.azimuth_deg + 3.0 * tau / max(tau[-1], 1e-3)
    else:
        start = dist[0] * unit(s)
        step = rng.normal(size=3) * [1.0, 1.0, 0.3]
        p = start + np.outer(tau, step / np.linalg.norm(step) * rng.uniform(0.3, 1.5))
        dist = np.linalg.norm(p, axis=1)
        az = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
        el = np.degrees(np.arcsin(p[:, 2] / dist))
    return [[float(a), float(wrap(b)), float(c), float(d)] for a, b, c, d in zip(t, az, el, dist)]


# --------------------------------------------------------------------------- oracle


def wrap(a: float) -> float:
    a = (a + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def unit(s) -> np.ndarray:
    az, el = math.radians(s.azimuth_deg), math.radians(s.elevation_deg)
    return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])


def lab(s) -> str:
    return s.label.replace("_", " ")


def sector(az: float, el: float):
    """Nearest sector centre; None within 5° of a boundary or above 60° elevation."""
    best = min(SECTORS, key=lambda n: abs(wrap(az - CENTRES[n])))
    if abs(el) > 60 or abs(wrap(az - CENTRES[best])) > 22.5 - 5.0:
        return None
    return best


def elev_class(el: float):
    if 15 < abs(el) < 25:
        return None
    return "above" if el > 20 else "below" if el < -20 else "level"


def apart(a: float, b: float) -> bool:
    return abs(a - b) >= 0.1 * min(a, b)


def near_far(d: float):
    return None if not apart(d, 1.5) else ("near" if d < 1.5 else "far")


def lateral(s) -> float:
    return math.degrees(math.asin(np.clip(unit(s)[1], -1, 1)))


def frontal(s) -> float:
    return math.degrees(math.asin(np.clip(unit(s)[0], -1, 1)))


def klass(v: float, thresholds, names):
    if any(not apart(v, t) for t in thresholds):
        return None
    return names[int(np.searchsorted(thresholds, v, side="right"))]


def rt60(scene):
    if scene.room.rt60_s is not None:
        return scene.room.rt60_s
    return float(scene.shoebox().rt60_s[3])


COND = {"on your left": ("side", "left"), "on your right": ("side", "right"),
        "in front of you": ("fb", "front"), "behind you": ("fb", "back"),
        "above ear level": ("el", "above"), "at ear level": ("el", "level"), "below ear level": ("el", "below"),
        "closer than 1.5 m": ("nf", "near"), "farther than 1.5 m away": ("nf", "far")}


def cond_value(s, axis):
    if axis == "side":
        x = lateral(s)
        return None if abs(x) < 10 else ("left" if x > 0 else "right")
    if axis == "fb":
        x = frontal(s)
        return None if abs(x) < 10 else ("front" if x > 0 else "back")
    return elev_class(s.elevation_deg) if axis == "el" else near_far(s.distance_m)


_NAME = "the (?:" + "|".join(lab for lab in sorted({x.replace("_", " ") for x in LABELS}, key=len, reverse=True)) + ")"
_COND = "(?:" + "|".join(map(re.escape, COND)) + ")"
SLOT_RX = {"x": _NAME, "y": _NAME, "sector": "|".join(SECTORS), "theta": r"\d+", "dir": "left|right",
           "anchor": "the nearest sound|the farthest sound|the sound that starts first|" + _NAME,
           "cond": f"{_COND} and {_COND}"}


def _template_regex(t: str) -> re.Pattern:
    pat = re.escape(t)
    for slot, rx in SLOT_RX.items():
        pat = pat.replace(re.escape("{" + slot + "}"), f"(?P<{slot}>{rx})", 1).replace(re.escape("{" + slot + "}"), f"(?P={slot})")
    return re.compile("^" + pat + "$", re.IGNORECASE)


PATTERNS = {task: [(variant, i, _template_regex(t)) for variant, ts in v.items() for i, t in enumerate(ts)]
            for task, v in TEMPLATES.items()}


def parse(task: str, question: str):
    for variant, i, rx in PATTERNS[task]:
        m = rx.match(question)
        if m:
            return variant, i, m.groupdict()
    raise AssertionError(f"{task}: question matches no template: {question!r}")


def oracle(scene: SceneSpec, task: str, question: str):
    """(expected answer or None when ambiguous, template id) from the scene and question text."""
    variant, tid, slots = parse(task, question)
    srcs = scene.sources
    by_label = Counter(lab(s) for s in srcs)
    tracks = scene.extra.get("tracks") or [[] for _ in srcs]
    track = {id(s): np.asarray(tr, dtype=float).reshape(-1, 4) for s, tr in zip(srcs, tracks)}
    if task in RANKING:
        assert not any(tracks), f"{task} asked in a scene where a source moves"

    def named(slot):  # the one source called "the <label>"; its label must be unique
        text = slots[slot]
        assert text.lower().startswith("the "), text
        matches = [s for s in srcs if lab(s) == text[4:].lower()]
        assert len(matches) == 1, f"{text!r} does not name exactly one source"
        assert task not in WHERE or not track[id(matches[0])].size, f"{task} asked about a moving source"
        return matches[0]

    def ranked(key, reverse=False, among=srcs):
        r = sorted(among, key=key, reverse=reverse)
        return r

    ans = None
    if task == "presence":
        ans = ", ".join(sorted(by_label))
    elif task == "count":
        ans = str(len(srcs))
    elif task == "sound_class":
        ans = lab(srcs[0]) if len(srcs) == 1 else None
    elif task == "side":
        x = named("x")
        ans = None if abs(lateral(x)) < 20 else ("left" if lateral(x) > 0 else "right")
    elif task == "direction_sector":
        x = named("x")
        ans = sector(x.azimuth_deg, x.elevation_deg)
    elif task == "direction_degrees":
        x = named("x")
        ans = None if abs(x.elevation_deg) > 60 else f"{int(wrap(round(x.azimuth_deg)))} degrees"
    elif task == "elevation":
        ans = elev_class(named("x").elevation_deg)
    elif task == "distance":
        ans = f"{named('x').distance_m:.1f} m"
    elif task == "near_far":
        ans = near_far(named("x").distance_m)
    elif task == "reverberation":
        ans = "no reverberation" if scene.room.anechoic else klass(rt60(scene), [0.3, 0.8], ["dry", "moderate", "reverberant"])
    elif task == "room_size":
        ans = None if scene.room.anechoic else klass(float(np.prod(scene.room.dimensions_m)), [50, 200, 1000],
                                                     ["small", "medium", "large", "very large"])
    elif task in ("lateral_relation", "front_back_relation"):
        f = lateral if task == "lateral_relation" else frontal
        x, y = named("x"), named("y")
        assert x is not y
        if abs(f(x) - f(y)) >= 15:
            ans = ("left" if f(x) > f(y) else "right") if task == "lateral_relation" else ("in front" if f(x) > f(y) else "behind")
    elif task in ("closer", "temporal_order"):
        x, y = named("x"), named("y")
        key = (lambda s: s.distance_m) if task == "closer" else (lambda s: s.onset_s)
        ok = apart(x.distance_m, y.distance_m) if task == "closer" else abs(x.onset_s - y.onset_s) >= 0.1
        if ok:
            ans = lab(ranked(key, reverse=variant in ("far", "last"), among=[x, y])[0])
    elif task in ("extreme_lateral", "extreme_distance", "first_onset"):
        key = {"extreme_lateral": lateral, "extreme_distance": lambda s: s.distance_m, "first_onset": lambda s: s.onset_s}[task]
        r = ranked(key, reverse=variant in ("left", "far", "last"))
        if len(r) >= 2:
            a, b = key(r[0]), key(r[1])
            ok = {"extreme_lateral": abs(a - b) >= 15, "extreme_distance": apart(a, b), "first_onset": abs(a - b) >= 0.1}[task]
            ans = lab(r[0]) if ok else None
    elif task == "source_at_sector":
        c = CENTRES[slots["sector"]]
        offs = [abs(wrap(s.azimuth_deg - c)) for s in srcs]
        inside = [s for s, o in zip(srcs, offs) if o <= 17.5]
        unsure = [o for o in offs if 17.5 < o < 27.5]
        if all(abs(s.elevation_deg) <= 60 for s in srcs) and len(inside) == 1 and not unsure:
            ans = lab(inside[0])
    elif task == "where_how_far":
        x = named("x")
        sec = sector(x.azimuth_deg, x.elevation_deg)
        ans = None if sec is None else f"{sec}, {x.distance_m:.1f} m"
    elif task == "overlap":
        x, y = named("x"), named("y")
        o = min(x.offset_s, y.offset_s) - max(x.onset_s, y.onset_s)
        ans = None if abs(o) < 0.1 else ("yes" if o > 0 else "no")
    elif task == "rotation":
        x = named("x")
        theta = 180 if variant == "around" else int(slots["theta"])
        new = x.azimuth_deg + (theta if variant == "around" or slots["dir"] == "right" else -theta)
        ans = sector(new, x.elevation_deg)
    elif task == "face_source":
        x, y = named("x"), named("y")
        ans = None if abs(x.elevation_deg) > 60 else sector(y.azimuth_deg - x.azimuth_deg, y.elevation_deg)
    elif task == "nearest_if_stopped":
        x = named("x")
        rest = ranked(lambda s: s.distance_m, among=[s for s in srcs if s is not x])
        if len(rest) >= 2 and apart(rest[0].distance_m, rest[1].distance_m):
            ans = lab(rest[0])
    elif task == "behind_when_facing":
        x = named("x")
        u = np.array([math.cos(math.radians(x.azimuth_deg)), math.sin(math.radians(x.azimuth_deg)), 0.0])
        fronts = {id(s): math.degrees(math.asin(np.clip(unit(s) @ u, -1, 1))) for s in srcs if s is not x}
        behind = {lab(s) for s in srcs if s is not x and fronts[id(s)] < 0}
        ahead = {lab(s) for s in srcs if s is not x and fronts[id(s)] > 0}
        if abs(x.elevation_deg) <= 60 and fronts and all(abs(v) >= 10 for v in fronts.values()) and not behind & ahead:
            ans = ", ".join(sorted(behind)) or "none"
    elif task == "compound":
        phrase = slots["anchor"].lower()
        if phrase in ("the nearest sound", "the farthest sound", "the sound that starts first"):
            key = (lambda s: s.onset_s) if "first" in phrase else (lambda s: s.distance_m)
            r = ranked(key, reverse="farthest" in phrase)
            ok = len(r) >= 2 and (abs(key(r[0]) - key(r[1])) >= 0.1 if "first" in phrase else apart(key(r[0]), key(r[1])))
            anchor = r[0] if ok else None
        else:
            anchor = named("anchor")
        c1, c2 = slots["cond"].split(" and ")
        (a1, v1), (a2, v2) = COND[c1], COND[c2]
        assert a1 != a2
        if anchor is not None and None not in (cond_value(anchor, a1), cond_value(anchor, a2)):
            ans = "yes" if cond_value(anchor, a1) == v1 and cond_value(anchor, a2) == v2 else "no"
    elif task in MOTION:
        ans = motion_oracle(task, variant, slots, srcs, track, named)
    else:  # pragma: no cover
        raise AssertionError(task)
    return ans, (variant, tid)


WHERE = {"side", "direction_sector", "direction_degrees", "elevation", "distance", "near_far", "where_how_far",
         "lateral_relation", "front_back_relation", "closer", "rotation", "face_source"}
RANKING = {"extreme_lateral", "extreme_distance", "source_at_sector", "nearest_if_stopped", "behind_when_facing",
           "compound"}
MOTION = {"moving_or_still", "motion_direction", "approach", "path_sectors", "which_moves", "nearer_at_end"}


def _units(tr: np.ndarray) -> np.ndarray:
    az, el = np.radians(tr[:, 1]), np.radians(tr[:, 2])
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], 1)


def clearly_moving(tr: np.ndarray) -> bool:
    if not tr.size:
        return False
    u = _units(tr)
    turn = np.degrees(np.arccos(np.clip(u @ u[0], -1, 1))).max()
    return turn >= 10.0 or np.abs(tr[:, 3] - tr[0, 3]).max() / tr[0, 3] >= 0.2


def monotone(v: np.ndarray, slack: float) -> bool:
    """Never turns back by more than ``slack`` against the first-to-last direction."""
    return bool(np.all(np.maximum.accumulate(v) - v <= slack)) if v[-1] >= v[0] else \
        bool(np.all(v - np.minimum.accumulate(v) <= slack))


def motion_oracle(task, variant, slots, srcs, track, named):
    end_dist = lambda s: track[id(s)][-1, 3] if track[id(s)].size else s.distance_m
    if task == "which_moves":
        movers = [s for s in srcs if track[id(s)].size]
        if len(srcs) >= 2 and len(movers) == 1 and clearly_moving(track[id(movers[0])]) \
                and Counter(lab(s) for s in srcs)[lab(movers[0])] == 1:
            return lab(movers[0])
        return None
    if task == "nearer_at_end":
        x, y = named("x"), named("y")
        if (clearly_moving(track[id(x)]) or clearly_moving(track[id(y)])) and apart(end_dist(x), end_dist(y)):
            return lab(min((x, y), key=end_dist))
        return None
    x = named("x")
    tr = track[id(x)]
    if task == "moving_or_still":
        return "still" if not tr.size else ("moving" if clearly_moving(tr) else None)
    if not tr.size:
        return None
    if task == "motion_direction":
        phi = np.degrees(np.arcsin(np.clip(_units(tr)[:, 1], -1, 1)))
        if abs(phi[-1] - phi[0]) >= 15 and monotone(phi, 1.0):
            return "right to left" if phi[-1] > phi[0] else "left to right"
        return None
    if task == "approach":
        d = tr[:, 3]
        if apart(d[0], d[-1]) and monotone(d, 0.01):
            return "approaching" if d[-1] < d[0] else "receding"
        return None
    if task == "path_sectors":
        a, b = sector(tr[0, 1], tr[0, 2]), sector(tr[-1, 1], tr[-1, 2])
        return f"from {a} to {b}" if clearly_moving(tr) and a and b else None
    raise AssertionError(task)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def corpus():
    """(scene, item) over many random scenes in all three forms."""
    rng = np.random.default_rng(2024)
    out = []
    for i in range(240):
        scene = random_scene(rng, i)
        form = ("open", "mc4", "mixed")[i % 3]
        for item in generate_items(scene, np.random.default_rng([7, i]), n_questions=10, form=form,
                                   trajectories=scene.extra.get("tracks")):
            out.append((scene, form, item))
    return out


# --------------------------------------------------------------------------- properties


def test_every_answer_matches_the_metadata_and_no_question_is_ambiguous(corpus):
    assert len(corpus) > 1500
    for scene, _, item in corpus:
        expected, _ = oracle(scene, item.task, item.question)
        assert expected is not None, f"ambiguous question asked: {item.question!r} in {scene.to_json()}"
        assert normalize_answer(item.task, item.answer) == normalize_answer(item.task, expected), (
            item.question, item.answer, expected, scene.to_json())
        assert item.level == TASKS[item.task].level


def test_forms_and_choices(corpus):
    seen_forms = Counter()
    for _, form, item in corpus:
        row = item.to_row()
        if row["choices"]:
            seen_forms["mc4"] += 1
            assert form in ("mc4", "mixed") and TASKS[item.task].multiple_choice
            assert len(row["choices"]) == 4
            norms = {normalize_answer(item.task, c) for c in row["choices"]}
            assert len(norms) == 4, row
            assert row["choices"][row["answer_index"]] == row["answer"]
            correct = [i for i, c in enumerate(row["choices"]) if answer_matches(item.task, c, row["answer"])]
            assert correct == [row["answer_index"]], row
        else:
            seen_forms["open"] += 1
            assert form != "mc4" and row["answer_index"] == -1
    assert seen_forms["mc4"] > 300 and seen_forms["open"] > 300
    mixed = [it for _, f, it in corpus if f == "mixed" and TASKS[it.task].multiple_choice]
    share = sum(bool(it.choices) for it in mixed) / len(mixed)
    assert 0.35 < share < 0.65


def test_distractor_distances_and_angles_are_clearly_wrong(corpus):
    for _, _, item in corpus:
        if item.choices and item.task in ("distance", "direction_degrees"):
            ref = float(re.match(r"-?[\d.]+", item.answer).group(0))
            for c in item.choices:
                if c != item.answer:
                    v = float(re.match(r"-?[\d.]+", c).group(0))
                    gap = abs(v - ref) if item.task == "distance" else abs(wrap(v - ref))
                    assert gap >= (1.0 - 1e-6 if item.task == "distance" else 29.0), item


def test_coverage_levels_tasks_and_phrasings(corpus):
    levels = {item.level for _, _, item in corpus}
    assert levels == {1, 2, 3}
    phrasings = defaultdict(set)
    for scene, _, item in corpus:
        _, tid = oracle(scene, item.task, item.question)
        phrasings[item.task].add(tid)
    assert set(phrasings) == set(TASKS), set(TASKS) - set(phrasings)
    few = {t: len(p) for t, p in phrasings.items() if len(p) < 3}
    assert not few, few


def test_no_repeated_question_and_named_sources_are_unique(corpus):
    by_scene = defaultdict(list)
    for scene, _, item in corpus:
        by_scene[scene.index].append(item)
    for items in by_scene.values():
        qs = [it.question for it in items]
        assert len(qs) == len(set(qs))
        pairs = [(it.task, frozenset(it.params["sources"])) for it in items
                 if it.task in ("closer", "temporal_order", "overlap", "lateral_relation", "front_back_relation")]
        assert len(pairs) == len(set(pairs))


def test_binary_answers_are_balanced():
    """Where a scene offers both answers, the sampler draws each about half the time (how
    often a scene offers only one — e.g. overlapping sources — is the scenes' business)."""
    from binsynth.qa.facts import Facts
    from binsynth.qa.generate import GENERATORS

    rng = np.random.default_rng(99)
    scenes = [random_scene(rng, i) for i in range(400)]
    for task, values in (("overlap", ("yes", "no")), ("compound", ("yes", "no")), ("lateral_relation", ("left", "right")),
                         ("side", ("left", "right"))):
        answers = Counter()
        for i, scene in enumerate(scenes):
            if len({inst.answer for inst in GENERATORS[task](Facts(scene, None, scene.extra.get("tracks")))}) == 2:
                for it in generate_items(scene, np.random.default_rng([11, i]), tasks={task: 1.0}, n_questions=1,
                                         form="open", trajectories=scene.extra.get("tracks")):
                    answers[it.answer] += 1
        total = sum(answers.values())
        assert total >= 40, (task, total)
        for v in values:
            assert 0.3 < answers[v] / total < 0.7, (task, answers)


def test_deterministic_given_rng_state():
    rng = np.random.default_rng(5)
    scenes = [random_scene(rng, i) for i in range(20)]
    a = [generate_qa(s, np.random.default_rng([1, i]), n_questions=6, trajectories=s.extra.get("tracks"))
         for i, s in enumerate(scenes)]
    b = [generate_qa(s, np.random.default_rng([1, i]), n_questions=6, trajectories=s.extra.get("tracks"))
         for i, s in enumerate(scenes)]
    c = [generate_qa(s, np.random.default_rng([2, i]), n_questions=6, trajectories=s.extra.get("tracks"))
         for i, s in enumerate(scenes)]
    assert a == b and a != c


def test_rows_fit_the_shard_schema():
    scene = random_scene(np.random.default_rng(3))
    rows = generate_qa(scene, np.random.default_rng(0), n_questions=8, trajectories=scene.extra.get("tracks"))
    assert rows and all(set(r) == {"level", "task", "question", "answer", "answer_norm", "choices", "answer_index"} for r in rows)
    arr = pa.array(rows, type=QA_TYPE)
    assert arr.to_pylist() == rows


def _scene(*sources, anechoic=True) -> SceneSpec:
    srcs = [SourceSpec(lbl, "c", az, el, d, [0.0, 0.0, 0.0], on, off) for lbl, az, el, d, on, off in sources]
    room = RoomSpec(True) if anechoic else RoomSpec(False, [6.0, 5.0, 3.0], 0.5)
    return SceneSpec(0, "test", 0, 16000, 6.0, room, ListenerSpec([1.0, 1.0, 1.6]), srcs, "test")


def test_task_weights_and_forms():
    scene = _scene(("dog", 60, 0, 2.0, 0, 3), ("siren", -100, 0, 4.0, 1, 4), ("bird", 170, 10, 1.0, 2, 5))
    rows = generate_qa(scene, np.random.default_rng(0), tasks={"count": 1.0, "direction_sector": 0.0}, n_questions=5)
    assert [r["task"] for r in rows] == ["count"]  # one count question exists; then nothing is left
    rows = generate_qa(scene, np.random.default_rng(0), tasks={"direction_sector": 1.0}, n_questions=9, form="mc4")
    assert {r["task"] for r in rows} == {"direction_sector"} and len(rows) == 3
    assert all(len(r["choices"]) == 4 for r in rows)
    rows = generate_qa(scene, np.random.default_rng(0), tasks={"overlap": 1.0, "elevation": 2.0}, form="mc4")
    assert rows == []  # binary and three-way tasks have no four-option form
    assert all(r["answer_index"] == -1 for r in generate_qa(scene, np.random.default_rng(1), n_questions=12, form="open"))
    assert generate_qa(scene, np.random.default_rng(1), n_questions=0) == []
    for bad in ({"tasks": {"nope": 1.0}}, {"form": "mc5"}, {"tasks": {"count": -1.0}}, {"n_questions": -1}):
        with pytest.raises(ConfigError) as e:
            generate_qa(scene, np.random.default_rng(0), **bad)
        assert isinstance(e.value, BinsynthError) and isinstance(e.value, ValueError)


#: dog left and near, siren right above and mid, bird back-left below and far; onsets 0, 1, 2.5 s.
CLEAR = _scene(("dog", 90.0, 0.0, 1.0, 0.0, 2.0), ("siren", -90.0, 40.0, 3.0, 1.0, 4.0),
               ("bird", 150.0, -40.0, 6.0, 2.5, 5.0), anechoic=False)


def test_ambiguous_scenes_get_no_such_question():
    # Two dogs: no question names "the dog"; a boundary azimuth (22.5°) gets no sector question;
    # equal distances and onsets give no closer / order questions; 20° elevation no elevation class.
    scene = _scene(("dog", 22.5, 20.0, 2.0, 0.0, 3.0), ("dog", -90.0, 0.0, 2.05, 0.05, 3.0),
                   ("siren", 22.0, 0.0, 2.0, 0.0, 3.0))
    items = generate_items(scene, np.random.default_rng(0), n_questions=200)
    assert items
    for it in items:
        assert "the dog" not in it.question
        assert it.task not in ("closer", "temporal_order", "extreme_distance", "first_onset", "direction_sector",
                               "lateral_relation")
    # a clear scene offers each of them
    tasks = {it.task for it in generate_items(CLEAR, np.random.default_rng(0), n_questions=500)}
    assert tasks >= {"closer", "temporal_order", "extreme_distance", "direction_sector", "lateral_relation", "elevation",
                     "source_at_sector", "rotation", "face_source", "behind_when_facing", "compound"}


def test_worked_examples():
    items = generate_items(CLEAR, np.random.default_rng(0), n_questions=1000, form="open")
    got = {(it.task, it.question): it.answer for it in items}

    def answer(task, needle):
        hits = [a for (t, q), a in got.items() if t == task and needle(q)]
        assert hits, (task, [q for t, q in got if t == task])
        return set(hits)

    assert answer("direction_sector", lambda q: "dog" in q) == {"left"}
    assert answer("rotation", lambda q: "dog" in q and "90 degrees" in q and "left" in q) == {"front"}
    assert answer("rotation", lambda q: "dog" in q and "90 degrees" in q and "right" in q) == {"back"}
    assert answer("face_source", lambda q: "bird" in q and "dog" in q and q.index("dog") < q.index("bird")) == {"front-left"}  # facing the dog, the bird is at +60
    assert answer("behind_when_facing", lambda q: "siren" in q) == {"bird, dog"}
    assert answer("behind_when_facing", lambda q: "dog" in q) == {"siren"}
    assert answer("extreme_lateral", lambda q: "left" in q) == {"dog"}
    assert answer("reverberation", lambda q: True) == {"moderate"}
    assert answer("room_size", lambda q: True) == {"medium"}
    assert answer("elevation", lambda q: "siren" in q) == {"above"}


@pytest.mark.parametrize("task,text,canon", [
    ("moving_or_still", "It is stationary", "still"),
    ("moving_or_still", "not moving", "still"),
    ("moving_or_still", "It moves", "moving"),
    ("motion_direction", "from the left to the right", "left to right"),
    ("motion_direction", "Right to left.", "right to left"),
    ("motion_direction", "it moves to the left", "right to left"),
    ("approach", "It is coming closer", "approaching"),
    ("approach", "moving away from me", "receding"),
    ("path_sectors", "From front-left to back", "from front-left to back"),
    ("path_sectors", "starts behind you then ends on the right", "from back to right"),
    ("path_sectors", "from the left", "from the left"),
    ("direction_sector", "Front-Left", "front-left"),
    ("direction_sector", "to the left, in front of you", "front-left"),
    ("direction_sector", "behind you", "back"),
    ("direction_sector", "rear right", "back-right"),
    ("direction_degrees", "+45°", "45"),
    ("direction_degrees", "30 degrees to the right", "-30"),
    ("direction_degrees", "-180", "180"),
    ("distance", "2.34 m", "2.3"),
    ("distance", "150 cm", "1.5"),
    ("count", "Three.", "3"),
    ("count", "There are 4 sources", "4"),
    ("presence", "The siren and a dog", "dog, siren"),
    ("presence", "door knock, Bird", "bird, door knock"),
    ("behind_when_facing", "None", "none"),
    ("behind_when_facing", "nothing", "none"),
    ("extreme_distance", "The door_knock", "door knock"),
    ("elevation", "at ear level", "level"),
    ("elevation", "above ear level", "above"),
    ("elevation", "higher", "above"),
    ("reverberation", "Anechoic - no reverberation", "no reverberation"),
    ("reverberation", "very reverberant", "reverberant"),
    ("room_size", "a very large hall", "very large"),
    ("overlap", "Yes.", "yes"),
    ("compound", "No, it is not", "no"),
    ("front_back_relation", "in front", "front"),
    ("lateral_relation", "Right", "right"),
    ("where_how_far", "front left, about 2.31 metres", "front-left, 2.3"),
])
def test_normalize_answer(task, text, canon):
    assert normalize_answer(task, text) == canon


def test_answer_matches_tolerances_and_letters():
    assert answer_matches("direction_degrees", "170 degrees", "-175 degrees")  # 15° across ±180
    assert not answer_matches("direction_degrees", "150", "-175")
    assert answer_matches("direction_degrees", "150", "-175", tolerance_deg=40)
    assert answer_matches("distance", "2.7 m", "2.3 m") and not answer_matches("distance", "2.9 m", "2.3 m")
    assert answer_matches("distance", "2.9", "2.3", tolerance_m=0.6)
    assert answer_matches("distance", "9.0", "8.0", tolerance_rel=0.2)
    assert answer_matches("where_how_far", "left, 2.1 m", "left, 2.3 m")
    assert not answer_matches("where_how_far", "front-left, 2.3 m", "left, 2.3 m")
    assert not answer_matches("direction_sector", "front", "front-left")
    assert answer_matches("count", "three", "3") and not answer_matches("count", "4", "3")
    assert answer_matches("presence", "siren, dog", "dog, siren") and not answer_matches("presence", "dog", "dog, siren")
    choices = ["left", "front", "back-right", "right"]
    assert answer_matches("direction_sector", "D", "right", choices=choices)
    assert answer_matches("direction_sector", "(D) right", "right", choices=choices)
    assert not answer_matches("direction_sector", "B.", "right", choices=choices)
    assert answer_matches("extreme_distance", "A dog", "dog", choices=choices)  # not a letter: the article
    assert not answer_matches("direction_degrees", "somewhere", "45 degrees")
    with pytest.raises(ConfigError):
        normalize_answer("nope", "x")
    assert format_mc("Where?", choices).splitlines() == ["Where?", "A. left", "B. front", "C. back-right", "D. right"]


def test_describe_tasks_is_a_markdown_table():
    text = describe_tasks()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(TASKS)
    assert all(line.count("|") == 6 for line in rows)
    for name in TASKS:
        assert f"`{name}`" in text
    assert "1.5 m" in text and "0.3 s" in text and "5°" in text
