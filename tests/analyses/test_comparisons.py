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
