"""Simon–Makuch curves against R's survfit(Surv(tstart, tstop, event) ~ group) on
counting-process data (stored JSON written by ``r/models.R``) and hand-computed cases."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from toolkit.analyses.simon_makuch import simon_makuch
from toolkit.study import Study, builtin_study_path, load_study
from toolkit.survival.kaplan_meier import kaplan_meier
from toolkit.survival.simon_makuch import extended_kaplan_meier

HERE = Path(__file__).resolve().parent
REL = 1e-4


@cache
def reference() -> dict:
    path = HERE / "reference" / "models_counting_process.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def episodes() -> pl.DataFrame:
    return (
        pl.read_csv(HERE / "data" / "counting_process.csv")
        .rename({"id": "patient_key", "group": "episode_stratum_key", "event": "is_event"})
        .with_columns(pl.col("is_event").cast(pl.Boolean))
    )


def synthetic_study() -> Study:
    base = load_study(builtin_study_path()).model_dump()
    base["strata"] = [
        {"key": "c", "label": "Group c", "later_agent_classes": ["pd1"]},
        {"key": "b", "label": "Group b", "later_agent_classes": ["ctla4"]},
        {"key": "a", "label": "Group a"},
    ]
    base["study"]["strata_display_order"] = ["a", "b", "c"]
    return Study.model_validate(base)


def close_all(ours, theirs) -> None:
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=REL)


@pytest.mark.parametrize("group", ["a", "b", "c"])
def test_curve_matches_survfit_counting_process(group: str) -> None:
    expected = next(g for g in reference()["simon_makuch"] if g["group"] == group)
    result = simon_makuch(episodes(), synthetic_study(), ticks=expected["ticks"])
    curve = result.group(group).curve_
    hit = curve["events"] > 0
    close_all(curve["time"][hit], expected["time"])
    assert curve["at_risk"][hit].tolist() == expected["n_risk"]
    assert curve["events"][hit].tolist() == expected["n_event"]
    close_all(curve["survival"][hit], expected["surv"])
    close_all(curve["ci_lower"][hit], expected["lower"])
    close_all(curve["ci_upper"][hit], expected["upper"])


@pytest.mark.parametrize("group", ["a", "b", "c"])
def test_median_and_numbers_at_risk(group: str) -> None:
    expected = next(g for g in reference()["simon_makuch"] if g["group"] == group)
    curve = simon_makuch(episodes(), synthetic_study(), ticks=expected["ticks"]).group(group)
    for ours, theirs in [
        (curve.median_, expected["median"]),
        (curve.median_ci_[0], expected["median_lower"]),
        (curve.median_ci_[1], expected["median_upper"]),
    ]:
        assert (ours is None and theirs is None) or math.isclose(ours, theirs, rel_tol=REL)
    assert [row["at_risk"] for row in curve.at_risk_] == expected["at_risk"]


@pytest.mark.parametrize("group", ["a", "b", "c"])
def test_a_curve_from_its_first_death_with_enough_at_risk_matches_survfit_start_time(
    group: str,
) -> None:
    expected = next(g for g in reference()["simon_makuch_from_12"] if g["group"] == group)
    rows = episodes().filter(pl.col("episode_stratum_key") == group)
    fit = extended_kaplan_meier(
        rows["tstart"], rows["tstop"], rows["is_event"], from_at_risk=expected["from_at_risk"]
    )
    assert fit.start_time_ == pytest.approx(expected["start_time"] if group != "a" else 0.0)
    curve = fit.curve_
    hit = curve["events"] > 0
    close_all(curve["time"][hit], expected["time"])
    assert curve["at_risk"][hit].tolist() == expected["n_risk"]
    close_all(curve["survival"][hit], expected["surv"])
    close_all(curve["ci_lower"][hit], expected["lower"])
    close_all(curve["ci_upper"][hit], expected["upper"])
    for ours, theirs in [
        (fit.median_, expected["median"]),
        (fit.median_ci_[0], expected["median_lower"]),
        (fit.median_ci_[1], expected["median_upper"]),
    ]:
        assert (ours is None and theirs is None) or math.isclose(ours, theirs, rel_tol=REL)
    # the curve is 1 just before its first step, from where it starts
    assert (curve["time"][0], curve["survival"][0]) == (fit.start_time_, 1.0)


def test_a_conditional_curve_says_nothing_before_it_starts() -> None:
    # deaths at 1 (2 at risk), 4 (4 at risk) and 6 (3 at risk): from 3 at risk it starts at 4
    fit = extended_kaplan_meier(
        [0, 0, 2, 2, 3], [1, 9, 4, 6, 8], [1, 0, 1, 1, 0], at_times=[2, 5], from_at_risk=3
    )
    assert fit.start_time_ == 4.0
    before, after = fit.survival_at_
    assert before["estimate"] is None and before["at_risk"] == 1
    assert after["estimate"] == pytest.approx(3 / 4)
    assert fit.curve_["survival"].tolist()[:3] == pytest.approx([1.0, 3 / 4, 3 / 4 * 2 / 3])
    assert fit.curve_["time"].tolist()[:3] == [4.0, 4.0, 6.0]
    # no event time with enough at risk: the estimate starts at 0 as usual
    assert extended_kaplan_meier([0, 0], [1, 2], [1, 1], from_at_risk=5).start_time_ == 0.0


def test_hand_computed_move_between_groups() -> None:
    """p2 moves from a to b at 3. Group a: deaths at 2 (4 at risk) and 5 (2 at risk: p2 has
    left, p4 died) → 3/4, 3/8. Group b: p2 alone from 3, dies at 7 → 0."""
    frame = pl.DataFrame(
        {
            "patient_key": ["p1", "p2", "p2", "p3", "p4"],
            "episode_stratum_key": ["a", "a", "b", "a", "a"],
            "tstart": [0.0, 0.0, 3.0, 0.0, 0.0],
            "tstop": [5.0, 3.0, 7.0, 8.0, 2.0],
            "is_event": [True, False, True, False, True],
        }
    )
    result = simon_makuch(frame, synthetic_study(), at_times=[4.0], ticks=[0.0, 4.0])
    a, b, c = result.groups_
    assert a.curve_["time"].tolist() == [0.0, 2.0, 5.0, 8.0]
    assert a.curve_["survival"].tolist() == [1.0, 0.75, 0.375, 0.375]
    assert a.curve_["at_risk"].tolist() == [4, 4, 2, 1]
    assert b.curve_["survival"].tolist() == [1.0, 0.0]
    assert [r["at_risk"] for r in a.at_risk_] == [4, 2]
    assert [r["at_risk"] for r in b.at_risk_] == [0, 1]
    assert b.at_risk_[1]["entered"] == 1
    # by 4: in a, p4 died and p2 left for b (p3 is censored at 8, after the last tick)
    assert [(r["events"], r["censored"], r["left"]) for r in a.at_risk_] == [(0, 0, 0), (1, 0, 1)]
    assert [(r["events"], r["censored"], r["left"]) for r in b.at_risk_] == [(0, 0, 0), (0, 0, 0)]
    later = simon_makuch(frame, synthetic_study(), at_times=[], ticks=[0.0, 10.0])
    a10, b10 = later.groups_[:2]
    assert [(r["events"], r["censored"], r["left"]) for r in a10.at_risk_][1] == (2, 1, 1)
    assert [(r["entered"], r["events"], r["censored"]) for r in b10.at_risk_][1] == (1, 1, 0)
    assert (a.n_patients, a.n_start, a.n_entered_later) == (4, 4, 0)
    assert (b.n_patients, b.n_start, b.n_entered_later) == (1, 0, 1)
    assert a.survival_at_[0]["estimate"] == 0.75 and a.survival_at_[0]["at_risk"] == 2
    assert c.n_patients == 0 and c.median_ is None and c.curve_["time"].tolist() == [0.0]
    assert result.n_patients_ == 4
    # events are counts in results.json, in every group (np.r_ once made floats of them)
    groups = json.loads(json.dumps(result.to_dict()))["groups"]
    assert [g["curve"]["events"] for g in groups] == [[0, 1, 1, 0], [0, 1], [0]]
    assert all(type(e) is int for g in groups for e in g["curve"]["events"])


def test_an_episode_ends_by_the_event_censoring_or_leaving() -> None:
    start, stop = np.zeros(4), np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([True, False, False, False])
    # without the censoring flags every episode without the event is censored
    plain = extended_kaplan_meier(start, stop, event, ticks=[0.0, 5.0])
    assert (plain.at_risk_[1]["censored"], plain.at_risk_[1]["left"]) == (3, 0)
    moved = extended_kaplan_meier(
        start, stop, event, censored=[False, True, False, False], ticks=[0.0, 5.0]
    )
    assert (moved.at_risk_[1]["censored"], moved.at_risk_[1]["left"]) == (1, 2)
    assert moved.curve_["survival"].tolist() == plain.curve_["survival"].tolist()
    with pytest.raises(ValueError, match="both the event and censoring"):
        extended_kaplan_meier(start, stop, event, censored=[True, False, False, False])


def test_without_moves_it_is_kaplan_meier() -> None:
    rng = np.random.default_rng(4)
    time = np.ceil(rng.exponential(10, 200))
    event = rng.random(200) < 0.7
    extended = extended_kaplan_meier(np.zeros(200), time, event, at_times=[5, 10])
    plain = kaplan_meier(time, event, at_times=[5, 10])
    np.testing.assert_allclose(extended.curve_["survival"], plain.curve_["survival"], rtol=1e-12)
    np.testing.assert_allclose(extended.curve_["ci_lower"], plain.curve_["ci_lower"], rtol=1e-12)
    assert extended.median_ == plain.median_
    assert extended.median_ci_ == plain.median_ci_
    for ours, theirs in zip(extended.survival_at_, plain.survival_at_, strict=True):
        assert ours["estimate"] == pytest.approx(theirs["estimate"], rel=1e-12)
        assert ours["at_risk"] == theirs["at_risk"]


def test_study_defaults_for_times_and_no_ticks() -> None:
    study = synthetic_study()
    result = simon_makuch(episodes(), study)
    a = result.group("a")
    assert [s["time"] for s in a.survival_at_] == list(study.endpoint.landmarks_months)
    assert a.at_risk_ == []
    assert [g.key for g in result.groups_] == ["a", "b", "c"]
    assert a.n_start == episodes()["patient_key"].n_unique()
