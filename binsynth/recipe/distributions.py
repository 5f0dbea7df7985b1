"""Scalar parameter distributions for recipes: a constant or a random draw per scene.

Every per-scene number in a recipe (``room.rt60_s``, ``placement.distance_m``,
``sources.gain_db`` …) takes one of these YAML forms:

=========================================================  =====================================
YAML                                                       meaning
=========================================================  =====================================
``rt60_s: 0.5``  or  ``rt60_s: {const: 0.5}``              always 0.5
``rt60_s: {uniform: [0.2, 0.9]}``                          uniform on [low, high], low < high
``distance_m: {normal: {mean: 2, std: 0.5}}``              Gaussian, std > 0; support (-inf, inf)
``distance_m: {truncnormal: {mean: 2, std: 1,              Gaussian restricted to [low, high]
low: 0.5, high: 4}}``                                      (exact inverse-CDF draw, no rejection)
``gain_db: {loguniform: [0.1, 10]}``                       log-uniform on [low, high], 0 < low < high
``n_sources: {choice: [1, 2, 3]}``                         one of the values, equally likely
``n_sources: {choice: [1, 2, 3], weights: [5, 3, 2]}``     weighted; weights >= 0, sum > 0, one each
``n_sources: {randint: [1, 3]}``                           integer uniform on low..high inclusive
=========================================================  =====================================

Integer parameters (``sources.n_sources``, ``qa.questions_per_scene``) take a whole number,
``choice`` of whole numbers or ``randint``; real parameters take every form but ``randint``.
Numbers are strict: ``"0.5"`` (a string) or ``true`` is refused, not converted; so is a
non-finite value. (YAML 1.1 reads ``5e-1`` as a *string*: write ``5.0e-1`` or ``0.5``.)

Each distribution knows its :attr:`~Dist.support` ``(low, high)`` (``normal`` is
``(-inf, inf)``, ``truncnormal`` is ``[low, high]``, ``choice`` spans the values with positive
weight), which the recipe uses for range and geometry checks, e.g. "the smallest room must
hold the tallest listener".

Determinism. ``sample(rng)`` is a pure function of the generator's state: the same
``numpy.random.Generator`` state gives the same value. Draws consumed per value:
``const`` none; ``uniform``, ``loguniform``, ``truncnormal``, ``choice`` one ``rng.random``-style
double each; ``normal`` one ``rng.normal``; ``randint`` one ``rng.integers``. ``sample(rng, n)``
returns an array of ``n`` values, equal to ``n`` consecutive scalar draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Union

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

#: A finite real number; ints are accepted (and stored as float), strings and bools are not.
Real = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A whole number; floats (even 2.0), strings and bools are refused.
Int = Annotated[int, Field(strict=True)]

#: The YAML forms, for error messages.
REAL_FORMS = (
    "a number, {uniform: [low, high]}, {normal: {mean, std}}, "
    "{truncnormal: {mean, std, low, high}}, {loguniform: [low, high]} or {choice: [...], weights: [...]}"
)
INT_FORMS = "a whole number, {choice: [...], weights: [...]} or {randint: [low, high]}"


def fmt(x: float) -> str:
    """A number as people write it: 0.5, 2, -inf (no trailing .0)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.6g}"


class Dist(BaseModel):
    """Base of the distributions: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str]
    integer: ClassVar[bool] = False

    @property
    def support(self) -> tuple[float, float]:
        """(low, high): every value drawn lies in this closed interval (may be ±inf)."""
        raise NotImplementedError

    @property
    def low(self) -> float:
        return self.support[0]

    @property
    def high(self) -> float:
        return self.support[1]

    def describe(self) -> str:
        """Short human form used in messages, e.g. ``uniform [0.2, 0.9]``."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One value (``size=None``: a Python float or int) or an array of ``size`` values."""
        raise NotImplementedError

    def _out(self, values: np.ndarray, size: int | None) -> Any:
        if size is None:
            v = values.reshape(-1)[0]
            return int(v) if self.integer else float(v)
        return values


class Const(Dist):
    """A fixed value. Serialised back as the bare number."""

    kind: ClassVar[str] = "const"
    const: Real

    @property
    def support(self) -> tuple[float, float]:
        return (self.const, self.const)

    def describe(self) -> str:
        return fmt(self.const)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        return self._out(np.full(1 if size is None else size, self.const, dtype=float), size)

    @model_serializer
    def _bare(self) -> Any:
        return self.const


class IntConst(Const):
    kind: ClassVar[str] = "const"
    integer: ClassVar[bool] = True
    const: Int  # type: ignore[assignment]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        return self._out(np.full(1 if size is None else size, self.const, dtype=np.int64), size)


def _check_interval(v: tuple, what: str, *, strict: bool = True) -> tuple:
    lo, hi = v
    if strict and not lo < hi:
        raise ValueError(f"[{fmt(lo)}, {fmt(hi)}]: {what} needs low < high")
    if not strict and not lo <= hi:
        raise ValueError(f"[{fmt(lo)}, {fmt(hi)}]: {what} needs low <= high")
    return v


class Uniform(Dist):
    """Uniform on [low, high]."""

    kind: ClassVar[str] = "uniform"
    uniform: tuple[Real, Real]

    @field_validator("uniform")
    @classmethod
    def _order(cls, v):
        return _check_interval(v, "uniform")

    @property
    def support(self) -> tuple[float, float]:
        return self.uniform

    def describe(self) -> str:
        return f"uniform [{fmt(self.uniform[0])}, {fmt(self.uniform[1])}]"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        lo, hi = self.uniform
        u = rng.random(1 if size is None else size)
        return self._out(np.clip(lo + (hi - lo) * u, lo, hi), size)


class LogUniform(Dist):
    """Log-uniform on [low, high], 0 < low < high: equal probability per factor."""

    kind: ClassVar[str] = "loguniform"
    loguniform: tuple[Real, Real]

    @field_validator("loguniform")
    @classmethod
    def _order(cls, v):
        if v[0] <= 0:
            raise ValueError(f"[{fmt(v[0])}, {fmt(v[1])}]: loguniform needs positive bounds (low > 0)")
        return _check_interval(v, "loguniform")

    @property
    def support(self) -> tuple[float, float]:
        return self.loguniform

    def describe(self) -> str:
        return f"loguniform [{fmt(self.loguniform[0])}, {fmt(self.loguniform[1])}]"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        lo, hi = self.loguniform
        u = rng.random(1 if size is None else size)
        x = np.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)
        return self._out(np.clip(x, lo, hi), size)


class NormalParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mean: Real
    std: Real

    @field_validator("std")
    @classmethod
    def _positive(cls, v):
        if not v > 0:
            raise ValueError(f"{fmt(v)}: std must be > 0")
        return v


class Normal(Dist):
    """Gaussian; unbounded support, so a bounded parameter needs ``truncnormal``."""

    kind: ClassVar[str] = "normal"
    normal: NormalParams

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def describe(self) -> str:
        return f"normal (mean {fmt(self.normal.mean)}, std {fmt(self.normal.std)})"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        return self._out(rng.normal(self.normal.mean, self.normal.std, 1 if size is None else size), size)


class TruncNormalParams(NormalParams):
    low: Real
    high: Real

    @model_validator(mode="after")
    def _order(self):
        _check_interval((self.low, self.high), "truncnormal")
        return self


def truncnormal_ppf(u: np.ndarray, mean: float, std: float, low: float, high: float) -> np.ndarray:
    """Inverse CDF of N(mean, std²) restricted to [low, high], for u in [0, 1).

    Works in log space on the lower tail (the interval is mirrored when it lies mostly
    above the mean), so intervals far in a tail (e.g. 20 std from the mean) stay exact
    where ``Φ(b) - Φ(a)`` would round to 0.
    """
    from scipy.special import log_ndtr, ndtri_exp  # lazy: scipy.special costs ~0.1 s to import

    u = np.asarray(u, dtype=float)
    a, b = (low - mean) / std, (high - mean) / std
    sign, v = 1.0, u
    if a + b > 0:  # mirror so that the interval's centre is at or below 0 (lower tail);
        a, b, sign, v = -b, -a, -1.0, 1.0 - u  # v = 1 - u keeps the map increasing in u
    la, lb = log_ndtr(a), log_ndtr(b)
    # log(Φ(a) + v (Φ(b) - Φ(a))) = lb + log(1 - (1 - v)(1 - Φ(a)/Φ(b)))
    logp = lb + np.log1p(-(1.0 - v) * -np.expm1(la - lb))
    z = ndtri_exp(np.minimum(logp, 0.0))
    return np.clip(mean + sign * std * z, low, high)


class TruncNormal(Dist):
    """Gaussian restricted to [low, high] (exact inverse-CDF sampling)."""

    kind: ClassVar[str] = "truncnormal"
    truncnormal: TruncNormalParams

    @property
    def support(self) -> tuple[float, float]:
        return (self.truncnormal.low, self.truncnormal.high)

    def describe(self) -> str:
        p = self.truncnormal
        return f"truncnormal (mean {fmt(p.mean)}, std {fmt(p.std)}, [{fmt(p.low)}, {fmt(p.high)}])"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        p = self.truncnormal
        u = rng.random(1 if size is None else size)
        return self._out(truncnormal_ppf(u, p.mean, p.std, p.low, p.high), size)


class Choice(Dist):
    """One of ``choice``, with optional ``weights`` (normalised; zero weight = never)."""

    kind: ClassVar[str] = "choice"
    choice: list[Real] = Field(min_length=1)
    weights: list[Real] | None = None

    @field_validator("weights")
    @classmethod
    def _weights(cls, w, info: ValidationInfo):
        if w is None:
            return w
        values = info.data.get("choice")
        if values is not None and len(w) != len(values):
            raise ValueError(f"{len(w)} weights for {len(values)} choices; give one weight per choice")
        if any(x < 0 for x in w):
            raise ValueError(f"{[fmt(x) for x in w]}: weights must be >= 0")
        if not sum(w) > 0:
            raise ValueError(f"{[fmt(x) for x in w]}: weights must sum to more than 0")
        return w

    @property
    def probabilities(self) -> np.ndarray:
        """(n_choices,) probabilities summing to 1."""
        w = np.ones(len(self.choice)) if self.weights is None else np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def support(self) -> tuple[float, float]:
        possible = [v for v, p in zip(self.choice, self.probabilities) if p > 0]
        return (min(possible), max(possible))

    def describe(self) -> str:
        values = ", ".join(fmt(v) for v in self.choice)
        return f"choice [{values}]"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        cum = np.cumsum(self.probabilities)
        u = rng.random(1 if size is None else size) * cum[-1]
        # side="right": a value equal to a cumulative edge moves past zero-weight entries
        idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
        return self._out(np.asarray(self.choice)[idx], size)


class IntChoice(Choice):
    integer: ClassVar[bool] = True
    choice: list[Int] = Field(min_length=1)  # type: ignore[assignment]


class RandInt(Dist):
    """Integer uniform on low..high, both ends included."""

    kind: ClassVar[str] = "randint"
    integer: ClassVar[bool] = True
    randint: tuple[Int, Int]

    @field_validator("randint")
    @classmethod
    def _order(cls, v):
        return _check_interval(v, "randint", strict=False)

    @property
    def support(self) -> tuple[float, float]:
        return self.randint

    def describe(self) -> str:
        return f"randint [{self.randint[0]}, {self.randint[1]}]"

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        lo, hi = self.randint
        return self._out(rng.integers(lo, hi, size=1 if size is None else size, endpoint=True), size)


REAL_KINDS: dict[str, type[Dist]] = {
    c.kind: c for c in (Const, Uniform, Normal, TruncNormal, LogUniform, Choice)
}
INT_KINDS: dict[str, type[Dist]] = {c.kind: c for c in (IntConst, IntChoice, RandInt)}
ALL_KINDS = frozenset(REAL_KINDS) | frozenset(INT_KINDS)


def _normaliser(kinds: dict[str, type[Dist]], forms: str) -> Callable[[Any], Any]:
    """Before-validator: bare numbers become ``{const: x}``; anything that is neither a
    number nor a mapping with exactly one known distribution key is refused by name."""

    def normalise(v: Any) -> Any:
        if isinstance(v, Dist):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return {"const": v}
        if isinstance(v, dict):
            present = [k for k in v if k in ALL_KINDS]
            if not present:
                keys = ", ".join(repr(str(k)) for k in v) or "none"
                raise ValueError(f"not a distribution (keys: {keys}); expected {forms}")
            if len(present) > 1:
                raise ValueError(f"give one distribution, not {' and '.join(present)}")
            if present[0] not in kinds:
                kind = present[0]
                if kind == "randint":
                    raise ValueError("randint is for whole-number parameters; use {uniform: [low, high]} here")
                raise ValueError(f"{kind} is not allowed for a whole-number parameter; expected {forms}")
            return v
        if isinstance(v, str):
            try:
                float(v)
            except ValueError:
                pass
            else:
                raise ValueError(f"{v!r} is a string, not a number (YAML 1.1 reads 5e-1 as text: write 0.5 or 5.0e-1)")
        raise ValueError(f"expected {forms}; got {type(v).__name__} {v!r:.60}")

    return normalise


def _tagger(kinds: dict[str, type[Dist]]) -> Callable[[Any], str | None]:
    def tag(v: Any) -> str | None:
        if isinstance(v, Dist):
            return "~" + v.kind
        if isinstance(v, dict):
            for k in v:
                if k in kinds:
                    return "~" + k
            return None
        return "~const"

    return tag


def _union(kinds: dict[str, type[Dist]], forms: str) -> Any:
    members = tuple(Annotated[cls, Tag("~" + name)] for name, cls in kinds.items())
    union = Annotated[
        Union[members],  # noqa: UP007 (a runtime tuple of members)
        Discriminator(_tagger(kinds), custom_error_type="distribution",
                      custom_error_message=f"expected {forms}"),
    ]
    return Annotated[union, BeforeValidator(_normaliser(kinds, forms))]


#: A real-valued parameter: a number or any real distribution (annotation for pydantic fields).
Distribution = _union(REAL_KINDS, REAL_FORMS)
#: A whole-number parameter: a whole number, choice of whole numbers, or randint.
IntDistribution = _union(INT_KINDS, INT_FORMS)


def _support_check(low: float | None, high: float | None, unit: str, low_open: bool, high_open: bool):
    u = unit if unit in ("", "°") else f" {unit}"

    def check(d: Dist) -> Dist:
        lo, hi = d.support
        const = isinstance(d, Const)
        if low is not None and (lo < low or (low_open and lo <= low)):
            bound = f"the {fmt(low)}{u} minimum" if not low_open else f"{fmt(low)}{u} (it must be above)"
            if const:
                raise ValueError(f"{fmt(lo)} is {'below' if lo < low else 'not above'} {bound}")
            if math.isinf(lo):
                raise ValueError(f"{d.describe()} is unbounded below, but the minimum is {fmt(low)}{u}; "
                                 "use truncnormal with low/high")
            raise ValueError(f"{d.describe()} reaches {fmt(lo)}{u}, below {bound}")
        if high is not None and (hi > high or (high_open and hi >= high)):
            bound = f"the {fmt(high)}{u} maximum" if not high_open else f"{fmt(high)}{u} (it must be below)"
            if const:
                raise ValueError(f"{fmt(hi)} is {'above' if hi > high else 'not below'} {bound}")
            if math.isinf(hi):
                raise ValueError(f"{d.describe()} is unbounded above, but the maximum is {fmt(high)}{u}; "
                                 "use truncnormal with low/high")
            raise ValueError(f"{d.describe()} reaches {fmt(hi)}{u}, above {bound}")
        return d

    return check


def real_param(low: float | None = None, high: float | None = None, unit: str = "", *,
               low_open: bool = False, high_open: bool = False) -> Any:
    """Annotation for a real parameter whose support must lie in [low, high] (``*_open``:
    the bound itself is excluded). Example: ``distance_m: real_param(0.2, 50, "m")``."""
    return Annotated[Distribution, AfterValidator(_support_check(low, high, unit, low_open, high_open))]


def int_param(low: int | None = None, high: int | None = None, unit: str = "") -> Any:
    """Annotation for a whole-number parameter whose support must lie in [low, high]."""
    return Annotated[IntDistribution, AfterValidator(_support_check(low, high, unit, False, False))]


def parse_distribution(value: Any, *, integer: bool = False) -> Dist:
    """Validate one YAML value into a distribution; raises pydantic's ``ValidationError``.

    >>> parse_distribution({"uniform": [0.2, 0.9]}).support
    (0.2, 0.9)
    >>> parse_distribution(3, integer=True).sample(None)
    3
    """
    from pydantic import TypeAdapter

    return TypeAdapter(IntDistribution if integer else Distribution).validate_python(value)
