"""Answer normalisation and checking, for exact-match metrics and GRPO rewards.

:func:`normalize_answer` maps free text to the canonical form a task's answers take:

============== ====================================================== ===================
kind           canonical form                                          example
============== ====================================================== ===================
label          lower-case label, no article, ``_``/``-`` as spaces     ``"car horn"``
labels         sorted distinct labels joined by ", "; ``none``         ``"dog, siren"``
count          integer (digits or number words)                        ``"3"``
sector         one of the 8 sector names                               ``"front-left"``
degrees        integer azimuth in (-180, 180] ("30 right" → -30)       ``"-30"``
metres         metres with one decimal (cm and mm converted)           ``"2.3"``
sector_distance  sector, comma, metres                                 ``"left, 2.3"``
elevation      above / level / below
near_far       near / far
reverb         no reverberation / dry / moderate / reverberant
room_size      small / medium / large / very large
left_right     left / right
front_back     front / back
yes_no         yes / no
moving_still   moving / still
motion_lr      left to right / right to left ("moves leftward" →      ``"left to right"``
               right to left)
approach       approaching / receding
sector_pair    two sectors in the order given                          ``"from left to back"``
============== ====================================================== ===================

Text that cannot be parsed normalises to its own lower-cased, trimmed form, so it simply
fails to match. :func:`answer_matches` compares directions within ``tolerance_deg``
(circularly), distances within ``tolerance_m`` (or ``tolerance_rel`` of the reference),
and everything else exactly after normalisation; with ``choices`` a bare option letter
("B", "(B)", "B. …") stands for that option.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from binsynth.errors import ConfigError
from binsynth.qa.facts import SECTOR_CENTRE_DEG, SECTORS, wrap_deg
from binsynth.qa.taxonomy import TASKS

LETTERS = "ABCD"
DEFAULT_TOLERANCE_DEG = 15.0
DEFAULT_TOLERANCE_M = 0.5

_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUM = re.compile(r"[-+−]?\d+(?:[.,]\d+)?")
_WORDS = re.compile(r"[a-z]+")


def _clean(text: str) -> str:
    return " ".join(str(text).strip().lower().replace("−", "-").split()).strip(" .!?;:\"'")


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text))


def _first_number(text: str) -> float | None:
    m = _NUM.search(text)
    if m is None:
        return None
    return float(m.group(0).replace(",", ".").replace("−", "-"))


def _label(text: str) -> str:
    t = _clean(text).replace("_", " ").replace("-", " ")
    t = re.sub(r"^(the|a|an)\s+", "", t)
    t = re.sub(r"\s+sound$", "", t)
    return " ".join(t.split())


def _labels(text: str) -> str:
    t = _clean(text)
    parts = [_label(p) for p in re.split(r",|;|\band\b|&|\n", t)]
    parts = sorted({p for p in parts if p and p not in {"none", "nothing", "no sounds", "no sound"}})
    return ", ".join(parts) if parts else "none"


def _count(text: str) -> str:
    t = _clean(text)
    n = _first_number(t)
    if n is not None:
        return str(int(round(n)))
    for w in _WORDS.findall(t):
        if w in _NUMBER_WORDS:
            return str(_NUMBER_WORDS[w])
    return t


def _sector(text: str) -> str:
    t = _clean(text)
    w = _words(t.replace("-", " "))
    fb = {"front" if w & {"front", "ahead", "forward", "forwards"} else None,
          "back" if w & {"back", "behind", "rear", "backward", "backwards"} else None} - {None}
    lr = {"left" if "left" in w else None, "right" if "right" in w else None} - {None}
    if len(fb) > 1 or len(lr) > 1 or not (fb or lr):
        return t
    parts = sorted(fb) + sorted(lr)
    return "-".join(parts)


def _degrees(text: str) -> str:
    t = _clean(text)
    n = _first_number(t)
    if n is None:
        return t
    explicit = bool(re.search(r"[-+]\s*\d", t))
    if not explicit and "right" in _words(t) and "left" not in _words(t):
        n = -n
    return str(int(wrap_deg(round(n))))


def _metres(text: str) -> str:
    t = _clean(text)
    n = _first_number(t)
    if n is None:
        return t
    if re.search(r"\d\s*(cm|centimet)", t):
        n /= 100.0
    elif re.search(r"\d\s*(mm|millimet)", t):
        n /= 1000.0
    return f"{round(n, 1):.1f}"


def _sector_distance(text: str) -> str:
    t = _clean(text)
    m = _NUM.search(t)
    if m is None:
        return t
    return f"{_sector(t[:m.start()])}, {_metres(t[m.start():])}"


def _keyword(table: list[tuple[str, tuple[str, ...]]]):
    def norm(text: str) -> str:
        t = _clean(text)
        w = _words(t.replace("-", " "))
        for canon, keys in table:
            if any((" " in k and k in t) or k in w for k in keys):
                return canon
        return t
    return norm


def _motion_lr(text: str) -> str:
    t = _clean(text)
    left, right = t.find("left"), t.find("right")
    if left < 0 and right < 0:
        return t
    if left >= 0 and right >= 0:
        return "left to right" if left < right else "right to left"
    return "right to left" if left >= 0 else "left to right"  # "moves to the left"


def _sector_pair(text: str) -> str:
    t = _clean(text)
    parts = re.split(r"\bto\b|->|→|\bthen\b|\buntil\b", t, maxsplit=1)
    if len(parts) != 2:
        return t
    first, last = _sector(parts[0].replace("from", " ")), _sector(parts[1])
    return f"from {first} to {last}" if first in SECTORS and last in SECTORS else t


_NORMALISERS = {
    "label": _label,
    "labels": _labels,
    "count": _count,
    "sector": _sector,
    "degrees": _degrees,
    "metres": _metres,
    "sector_distance": _sector_distance,
    "elevation": _keyword([("above", ("above", "up", "over", "overhead", "higher")),
                           ("below", ("below", "beneath", "under", "down", "lower")),
                           ("level", ("level", "same height", "horizontal", "ear level"))]),
    "near_far": _keyword([("near", ("near", "close", "nearby")), ("far", ("far", "distant"))]),
    "reverb": _keyword([("no reverberation", ("no reverberation", "no reverb", "none", "anechoic", "no echo")),
                        ("dry", ("dry",)), ("moderate", ("moderate", "moderately", "medium", "some")),
                        ("reverberant", ("reverberant", "reverberating", "echoey", "echoic", "wet", "live"))]),
    "room_size": _keyword([("very large", ("very large", "very big", "huge", "enormous")),
                           ("large", ("large", "big")), ("medium", ("medium", "mid", "moderate")),
                           ("small", ("small", "tiny", "little"))]),
    "left_right": _keyword([("left", ("left",)), ("right", ("right",))]),
    "front_back": _keyword([("front", ("front", "ahead", "forward")), ("back", ("behind", "back", "rear"))]),
    "yes_no": _keyword([("yes", ("yes", "true", "correct", "yeah")), ("no", ("no", "false", "incorrect", "not"))]),
    "moving_still": _keyword([("still", ("still", "stationary", "static", "not moving", "motionless", "fixed",
                                         "does not move", "doesn't move", "stays")),
                              ("moving", ("moving", "moves", "motion", "travelling", "traveling"))]),
    "motion_lr": _motion_lr,
    "approach": _keyword([("approaching", ("approaching", "approaches", "closer", "nearer", "toward", "towards",
                                           "coming")),
                          ("receding", ("receding", "recedes", "away", "farther", "further", "leaving"))]),
    "sector_pair": _sector_pair,
}


def _kind(task: str) -> str:
    try:
        return TASKS[task].kind
    except KeyError:
        raise ConfigError(f"qa task {task!r}: unknown; expected one of {', '.join(TASKS)}") from None


def normalize_answer(task: str, text: str) -> str:
    """The canonical form of an answer to ``task`` (see the module docstring).

    >>> normalize_answer("direction_sector", "In front of you, to the left")
    'front-left'
    >>> normalize_answer("direction_degrees", "30 degrees to the right")
    '-30'
    >>> normalize_answer("presence", "A siren and the dog")
    'dog, siren'
    """
    return _NORMALISERS[_kind(task)](text)


def resolve_choice(text: str, choices: Sequence[str] | None) -> str:
    """Replace a bare option letter ("B", "(B)", "B. text", "B)") by that option's text."""
    if not choices:
        return text
    m = re.match(r"^\s*\(?([A-D])(?:\)|\.|:|$)", str(text))
    if m is None:
        return text
    i = LETTERS.index(m.group(1))
    return choices[i] if i < len(choices) else text


def answer_matches(task: str, predicted: str, reference: str, *, tolerance_deg: float = DEFAULT_TOLERANCE_DEG,
                   tolerance_m: float = DEFAULT_TOLERANCE_M, tolerance_rel: float = 0.0,
                   choices: Sequence[str] | None = None) -> bool:
    """Whether ``predicted`` answers ``task`` as ``reference`` does.

    Degrees match within ``tolerance_deg`` (circular difference); metres within
    max(``tolerance_m``, ``tolerance_rel`` × reference); ``sector_distance`` needs the same
    sector and a matching distance; every other kind matches exactly after normalisation.

    >>> answer_matches("direction_degrees", "-170", "175 degrees")
    True
    >>> answer_matches("distance", "2.9 m", "2.3 m")
    False
    >>> answer_matches("count", "B", "3", choices=["2", "3", "4", "5"])
    True
    """
    kind = _kind(task)
    predicted, reference = resolve_choice(predicted, choices), resolve_choice(reference, choices)
    p, r = normalize_answer(task, predicted), normalize_answer(task, reference)
    if kind == "degrees":
        err = _error(kind, p, r)
        return err is not None and err <= tolerance_deg
    if kind == "metres":
        return _metres_close(p, r, tolerance_m, tolerance_rel)
    if kind == "sector_distance":
        ps, _, pd = p.partition(", ")
        rs, _, rd = r.partition(", ")
        return ps in SECTORS and ps == rs and _metres_close(pd, rd, tolerance_m, tolerance_rel)
    return p == r


def answer_error(task: str, predicted: str, reference: str, choices: Sequence[str] | None = None) -> float | None:
    """How far ``predicted`` is from ``reference``: circular azimuth difference in degrees
    (``degrees``), the angle between the sectors' centres in degrees (``sector``), metres
    (``metres``); ``None`` for other kinds or an answer that does not parse.

    >>> answer_error("direction_degrees", "-170", "175 degrees")
    15.0
    >>> answer_error("direction_sector", "B", "left", choices=["back", "front-left"])
    45.0
    """
    p = normalize_answer(task, resolve_choice(predicted, choices))
    return _error(_kind(task), p, normalize_answer(task, resolve_choice(reference, choices)))


def _error(kind: str, p: str, r: str) -> float | None:
    """:func:`answer_error` of normalised answers."""
    if kind == "sector":
        if p not in SECTOR_CENTRE_DEG or r not in SECTOR_CENTRE_DEG:
            return None
        return abs(wrap_deg(SECTOR_CENTRE_DEG[p] - SECTOR_CENTRE_DEG[r]))
    if kind not in ("degrees", "metres"):
        return None
    pn, rn = _as_float(p), _as_float(r)
    if pn is None or rn is None:
        return None
    return abs(wrap_deg(pn - rn)) if kind == "degrees" else abs(pn - rn)


def _as_float(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _metres_close(p: str, r: str, tolerance_m: float, tolerance_rel: float) -> bool:
    pn, rn = _as_float(p), _as_float(r)
    if pn is None or rn is None:
        return False
    return abs(pn - rn) <= max(tolerance_m, tolerance_rel * abs(rn)) + 1e-9


def format_mc(question: str, choices: Sequence[str]) -> str:
    """A multiple-choice prompt: the question, then one ``A. option`` line per choice."""
    return "\n".join([question] + [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)])
