"""Strata comparisons on the demo cohort: naive and immortal-time-aware, side by side."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from toolkit.analyses.comparisons import comparisons
from toolkit.cohort import build_cohort
from toolkit.ingest import connect
from toolkit.study import builtin_study_path, load_study


@pytest.fixture(scope="module")
def results(demo_dir: Path) -> dict:
    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        out = {}
        for name in ("proclaim", "braf"):
            study = load_study(builtin_study_path(name))
            cohort = build_cohort(con, study, date(2015, 3, 16))
            out[name] = comparisons(cohort, study, [0.0, 6.0, 12.0, 18.0, 24.0])
        return out
    finally:
        con.close()


def test_results_are_plain_json(results: dict) -> None:
    for result in results.values():
        assert json.loads(json.dumps(result)) == result


def test_analyses_run_side_by_side_give_the_results_of_one_at_a_time(
    demo_dir: Path, results: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.analyses.comparisons as module

    monkeypatch.setattr(module, "_WORKERS", 1)
    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        study = load_study(builtin_study_path("proclaim"))
        cohort = build_cohort(con, study, date(2015, 3, 16))
    finally:
        con.close()
    alone = comparisons(cohort, study, [0.0, 6.0, 12.0, 18.0, 24.0])
    assert json.dumps(alone) == json.dumps(results["proclaim"])  # key order and every bit


def test_later_therapy_strata_get_the_immortal_time_aware_analyses(results: dict) -> None:
    proclaim = results["proclaim"]
    assert proclaim["immortal_time"]["depends_on_post_index"] is True
    assert proclaim["time_varying_cox"] is not None
    assert [r["landmark"] for r in proclaim["landmarks"]] == [12.0, 24.0]
    assert proclaim["simon_makuch"] is not None
    assert proclaim["logrank"]["df"] == 2
    assert len(proclaim["pairwise_logrank"]["pairs"]) == 3


def test_baseline_strata_need_no_immortal_time_analysis(results: dict) -> None:
    braf = results["braf"]
    assert braf["immortal_time"]["depends_on_post_index"] is False
    assert braf["time_varying_cox"] is None and braf["landmarks"] == []
    assert braf["cox_unadjusted"] is not None


def test_group_tests_are_labelled_with_their_own_data(results: dict, demo_dir: Path) -> None:
    """Each labelled group's n in the log-rank and RMST results is that stratum's size."""
    import polars as pl

    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        study = load_study(builtin_study_path())
        adtte = build_cohort(con, study, date(2015, 3, 16)).adtte
    finally:
        con.close()
    sizes = dict(adtte.group_by("stratum_key").agg(pl.len()).iter_rows())
    proclaim = results["proclaim"]
    rmst_sizes = {g["group"]: g["n"] for g in proclaim["rmst"]["groups"]}
    assert rmst_sizes == sizes
    logrank = proclaim["logrank"]
    assert dict(zip(logrank["groups"], logrank["n"], strict=True)) == sizes


def _ph(p: float) -> dict:
    return {"ph_test": {"global": {"chisq": 3.84, "df": 1, "p": p}, "method": "cox.zph"}}


def test_strata_tests_list_every_test_by_hand() -> None:
    from toolkit.analyses.comparisons import PH_ALPHA, strata_tests

    study = load_study(builtin_study_path())
    result = {
        "logrank": {
            "groups": ["il2_only", "il2_ipi", "il2_pd1"],
            "statistic": 21.1,
            "df": 2,
            "p": 2.6e-5,
            "method": "log-rank",
        },
        "pairwise_logrank": {
            "pairs": [
                {
                    "groups": ["il2_only", "il2_ipi"],
                    "statistic": 1.2,
                    "df": 1,
                    "p": 0.28,
                    "p_adjusted": 0.28,
                },
                {
                    "groups": ["il2_ipi", "il2_pd1"],
                    "statistic": 15.1,
                    "df": 1,
                    "p": 1e-4,
                    "p_adjusted": 2e-4,
                },
            ]
        },  # fmt: skip
        "cox_unadjusted": _ph(PH_ALPHA),  # at the level itself: not a failure
        "cox_adjusted": _ph(0.0499),
    }
    tests = strata_tests(result, study)
    assert tests["logrank"] == [
        {
            "label": "All 3 strata",
            "keys": ["il2_only", "il2_ipi", "il2_pd1"],
            "statistic": 21.1,
            "df": 2,
            "p": 2.6e-5,
            "p_holm": None,
        },
        {
            "label": "HD IL-2 only vs IL-2 → ipilimumab",
            "keys": ["il2_only", "il2_ipi"],
            "statistic": 1.2,
            "df": 1,
            "p": 0.28,
            "p_holm": 0.28,
        },
        {
            "label": "IL-2 → ipilimumab vs IL-2 → anti-PD-1",
            "keys": ["il2_ipi", "il2_pd1"],
            "statistic": 15.1,
            "df": 1,
            "p": 1e-4,
            "p_holm": 2e-4,
        },
    ]
    assert tests["ph"] == [
        {"model": "naive Cox model", "chisq": 3.84, "df": 1, "p": 0.05, "fails": False},
        {"model": "adjusted Cox model", "chisq": 3.84, "df": 1, "p": 0.0499, "fails": True},
    ]
    assert (tests["logrank_method"], tests["adjustment"], tests["ph_method"]) == (
        "log-rank",
        "Holm",
        "cox.zph",
    )
    assert PH_ALPHA == 0.05
    none = strata_tests(
        {"logrank": None, "pairwise_logrank": None, "cox_unadjusted": None, "cox_adjusted": None},
        study,
    )
    assert none == {
        "logrank": [],
        "logrank_method": "",
        "adjustment": "Holm",
        "ph": [],
        "ph_method": "",
        "ph_alpha": 0.05,
    }


def test_the_demo_shows_the_global_and_every_pair(results: dict) -> None:
    from toolkit.analyses.comparisons import strata_tests

    study = load_study(builtin_study_path())
    tests = strata_tests(results["proclaim"], study)
    # the poster's headline pair (ipilimumab against anti-PD-1) is among them
    assert [row["label"] for row in tests["logrank"]] == [
        "All 3 strata",
        "HD IL-2 only vs IL-2 → ipilimumab",
        "HD IL-2 only vs IL-2 → anti-PD-1",
        "IL-2 → ipilimumab vs IL-2 → anti-PD-1",
    ]
    assert [row["df"] for row in tests["logrank"]] == [2, 1, 1, 1]
    assert [row["model"] for row in tests["ph"]] == ["naive Cox model", "adjusted Cox model"]


def test_a_curve_stops_at_its_first_death_among_too_few_at_risk() -> None:
    from toolkit.analyses.comparisons import while_enough_at_risk

    curve = {
        "time": [0.0, 1.0, 2.0, 3.0, 4.0],
        "survival": [1.0, 0.9, 0.8, 0.6, 0.6],
        "at_risk": [0, 12, 10, 9, 8],
        "events": [0, 1, 1, 1, 0],
    }
    # the death at 3 falls on 9 at risk: the curve is carried flat at 0.8 up to 3
    kept, cut = while_enough_at_risk(curve, 10)
    assert cut == 3.0
    assert kept == {
        "time": [0.0, 1.0, 2.0, 3.0],
        "survival": [1.0, 0.9, 0.8, 0.8],
        "at_risk": [0, 12, 10, 10],
        "events": [0, 1, 1, 0],
    }
    # every death with at least 9 at risk: the whole curve
    assert while_enough_at_risk(curve, 9) == (curve, None)
    # a first death among 12 < 13: only the start is left, nothing to draw
    start, cut = while_enough_at_risk(curve, 13)
    assert (start["time"], start["survival"], cut) == ([0.0], [1.0], 1.0)
    # a step without deaths does not count, however few are at risk
    assert while_enough_at_risk(curve | {"events": [0, 1, 1, 0, 0]}, 10)[1] is None


def test_the_demo_simon_makuch_groups_rest_on_enough_patients(results: dict) -> None:
    from toolkit.analyses.comparisons import figure_groups

    groups = figure_groups(results["proclaim"], 10)["simon_makuch"]
    by_key = {g["key"]: g for g in groups}
    # ipilimumab's first deaths fall on 3 and 4 patients: its curve starts at its first death
    # with 10 at risk, conditional on reaching it, and its median is not the group's
    ipi = by_key["il2_ipi"]
    assert ipi["drawn"] and ipi["median"] is None
    assert ipi["starts_at"] > 0 and ipi["curve"]["time"][0] == ipi["starts_at"]
    assert ipi["curve"]["survival"][0] == 1.0
    assert by_key["il2_only"]["starts_at"] == 0.0
    assert ipi["n"] == ipi["n_start"] + ipi["n_entered_later"]
    for g in groups:
        kept = [a for a, e in zip(g["curve"]["at_risk"], g["curve"]["events"], strict=True) if e]
        assert all(a >= 10 for a in kept), g["key"]
        cut = g["shown_until"]
        assert g["median"] is None or cut is None or g["median"] < cut
        assert all(set(r) == {"time", "at_risk", "events", "censored"} for r in g["at_risk"])
    whole = figure_groups(results["proclaim"], 0)["simon_makuch"]
    assert all(g["shown_until"] is None and g["drawn"] for g in whole)
    # the reference stratum's curve is the time before any later therapy
    named = figure_groups(results["proclaim"], 10, reference="il2_only")["simon_makuch"]
    assert [g["label"] for g in named] == [
        "HD IL-2 only, before any later therapy",
        "IL-2 → ipilimumab",
        "IL-2 → anti-PD-1",
    ]
    assert groups[0]["label"] == "HD IL-2 only"  # without a reference named


def test_an_infinite_coefficient_is_noted_once_where_its_model_has_no_table_of_its_own() -> None:
    from toolkit.analyses.comparisons import comparison_notes

    model = {"terms": [{"covariate": "ecog", "level": "2", "infinite": True}], "left_out": []}
    result = {
        "strata_compared": 3,
        "not_estimable": {},
        "cox_unadjusted": model,
        "cox_adjusted": model,
        "time_varying_cox": None,
        "landmarks": [],
    }
    study = load_study(builtin_study_path())
    labels = {"ecog": "ECOG performance status"}
    why = (
        " ECOG performance status 2 not estimable (its coefficient runs off to infinity: "
        "monotone likelihood, e.g. no event in the group)."
    )
    assert comparison_notes(result, study, labels) == [
        "Naive Cox model:" + why,
        "Adjusted Cox model:" + why,
    ]
    # the adjusted model's own table marks the level "not estimable" and says why
    assert comparison_notes(result, study, labels, tabled=("cox_adjusted",)) == [
        "Naive Cox model:" + why
    ]
