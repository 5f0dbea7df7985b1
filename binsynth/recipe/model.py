"""Recipes: the YAML that describes a dataset, validated into a :class:`Recipe`.

Every per-scene number may be a constant or a distribution (forms in
:mod:`binsynth.recipe.distributions`: ``0.5``, ``{uniform: [lo, hi]}``, ``{normal: {mean, std}}``,
``{truncnormal: {mean, std, low, high}}``, ``{loguniform: [lo, hi]}``,
``{choice: [...], weights: [...]}``, ``{randint: [lo, hi]}`` for whole numbers).
Structural numbers (seed, split sizes, sample rate, shard size, bit depth) are constants.
Unknown keys are errors at every depth, and so are strings where numbers belong.

.. code-block:: yaml

    version: 1                      # recipe schema version (optional)
    dataset:
      name: demo                    # letters, digits, . _ -  (names files)
      seed: 1234                    # master seed: a scene depends only on (recipe, index)
      splits: {train: 64, test: 16} # scenes per split; at least one > 0
      description: "..."            # optional
    audio:
      sample_rate_hz: 16000         # 8000 16000 22050 24000 32000 44100 48000 88200 96000
      duration_s: 4.0               # clip length, 0.1–600 s
    sources:
      corpora:                      # one or more, mixed by `weight`
        - {type: synthetic, classes: all}          # or a list of class names
        - {type: folder, root: PATH}               # relative paths: from the recipe file
        - {type: manifest, path: PATH}
        - {type: parquet, path: PATH, audio_column: audio, label_column: label}
        # each also takes name, weight (> 0), split_weights ({train: 0.8, test: 0.2})
      n_sources: {choice: [1, 2, 3], weights: [0.5, 0.3, 0.2]}   # 1–8
      onset_s: {uniform: [0, 1]}    # start time in the clip (< audio.duration_s)
      duration_s: null              # each source's length; null = to the end
      max_overlap: null             # most sources sounding at once; null = no limit
      min_gap_s: 0                  # least time between two onsets
      gain_db: {uniform: [-6, 0]}   # or snr_db: level of later sources below the first
      normalize: {rms_dbfs: -26}    # or {peak_dbfs: -1}, or null
      motion:                       # absent or null: every source is still
        moving_probability: 0.5     # per source
        path: [arc, line]           # arc: azimuth sweeps at constant distance; line: straight, in the room
        angular_speed_deg_s: {choice: [10, 20, 40]}   # arcs (left or right drawn per source)
        speed_m_s: {uniform: [0.3, 1.5]}              # lines
        max_speed_m_s: 1.5          # cap on every path's speed
        min_distance_m: 0.5         # closest a path comes to the head
    placement:                      # head frame: azimuth CCW from the front, +90 = left
      azimuth_deg: {uniform: [-180, 180]}
      elevation_deg: 0              # within [-90, 90]
      distance_m: {uniform: [0.5, 3]}   # from the head centre, >= 0.2 m
      min_separation_deg: 20        # between any two sources of a scene
      inside_room: true             # sources inside the room ...
      margin_m: 0.2                 # ... this far from every wall
    room:                           # or: room: {anechoic: true}
      dimensions_m: {x: {uniform: [3, 9]}, y: {uniform: [3, 7]}, z: {uniform: [2.5, 3.5]}}
      rt60_s: {uniform: [0.2, 0.9]} # or materials: {absorption: 0.3 | 6×7 list}
      listener:
        position_frac: {x: {uniform: [0.3, 0.7]}, y: {uniform: [0.3, 0.7]}}  # or position_m
        height_m: {uniform: [1.2, 1.7]}
        yaw_deg: {uniform: [-180, 180]}
        pitch_deg: 0
      air_absorption: true
    hrtf: axd-example               # registry name, a .sofa path, or {train: A, test: B, default: C}
    background: {enabled: true, type: pink, snr_db: {uniform: [10, 30]}}  # white | pink | babble
    qa:
      tasks: {count: 1, direction_sector: 2, closer: 1}   # task -> weight (binsynth.qa.TASKS)
      questions_per_scene: 3
      form: mixed                   # open | mc4 | mixed
    output: {shard_size: 16, codec: flac, bit_depth: 16, receivers: [binaural]}   # or [binaural, foa]

Public API: :func:`load_recipe` (file), :func:`parse_recipe` (YAML text),
:func:`recipe_from_mapping` (parsed data), :func:`recipe_hash`, :func:`resolved_yaml`.
Every failure is a :class:`~binsynth.errors.RecipeError` whose ``problems`` are
``"field.path: message"`` lines.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, Tag, ValidationError, field_validator, model_validator

from binsynth.errors import RecipeError
from binsynth.recipe.checks import cross_problems, file_problems
from binsynth.recipe.room import RoomSection
from binsynth.recipe.sections import (
    AudioSection,
    BackgroundSection,
    DatasetSection,
    HrtfSpec,
    OutputSection,
    PlacementSection,
    QASection,
    Section,
    SourcesSection,
    problems_error,
    qa_tasks,
)

SCHEMA_VERSION = 1


class Recipe(Section):
    """A validated, immutable recipe. Sections are documented in :mod:`binsynth.recipe.sections` and :mod:`binsynth.recipe.room`."""

    version: Literal[1] = SCHEMA_VERSION
    dataset: DatasetSection
    audio: AudioSection
    sources: SourcesSection
    placement: PlacementSection = Field(default_factory=PlacementSection)
    room: RoomSection
    hrtf: HrtfSpec
    background: BackgroundSection = Field(default_factory=BackgroundSection)
    qa: QASection = Field(default_factory=QASection)
    output: OutputSection = Field(default_factory=OutputSection)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, v):
        if isinstance(v, bool) or not isinstance(v, int):  # `version: true` is not version 1
            raise ValueError(f"{v!r:.40}: expected the integer {SCHEMA_VERSION}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _motion_tasks(cls, data):
        """A recipe with ``sources.motion`` and no ``qa.tasks`` asks every task, motion ones too."""
        sources, qa = (data.get("sources"), data.get("qa", {})) if isinstance(data, dict) else (None, None)
        if isinstance(sources, dict) and sources.get("motion") is not None and isinstance(qa, dict) and "tasks" not in qa:
            data = {**data, "qa": {**qa, "tasks": {t: 1.0 for t in qa_tasks()}}}
        return data

    @model_validator(mode="after")
    def _cross(self):
        problems = cross_problems(self)
        if problems:
            raise problems_error(problems)
        return self

    def hrtf_for(self, split: str) -> str:
        """The HRTF set (registry name or .sofa path) used to render ``split``."""
        if isinstance(self.hrtf, str):
            return self.hrtf
        return self.hrtf.get(split) or self.hrtf["default"]


# ----------------------------------------------------------------------------- loading


def load_recipe(path: str | Path, *, check_files: bool = True) -> Recipe:
    """Read, parse and validate a recipe file. Relative paths in it are resolved against
    the file's folder. ``check_files``: also require named corpora / .sofa files to exist.

    Raises :class:`RecipeError` for a missing file, invalid YAML, or an invalid recipe.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError([f"{path}: no such recipe file"]) from None
    except IsADirectoryError:
        raise RecipeError([f"{path}: is a folder, not a recipe file"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise RecipeError([f"{path}: cannot read ({e.__class__.__name__}: {e})"]) from None
    return parse_recipe(text, base_dir=path.resolve().parent, source=str(path), check_files=check_files)


def parse_recipe(text: str, *, base_dir: str | Path | None = None, source: str = "<recipe>",
                 check_files: bool = False) -> Recipe:
    """Validate YAML text (``yaml.safe_load``; duplicate keys are refused)."""
    try:
        data = yaml.safe_load(text)
        duplicates = _duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        reason = " ".join(str(getattr(e, "problem", None) or e).split())
        raise RecipeError([f"{where}: invalid YAML: {reason}"]) from None
    if duplicates:
        raise RecipeError([f"{_path(loc)}: duplicate key (line {line}); YAML keeps only the last one"
                           for loc, line in duplicates])
    if data is None:
        raise RecipeError([f"{source}: empty recipe; expected a mapping of sections (dataset, audio, …)"])
    if not isinstance(data, dict):
        raise RecipeError([f"{source}: expected a mapping of sections (dataset, audio, …), "
                           f"got {type(data).__name__}"])
    return recipe_from_mapping(data, base_dir=base_dir, check_files=check_files)


def recipe_from_mapping(data: dict, *, base_dir: str | Path | None = None, check_files: bool = False) -> Recipe:
    """Validate already-parsed data. ``base_dir`` anchors relative paths (default: as given)."""
    if not isinstance(data, dict):
        raise RecipeError([f"recipe: expected a mapping of sections, got {type(data).__name__}"])
    context = {"base_dir": Path(base_dir) if base_dir is not None else None}
    try:
        recipe = Recipe.model_validate(data, context=context)
    except ValidationError as e:
        raise RecipeError(format_errors(e)) from None
    if check_files:
        problems = file_problems(recipe)
        if problems:
            raise RecipeError([f"{_path(loc)}: {msg}" for loc, msg in problems])
    return recipe


def _duplicate_keys(node: yaml.Node | None, loc: tuple = ()) -> list[tuple[tuple, int]]:
    """(path, line) of every repeated mapping key in a composed YAML document."""
    found: list[tuple[tuple, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if k in seen:
                found.append(((*loc, k), key.start_mark.line + 1))
            seen.add(k)
            found += _duplicate_keys(value, (*loc, k))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_keys(item, (*loc, i))
    return found


# -------------------------------------------------------------------- error messages

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _path(loc: tuple) -> str:
    """Pydantic location -> ``room.dimensions_m.z`` / ``sources.corpora[0].root``.

    Union tags (``~name``) and pydantic's ``[key]`` marker are dropped; a bare number
    parsed as ``{const: x}`` loses the ``const`` it never had."""
    out = ""
    segs = list(loc)
    i = 0
    while i < len(segs):
        s = segs[i]
        i += 1
        if s == "~const" and i < len(segs) and segs[i] == "const":
            i += 1
            continue
        if isinstance(s, str) and (s.startswith("~") or s == "[key]"):
            continue
        if isinstance(s, int):
            out += f"[{s}]"
        elif _IDENT.match(str(s)):
            out += ("." if out else "") + str(s)
        else:
            out += f"[{str(s)!r}]"
    return out or "recipe"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: dict) -> str:
    kind, msg, loc = err["type"], err["msg"], err["loc"]
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "assertion_error":
        return msg.removeprefix("Assertion failed, ")
    if kind in ("recipe", "distribution"):
        return msg
    if kind == "missing":
        if loc and isinstance(loc[-1], int):  # only pairs are fixed-length lists here
            return "missing value; expected a [low, high] pair"
        return "required field is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys (got {_short(err.get('input'))})"
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        if known is None:
            return "unknown key"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint} (allowed: {', '.join(known)})"
    if kind == "union_tag_not_found":
        return f"{msg} (got {_short(err.get('input'))})"
    text = msg[:1].lower() + msg[1:]
    if "input" in err:
        text += f" (got {_short(err['input'])})"
    return text


def format_errors(e: ValidationError) -> list[str]:
    """One ``"field.path: message"`` line per pydantic error, in input order, deduplicated."""
    lines: list[str] = []
    for err in e.errors(include_url=False):
        line = f"{_path(err['loc'])}: {_message(err)}"
        if line not in lines:
            lines.append(line)
    return lines or ["recipe: invalid"]


def _members(t: Any) -> list[tuple[set[str], Any]]:
    """Flatten Annotated / Union layers into (union tags, type) pairs."""
    origin = get_origin(t)
    if origin is Annotated:
        base, *meta = get_args(t)
        tags = {m.tag for m in meta if isinstance(m, Tag)}
        return [(tags | inner, b) for inner, b in _members(base)]
    if origin in (Union, types.UnionType):
        return [m for a in get_args(t) for m in _members(a)]
    return [(set(), t)]


def _fields_at(loc: tuple) -> list[str] | None:
    """The keys a recipe model at ``loc`` allows (for "did you mean"), or None if unknown."""
    t: Any = Recipe
    for seg in loc:
        nxt = None
        for tags, b in _members(t):
            if isinstance(seg, str) and seg.startswith("~"):
                if seg in tags:
                    nxt = b
            elif isinstance(b, type) and issubclass(b, BaseModel):
                if isinstance(seg, str) and seg in b.model_fields:
                    f = b.model_fields[seg]
                    nxt = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
            elif get_origin(b) in (list, tuple) and isinstance(seg, int):
                nxt = get_args(b)[0]
            elif get_origin(b) is dict and isinstance(seg, str):
                nxt = get_args(b)[1]
            if nxt is not None:
                break
        if nxt is None:
            return None
        t = nxt
    models = [b for _, b in _members(t) if isinstance(b, type) and issubclass(b, BaseModel)]
    return list(models[0].model_fields) if len(models) == 1 else None


# ------------------------------------------------------------------- hash and export


#: Fields added after recipe format 1, left out of the hash and the resolved YAML while they
#: hold these defaults: a recipe written before them keeps its hash, so its datasets resume
#: and verify as before. (section, field) -> default.
LATER_DEFAULTS: dict[tuple[str, str], object] = {("output", "receivers"): ["binaural"], ("sources", "motion"): None}


def _resolved(recipe: Recipe) -> dict:
    data = recipe.model_dump(mode="json")
    for (section, name), default in LATER_DEFAULTS.items():
        if data.get(section, {}).get(name, object()) == default:
            del data[section][name]
    return data


def canonical_json(recipe: Recipe) -> str:
    """The fully resolved recipe (defaults included, but :data:`LATER_DEFAULTS`) as JSON with
    sorted keys, no spaces."""
    return json.dumps(_resolved(recipe), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def recipe_hash(recipe: Recipe) -> str:
    """SHA-256 (hex) of :func:`canonical_json`: equal for recipes that render the same,
    however they were written (defaults spelled out or not, key order, 1 vs 1.0)."""
    return hashlib.sha256(canonical_json(recipe).encode("utf-8")).hexdigest()


def resolved_yaml(recipe: Recipe) -> str:
    """The fully resolved recipe as YAML (every default spelled out, section order kept),
    headed by its hash; :func:`parse_recipe` of it gives a recipe with the same hash."""
    from binsynth import __version__

    body = yaml.safe_dump(_resolved(recipe), sort_keys=False, allow_unicode=True,
                          default_flow_style=None, width=100)
    return (f"# binsynth {__version__}: resolved recipe '{recipe.dataset.name}'\n"
            f"# recipe sha256: {recipe_hash(recipe)}\n{body}")
