"""Recipe distributions: YAML forms, validation, support, determinism and sampling statistics.

Statistics use 20 000 draws from a fixed seed; tolerances are 5 standard errors for means
and 6 % for variances (the standard error of a variance estimate is ~1 % here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from binsynth.recipe.distributions import (
    Choice,
    Const,
    IntChoice,
    IntConst,
    LogUniform,
    Normal,
    RandInt,
    TruncNormal,
    Uniform,
    int_param,
    parse_distribution,
    real_param,
    truncnormal_ppf,
)

N = 20_000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def draws(spec, integer: bool = False, seed: int = 0) -> np.ndarray:
    return np.asarray(parse_distribution(spec, integer=integer).sample(rng(seed), N))


def close_mean(x: np.ndarray, mean: float, std: float) -> None:
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(len(x)), (x.mean(), mean)


def close_var(x: np.ndarray, var: float) -> None:
    assert x.var() == pytest.approx(var, rel=0.06)


# ------------------------------------------------------------------------------ forms


@pytest.mark.parametrize("spec, cls, support", [
    (0.5, Const, (0.5, 0.5)),
    (2, Const, (2.0, 2.0)),
    ({"const": 0.5}, Const, (0.5, 0.5)),
    ({"uniform": [0.2, 0.9]}, Uniform, (0.2, 0.9)),
    ({"normal": {"mean": 2, "std": 0.5}}, Normal, (-math.inf, math.inf)),
    ({"truncnormal": {"mean": 2, "std": 1, "low": 0.5, "high": 4}}, TruncNormal, (0.5, 4.0)),
    ({"loguniform": [0.1, 10]}, LogUniform, (0.1, 10.0)),
    ({"choice": [1, 2, 3]}, Choice, (1.0, 3.0)),
    ({"choice": [1, 2, 3], "weights": [0.5, 0.5, 0]}, Choice, (1.0, 2.0)),  # zero weight: impossible
])
def test_real_forms_and_support(spec, cls, support):
    d = parse_distribution(spec)
    assert type(d) is cls
    assert d.support == support
    assert (d.low, d.high) == support


@pytest.mark.parametrize("spec, cls, support", [
    (3, IntConst, (3, 3)),
    ({"choice": [1, 2, 3], "weights": [5, 3, 2]}, IntChoice, (1, 3)),
    ({"randint": [1, 3]}, RandInt, (1, 3)),
    ({"randint": [2, 2]}, RandInt, (2, 2)),
])
def test_int_forms(spec, cls, support):
    d = parse_distribution(spec, integer=True)
    assert type(d) is cls and d.support == support
    v = d.sample(rng())
    assert isinstance(v, int) and support[0] <= v <= support[1]


@pytest.mark.parametrize("spec, integer, fragment", [
    ({"uniform": [0.9, 0.2]}, False, "low < high"),
    ({"uniform": [0.5, 0.5]}, False, "low < high"),
    ({"uniform": [0.5]}, False, "uniform"),
    ({"uniform": [0, 1, 2]}, False, "uniform"),
    ({"normal": {"mean": 0, "std": 0}}, False, "std must be > 0"),
    ({"normal": {"mean": 0, "std": -1}}, False, "std must be > 0"),
    ({"normal": {"mean": 0}}, False, "std"),
    ({"normal": {"mean": 0, "std": 1, "sd": 1}}, False, "sd"),
    ({"truncnormal": {"mean": 0, "std": 1, "low": 2, "high": 1}}, False, "low < high"),
    ({"truncnormal": {"mean": 0, "std": 1, "low": 1}}, False, "high"),
    ({"loguniform": [0, 10]}, False, "positive"),
    ({"loguniform": [-1, 10]}, False, "positive"),
    ({"loguniform": [10, 1]}, False, "low < high"),
    ({"choice": []}, False, "choice"),
    ({"choice": [1, 2], "weights": [1]}, False, "one weight per choice"),
    ({"choice": [1, 2], "weights": [1, -1]}, False, ">= 0"),
    ({"choice": [1, 2], "weights": [0, 0]}, False, "sum to more than 0"),
    ({"randint": [3, 1]}, True, "low <= high"),
    ({"randint": [1, 3]}, False, "randint is for whole-number"),
    ({"uniform": [1, 3]}, True, "not allowed for a whole-number"),
    ({"choice": [1.5, 2]}, True, "integer"),
    (2.0, True, "integer"),
    ({"unifrom": [0, 1]}, False, "not a distribution"),
    ({"uniform": [0, 1], "normal": {"mean": 0, "std": 1}}, False, "give one distribution"),
    ({"uniform": [0, 1], "weights": [1, 1]}, False, "weights"),
    ({}, False, "not a distribution"),
    (True, False, "got bool"),
    ("0.5", False, "is a string"),
    ("5e-1", False, "is a string"),
    ("fast", False, "got str"),
    ([0, 1], False, "got list"),
    (None, False, "got NoneType"),
    (float("nan"), False, "finite"),
    (float("inf"), False, "finite"),
    ({"uniform": [0, float("inf")]}, False, "finite"),
])
def test_invalid_specs(spec, integer, fragment):
    with pytest.raises(ValidationError) as e:
        parse_distribution(spec, integer=integer)
    assert fragment in str(e.value)


DistanceM = real_param(0.2, 50.0, "m")
Fraction = real_param(0.0, 1.0, low_open=True, high_open=True)
Count = int_param(1, 8)
AnyReal = real_param()


def test_bounded_params_check_the_support():
    class M(BaseModel):
        model_config = {"validate_default": True}
        distance_m: DistanceM = 1.0
        frac: Fraction = 0.5
        n: Count = 1

    assert M(distance_m={"truncnormal": {"mean": 2, "std": 1, "low": 0.5, "high": 4}}).distance_m.high == 4
    cases = [
        (dict(distance_m=0.05), "0.05 is below the 0.2 m minimum"),
        (dict(distance_m={"uniform": [0.1, 2]}), "reaches 0.1 m, below the 0.2 m minimum"),
        (dict(distance_m={"normal": {"mean": 2, "std": 1}}), "use truncnormal"),
        (dict(distance_m={"uniform": [1, 60]}), "above the 50 m maximum"),
        (dict(frac=0.0), "not above"),
        (dict(frac={"uniform": [0.5, 1.0]}), "it must be below"),
        (dict(n={"choice": [1, 9]}), "above the 8 maximum"),
        (dict(n={"randint": [0, 3]}), "below the 1 minimum"),
    ]
    for kwargs, fragment in cases:
        with pytest.raises(ValidationError) as e:
            M(**kwargs)
        assert fragment in str(e.value), (kwargs, str(e.value))


def test_round_trip_through_model_dump():
    class M(BaseModel):
        d: AnyReal

    for spec in (0.5, {"uniform": [0.2, 0.9]}, {"normal": {"mean": 2.0, "std": 0.5}},
                 {"truncnormal": {"mean": 2.0, "std": 1.0, "low": 0.5, "high": 4.0}},
                 {"loguniform": [0.1, 10.0]}, {"choice": [1.0, 2.0], "weights": [1.0, 3.0]}):
        m = M(d=spec)
        dumped = m.model_dump(mode="json")["d"]
        assert M(d=dumped) == m
        assert dumped == (spec if not isinstance(spec, dict) or "uniform" not in spec else {"uniform": [0.2, 0.9]})


# ------------------------------------------------------------------------ determinism


ALL_SPECS = [
    (0.7, False), ({"uniform": [0.2, 0.9]}, False), ({"normal": {"mean": 2, "std": 0.5}}, False),
    ({"truncnormal": {"mean": 2, "std": 1, "low": 0.5, "high": 4}}, False), ({"loguniform": [0.1, 10]}, False),
    ({"choice": [1, 2, 3], "weights": [5, 3, 2]}, False), ({"choice": [1, 2, 3]}, True),
    ({"randint": [1, 6]}, True), (4, True),
]


@pytest.mark.parametrize("spec, integer", ALL_SPECS)
def test_same_rng_state_same_values(spec, integer):
    d = parse_distribution(spec, integer=integer)
    a = [d.sample(rng(42)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    g1, g2 = rng(7), rng(7)
    assert [d.sample(g1) for _ in range(50)] == [d.sample(g2) for _ in range(50)]
    # a vector draw equals the same number of consecutive scalar draws
    g3, g4 = rng(9), rng(9)
    vec = d.sample(g3, 25)
    assert vec.shape == (25,)
    np.testing.assert_array_equal(vec, [d.sample(g4) for _ in range(25)])
    # and leaves the generator in the same state
    assert g3.random() == g4.random()


@pytest.mark.parametrize("spec, integer", ALL_SPECS)
def test_scalar_types(spec, integer):
    v = parse_distribution(spec, integer=integer).sample(rng())
    assert type(v) is (int if integer else float)


def test_const_consumes_no_randomness():
    g = rng(3)
    parse_distribution(0.5).sample(g)
    parse_distribution(2, integer=True).sample(g, 10)
    assert g.random() == rng(3).random()


# ------------------------------------------------------------------------- statistics


def test_uniform_statistics():
    x = draws({"uniform": [0.2, 0.9]})
    assert x.min() >= 0.2 and x.max() <= 0.9
    sd = 0.7 / math.sqrt(12)
    close_mean(x, 0.55, sd)
    close_var(x, sd**2)


def test_normal_statistics():
    x = draws({"normal": {"mean": 2.0, "std": 0.5}})
    close_mean(x, 2.0, 0.5)
    close_var(x, 0.25)


@pytest.mark.parametrize("mean, std, low, high", [
    (2.0, 1.0, 0.5, 4.0),      # both tails cut
    (0.0, 1.0, 0.0, 10.0),     # half-normal
    (0.0, 1.0, 3.0, 4.0),      # upper tail only
    (5.0, 2.0, -10.0, 1.0),    # lower tail, mirrored case
])
def test_truncnormal_statistics(mean, std, low, high):
    from scipy.stats import truncnorm

    x = draws({"truncnormal": {"mean": mean, "std": std, "low": low, "high": high}})
    assert x.min() >= low and x.max() <= high
    ref = truncnorm((low - mean) / std, (high - mean) / std, loc=mean, scale=std)
    close_mean(x, ref.mean(), ref.std())
    close_var(x, ref.var())


@pytest.mark.parametrize("low, high", [(20.0, 21.0), (-21.0, -20.0), (37.0, 1e6), (-1e6, -40.0)])
def test_truncnormal_far_tails_stay_in_bounds(low, high):
    """Intervals where Φ(b) - Φ(a) underflows still sample inside [low, high], finite."""
    x = draws({"truncnormal": {"mean": 0.0, "std": 1.0, "low": low, "high": high}})
    assert np.all(np.isfinite(x)) and x.min() >= low and x.max() <= high
    # the mass piles up at the bound nearest the mean (within a fraction of 1/|bound|)
    near = low if abs(low) < abs(high) else high
    assert np.median(np.abs(x - near)) < 1.0 / abs(near)


def test_truncnormal_ppf_matches_scipy():
    from scipy.stats import truncnorm

    u = np.linspace(0, 0.999, 50)
    for a, b in [(-1, 2), (0.5, 3), (-4, -3), (-0.2, 0.1)]:
        ref = truncnorm.ppf(u, a, b, loc=1.0, scale=2.0)
        np.testing.assert_allclose(truncnormal_ppf(u, 1.0, 2.0, 1.0 + 2 * a, 1.0 + 2 * b), ref, rtol=1e-9, atol=1e-9)


def test_loguniform_statistics():
    lo, hi = 0.1, 10.0
    x = draws({"loguniform": [lo, hi]})
    assert x.min() >= lo and x.max() <= hi
    logs = np.log(x)  # uniform in log space
    close_mean(logs, (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / math.sqrt(12))
    mean = (hi - lo) / math.log(hi / lo)
    var = (hi**2 - lo**2) / (2 * math.log(hi / lo)) - mean**2
    close_mean(x, mean, math.sqrt(var))
    close_var(x, var)


def test_weighted_choice_frequencies():
    x = draws({"choice": [1, 2, 3], "weights": [0.5, 0.3, 0.2]}, integer=True)
    for value, p in [(1, 0.5), (2, 0.3), (3, 0.2)]:
        freq = np.mean(x == value)
        assert abs(freq - p) < 5 * math.sqrt(p * (1 - p) / N), (value, freq)


def test_unweighted_choice_and_randint_are_uniform():
    for spec in ({"choice": [10, 20, 30, 40]}, {"randint": [10, 13]}):
        x = draws(spec, integer=True)
        values, counts = np.unique(x, return_counts=True)
        assert len(values) == 4
        assert np.all(np.abs(counts / N - 0.25) < 5 * math.sqrt(0.25 * 0.75 / N))


def test_zero_weight_is_never_drawn():
    for weights in ([0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 1]):
        x = draws({"choice": [1.0, 2.0, 3.0], "weights": weights})
        drawn = set(np.unique(x).tolist())
        assert drawn == {v for v, w in zip([1.0, 2.0, 3.0], weights) if w > 0}


def test_const_statistics():
    x = draws(0.25)
    assert np.all(x == 0.25)
