"""Kaplan–Meier against R's survfit (stored references) and against hand-computed small cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from km_reference import (
    CONF_TYPES,
    analyses,
    ci_close,
    close,
    data,
    first_crossing,
    fit,
    group_names,
    monotone,
)

from toolkit.survival import KaplanMeierSummary, kaplan_meier, kaplan_meier_by_group

CASES = [
    (name, conf_type, group)
    for name in analyses()
    for conf_type in CONF_TYPES
    for group in [None, *group_names(name)]
]


def case_id(case: tuple) -> str:
    name, conf_type, group = case
    return f"{name}-{conf_type}-{'all' if group is None else group}"


def ours(name: str, conf_type: str, group: str | None) -> KaplanMeierSummary:
    """Our estimate, S(t) asked at every time of R's curve and at the requested times.

    Not cached: mutation testing forks each mutant from a process that ran the tests once, and
    a cached estimate would hide the mutant.
    """
    time, event, groups = data(name)
    reference = fit(name, conf_type, group)
    at = tuple(sorted(set(reference["curve"]["time"]) | set(reference["at"]["time"])))
    if group is not None:
        time, event = time[groups == group], event[groups == group]
    return kaplan_meier(time, event, key=str(group), at_times=at, conf_type=conf_type)


def at(summary: KaplanMeierSummary, t: float) -> dict:
    (entry,) = [s for s in summary.survival_at_ if s["time"] == t]
    return entry


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_counts_match_survfit(case: tuple) -> None:
    reference = fit(*case)
    summary = ours(*case)
    assert (summary.n, summary.events) == (reference["n"], reference["events"])
    assert summary.censored == summary.n - summary.events


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_curve_matches_survfit_at_every_time(case: tuple) -> None:
    curve = fit(*case)["curve"]
    summary = ours(*case)
    for i, t in enumerate(curve["time"]):
        entry = at(summary, t)
        s = curve["surv"][i]
        assert close(entry["estimate"], s), t
        assert entry["at_risk"] == curve["n_risk"][i], t
        assert ci_close(entry["ci"][0], curve["lower"][i], s), (t, "lower")
        assert ci_close(entry["ci"][1], curve["upper"][i], s), (t, "upper")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_survival_at_requested_times_matches_summary(case: tuple) -> None:
    reference = fit(*case)["at"]
    summary = ours(*case)
    for i, t in enumerate(reference["time"]):
        entry = at(summary, t)
        s = reference["surv"][i]
        assert close(entry["estimate"], s), t
        assert entry["at_risk"] == reference["n_risk"][i], t
        assert ci_close(entry["ci"][0], reference["lower"][i], s), t
        assert ci_close(entry["ci"][1], reference["upper"][i], s), t


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_quartiles_match_quantile_survfit(case: tuple) -> None:
    reference = fit(*case)
    summary = ours(*case)
    for i, p in enumerate(reference["quantile"]["probs"]):
        (q,) = [q for q in summary.quantiles_ if q["p"] == p]
        assert close(q["time"], reference["quantile"]["time"][i]), p
        for side, limit in (("lower", q["ci"][0]), ("upper", q["ci"][1])):
            assert close(limit, expected_limit(reference, side, i)), (p, side)


def expected_limit(reference: dict, side: str, i: int) -> float | None:
    """R's quantile() limit; for a CI curve that rises again, its first crossing (print())."""
    curve = reference["curve"]
    if monotone(curve[side]):
        return reference["quantile"][side][i]
    return first_crossing(curve["time"], curve[side], reference["quantile"]["probs"][i])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_median_matches_quantile_and_print(case: tuple) -> None:
    reference = fit(*case)
    summary = ours(*case)
    median = reference["quantile"]["probs"].index(0.5)
    assert close(summary.median_, reference["quantile"]["time"][median])
    assert close(summary.median_ci_[0], expected_limit(reference, "lower", median))
    assert close(summary.median_ci_[1], expected_limit(reference, "upper", median))
    printed = reference["print"]
    if case[0] != "edge_half_last":  # print() and quantile() differ there; see the test below
        assert close(summary.median_, printed["median"])
    assert close(summary.median_ci_[0], printed["lower"])
    assert close(summary.median_ci_[1], printed["upper"])


def test_a_ci_curve_rising_again_gives_its_first_crossing_as_print() -> None:
    """aml, log CI: the upper curve is 0.458 at t = 45 and 0.462 at t = 48. R's quantile()
    says 48 (its approx() sorts the values), print() says 45, the first crossing; so do we."""
    reference = fit("aml_x", "log", None)
    assert not monotone(reference["curve"]["upper"])
    assert (reference["quantile"]["upper"][1], reference["print"]["upper"]) == (48, 45)
    assert ours("aml_x", "log", None).median_ci_[1] == 45.0


def test_median_where_survival_is_half_to_the_end_follows_quantile() -> None:
    """S(t) = 0.5 from t = 2 to the last time 4: quantile() says 3, print() says 2; we say 3."""
    reference = fit("edge_half_last", "log-log", None)
    assert reference["print"]["median"] == 2
    assert reference["quantile"]["time"][1] == 3
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0]).median_ == 3.0


def test_by_group_equals_one_fit_per_group() -> None:
    time, event, groups = data("veteran_celltype")
    together = kaplan_meier_by_group(time, event, groups, at_times=(30, 90), ticks=(0, 100, 200))
    assert [s.key for s in together] == ["adeno", "large", "smallcell", "squamous"]
    for summary in together:
        alone = kaplan_meier(
            time[groups == summary.key],
            event[groups == summary.key],
            key=summary.key,
            label=summary.key,
            at_times=(30, 90),
            ticks=(0, 100, 200),
        )
        assert json.dumps(summary.to_dict()) == json.dumps(alone.to_dict())


# ---- hand-computed small cases --------------------------------------------------------------


def test_ties_censored_at_t_are_at_risk_at_t() -> None:
    """t=2: 3 events and 1 censoring among 6 at risk (the censored one counts at t=2)."""
    time = [1, 2, 2, 2, 2, 3, 4]
    event = [1, 1, 1, 1, 0, 1, 0]
    km = kaplan_meier(time, event, at_times=(2, 3), ticks=(0, 2, 4))
    s2 = (6 / 7) * (3 / 6)
    assert km.survival_at_[0]["estimate"] == pytest.approx(s2)
    assert km.survival_at_[0]["at_risk"] == 6
    assert km.survival_at_[1]["estimate"] == pytest.approx(s2 * (1 / 2))
    assert km.at_risk_ == [
        {"time": 0.0, "at_risk": 7, "events": 0, "censored": 0},
        {"time": 2.0, "at_risk": 6, "events": 4, "censored": 1},
        {"time": 4.0, "at_risk": 1, "events": 1, "censored": 1},
    ]
    assert km.curve_["time"].tolist() == [0, 1, 2, 3, 4]
    assert km.curve_["at_risk"].tolist() == [7, 7, 6, 2, 1]
    assert km.censor_marks_["time"].tolist() == [2, 4]


def test_greenwood_log_log_interval_by_hand() -> None:
    """n = 5, one death at t = 1: S = 0.8, Var(log S) = 1 / (5 · 4)."""
    km = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], at_times=(1,))
    se = math.sqrt(1 / 20)
    z = 1.959963984540054
    width = z * se / math.log(0.8)
    lower = math.exp(-math.exp(math.log(-math.log(0.8)) - width))
    upper = math.exp(-math.exp(math.log(-math.log(0.8)) + width))
    assert km.survival_at_[0]["ci"] == pytest.approx([lower, upper])
    plain = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], at_times=(1,), conf_type="plain")
    assert plain.survival_at_[0]["ci"] == pytest.approx([0.8 - z * se * 0.8, 1.0])


def test_median_is_midpoint_where_survival_is_exactly_half() -> None:
    """S = 5/6, 4/6, 3/6 at t = 1, 2, 3, then 0.25 at t = 5: the median is (3 + 5) / 2."""
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0])
    assert km.median_ == 4.0


def test_group_without_events_has_no_median() -> None:
    (a, b) = kaplan_meier_by_group([1, 2, 3, 4, 2, 3, 5], [1, 1, 1, 0, 0, 0, 0], list("aaaabbb"))
    assert a.median_ == 2.5  # S = 0.5 from t = 2 to t = 3
    assert b.events == 0
    assert b.median_ is None
    assert b.median_ci_ == (None, None)
    assert b.to_dict()["median"] is None


def test_all_censored() -> None:
    km = kaplan_meier([2, 3, 5], [0, 0, 0], at_times=(1, 5, 6), ticks=(0, 4))
    assert (km.n, km.events, km.censored) == (3, 0, 3)
    assert km.median_ is None and km.median_ci_ == (None, None)
    assert [q["time"] for q in km.quantiles_] == [None, None, None]
    assert [s["estimate"] for s in km.survival_at_] == [1.0, 1.0, None]
    assert km.survival_at_[1]["ci"] == [1.0, 1.0]
    assert km.curve_["time"].tolist() == [0, 5]
    assert km.curve_["survival"].tolist() == [1, 1]


def test_single_patient() -> None:
    km = kaplan_meier([5], [1], at_times=(4, 5))
    assert km.median_ == 5.0
    assert km.median_ci_ == (None, None)  # S = 0 at t = 5: no CI curve there
    assert km.survival_at_[0] == {"time": 4.0, "estimate": 1.0, "ci": [1.0, 1.0], "at_risk": 1}
    assert km.survival_at_[1] == {"time": 5.0, "estimate": 0.0, "ci": [None, None], "at_risk": 1}
    assert km.to_dict()["curve"]["ci_lower"] == [1.0, None]
    censored = kaplan_meier([5], [0])
    assert censored.median_ is None and censored.events == 0


def test_event_at_time_zero() -> None:
    """Two at time 0 (one dies): S(0) = 5/6, and the curve drops at 0."""
    km = kaplan_meier([0, 0, 1, 2, 3, 3], [1, 0, 1, 1, 0, 1], at_times=(0,))
    assert km.survival_at_[0]["estimate"] == pytest.approx(5 / 6)
    assert km.survival_at_[0]["at_risk"] == 6
    assert km.curve_["time"].tolist()[:2] == [0, 0]
    assert km.curve_["survival"].tolist()[:2] == pytest.approx([1, 5 / 6])


def test_time_past_the_last_follow_up_has_no_estimate() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 0], at_times=(3, 3.5))
    assert km.survival_at_[0]["estimate"] == pytest.approx(2 / 3)
    assert km.survival_at_[1] == {"time": 3.5, "estimate": None, "ci": [None, None], "at_risk": 0}


def test_result_is_plain_data_naming_its_methods() -> None:
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1], conf_type="log", at_times=(2,), ticks=(0, 2))
    out = km.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["conf_type"] == "log" and out["conf_level"] == 0.95
    assert "log transform" in out["method"]["ci"]
    assert "Greenwood" in out["method"]["ci"]
    assert set(out) >= {"median", "median_ci", "quantiles", "survival_at", "at_risk", "curve"}
    with pytest.raises(AttributeError):
        km.n = 3  # frozen


@pytest.mark.parametrize(
    "time, event, message",
    [
        ([1, -2], [1, 0], "negative"),
        ([1, np.nan], [1, 0], "missing"),
        ([1, 2], [1, 2], "0/1"),
        ([1, 2], [1], "length"),
        ([], [], "no observations"),
    ],
)
def test_invalid_input_is_a_value_error(time, event, message) -> None:
    with pytest.raises(ValueError, match=message):
        kaplan_meier(time, event)


def test_unknown_conf_type_is_refused() -> None:
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier([1, 2], [1, 0], conf_type="logit")


def test_large_cohort_agrees_with_lifelines() -> None:
    """A second implementation at 20 000 patients with heavy ties: S(t) and the median."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(7)
    time = np.round(rng.exponential(12.0, 20_000), 1)
    event = rng.random(20_000) < 0.7
    ours_ = kaplan_meier(time, event, at_times=(6, 12, 24))
    theirs = KaplanMeierFitter().fit(time, event)
    for entry in ours_.survival_at_:
        expected = float(theirs.survival_function_at_times(entry["time"]).iloc[0])
        assert entry["estimate"] == pytest.approx(expected, rel=1e-10)
    assert ours_.median_ == pytest.approx(theirs.median_survival_time_)


def test_a_group_without_patients_has_no_estimate_and_none_at_risk() -> None:
    from toolkit.survival import empty_summary

    summary = empty_summary(key="g", label="G", at_times=(12.0,), ticks=(0.0, 6.0)).to_dict()
    assert (summary["n"], summary["events"], summary["censored"]) == (0, 0, 0)
    assert summary["median"] is None and summary["median_ci"] == [None, None]
    assert summary["survival_at"] == [
        {"time": 12.0, "estimate": None, "ci": [None, None], "at_risk": 0}
    ]
    assert [row["at_risk"] for row in summary["at_risk"]] == [0, 0]
    assert summary["curve"]["time"] == [] and summary["censor_marks"]["time"] == []
