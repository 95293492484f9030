"""Kaplan–Meier details the R comparisons cannot see: every field of the result written out by
hand for small samples, the defaults, other confidence levels, the boundaries of the interval
and quantile rules, and no floating-point warning reaching the user."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from toolkit.survival import empty_summary, kaplan_meier, kaplan_meier_by_group
from toolkit.survival.kaplan_meier import confidence_limits, steps_of, survival_quantile

Z90 = 1.6448536269514722  # qnorm(0.95)
Z95 = 1.959963984540054  # qnorm(0.975)


def test_defaults_are_all_patients_log_log_95() -> None:
    km = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 1, 0, 0])
    assert (km.key, km.label, km.conf_type, km.conf_level) == (
        "all",
        "All patients",
        "log-log",
        0.95,
    )
    assert (
        km.to_dict()
        == kaplan_meier(
            [1, 2, 3, 4, 5], [1, 0, 1, 0, 0], conf_type="log-log", conf_level=0.95
        ).to_dict()
    )
    assert km.method == {
        "estimator": "Kaplan–Meier (product-limit)",
        "ci": "95% pointwise CI, Greenwood variance, log(-log) transform (Kalbfleisch–Prentice)",
        "quantile": (
            "first time S(t) <= 1 - p; midpoint of the interval where S(t) = 1 - p exactly"
        ),
        "quantile_ci": "the same rule applied to the 95% CI curves",
    }


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_a_90_percent_interval_by_hand(conf_type: str) -> None:
    """n = 5, one death at t = 1: S = 0.8, Var(log S) = 1 / (5 · 4), z = qnorm(0.95)."""
    km = kaplan_meier(
        [1, 2, 3, 4, 5], [1, 0, 0, 0, 0], at_times=(1,), conf_type=conf_type, conf_level=0.9
    )
    se = math.sqrt(1 / 20)
    if conf_type == "log-log":
        width = Z90 * se / math.log(0.8)
        expected = [
            math.exp(-math.exp(math.log(-math.log(0.8)) - width)),
            math.exp(-math.exp(math.log(-math.log(0.8)) + width)),
        ]
    elif conf_type == "log":
        expected = [0.8 * math.exp(-Z90 * se), min(0.8 * math.exp(Z90 * se), 1.0)]
    else:
        expected = [0.8 - Z90 * se * 0.8, min(0.8 + Z90 * se * 0.8, 1.0)]
    assert km.survival_at_[0]["ci"] == pytest.approx(expected, rel=1e-12)
    assert km.method["ci"].startswith("90% pointwise CI")
    assert km.method["quantile_ci"] == "the same rule applied to the 90% CI curves"


def test_confidence_limits_by_hand_at_every_boundary() -> None:
    """S = 1 gives (1, 1); S = 0 no interval; in between each transform's formula."""
    s = np.array([1.0, 0.6, 0.0])
    var = np.array([0.0, 0.04, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        limits = {t: confidence_limits(s, var, t) for t in ("log-log", "log", "plain")}
        default = confidence_limits(s, var)
    for lower, upper in limits.values():
        assert (lower[0], upper[0]) == (1.0, 1.0)
        assert math.isnan(lower[2]) and math.isnan(upper[2])
    se = 0.2
    assert limits["log"][0][1] == pytest.approx(0.6 * math.exp(-Z95 * se), rel=1e-12)
    assert limits["log"][1][1] == pytest.approx(min(0.6 * math.exp(Z95 * se), 1.0), rel=1e-12)
    assert limits["plain"][0][1] == pytest.approx(0.6 - Z95 * se * 0.6, rel=1e-12)
    assert limits["plain"][1][1] == pytest.approx(0.6 + Z95 * se * 0.6, rel=1e-12)
    width = Z95 * se / math.log(0.6)
    log_log = math.log(-math.log(0.6))
    assert limits["log-log"][0][1] == pytest.approx(math.exp(-math.exp(log_log - width)))
    assert limits["log-log"][1][1] == pytest.approx(math.exp(-math.exp(log_log + width)))
    np.testing.assert_array_equal(default[0], limits["log-log"][0])
    with pytest.raises(ValueError, match="conf_type must be one of log-log, log, plain, got 'x'"):
        confidence_limits(s, var, "x")


def test_a_small_sample_written_out_in_full() -> None:
    """Times 1, 2, 2, 3, 4 (events 1, 1, 0, 0, 1): S = 4/5 at 1, 3/5 at 2, 0 at 4."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the last death empties the risk set: no warning
        km = kaplan_meier(
            [4, 2, 1, 3, 2], [1, 0, 1, 0, 1], key="k", label="K", at_times=(2, 5), ticks=(0, 2, 5)
        ).to_dict()
    assert (km["key"], km["label"], km["n"], km["events"], km["censored"]) == ("k", "K", 5, 3, 2)
    curve = km["curve"]
    assert curve["time"] == [0.0, 1.0, 2.0, 4.0]
    assert curve["survival"] == pytest.approx([1.0, 0.8, 0.6, 0.0])
    assert curve["at_risk"] == [5, 5, 4, 1]
    assert curve["events"] == [0, 1, 1, 1]
    assert curve["ci_lower"][0] == 1.0 and curve["ci_upper"][0] == 1.0
    assert curve["ci_lower"][3] is None and curve["ci_upper"][3] is None
    assert km["censor_marks"] == {"time": [2.0, 3.0], "survival": pytest.approx([0.6, 0.6])}
    assert km["at_risk"] == [
        {"time": 0.0, "at_risk": 5, "events": 0, "censored": 0},
        {"time": 2.0, "at_risk": 4, "events": 2, "censored": 1},
        {"time": 5.0, "at_risk": 0, "events": 1, "censored": 1},
    ]
    assert km["survival_at"][0]["estimate"] == pytest.approx(0.6)
    assert km["survival_at"][0]["at_risk"] == 4
    assert km["survival_at"][1] == {"time": 5.0, "estimate": 0.0, "ci": [None, None], "at_risk": 0}
    var_log = 1 / (5 * 4) + 1 / (4 * 3)
    se = math.sqrt(var_log)
    width = Z95 * se / math.log(0.6)
    lower = math.exp(-math.exp(math.log(-math.log(0.6)) - width))
    assert km["survival_at"][0]["ci"][0] == pytest.approx(lower, rel=1e-12)
    assert km["median"] == 4.0  # S first at or below 0.5 at t = 4


def test_curve_arrays_are_read_only() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    for arrays in (km.curve_, km.censor_marks_):
        for array in arrays.values():
            assert array.flags.writeable is False
    empty = empty_summary(key="e", label="E").curve_
    assert all(array.flags.writeable is False for array in empty.values())


def test_ticks_must_increase_and_may_be_fractional() -> None:
    with pytest.raises(ValueError, match="^ticks must be in increasing order$"):
        kaplan_meier([1, 2, 3], [1, 0, 1], ticks=(0, 2, 1))
    half = kaplan_meier([1, 2, 3], [1, 0, 1], ticks=(0, 0.5, 1.5, 1.5))
    assert [row["at_risk"] for row in half.at_risk_] == [3, 3, 2, 2]


def test_an_empty_group_is_written_out_in_full() -> None:
    summary = empty_summary(
        key="e", label="E", at_times=(12.0,), ticks=(0.0, 6.0), conf_type="log", conf_level=0.9,
        probs=(0.5,),
    ).to_dict()  # fmt: skip
    assert summary == {
        "key": "e",
        "label": "E",
        "n": 0,
        "events": 0,
        "censored": 0,
        "median": None,
        "median_ci": [None, None],
        "quantiles": [{"p": 0.5, "time": None, "ci": [None, None]}],
        "survival_at": [{"time": 12.0, "estimate": None, "ci": [None, None], "at_risk": 0}],
        "at_risk": [
            {"time": 0.0, "at_risk": 0, "events": 0, "censored": 0},
            {"time": 6.0, "at_risk": 0, "events": 0, "censored": 0},
        ],
        "curve": dict.fromkeys(
            ("time", "survival", "ci_lower", "ci_upper", "at_risk", "events"), []
        ),
        "censor_marks": {"time": [], "survival": []},
        "conf_type": "log",
        "conf_level": 0.9,
        "method": {
            "estimator": "Kaplan–Meier (product-limit)",
            "ci": "90% pointwise CI, Greenwood variance, log transform",
            "quantile": (
                "first time S(t) <= 1 - p; midpoint of the interval where S(t) = 1 - p exactly"
            ),
            "quantile_ci": "the same rule applied to the 90% CI curves",
        },
    }
    default = empty_summary(key="e", label="E")
    assert default.curve_["at_risk"].dtype == default.curve_["events"].dtype == np.int64
    assert (default.conf_type, default.conf_level) == ("log-log", 0.95)
    assert [q["p"] for q in default.quantiles_] == [0.25, 0.5, 0.75]


def test_quantile_boundaries() -> None:
    time = np.array([1.0, 2.0, 3.0])
    assert survival_quantile(0.0, time, np.array([0.9, 0.5, 0.2]), 4.0) == 0.0
    assert survival_quantile(1.0, time, np.array([0.9, 0.5, 0.2]), 4.0) is None
    assert survival_quantile(1.0, time, np.array([0.9, 0.5, 0.0]), 3.0) == 3.0
    # exactly 1 - p from t = 2: the midpoint with the next fall below, or the last time
    assert survival_quantile(0.5, time, np.array([0.9, 0.5, 0.2]), 4.0) == 2.5
    assert survival_quantile(0.5, time, np.array([0.9, 0.5, 0.5]), 4.0) == 3.0
    assert survival_quantile(0.5, time, np.array([0.9, 0.4, 0.2]), 4.0) == 2.0
    assert survival_quantile(0.5, time, np.array([0.9, np.nan, 0.4]), 4.0) == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert survival_quantile(0.5, time, np.array([np.nan, np.nan, np.nan]), 4.0) is None
    # a CI curve given as a list of Python numbers works the same
    assert survival_quantile(0.5, time, [0.9, 0.5, 0.2], 4.0) == 2.5


def test_by_group_keeps_the_labels_given() -> None:
    a, b = kaplan_meier_by_group([1, 2, 3, 4], [1, 0, 1, 0], [0, 1, 0, 1], labels=["x", "y"])
    assert (a.key, a.label, b.key, b.label) == ("x", "x", "y", "y")
    with pytest.raises(ValueError, match=r"group and time differ in length \(3 and 4\)"):
        kaplan_meier_by_group([1, 2, 3, 4], [1, 0, 1, 0], [0, 1, 0])


def test_steps_of_unsorted_input() -> None:
    steps = steps_of([3, 1, 2, 2], [1, 0, 1, 0])
    assert steps.time.tolist() == [1.0, 2.0, 3.0]
    assert steps.at_risk.tolist() == [4, 3, 1]
    assert steps.events.tolist() == [0, 1, 1]
    assert steps.censored.tolist() == [1, 1, 0]
    assert steps.survival.tolist() == pytest.approx([1.0, 2 / 3, 0.0])
    assert steps.events.dtype == np.int64


def test_a_ci_curve_at_exactly_one_minus_p_to_the_end_takes_the_last_time() -> None:
    """The plain lower limit is clipped to 0 from the last death (t = 8) on; for p = 1 it
    equals 1 − p = 0 there and never falls below, so the limit is the midpoint of 8 and the
    last follow-up time 10. R 4.2.2, survival 3.5.3:

        f <- survfit(Surv(1:10, c(1, 1, 1, 1, 1, 1, 0, 1, 0, 0)) ~ 1, conf.type = "plain")
        quantile(f, probs = c(0.5, 0.9, 1))
        # quantile 5.5 NA NA; lower 3 6 9; upper NA NA NA
    """
    km = kaplan_meier(
        list(range(1, 11)), [1, 1, 1, 1, 1, 1, 0, 1, 0, 0], conf_type="plain", probs=(0.5, 0.9, 1.0)
    )
    assert [(q["time"], q["ci"]) for q in km.to_dict()["quantiles"]] == [
        (5.5, [3.0, None]),
        (None, [6.0, None]),
        (None, [9.0, None]),
    ]
