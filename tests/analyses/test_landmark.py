"""Landmark analysis against R (subset alive at L, group at L, survfit / survdiff / coxph from
L; stored JSON written by ``r/models.R``) and the at-risk and grouping rules."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from toolkit.analyses.landmark import landmark_analyses, landmark_analysis
from toolkit.study import Study, builtin_study_path, load_study
from toolkit.survival._common import chi2_upper_p

HERE = Path(__file__).resolve().parents[1] / "survival"  # the R reference data
REL = 1e-4
START = date(2012, 1, 1)
DAYS_PER_MONTH = 30.4375


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


@cache
def adtte() -> pl.DataFrame:
    """One row per synthetic patient, as the ADTTE: the naive stratum is the last group."""
    rows = episodes().sort("patient_key", "tstart").group_by("patient_key", maintain_order=True)
    frame = rows.agg(
        pl.col("tstop").last().alias("aval"),
        pl.col("is_event").last(),
        pl.col("episode_stratum_key").last().alias("stratum_key"),
        pl.col("tstart").last().alias("last_start"),
    )
    # whole days at or before the episode start, so that "started by L" agrees with it
    start_dates = [
        START + timedelta(days=math.floor(months * DAYS_PER_MONTH)) if key != "a" else None
        for key, months in zip(frame["stratum_key"], frame["last_start"], strict=True)
    ]
    return frame.with_columns(
        pl.lit(START).alias("startdt"), pl.Series("stratum_start_date", start_dates)
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


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-10)


@pytest.mark.parametrize("index", [0, 1])
def test_matches_r_subset_at_the_landmark(index: int) -> None:
    expected = reference()["landmarks"][index]
    result = landmark_analysis(
        adtte(), synthetic_study(), expected["landmark"], episodes=episodes()
    )
    assert result.n_at_risk_ == expected["n_at_risk"]
    assert result.excluded_ == {
        "total": expected["excluded"],
        "died": expected["excluded_died"],
        "censored": expected["excluded_censored"],
    }
    for i, key in enumerate(expected["groups"]):
        group = result.group(key)
        assert group["n"] == expected["n"][i]
        assert group["events"] == expected["events"][i]
        assert close(group["km"]["median"], expected["median"][i])
        assert close(group["km"]["survival_at"][0]["estimate"], expected["surv_12"][i])
    p = chi2_upper_p(expected["logrank_chisq"], expected["logrank_df"])
    assert close(result.logrank_.statistic_, expected["logrank_chisq"])
    assert close(result.logrank_.p_, p)
    for i, term in enumerate(expected["cox_terms"]):
        ours = result.cox_.term(term.replace("group=", "landmark_group="))
        assert ours.coef_ == pytest.approx(expected["cox_coef"][i], abs=1e-6)
        assert close(ours.se_, expected["cox_se"][i])
    assert result.cox_.references_ == {"landmark_group": "a"}
    json.dumps(result.to_dict())


def test_follow_up_must_go_beyond_the_landmark() -> None:
    frame = pl.DataFrame(
        {
            "patient_key": ["p1", "p2", "p3", "p4", "p5"],
            "aval": [12.0, 12.0, 12.0 + 1e-9, 30.0, 5.0],
            "is_event": [True, False, True, False, True],
            "stratum_key": ["a"] * 5,
            "stratum_start_date": [None] * 5,
            "startdt": [START] * 5,
        },
        schema_overrides={"stratum_start_date": pl.Date},
    )
    result = landmark_analysis(frame, synthetic_study(), 12.0)
    assert result.n_at_risk_ == 2
    assert result.excluded_ == {"total": 3, "died": 2, "censored": 1}
    assert result.group("a")["n"] == 2 and result.group("b")["n"] == 0
    assert result.group("b")["km"] is None
    assert result.logrank_ is None and result.cox_ is None


def test_therapy_started_after_the_landmark_does_not_count() -> None:
    result = landmark_analysis(adtte(), synthetic_study(), 12.0, episodes=episodes())
    later = adtte().filter(
        (pl.col("aval") > 12) & (pl.col("stratum_key") != "a") & (pl.col("last_start") > 12)
    )
    assert later.height > 0
    # all of them are in the group they were in at 12 months, not their naive stratum
    reclassified = sum(g["reclassified"] for g in result.groups_)
    assert reclassified >= later.height
    assert result.group("a")["reclassified"] > 0


def test_grouping_from_start_dates_equals_episodes_with_one_later_therapy() -> None:
    twice = episodes().group_by("patient_key").len().filter(pl.col("len") > 2)["patient_key"]
    once = adtte().filter(~pl.col("patient_key").is_in(twice.implode()))
    study = synthetic_study()
    for landmark in (6.0, 12.0):
        by_dates = landmark_analysis(once, study, landmark)
        by_episodes = landmark_analysis(once, study, landmark, episodes=episodes())
        assert by_dates.grouping == "stratum_start_date"
        assert by_episodes.grouping == "episodes"
        assert [g["n"] for g in by_dates.groups_] == [g["n"] for g in by_episodes.groups_]
        assert by_dates.cox_.loglik_ == pytest.approx(by_episodes.cox_.loglik_, rel=1e-12)


def test_episodes_see_an_earlier_therapy_that_start_dates_miss() -> None:
    """A patient a → b → c whose c started after L was in b at L; the stratum start date (of c)
    alone puts them in the default group."""
    ep = episodes().sort("patient_key", "tstart")
    chains = ep.group_by("patient_key", maintain_order=True).agg(
        pl.col("episode_stratum_key"), pl.col("tstart"), pl.col("tstop").last()
    )
    chain = chains.filter(pl.col("episode_stratum_key").list.len() == 3).row(0, named=True)
    landmark = float(chain["tstart"][1])
    patient = adtte().filter(pl.col("patient_key") == chain["patient_key"])
    assert chain["tstop"] > landmark
    by_episodes = landmark_analysis(patient, synthetic_study(), landmark, episodes=episodes())
    by_dates = landmark_analysis(patient, synthetic_study(), landmark)
    assert by_episodes.group("b")["n"] == 1
    assert by_dates.group("a")["n"] == 1


def test_baseline_strata_keep_their_group() -> None:
    study = load_study(builtin_study_path("braf"))
    rng = np.random.default_rng(2)
    n = 60
    frame = pl.DataFrame(
        {
            "patient_key": [f"p{i}" for i in range(n)],
            "aval": rng.uniform(1, 40, n),
            "is_event": rng.random(n) < 0.6,
            "stratum_key": rng.choice(["braf_mutant", "braf_wildtype", "braf_unknown"], n),
            "stratum_start_date": [None] * n,
            "startdt": [START] * n,
        },
        schema_overrides={"stratum_start_date": pl.Date},
    )
    results = landmark_analyses(frame, study)
    assert [r.landmark for r in results] == [6.0, 12.0]
    for result in results:
        assert all(g["reclassified"] == 0 for g in result.groups_)
        alive = frame.filter(pl.col("aval") > result.landmark)
        counts = dict(alive.group_by("stratum_key").len().iter_rows())
        assert {g["key"]: g["n"] for g in result.groups_} == {
            k: counts.get(k, 0) for k in ("braf_mutant", "braf_wildtype", "braf_unknown")
        }
