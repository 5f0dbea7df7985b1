"""The sections of a recipe (pydantic v2 models) and the checks that stay inside one section.

The ``room`` section (dimensions, RT60 or materials, listener) is in
:mod:`binsynth.recipe.room`. Checks that compare sections (the listener must fit in the
smallest room, per-split HRTF names must be splits …) live in :mod:`binsynth.recipe.checks`.
The YAML schema as a whole is documented in :mod:`binsynth.recipe.model`; distribution forms in
:mod:`binsynth.recipe.distributions`.

Units are in the names: ``*_m`` metres, ``*_s`` seconds, ``*_deg`` degrees, ``*_db``
decibels, ``*_dbfs`` dB relative to full scale, ``*_hz`` hertz, ``*_frac`` fractions of a
room dimension. Frames: room frame (origin at a floor corner, +z up); head frame azimuth
counter-clockwise from the front in [-180, 180] (+90 = left), elevation +90 = above.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from binsynth.recipe.distributions import Int, int_param, real_param

#: Sample rates binsynth renders at (Hz).
SAMPLE_RATES_HZ = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
#: Most sources one scene may hold.
MAX_SOURCES = 8
#: Closest source distance in metres. HRTF sets are measured in the far field (≥ 1 m,
#: some 0.5 m); below ~0.2 m the head radius (8.75 cm) makes a point source meaningless.
MIN_DISTANCE_M = 0.2
#: Largest wall absorption: ShoeboxRoom refuses α ≥ 1, and an RT60 fit refuses α > 0.99.
MAX_ABSORPTION = 0.99
#: Wall order of ``room.materials.absorption`` rows (ShoeboxRoom's order).
WALLS = ("x=0", "x=Lx", "y=0", "y=Ly", "floor", "ceiling")
#: Answer forms; the same as :data:`binsynth.qa.FORMS` (a test keeps them equal).
QA_FORMS = ("open", "mc4", "mixed")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SPLIT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")  # HF split names: \w+, no dots here
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$")

Bool = Annotated[bool, Field(strict=True)]
Text = Annotated[str, Field(strict=True)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]

# Bounded per-scene parameters (a constant or a distribution whose support must fit).
ClipSeconds = real_param(0.1, 600.0, "s")
LevelDbfs = real_param(-80.0, 0.0, "dBFS")
SourceCount = int_param(1, MAX_SOURCES)
OnsetSeconds = real_param(0.0, 600.0, "s")
SourceSeconds = real_param(0.05, 600.0, "s")
GainDb = real_param(-60.0, 20.0, "dB")
RelativeDb = real_param(-40.0, 60.0, "dB")
AzimuthDeg = real_param(-180.0, 180.0, "°")
ElevationDeg = real_param(-90.0, 90.0, "°")
DistanceM = real_param(MIN_DISTANCE_M, 50.0, "m")
BackgroundSnrDb = real_param(-20.0, 80.0, "dB")
AngularSpeedDegS = real_param(0.0, 360.0, "°/s", low_open=True)
SpeedMS = real_param(0.0, 10.0, "m/s", low_open=True)
QuestionCount = int_param(1, 50)


def problems_error(problems: list[tuple[tuple, str]]) -> ValidationError:
    """A ValidationError with our own field locations. Raised inside a validator, pydantic
    prefixes each location with the validator's own, so a section can point at its field
    (``room.rt60_s``) rather than at itself. The message travels in the context so its
    braces are never read as a template."""
    details = [
        InitErrorDetails(type=PydanticCustomError("recipe", "{message}", {"message": msg}), loc=loc, input=None)
        for loc, msg in problems
    ]
    return ValidationError.from_exception_data("Recipe", details)


def _split_name(v: str) -> str:
    if not _SPLIT_RE.match(v):
        raise ValueError(f"split name {v!r} must start with a letter and hold only letters, digits and '_'")
    return v


SplitName = Annotated[Text, AfterValidator(_split_name)]


def _resolve(v: str, info: ValidationInfo) -> str:
    """A relative path is taken relative to the recipe file (``context['base_dir']``)."""
    if not v.strip():
        raise ValueError("empty path")
    base = (info.context or {}).get("base_dir")
    p = Path(v).expanduser()
    if base is not None and not p.is_absolute():
        p = Path(base) / p
    return str(p)


PathText = Annotated[Text, AfterValidator(_resolve)]


class Section(BaseModel):
    """Base of every recipe model: immutable, unknown keys are errors, defaults validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# ---------------------------------------------------------------------------- dataset


class DatasetSection(Section):
    """``dataset``: name (used in file names), master seed, scenes per split."""

    name: Text
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)]
    splits: dict[SplitName, Annotated[int, Field(strict=True, ge=0, le=10**9)]]
    description: Text = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        if not _NAME_RE.match(v):
            raise ValueError(f"{v!r}: use 1-100 letters, digits, '.', '_' or '-' (it names files and the HF dataset)")
        return v

    @field_validator("splits")
    @classmethod
    def _some_scenes(cls, v):
        if not any(n > 0 for n in v.values()):
            raise ValueError(f"at least one split with scenes > 0 (got {v or 'none'})")
        return v

    @property
    def n_scenes(self) -> int:
        return sum(self.splits.values())


# ------------------------------------------------------------------------------ audio


class AudioSection(Section):
    """``audio``: output sample rate and clip length."""

    sample_rate_hz: Int
    duration_s: ClipSeconds

    @field_validator("sample_rate_hz")
    @classmethod
    def _rate(cls, v):
        if v not in SAMPLE_RATES_HZ:
            rates = ", ".join(str(r) for r in SAMPLE_RATES_HZ)
            raise ValueError(f"{v} not supported (8000–96000: one of {rates})")
        return v


# ---------------------------------------------------------------------------- sources


class CorpusBase(Section):
    """Fields every corpus takes: an optional name, a mixing weight among corpora, and how
    its clips are partitioned among splits (default: the corpus's own default)."""

    type: str  # narrowed to a Literal by each corpus; first, so it leads in dumps
    name: Text | None = None
    weight: Positive = 1.0
    split_weights: dict[SplitName, NonNegative] | None = None

    @field_validator("split_weights")
    @classmethod
    def _weights(cls, v):
        if v is not None and not sum(v.values()) > 0:
            raise ValueError("at least one split needs a weight > 0")
        return v


class SyntheticCorpus(CorpusBase):
    """``{type: synthetic, classes: all | [siren, beep, …]}``: built-in generated sounds."""

    type: Literal["synthetic"]
    classes: Literal["all"] | list[Text] = "all"

    @field_validator("classes")
    @classmethod
    def _classes(cls, v):
        if isinstance(v, list):
            if not v:
                raise ValueError("empty class list; give class names or 'all'")
            if len(set(v)) != len(v):
                raise ValueError(f"{v}: class names repeat")
            for c in v:
                if not _LABEL_RE.match(c):
                    raise ValueError(f"class name {c!r} is not a plain label")
        return v


class FolderCorpus(CorpusBase):
    """``{type: folder, root: PATH}``: audio files under a folder (labels from sub-folders)."""

    type: Literal["folder"]
    root: PathText


class ManifestCorpus(CorpusBase):
    """``{type: manifest, path: PATH}``: a manifest file listing clips with labels."""

    type: Literal["manifest"]
    path: PathText


class ParquetCorpus(CorpusBase):
    """``{type: parquet, path: PATH, audio_column: audio, label_column: label}``: a Parquet
    file or folder (e.g. a Hugging Face dataset) with an audio and a label column."""

    type: Literal["parquet"]
    path: PathText
    audio_column: Text = "audio"
    label_column: Text = "label"


CORPUS_TYPES: dict[str, type[CorpusBase]] = {
    "synthetic": SyntheticCorpus, "folder": FolderCorpus, "manifest": ManifestCorpus, "parquet": ParquetCorpus,
}


def _corpus_check(v: Any) -> Any:
    if isinstance(v, CorpusBase):
        return v
    if not isinstance(v, dict):
        raise ValueError(f"expected a mapping with a type ({', '.join(CORPUS_TYPES)}); got {v!r:.60}")
    if "type" not in v:
        raise problems_error([(("type",), f"required field is missing ({', '.join(CORPUS_TYPES)})")])
    if not isinstance(v["type"], str) or v["type"] not in CORPUS_TYPES:
        raise problems_error([(("type",), f"unknown corpus type {v['type']!r:.40}; "
                                          f"expected {', '.join(CORPUS_TYPES)}")])
    return v


def _corpus_tag(v: Any) -> str | None:
    t = v.type if isinstance(v, CorpusBase) else v.get("type") if isinstance(v, dict) else None
    return f"~{t}" if isinstance(t, str) and t in CORPUS_TYPES else None


Corpus = Annotated[
    Annotated[
        Union[tuple(Annotated[c, Tag(f"~{t}")] for t, c in CORPUS_TYPES.items())],  # noqa: UP007
        Discriminator(_corpus_tag),
    ],
    BeforeValidator(_corpus_check),
]


class Normalize(Section):
    """``normalize: {rms_dbfs: -26}`` or ``{peak_dbfs: -1}``: dry level before gains."""

    rms_dbfs: LevelDbfs | None = None
    peak_dbfs: LevelDbfs | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.rms_dbfs is not None and self.peak_dbfs is not None:
            raise problems_error([(("peak_dbfs",), "give rms_dbfs or peak_dbfs, not both")])
        if self.rms_dbfs is None and self.peak_dbfs is None:
            raise ValueError("give one of rms_dbfs or peak_dbfs (or normalize: null)")
        return self


#: Path shapes of moving sources (see :mod:`binsynth.scene.paths`).
PATHS = ("arc", "line")


class MotionSection(Section):
    """``sources.motion``: which sources move and how (absent: every source is still).

    moving_probability: chance that a placed source moves (drawn per source)
    path: ``arc`` (distance and elevation kept, the azimuth sweeps), ``line`` (a straight
          segment in the room, horizontal) or a list of them (one drawn per moving source)
    angular_speed_deg_s: an arc's azimuth rate, degrees per second (left or right drawn per
          source; the DCASE generator uses 10, 20 or 40)
    speed_m_s: a line's speed, metres per second
    max_speed_m_s: no moving source is faster (an arc's speed is ω r cos θ; a draw above the
          cap is slowed to it)
    min_distance_m: closest a path comes to the head centre
    A path also stays ``placement.margin_m`` inside the room; a source whose path cannot be
    fitted after a few draws stays still (and is labelled still).
    """

    moving_probability: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)] = 0.0
    path: Annotated[list[Literal["arc", "line"]], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = ["arc"]
    angular_speed_deg_s: AngularSpeedDegS = {"choice": [10.0, 20.0, 40.0]}
    speed_m_s: SpeedMS = {"uniform": [0.3, 1.5]}
    max_speed_m_s: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=10)] = 1.5
    min_distance_m: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=MIN_DISTANCE_M, le=50)] = 0.5

    @field_validator("path")
    @classmethod
    def _paths(cls, v):
        if not v:
            raise ValueError("empty path list; give arc, line or [arc, line]")
        if len(set(v)) != len(v):
            raise ValueError(f"{v}: a path is named twice")
        return [p for p in PATHS if p in v]  # one order, so the hash does not depend on it

    @property
    def paths(self) -> list[str]:
        return list(self.path)


class SourcesSection(Section):
    """``sources``: where dry sounds come from, how many per scene, when and how loud.

    n_sources:  sources per scene (whole number distribution, 1..MAX_SOURCES)
    onset_s:    each source's start time in the clip
    duration_s: each source's length (None: until the clip or the dry sound ends)
    max_overlap: most sources sounding at once (None: no limit)
    min_gap_s:  least time between two sources' onsets
    gain_db | snr_db: a gain per source, or each later source's level relative to the
                first (positive = quieter than the first); neither: every source at 0 dB
    normalize:  loudness target of each dry source before its gain (null: as recorded)
    motion:     moving sources (:class:`MotionSection`; absent: none moves)
    """

    corpora: list[Corpus] = Field(min_length=1)
    n_sources: SourceCount = 1
    onset_s: OnsetSeconds = 0.0
    duration_s: SourceSeconds | None = None
    max_overlap: Annotated[int, Field(strict=True, ge=1, le=MAX_SOURCES)] | None = None
    min_gap_s: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=600)] = 0.0
    gain_db: GainDb | None = None
    snr_db: RelativeDb | None = None
    normalize: Normalize | None = Field(default_factory=lambda: Normalize(rms_dbfs=-26.0))
    motion: MotionSection | None = None

    @model_validator(mode="after")
    def _level(self):
        problems = []
        if self.gain_db is not None and self.snr_db is not None:
            problems.append((("snr_db",), "give sources.gain_db or sources.snr_db, not both"))
        # an unnamed corpus is named after its type: clip ids ("name:clip") must say which corpus
        names = [c.name or c.type for c in self.corpora]
        if len(set(names)) != len(names):
            problems.append((("corpora",), f"corpus names repeat: {names} (an unnamed corpus is named after "
                                           "its type); give each corpus its own name"))
        for k, name in enumerate(names):
            if ":" in name:
                problems.append((("corpora", k, "name"), f"{name!r}: a corpus name may not contain ':'"))
        if problems:
            raise problems_error(problems)
        return self


# -------------------------------------------------------------------------- placement


class PlacementSection(Section):
    """``placement``: source directions and distances in the head frame.

    min_separation_deg: least great-circle angle between two sources of a scene
    inside_room / margin_m: every source (and its image-model position) lies inside the room,
                 at least margin_m from each wall (ignored for an anechoic room)
    """

    azimuth_deg: AzimuthDeg = {"uniform": [-180.0, 180.0]}
    elevation_deg: ElevationDeg = 0.0
    distance_m: DistanceM = {"uniform": [0.5, 3.0]}
    min_separation_deg: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=180)] = 0.0
    inside_room: Bool = True
    margin_m: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=5)] = 0.2


# -------------------------------------------------------------------------- the rest


class BackgroundSection(Section):
    """``background``: diffuse noise at both ears, ``snr_db`` below the source mixture."""

    enabled: Bool = False
    type: Literal["white", "pink", "babble"] = "pink"
    snr_db: BackgroundSnrDb = 20.0


def qa_tasks() -> dict:
    """The QA task taxonomy, name -> info with ``.level`` (:data:`binsynth.qa.TASKS`)."""
    from binsynth.qa.taxonomy import TASKS

    return TASKS


def motion_tasks() -> tuple[str, ...]:
    """The tasks about moving sources (:data:`binsynth.qa.taxonomy.MOTION_TASKS`)."""
    from binsynth.qa.taxonomy import MOTION_TASKS

    return MOTION_TASKS


class QASection(Section):
    """``qa``: question tasks (name -> weight; names from :data:`binsynth.qa.TASKS`, which
    spans level 1 perception, 2 integration, 3 reasoning; default: every task, weight 1 —
    the motion tasks only in recipes with ``sources.motion``),
    questions per scene, and the answer form: open text, four-way multiple choice, or a mix."""

    enabled: Bool = True
    tasks: dict[Text, NonNegative] = Field(default_factory=lambda: {t: 1.0 for t in qa_tasks() if t not in motion_tasks()})
    questions_per_scene: QuestionCount = 3
    form: Literal["open", "mc4", "mixed"] = "mixed"

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, v):
        known = qa_tasks()
        unknown = [t for t in v if t not in known]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], list(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown task {', '.join(map(repr, unknown))} ({hint}known: {', '.join(known)})")
        if not sum(v.values()) > 0:
            raise ValueError("at least one task needs a weight > 0")
        return v


#: What listens to a scene: the binaural head (column ``audio``) and/or a first-order
#: ambisonic microphone at the head centre (column ``audio_foa``: AmbiX W, Y, Z, X, SN3D).
RECEIVERS = ("binaural", "foa")


class OutputSection(Section):
    """``output``: scenes per Parquet shard, audio codec, PCM bit depth and FLAC compression
    level (libFLAC's 0 = fastest … 8 = smallest; 5 is libFLAC's default; FLAC is lossless at
    every level, so the level trades only encoding time against size: measured on 10 s
    48 kHz stereo mixes, level 0 encodes ~20 % faster than 5 for ~5 % more bytes), and the
    receivers rendered (``[binaural]``, or ``[binaural, foa]`` for an FOA column beside it)."""

    shard_size: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 256
    codec: Literal["flac", "wav"] = "flac"
    bit_depth: Int = 16
    flac_level: Annotated[int, Field(strict=True, ge=0, le=8)] = 5
    receivers: list[Literal["binaural", "foa"]] = ["binaural"]

    @field_validator("receivers")
    @classmethod
    def _receivers(cls, v):
        if len(set(v)) != len(v):
            raise ValueError(f"{v}: a receiver is named twice")
        if "binaural" not in v:  # the trainer, preview, replay and QA read the binaural column
            raise ValueError(f"{v}: must include binaural (FOA is rendered beside it: [binaural, foa])")
        return [r for r in RECEIVERS if r in v]  # one order, so the hash does not depend on it

    @field_validator("bit_depth")
    @classmethod
    def _depth(cls, v):
        if v not in (16, 24):
            raise ValueError(f"{v}: expected 16 or 24")
        return v


# ------------------------------------------------------------------------------- hrtf


def known_hrtf_sets() -> list[str]:
    """Names in the HRTF registry now (entries added with ``registry.register`` count)."""
    from binsynth.acoustics.registry import list_entries

    return [e.name for e in list_entries()]


def _hrtf_ref(v: str, info: ValidationInfo) -> str:
    if v.lower().endswith(".sofa"):
        return _resolve(v, info)  # a path: checked for existence at load time, never read here
    names = known_hrtf_sets()
    if v in names:
        return v
    import difflib

    close = difflib.get_close_matches(v, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"unknown HRTF set {v!r:.60} ({hint}known: {', '.join(names)}; or a path ending in .sofa)")


HrtfRef = Annotated[Text, AfterValidator(_hrtf_ref)]


def _hrtf_check(v: Any) -> Any:
    if isinstance(v, str) or (isinstance(v, dict) and v):
        return v
    raise ValueError(f"expected a registry name, a .sofa path, or a mapping of split to set "
                     f"(e.g. {{train: axd-example, test: spherical}}); got {v!r:.60}")


#: ``hrtf: NAME_OR_PATH`` or ``hrtf: {train: NAME, test: NAME}`` (``default:`` covers the
#: splits not named).
HrtfSpec = Annotated[
    Annotated[
        Union[  # noqa: UP007
            Annotated[HrtfRef, Tag("~one")],
            Annotated[dict[Text, HrtfRef], Tag("~per_split")],
        ],
        Discriminator(lambda v: "~per_split" if isinstance(v, dict) else "~one"),
    ],
    BeforeValidator(_hrtf_check),
]
