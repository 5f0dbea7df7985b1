"""Recipes: the demo loads and hashes stably; malformed recipes fail naming the field path.

Three layers: hand-written malformed recipes (each with the path and words its message
must hold), a hypothesis search over random malformed variants of the demo (renamed,
deleted or retyped keys, out-of-range numbers) that must all raise RecipeError and
nothing else, and the console script in a subprocess (exit codes, one line per problem).
"""

from __future__ import annotations

import copy
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binsynth.corpora.synthetic import CLASS_NAMES
from binsynth.errors import BinsynthError, ConfigError, RecipeError
from binsynth.qa import FORMS as QA_FORMS
from binsynth.qa import TASKS as QA_TASKS
from binsynth.recipe.model import (
    Recipe,
    load_recipe,
    parse_recipe,
    recipe_from_mapping,
    recipe_hash,
    resolved_yaml,
)
from binsynth.recipe.sections import QA_FORMS as RECIPE_QA_FORMS

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "recipes" / "demo.yaml"
SCRIPT = Path(sys.executable).with_name("binsynth")
SECTIONS = ("version", "dataset", "audio", "sources", "placement", "room", "hrtf", "background", "qa", "output")


@pytest.fixture(scope="module")
def demo_data() -> dict:
    return yaml.safe_load(DEMO.read_text())


def variant(data: dict, **changes) -> dict:
    """A deep copy of ``data`` with dotted paths set (``"room.rt60_s"``; list indices as
    ``corpora.0``); the value ``DELETE`` removes the key, ``RENAME("new")`` renames it."""
    out = copy.deepcopy(data)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        key = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        elif isinstance(value, RENAME):
            node[value.new] = node.pop(key)
        else:
            node[key] = value
    return out


DELETE = object()


class RENAME:
    def __init__(self, new: str):
        self.new = new


def problems_of(data) -> list[str]:
    with pytest.raises(RecipeError) as e:
        recipe_from_mapping(data)
    return e.value.problems


# ------------------------------------------------------------------------- the demo


def test_demo_loads(demo_data):
    r = load_recipe(DEMO)
    assert isinstance(r, Recipe)
    assert r.dataset.name == "binsynth-demo"
    assert r.dataset.splits == {"train": 64, "test": 16}
    assert r.audio.sample_rate_hz == 16000 and r.audio.duration_s.const == 4.0
    assert r.sources.corpora[0].type == "synthetic" and r.sources.corpora[0].classes == "all"
    assert r.sources.n_sources.support == (1, 3)
    assert r.room.rt60_s.support == (0.2, 0.9)
    assert r.hrtf_for("train") == r.hrtf_for("test") == "axd-example"
    assert r.output.shard_size == 16
    assert {QA_TASKS[t].level for t, w in r.qa.tasks.items() if w > 0} == {1, 2, 3}


def test_recipe_names_agree_with_the_qa_and_corpus_packages(demo_data):
    assert set(RECIPE_QA_FORMS) == set(QA_FORMS)
    default = recipe_from_mapping(variant(demo_data, qa=DELETE)).qa
    from binsynth.qa.taxonomy import MOTION_TASKS

    # every task but the motion ones (those join by default only in recipes with sources.motion)
    assert list(default.tasks) == [t for t in QA_TASKS if t not in MOTION_TASKS] and default.enabled
    listed = variant(demo_data, sources__corpora=[{"type": "synthetic", "classes": list(CLASS_NAMES[:2])}])
    assert recipe_from_mapping(listed).sources.corpora[0].classes == list(CLASS_NAMES[:2])
    from binsynth.acoustics.brir import MIN_DISTANCE_M  # imports torch; the recipe must not
    from binsynth.recipe.sections import MIN_DISTANCE_M as RECIPE_MIN_DISTANCE_M

    assert RECIPE_MIN_DISTANCE_M == MIN_DISTANCE_M


def test_demo_hash_is_stable(demo_data):
    h = recipe_hash(load_recipe(DEMO))
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert recipe_hash(load_recipe(DEMO)) == h
    # key order, spelled-out defaults and 4 vs 4.0 do not change it
    reordered = dict(reversed(list(copy.deepcopy(demo_data).items())))
    assert recipe_hash(recipe_from_mapping(reordered)) == h
    spelled = variant(demo_data, audio__duration_s=4, room__anechoic=False, placement__inside_room=True,
                      output__codec="flac", background__type="pink")
    assert recipe_hash(recipe_from_mapping(spelled)) == h
    # the resolved YAML gives the same recipe and hash back
    text = resolved_yaml(load_recipe(DEMO))
    assert f"# recipe sha256: {h}" in text
    again = parse_recipe(text)
    assert again == load_recipe(DEMO) and recipe_hash(again) == h
    # any change of value changes it
    assert recipe_hash(recipe_from_mapping(variant(demo_data, dataset__seed=1))) != h
    assert recipe_hash(recipe_from_mapping(variant(demo_data, room__rt60_s={"uniform": [0.2, 0.8]}))) != h


def test_hash_does_not_depend_on_the_process(demo_data):
    """Another interpreter with another PYTHONHASHSEED gives the same hash."""
    code = "from binsynth.recipe.model import load_recipe, recipe_hash; import sys; print(recipe_hash(load_recipe(sys.argv[1])))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(DEMO)], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    assert out.stdout.strip() == recipe_hash(load_recipe(DEMO))


def test_other_valid_shapes(demo_data):
    anechoic = variant(demo_data, room={"anechoic": True})
    assert recipe_from_mapping(anechoic).room.anechoic
    per_split = recipe_from_mapping(variant(demo_data, hrtf={"train": "axd-example", "test": "spherical"}))
    assert per_split.hrtf_for("test") == "spherical" and per_split.hrtf_for("train") == "axd-example"
    default = recipe_from_mapping(variant(demo_data, hrtf={"default": "axd-example", "test": "spherical"}))
    assert default.hrtf_for("train") == "axd-example"
    bands = [[0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35]] * 6
    mats = variant(demo_data, room__rt60_s=DELETE, room__materials={"absorption": bands})
    assert recipe_from_mapping(mats).room.materials.absorption == bands
    single = variant(demo_data, room__rt60_s=DELETE, room__materials={"absorption": {"uniform": [0.1, 0.4]}})
    assert recipe_from_mapping(single).room.materials.absorption.support == (0.1, 0.4)
    listener_m = variant(demo_data, room__listener__position_frac=DELETE,
                         room__listener__position_m={"x": 1.5, "y": {"uniform": [1, 2]}})
    assert recipe_from_mapping(listener_m).room.listener.position_frac is None
    snr = variant(demo_data, sources__gain_db=DELETE, sources__snr_db={"uniform": [0, 10]})
    assert recipe_from_mapping(snr).sources.snr_db.high == 10
    minimal = {k: demo_data[k] for k in ("dataset", "audio", "sources", "room", "hrtf")}
    r = recipe_from_mapping(minimal)
    assert r.output.codec == "flac" and r.qa.enabled and r.placement.elevation_deg.const == 0.0
    no_listener = variant(minimal, room__listener=DELETE)
    assert recipe_from_mapping(no_listener).room.listener.position_frac.x.const == 0.5


def test_registered_hrtf_and_sofa_paths_are_accepted(demo_data, registered, tmp_path):
    registered(name="lab-set", url="https://example.org/lab.sofa")
    assert recipe_from_mapping(variant(demo_data, hrtf="lab-set")).hrtf == "lab-set"
    sofa = tmp_path / "my.sofa"
    sofa.write_bytes(b"not read at validation time")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(variant(demo_data, hrtf={"train": "my.sofa", "test": "axd-example"})))
    assert load_recipe(recipe).hrtf_for("train") == str(sofa)  # relative to the recipe file


def test_relative_corpus_paths_resolve_against_the_recipe(demo_data, tmp_path):
    (tmp_path / "clips").mkdir()
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(variant(demo_data, sources__corpora=[{"type": "folder", "root": "clips"}])))
    r = load_recipe(recipe)
    assert r.sources.corpora[0].root == str(tmp_path / "clips")
    # the resolved copy is self-contained: same hash from anywhere
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    (elsewhere / "recipe.resolved.yaml").write_text(resolved_yaml(r))
    assert recipe_hash(load_recipe(elsewhere / "recipe.resolved.yaml")) == recipe_hash(r)


def test_missing_paths_are_reported(demo_data, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(variant(
        demo_data, hrtf="gone.sofa",
        sources__corpora=[{"type": "folder", "root": "nowhere"}, {"type": "manifest", "path": "m.csv"}])))
    with pytest.raises(RecipeError) as e:
        load_recipe(recipe)
    paths = [p.split(": ")[0] for p in e.value.problems]
    assert paths == ["sources.corpora[0].root", "sources.corpora[1].path", "hrtf"]
    assert load_recipe(recipe, check_files=False).hrtf.endswith("gone.sofa")


def test_recipe_error_shape():
    e = RecipeError(["a.b: one", "c: two"])
    assert str(e) == "a.b: one; c: two"
    assert isinstance(e, ConfigError) and isinstance(e, ValueError) and isinstance(e, BinsynthError)
    back = pickle.loads(pickle.dumps(e))
    assert back.problems == e.problems and str(back) == str(e)


# ---------------------------------------------------------------- malformed by hand

BAD = [
    # (id, changes, expected path, words the message holds)
    ("typo-top", {"rooms": {"anechoic": True}}, "rooms", "unknown key"),
    ("typo-section", {"room__rt6o_s": 0.5}, "room.rt6o_s", "did you mean 'rt60_s'"),
    ("typo-deep", {"room__listener__heigth_m": 1.5}, "room.listener.heigth_m", "did you mean 'height_m'"),
    ("typo-corpus", {"sources__corpora__0__clases": ["siren"]}, "sources.corpora[0].clases", "did you mean 'classes'"),
    ("typo-dims", {"room__dimensions_m__x": RENAME("X")}, "room.dimensions_m.X", "unknown key"),
    ("typo-dist-key", {"room__rt60_s": {"unifrom": [0.2, 0.9]}}, "room.rt60_s", "not a distribution"),
    ("typo-in-dist", {"placement__distance_m": {"normal": {"mean": 2, "sd": 1}}}, "placement.distance_m.normal.sd",
     "unknown key"),
    ("typo-output", {"output__bitdepth": 16}, "output.bitdepth", "did you mean 'bit_depth'"),
    ("missing-name", {"dataset__name": DELETE}, "dataset.name", "required"),
    ("missing-section", {"audio": DELETE}, "audio", "required"),
    ("missing-corpus-type", {"sources__corpora": [{"root": "x"}]}, "sources.corpora[0].type", "required"),
    ("unknown-corpus-type", {"sources__corpora": [{"type": "foldr", "root": "x"}]}, "sources.corpora[0].type",
     "unknown corpus type 'foldr'"),
    ("folder-without-root", {"sources__corpora": [{"type": "folder"}]}, "sources.corpora[0].root", "required"),
    ("no-corpora", {"sources__corpora": []}, "sources.corpora", "at least 1"),
    ("empty-classes", {"sources__corpora": [{"type": "synthetic", "classes": []}]},
     "sources.corpora[0].classes", "empty class list"),
    ("seed-string", {"dataset__seed": "12"}, "dataset.seed", "valid integer"),
    ("seed-negative", {"dataset__seed": -1}, "dataset.seed", "greater than or equal to 0"),
    ("name-spaces", {"dataset__name": "my data"}, "dataset.name", "letters, digits"),
    ("empty-splits", {"dataset__splits": {}}, "dataset.splits", "at least one split with scenes > 0"),
    ("zero-splits", {"dataset__splits": {"train": 0, "test": 0}}, "dataset.splits", "at least one split"),
    ("split-float", {"dataset__splits": {"train": 6.5}}, "dataset.splits.train", "valid integer"),
    ("split-name", {"dataset__splits": {"train set": 4}}, "dataset.splits['train set']", "split name"),
    ("rate", {"audio__sample_rate_hz": 11025}, "audio.sample_rate_hz", "11025 not supported (8000–96000"),
    ("rate-float", {"audio__sample_rate_hz": 16000.0}, "audio.sample_rate_hz", "valid integer"),
    ("duration-yaml-string", {"audio__duration_s": "5e-1"}, "audio.duration_s", "is a string"),
    ("duration-zero", {"audio__duration_s": 0}, "audio.duration_s", "below the 0.1 s minimum"),
    ("distance-too-close", {"placement__distance_m": 0.05}, "placement.distance_m", "0.05 is below the 0.2 m minimum"),
    ("distance-normal", {"placement__distance_m": {"normal": {"mean": 2, "std": 0.5}}}, "placement.distance_m",
     "use truncnormal"),
    ("elevation-range", {"placement__elevation_deg": {"uniform": [-100, 10]}}, "placement.elevation_deg",
     "below the -90° minimum"),
    ("azimuth-range", {"placement__azimuth_deg": 270}, "placement.azimuth_deg", "above the 180° maximum"),
    ("inside-room-string", {"placement__inside_room": "yes"}, "placement.inside_room", "valid boolean"),
    ("uniform-order", {"room__rt60_s": {"uniform": [0.9, 0.2]}}, "room.rt60_s.uniform", "low < high"),
    ("uniform-length", {"room__rt60_s": {"uniform": [0.9]}}, "room.rt60_s.uniform[1]", "[low, high]"),
    ("loguniform-negative", {"sources__gain_db": {"loguniform": [-1, 3]}}, "sources.gain_db.loguniform",
     "positive bounds"),
    ("weights-length", {"sources__n_sources": {"choice": [1, 2, 3], "weights": [1, 1]}}, "sources.n_sources.weights",
     "one weight per choice"),
    ("weights-negative", {"sources__n_sources": {"choice": [1, 2], "weights": [1, -1]}}, "sources.n_sources.weights",
     ">= 0"),
    ("weights-zero", {"sources__n_sources": {"choice": [1, 2], "weights": [0, 0]}}, "sources.n_sources.weights",
     "sum to more than 0"),
    ("n-sources-uniform", {"sources__n_sources": {"uniform": [1, 3]}}, "sources.n_sources", "whole-number"),
    ("n-sources-range", {"sources__n_sources": {"randint": [0, 3]}}, "sources.n_sources", "below the 1 minimum"),
    ("std-zero", {"room__listener__height_m": {"normal": {"mean": 1.5, "std": 0}}},
     "room.listener.height_m.normal.std", "std must be > 0"),
    ("truncnormal-order", {"placement__distance_m": {"truncnormal": {"mean": 2, "std": 1, "low": 4, "high": 1}}},
     "placement.distance_m.truncnormal", "low < high"),
    ("gain-and-snr", {"sources__snr_db": 10}, "sources.snr_db", "not both"),
    ("normalize-both", {"sources__normalize": {"rms_dbfs": -26, "peak_dbfs": -1}}, "sources.normalize.peak_dbfs",
     "not both"),
    ("normalize-positive", {"sources__normalize": {"rms_dbfs": 3}}, "sources.normalize.rms_dbfs", "0 dBFS maximum"),
    ("listener-does-not-fit", {"room__dimensions_m__z": {"uniform": [1.2, 3.5]}}, "room.dimensions_m.z",
     "minimum 1.2 m is below room.listener.height_m maximum 1.7 m (the listener would not fit)"),
    ("listener-head-at-ceiling", {"room__dimensions_m__z": 1.75}, "room.dimensions_m.z", "head radius"),
    ("listener-in-wall", {"room__listener__position_frac__x": {"uniform": [0.01, 0.5]}},
     "room.listener.position_frac.x", "from a wall in the smallest room"),
    ("listener-outside", {"room__listener__position_frac": DELETE, "room__listener__position_m": {"x": 8, "y": 2}},
     "room.listener.position_m.x", "does not fit in the smallest room"),
    ("listener-two-positions", {"room__listener__position_m": {"x": 1, "y": 1}}, "room.listener.position_m",
     "not both"),
    ("frac-out-of-range", {"room__listener__position_frac__y": 1.0}, "room.listener.position_frac.y", "not below"),
    ("distance-does-not-fit", {"placement__distance_m": 40}, "placement.distance_m",
     "does not fit in the largest room"),
    ("margin-too-big", {"placement__margin_m": 1.6}, "placement.margin_m", "leaves no space in the smallest room"),
    ("rt60-too-short", {"room__rt60_s": {"uniform": [0.05, 0.9]}, "room__dimensions_m__x": 60,
                        "room__dimensions_m__y": 60, "room__dimensions_m__z": 20},
     "room.rt60_s", "too short for the largest room"),
    ("rt60-and-materials", {"room__materials": {"absorption": 0.3}}, "room.materials", "not both"),
    ("neither-rt60-nor-materials", {"room__rt60_s": DELETE}, "room.rt60_s", "required"),
    ("anechoic-with-dims", {"room__anechoic": True}, "room.dimensions_m", "anechoic"),
    ("room-dims-missing", {"room__dimensions_m": DELETE}, "room.dimensions_m", "required"),
    ("room-dims-small", {"room__dimensions_m__x": 0.5}, "room.dimensions_m.x", "below the 1 m minimum"),
    ("room-not-mapping", {"room": "big"}, "room", "expected a mapping"),
    ("materials-shape", {"room__rt60_s": DELETE, "room__materials": {"absorption": [[0.1] * 7] * 5}},
     "room.materials.absorption", "expected 6 rows"),
    ("materials-row", {"room__rt60_s": DELETE, "room__materials": {"absorption": [[0.1] * 7] * 5 + [[0.1] * 6]}},
     "room.materials.absorption[5]", "6 values; expected 6 rows"),
    ("materials-alpha", {"room__rt60_s": DELETE, "room__materials": {"absorption": [[0.1] * 7] * 5 + [[0.1] * 6 + [1.0]]}},
     "room.materials.absorption[5][6]", "1 is outside [0, 0.99] (ceiling, 8000 Hz)"),
    ("materials-too-live", {"room__rt60_s": DELETE, "room__materials": {"absorption": {"uniform": [0.001, 0.3]}}},
     "room.materials.absorption", "Hz band) in the largest room (9 × 7 × 3.5 m); at most 10 s"),
    ("onset-after-end", {"sources__onset_s": {"uniform": [0, 5]}}, "sources.onset_s",
     "not below audio.duration_s minimum 4 s"),
    ("gaps-do-not-fit", {"sources__min_gap_s": 1.0}, "sources.min_gap_s", "spans 1.5 s"),
    ("separation-impossible", {"placement__min_separation_deg": 170}, "placement.min_separation_deg",
     "cannot all be 170° apart"),
    ("separation-on-arc", {"placement__elevation_deg": 0, "placement__azimuth_deg": {"uniform": [-30, 30]},
                           "placement__min_separation_deg": 40}, "placement.min_separation_deg", "widest spacing is 30°"),
    ("hrtf-unknown", {"hrtf": {"train": "axd-example", "test": "foo"}}, "hrtf.test", "unknown HRTF set 'foo' (known:"),
    ("hrtf-typo", {"hrtf": "axd-exampel"}, "hrtf", "did you mean 'axd-example'"),
    ("hrtf-number", {"hrtf": 5}, "hrtf", "expected a registry name"),
    ("hrtf-split-missing", {"hrtf": {"train": "axd-example"}}, "hrtf", "split 'test' has 16 scenes but no HRTF set"),
    ("hrtf-split-unknown", {"hrtf": {"train": "axd-example", "test": "spherical", "valid": "spherical"}},
     "hrtf.valid", "no split 'valid'"),
    ("split-weights-unknown", {"sources__corpora__0__split_weights": {"train": 1, "tset": 1}},
     "sources.corpora[0].split_weights.tset", "no split 'tset'"),
    ("split-weights-starve", {"sources__corpora__0__split_weights": {"train": 1, "test": 0}},
     "sources.corpora", "split 'test' has 16 scenes but no corpus gives it clips"),
    ("background-type", {"background__type": "brown"}, "background.type", "'white', 'pink' or 'babble'"),
    ("background-snr", {"background__snr_db": {"uniform": [-50, 0]}}, "background.snr_db", "below the -20 dB minimum"),
    ("qa-task", {"qa__tasks": {"count": 1, "closr": 1}}, "qa.tasks", "unknown task 'closr' (did you mean 'closer'?"),
    ("qa-weights", {"qa__tasks": {"count": 0}}, "qa.tasks", "weight > 0"),
    ("qa-form", {"qa__form": "mc5"}, "qa.form", "'open', 'mc4' or 'mixed'"),
    ("synthetic-class", {"sources__corpora": [{"type": "synthetic", "classes": ["siren", "sirne"]}]},
     "sources.corpora[0].classes", "unknown synthetic class 'sirne' (known: siren,"),
    ("corpus-weight", {"sources__corpora__0__weight": 0}, "sources.corpora[0].weight", "greater than 0"),
    ("corpus-names", {"sources__corpora": [{"type": "synthetic", "name": "a"}, {"type": "synthetic", "name": "a"}]},
     "sources.corpora", "corpus names repeat"),
    ("corpus-default-names", {"sources__corpora": [{"type": "synthetic"}, {"type": "synthetic", "classes": ["siren"]}]},
     "sources.corpora", "an unnamed corpus is named after its type"),
    ("corpus-name-colon", {"sources__corpora": [{"type": "synthetic", "name": "a:b"}]},
     "sources.corpora[0].name", "may not contain ':'"),
    ("qa-questions", {"qa__questions_per_scene": 0}, "qa.questions_per_scene", "below the 1 minimum"),
    ("codec", {"output__codec": "mp3"}, "output.codec", "'flac' or 'wav'"),
    ("bit-depth", {"output__bit_depth": 32}, "output.bit_depth", "expected 16 or 24"),
    ("shard-size", {"output__shard_size": 0}, "output.shard_size", "greater than or equal to 1"),
    ("flac-level", {"output__flac_level": 9}, "output.flac_level", "less than or equal to 8"),
    ("version", {"version": 2}, "version", "1"),
    ("version-bool", {"version": True}, "version", "expected the integer 1"),
    ("corpus-type-list", {"sources__corpora__0__type": ["synthetic"]}, "sources.corpora[0].type", "unknown corpus type"),
]


@pytest.mark.parametrize("changes, path, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed_recipe_names_the_field(demo_data, changes, path, words):
    problems = problems_of(variant(demo_data, **changes))
    matching = [p for p in problems if p.startswith(f"{path}: ")]
    assert matching, f"no problem at {path!r}: {problems}"
    assert any(words in p for p in matching), f"{words!r} not in {matching}"


def test_several_problems_are_reported_together(demo_data):
    problems = problems_of(variant(demo_data, dataset__seed="x", output__codec="mp3", room__rt6o_s=1))
    assert [p.split(": ")[0] for p in problems] == ["dataset.seed", "room.rt6o_s", "output.codec"]


def test_bad_text():
    cases = [
        ("dataset: [1\n", "<recipe>:2:1: invalid YAML"),
        ("- 1\n- 2\n", "expected a mapping of sections"),
        ("", "empty recipe"),
        ("42", "got int"),
        ("dataset: {name: a}\naudio: {}\ndataset: {name: b}\n", "dataset: duplicate key (line 3)"),
        ("room:\n  rt60_s: 1\n  rt60_s: 2\n", "room.rt60_s: duplicate key (line 3)"),
        ("dataset: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ]
    for text, fragment in cases:
        with pytest.raises(RecipeError) as e:
            parse_recipe(text)
        assert fragment in str(e.value), (text, str(e.value))


def test_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="no such recipe file"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(RecipeError, match="is a folder"):
        load_recipe(tmp_path)


# ---------------------------------------------------------- malformed by hypothesis

#: Keys whose removal must fail: required fields, and the kind key of a distribution.
REQUIRED = {("dataset",), ("audio",), ("sources",), ("room",), ("hrtf",),
            ("dataset", "name"), ("dataset", "seed"), ("dataset", "splits"),
            ("audio", "sample_rate_hz"), ("audio", "duration_s"), ("sources", "corpora"),
            ("room", "dimensions_m"), ("room", "rt60_s")}
KINDS = {"uniform", "choice", "randint", "normal", "truncnormal", "loguniform"}


def nodes(tree, path=()):
    """Every (path, value) below ``tree`` (mapping entries and list items)."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else []
    for k, v in items:
        yield (*path, k), v
        yield from nodes(v, (*path, k))


def deletable(path) -> bool:
    last = path[-1]
    # a corpus must say its type; background.type has a default (pink), so deleting it is fine
    if path in REQUIRED or last in KINDS or (last == "type" and "corpora" in path):
        return True
    # one element of a pair ([low, high]) or of a weighted choice
    return isinstance(last, int) and len(path) > 1 and path[-2] in {"uniform", "randint", "loguniform", "choice"}


def wrong_type(value):
    """Values of another JSON type that the field cannot take."""
    if isinstance(value, bool):
        return st.sampled_from(["yes", "true", 1, [True]])
    if isinstance(value, (int, float)):
        return st.sampled_from(["abc", "0.5", "5e-1", True, [value], {"x": value}])
    if isinstance(value, str):
        return st.sampled_from([123, 1.5, True, [value], {"name": value}])
    return st.sampled_from(["oops", True, [[]]]) if isinstance(value, dict) else st.sampled_from(["oops", True])


@st.composite
def malformed(draw, base: dict):
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        all_nodes = list(nodes(data))
        op = draw(st.sampled_from(["rename", "delete", "retype", "range"]))
        if op == "rename":
            keyed = [p for p, _ in all_nodes if isinstance(p[-1], str)]
            path = draw(st.sampled_from(keyed))
            suffix = draw(st.text(alphabet="!?@# ", min_size=1, max_size=3))
            new = path[-1] + suffix if draw(st.booleans()) else suffix + path[-1]
            parent = _at(data, path[:-1])
            parent[new] = parent.pop(path[-1])
        elif op == "delete":
            candidates = [p for p, _ in all_nodes if deletable(p)]
            if not candidates:
                continue
            path = draw(st.sampled_from(candidates))
            del _at(data, path[:-1])[path[-1]]
        elif op == "retype":
            path, value = draw(st.sampled_from(all_nodes))
            _at(data, path[:-1])[path[-1]] = draw(wrong_type(value))
        else:
            numeric = [(p, v) for p, v in all_nodes if isinstance(v, (int, float)) and not isinstance(v, bool)]
            path, value = draw(st.sampled_from(numeric))
            bad = draw(st.sampled_from([float("nan"), float("inf"), float("-inf"), -1e9, -10**9]))
            _at(data, path[:-1])[path[-1]] = bad
    return data


def _at(tree, path):
    for k in path:
        tree = tree[k]
    return tree


DEMO_DATA = yaml.safe_load(DEMO.read_text())
PATH_RE = re.compile(r"^(?P<path>[^:]+): \S")


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(malformed(DEMO_DATA))
def test_random_malformed_variants_raise_recipe_error(data):
    try:
        recipe_from_mapping(data)
    except RecipeError as e:
        assert e.problems
        for line in e.problems:
            m = PATH_RE.match(line)
            assert m and m.group("path").strip() and m.group("path") != "recipe", line
            first = re.split(r"[.\[]", m.group("path"))[0]
            assert first in SECTIONS or m.group("path").startswith("['"), line
    else:
        pytest.fail(f"accepted a malformed recipe: {data}")


# ------------------------------------------------------------------ the console script


def binsynth(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from binsynth.cli import main; main()"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_validate_demo():
    out = binsynth("validate", str(DEMO))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "ok: binsynth-demo (train 64, test 16)"
    assert lines[1] == f"sha256: {recipe_hash(load_recipe(DEMO))}"
    assert out.stderr == ""


def test_cli_validate_bad_recipe(demo_data, tmp_path):
    bad = variant(demo_data, dataset__seed="x", room__rt6o_s=1, hrtf="foo", output__codec="mp3")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    out = binsynth("validate", str(path))
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 4, out.stderr
    assert all(line.startswith("error: ") for line in lines)
    assert [line.split(": ")[1] for line in lines] == ["dataset.seed", "room.rt6o_s", "hrtf", "output.codec"]
    assert "Traceback" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize("content, fragment", [
    (None, "no such recipe file"),
    ("dataset:\n  name: x\n  seed: [1\n", ":4:1: invalid YAML"),
    ("- just\n- a list\n", "expected a mapping of sections"),
])
def test_cli_validate_unreadable(tmp_path, content, fragment):
    path = tmp_path / "r.yaml"
    if content is not None:
        path.write_text(content)
    out = binsynth("validate", str(path))
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], out.stderr
    assert "Traceback" not in out.stderr
