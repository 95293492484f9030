"""The estimators on counted rows (one row per distinct time, event and group, with the number
of patients, as ``queries/40_metrics/survival_risk_sets.sql`` gives them) against R's values for
the patients' own rows (stored references), and the counts' checks."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from km_reference import CONF_TYPES, analyses, ci_close, close, data, fit, group_names

from toolkit.survival import (
    kaplan_meier,
    kaplan_meier_by_group,
    logrank_test,
    median_followup,
    pairwise_logrank,
    rmst,
    rmst_by_group,
)


def counted(name: str, group: str | None = None) -> tuple[np.ndarray, ...]:
    """An analysis's rows aggregated: time, event, group and the number of patients of each."""
    time, event, groups = data(name)
    frame = pl.DataFrame(
        {"time": time, "event": event, "group": groups if groups is not None else [""] * time.size}
    )
    if group is not None:
        frame = frame.filter(pl.col("group") == group)
    rows = frame.group_by("time", "event", "group").len().sort("group", "time", "event")
    return tuple(rows[c].to_numpy() for c in ("time", "event", "group", "len"))


def test_the_counted_rows_are_fewer_than_the_patients_where_times_tie() -> None:
    time, _, _, counts = counted("lung_sex")
    assert time.size < counts.sum() == data("lung_sex")[0].size


KM_CASES = [
    (name, conf_type, group)
    for name in analyses()
    for conf_type in CONF_TYPES
    for group in [None, *group_names(name)]
]


@pytest.mark.parametrize("name, conf_type, group", KM_CASES)
def test_kaplan_meier_of_counted_rows_matches_survfit(
    name: str, conf_type: str, group: str | None
) -> None:
    reference = fit(name, conf_type, group)
    time, event, _, counts = counted(name, group)
    curve = reference["curve"]
    summary = kaplan_meier(
        time, event, counts=counts, at_times=tuple(curve["time"]), conf_type=conf_type
    )
    assert (summary.n, summary.events) == (reference["n"], reference["events"])
    for i, t in enumerate(curve["time"]):
        (entry,) = [s for s in summary.survival_at_ if s["time"] == t]
        s = curve["surv"][i]
        assert close(entry["estimate"], s), t
        assert entry["at_risk"] == curve["n_risk"][i], t
        assert ci_close(entry["ci"][0], curve["lower"][i], s), (t, "lower")
        assert ci_close(entry["ci"][1], curve["upper"][i], s), (t, "upper")
    assert close(summary.median_, reference["print"]["median"]) or name == "edge_half_last"


GROUPED = [name for name, analysis in analyses().items() if "logrank" in analysis]


@pytest.mark.parametrize("name", GROUPED)
def test_by_group_of_counted_rows_matches_survfit(name: str) -> None:
    time, event, groups, counts = counted(name)
    for summary in kaplan_meier_by_group(time, event, groups, counts=counts):
        reference = fit(name, "log-log", summary.key)
        assert (summary.n, summary.events) == (reference["n"], reference["events"])
        assert close(summary.median_, reference["print"]["median"])


@pytest.mark.parametrize("name", GROUPED)
def test_logrank_of_counted_rows_matches_survdiff(name: str) -> None:
    reference = analyses()[name]["logrank"]
    time, event, groups, counts = counted(name)
    result = logrank_test(time, event, groups, counts=counts)
    assert [result.n[result.groups.index(g)] for g in reference["groups"]] == reference["n"]
    assert close(result.statistic_, reference["chisq"])
    assert close(result.p_, reference["p"])
    pairs = {tuple(p["groups"]): p for p in analyses()[name]["pairwise"]}
    for pair in pairwise_logrank(time, event, groups, counts=counts).pairs_:
        expected = pairs.get(tuple(pair["groups"])) or pairs[tuple(pair["groups"][::-1])]
        assert close(pair["statistic"], expected["chisq"])
        assert close(pair["p_adjusted"], expected["p_holm"])


@pytest.mark.parametrize(
    "name, group", [(n, g) for n in analyses() for g in [None, *group_names(n)]]
)
def test_rmst_of_counted_rows_matches_survfit_rmean(name: str, group: str | None) -> None:
    reference = fit(name, "log-log", group)["rmean"]
    time, event, _, counts = counted(name, group)
    result = rmst(time, event, reference["tau"], counts=counts)
    assert close(result.rmst_, reference["rmean"])
    assert close(result.se_, reference["se"])


@pytest.mark.parametrize(
    "name", [n for n, analysis in analyses().items() if "rmst_differences" in analysis]
)
def test_rmst_differences_of_counted_rows(name: str) -> None:
    analysis = analyses()[name]
    time, event, groups, counts = counted(name)
    result = rmst_by_group(time, event, groups, analysis["tau"], counts=counts)
    ours = {d["group"]: d for d in result.differences_}
    for expected in analysis["rmst_differences"]:
        assert close(ours[expected["group"]]["difference"], expected["difference"])
        assert close(ours[expected["group"]]["se"], expected["se"])


@pytest.mark.parametrize("name, conf_type", [(n, c) for n in analyses() for c in CONF_TYPES])
def test_reverse_km_follow_up_of_counted_rows_matches_r(name: str, conf_type: str) -> None:
    reference = analyses()[name]["followup"][conf_type]
    time, event, _, counts = counted(name)
    result = median_followup(time, event, counts=counts, conf_type=conf_type)
    assert result.n == counts.sum()
    assert close(result.median_, reference["median"])
    assert close(result.ci_[0], reference["lower"])
    assert close(result.ci_[1], reference["upper"])


def test_rows_of_count_zero_stand_for_no_one() -> None:
    # deaths at 1 and 3 of 4 patients (censored at 2 and 4); the rows at 5 count nobody
    summary = kaplan_meier([1, 2, 3, 4, 5, 5], [1, 0, 1, 0, 1, 0], counts=[1, 1, 1, 1, 0, 0])
    assert (summary.n, summary.events) == (4, 2)
    assert summary.curve_["time"].tolist() == [0.0, 1.0, 3.0, 4.0]
    assert summary.curve_["survival"].tolist() == pytest.approx([1.0, 0.75, 0.375, 0.375])


def test_a_count_stands_for_that_many_rows() -> None:
    # 3 deaths at 2, 2 censored at 2, 1 death at 5: S(2) = 1 - 3/6, S(5) = 0
    summary = kaplan_meier([2, 2, 5], [1, 0, 1], counts=[3, 2, 1])
    assert summary.curve_["survival"].tolist() == [1.0, 0.5, 0.0]
    assert summary.curve_["at_risk"].tolist() == [6, 6, 1]
    assert summary.censored == 2


WHOLE = r"^counts must be whole numbers, 0 or more$"


@pytest.mark.parametrize(
    "counts, message",
    [
        ([1, -1, 1], WHOLE),
        ([1, 0.5, 1], WHOLE),
        ([1, float("nan"), 1], WHOLE),
        ([1, 1], r"^time and counts differ in length \(3 and 2\)$"),
        ([0, 0, 0], r"^no observations \(every count is 0\)$"),
    ],
)
def test_counts_are_checked(counts: list, message: str) -> None:
    for estimator in (
        lambda: kaplan_meier([1, 2, 3], [1, 0, 1], counts=counts),
        lambda: logrank_test([1, 2, 3], [1, 0, 1], ["a", "b", "a"], counts=counts),
        lambda: median_followup([1, 2, 3], [1, 0, 1], counts=counts),
        lambda: rmst([1, 2, 3], [1, 0, 1], 2.0, counts=counts),
    ):
        with pytest.raises(ValueError, match=message):
            estimator()


@pytest.mark.parametrize("name", GROUPED)
def test_counted_rows_give_every_key_of_the_patients_rows(name: str) -> None:
    time, event, groups = data(name)
    counted_time, counted_event, counted_group, counts = counted(name)
    ticks = (0.0, 100.0, 200.0)
    pairs = [
        (
            kaplan_meier_by_group(time, event, groups, ticks=ticks),
            kaplan_meier_by_group(
                counted_time, counted_event, counted_group, counts=counts, ticks=ticks
            ),  # fmt: skip
        ),
        (
            [median_followup(time, event)],
            [median_followup(counted_time, counted_event, counts=counts)],
        ),
    ]
    for patients, aggregated in pairs:
        for ours, theirs in zip(patients, aggregated, strict=True):
            # as JSON: an integer count that became a float (6.0 for 6) differs too
            assert json.dumps(_plain(ours.to_dict())) == json.dumps(_plain(theirs.to_dict()))


def _plain(value):
    """A result's dict with arrays as lists, for equality."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_a_group_whose_rows_all_count_zero_is_no_group() -> None:
    # group c's one row stands for no one: the estimates are those of groups a and b alone
    time, event = [1, 2, 3, 4, 5, 6, 7], [1, 0, 1, 1, 0, 1, 1]
    group, counts = ["a", "a", "a", "b", "b", "b", "c"], [1, 2, 1, 1, 1, 2, 0]
    assert [s.key for s in kaplan_meier_by_group(time, event, group, counts=counts)] == ["a", "b"]
    test = logrank_test(time, event, group, counts=counts)
    assert test.groups == ("a", "b") and test.n == (4, 4) and test.df_ == 1
    assert [p["groups"] for p in pairwise_logrank(time, event, group, counts=counts).pairs_] == [
        ["a", "b"]
    ]
    assert [g.group for g in rmst_by_group(time, event, group, 3.0, counts=counts).groups_] == [
        "a",
        "b",
    ]
    without = logrank_test(time[:6], event[:6], group[:6], counts=counts[:6])
    assert test.statistic_ == without.statistic_


@pytest.mark.parametrize("counts", [np.array([1, None], dtype=object), ["1", "one"]])
def test_counts_of_another_kind_are_refused_as_values(counts) -> None:
    with pytest.raises(ValueError, match=WHOLE):
        kaplan_meier([1, 2], [1, 0], counts=counts)


def test_groups_of_counted_rows_are_checked_and_labelled() -> None:
    with pytest.raises(ValueError, match=r"^group and time differ in length \(2 and 3\)$"):
        logrank_test([1, 2, 3], [1, 0, 1], [0, 1], counts=[1, 2, 1])
    test = logrank_test([1, 2, 3], [1, 0, 1], [0, 1, 0], counts=[1, 2, 1], labels=["a", "b"])
    assert test.groups == ("a", "b") and test.n == (2, 2)
