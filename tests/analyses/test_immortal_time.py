"""Immortal-time detection from the study's rules and from the data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from toolkit.analyses.immortal_time import REMEDIES, assess_immortal_time
from toolkit.analyses.landmark import landmark_analyses
from toolkit.analyses.simon_makuch import simon_makuch
from toolkit.analyses.strata import stratum_cox
from toolkit.analyses.time_varying import time_varying_cox
from toolkit.cohort import build_cohort
from toolkit.ingest import connect
from toolkit.study import builtin_study_path, load_study

START = date(2013, 1, 1)


def adtte(delays_days: dict[str, list[int | None]], aval: float = 20.0) -> pl.DataFrame:
    """Patients per stratum with the given days from the index date to the stratum's start."""
    rows = [
        (key, None if d is None else date.fromordinal(START.toordinal() + d))
        for key, delays in delays_days.items()
        for d in delays
    ]
    return pl.DataFrame(
        {
            "stratum_key": [r[0] for r in rows],
            "stratum_start_date": [r[1] for r in rows],
            "startdt": [START] * len(rows),
            "aval": [aval] * len(rows),
        },
        schema_overrides={"stratum_start_date": pl.Date},
    )


def test_later_therapy_strata_are_flagged_by_design() -> None:
    study = load_study(builtin_study_path("proclaim"))
    result = assess_immortal_time(study)
    assert result.depends_on_post_index_ and result.by_design_
    assert result.in_data_ is None and result.evidence_ is None
    assert [s["key"] for s in result.later_therapy_strata] == ["il2_pd1", "il2_ipi"]
    assert [r["analysis"] for r in result.remedies] == [
        "landmark",
        "time_varying_cox",
        "simon_makuch",
    ]
    assert "IL-2 → anti-PD-1 and IL-2 → ipilimumab are defined by therapy" in result.statement
    assert "(at 12 and 24 months)" in result.statement
    json.dumps(result.to_dict())


def test_baseline_strata_are_not_flagged() -> None:
    study = load_study(builtin_study_path("braf"))
    data = adtte({"braf_mutant": [None] * 3, "braf_wildtype": [None] * 4})
    result = assess_immortal_time(study, data)
    assert not result.depends_on_post_index_
    assert result.by_design_ is False and result.in_data_ is False
    assert result.remedies == []
    assert "no immortal-time bias" in result.statement


def test_evidence_from_the_data() -> None:
    study = load_study(builtin_study_path("proclaim"))
    per_month = study.endpoint.days_per_month
    data = adtte({"il2_pd1": [61, 122, 0], "il2_ipi": [30], "il2_only": [None, None]})
    result = assess_immortal_time(study, data)
    pd1 = result.evidence_["by_stratum"]["il2_pd1"]
    assert pd1["patients"] == 3 and pd1["started_after_index"] == 2
    assert pd1["median_delay_months"] == pytest.approx((61 + 122) / 2 / per_month)
    assert pd1["immortal_person_months"] == pytest.approx((61 + 122) / per_month)
    assert pd1["share_of_follow_up"] == pytest.approx((61 + 122) / per_month / 60.0)
    overall = result.evidence_["overall"]
    assert overall["started_after_index"] == 3 and overall["patients"] == 4
    assert overall["max_delay_months"] == pytest.approx(122 / per_month)
    assert "3 of 4 patients" in result.statement


def test_the_follow_up_is_summed_exactly_in_any_row_order() -> None:
    # ten patients followed 0.1 month each: 1.0 person-month exactly (added one by one in
    # binary floating point, 0.1 ten times is 0.9999999999999999), in any order of the rows
    data = adtte({"x_later": [1] * 10}, aval=0.1)
    for rows in (data, data.reverse(), data.sample(fraction=1.0, shuffle=True, seed=3)):
        evidence = assess_immortal_time(None, rows, days_per_month=10.0).evidence_
        assert evidence["by_stratum"]["x_later"]["immortal_person_months"] == 1.0
        assert evidence["overall"]["share_of_follow_up"] == 1.0


def test_data_alone_detects_post_index_grouping() -> None:
    result = assess_immortal_time(None, adtte({"x_later": [45], "x_default": [None]}))
    assert result.depends_on_post_index_ and result.in_data_ and result.by_design_ is None
    assert "The group x_later is defined by therapy" in result.statement
    assert len(result.remedies) == len(REMEDIES)


def test_same_day_start_is_not_immortal_time() -> None:
    result = assess_immortal_time(None, adtte({"x_later": [0, 0], "x_default": [None]}))
    assert not result.depends_on_post_index_
    assert result.evidence_["overall"]["started_after_index"] == 0


def test_needs_a_study_or_data() -> None:
    with pytest.raises(ValueError, match="study, the data, or both"):
        assess_immortal_time()


@pytest.fixture(scope="module")
def cohort(demo_dir: Path):
    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        yield build_cohort(con, load_study(builtin_study_path()), date(2015, 3, 16))
    finally:
        con.close()


def test_demo_cohort_every_analysis_of_the_bias(cohort) -> None:
    """On the poster's (synthetic) cohort: the check fires, and removing the immortal time
    raises each later-therapy group's hazard ratio against HD IL-2 only."""
    study = load_study(builtin_study_path())
    assessment = assess_immortal_time(study, cohort.adtte)
    assert assessment.depends_on_post_index_ and assessment.in_data_
    assert assessment.evidence_["overall"]["patients"] == 78 + 35
    naive = stratum_cox(cohort.adtte, study)
    varying = time_varying_cox(cohort.episodes, study)
    for key in ("il2_ipi", "il2_pd1"):
        assert naive.term(f"stratum_key={key}").hr_ < varying.term(f"episode_stratum_key={key}").hr_
    assert varying.n_patients_ == cohort.adtte.height
    landmarks = landmark_analyses(cohort.adtte, study, episodes=cohort.episodes)
    for result in landmarks:
        assert result.n_at_risk_ + result.excluded_["total"] == cohort.adtte.height
        assert sum(g["n"] for g in result.groups_) == result.n_at_risk_
    curves = simon_makuch(cohort.episodes, study)
    assert curves.group("il2_only").n_start == cohort.adtte.height
    assert curves.group("il2_pd1").n_patients == 35
    for result in (assessment, naive, varying, *landmarks, curves):
        json.dumps(result.to_dict())
