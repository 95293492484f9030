"""Time-varying Cox (counting process) against R's coxph(Surv(tstart, tstop, event) ~ …)
(stored JSON written by ``r/models.R``), lifelines' CoxTimeVaryingFitter and invariances."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from toolkit.analyses.time_varying import time_varying_cox
from toolkit.errors import AnalysisError
from toolkit.study import Study, builtin_study_path, load_study
from toolkit.survival.cox_engine import fit_efron
from toolkit.survival.time_varying import counting_process_cox

HERE = Path(__file__).resolve().parent
REL = 1e-4


@cache
def reference() -> dict:
    path = HERE / "reference" / "models_counting_process.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def episodes() -> pl.DataFrame:
    return pl.read_csv(HERE / "data" / "counting_process.csv")


def synthetic_study(covariates: tuple[str, ...] = ("age", "sex")) -> Study:
    """The proclaim study with the synthetic groups: c and b by later therapy, a the default."""
    base = load_study(builtin_study_path()).model_dump()
    base["baseline"]["covariates"] = list(covariates)
    base["strata"] = [
        {"key": "c", "label": "Group c", "later_agent_classes": ["pd1"]},
        {"key": "b", "label": "Group b", "later_agent_classes": ["ctla4"]},
        {"key": "a", "label": "Group a"},
    ]
    base["study"]["strata_display_order"] = ["a", "b", "c"]
    return Study.model_validate(base)


def as_cohort_episodes(frame: pl.DataFrame) -> pl.DataFrame:
    """The synthetic rows with the column names of the cohort's episodes."""
    return frame.rename(
        {"id": "patient_key", "group": "episode_stratum_key", "event": "is_event"}
    ).with_columns(pl.col("is_event").cast(pl.Boolean))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-10)


MODELS = {
    "tv_group": ([], {"group": "a"}),
    "tv_adjusted": (["age"], {"group": "a", "sex": "F"}),
}


@pytest.mark.parametrize("engine", ["numpy", "lifelines"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_matches_coxph_counting_process(name: str, engine: str) -> None:
    expected = next(m for m in reference()["time_varying"] if m["name"] == name)
    continuous, categorical = MODELS[name]
    result = counting_process_cox(
        episodes(),
        start="tstart",
        stop="tstop",
        event="event",
        id_col="id",
        continuous=continuous,
        categorical=categorical,
        engine=engine,
    )
    assert result.n_intervals_ == expected["n"]
    assert result.events_ == expected["events"]
    assert result.n_patients_ == episodes()["id"].n_unique()
    assert sorted(t.term for t in result.terms_) == sorted(expected["terms"])
    for i, name_ in enumerate(expected["terms"]):
        term = result.term(name_)
        assert term.coef_ == pytest.approx(expected["coef"][i], abs=1e-6)
        for ours, theirs in [
            (term.coef_, expected["coef"][i]),
            (term.se_, expected["se"][i]),
            (term.hr_ci_[0], expected["hr_lower"][i]),
            (term.hr_ci_[1], expected["hr_upper"][i]),
            (term.p_, expected["p"][i]),
        ]:
            assert close(ours, theirs)
    assert close(result.loglik_[0], expected["loglik"][0])
    assert close(result.loglik_[1], expected["loglik"][1])
    for test in ("likelihood_ratio", "wald", "score"):
        assert close(result.tests_[test]["chisq"], expected["tests"][test]["chisq"])
        assert close(result.tests_[test]["p"], expected["tests"][test]["p"])


def test_numpy_and_lifelines_engines_agree_to_1e6() -> None:
    fits = {
        engine: counting_process_cox(
            episodes(),
            start="tstart",
            stop="tstop",
            event="event",
            id_col="id",
            continuous=["age"],
            categorical={"group": "a", "sex": None},
            engine=engine,
        )
        for engine in ("numpy", "lifelines")
    }
    for ours, theirs in zip(fits["numpy"].terms_, fits["lifelines"].terms_, strict=True):
        assert ours.term == theirs.term
        assert ours.coef_ == pytest.approx(theirs.coef_, abs=1e-6)
        assert ours.se_ == pytest.approx(theirs.se_, rel=1e-6)
    assert fits["numpy"].loglik_[1] == pytest.approx(fits["lifelines"].loglik_[1], rel=1e-10)


def test_time_varying_cox_from_the_cohort_episodes() -> None:
    result = time_varying_cox(as_cohort_episodes(episodes()), synthetic_study())
    expected = next(m for m in reference()["time_varying"] if m["name"] == "tv_group")
    assert result.name == "time-varying, unadjusted"
    assert [t.term for t in result.terms_] == [
        "episode_stratum_key=b",
        "episode_stratum_key=c",
    ]
    assert result.references_ == {"episode_stratum_key": "a"}
    assert result.term("episode_stratum_key=c").label == "Group c"
    np.testing.assert_allclose([t.coef_ for t in result.terms_], expected["coef"], atol=1e-6)
    assert result.warnings_ == []
    json.dumps(result.to_dict())


def test_adjusted_model_drops_patients_with_a_missing_covariate() -> None:
    frame = as_cohort_episodes(episodes())
    adtte = frame.group_by("patient_key").agg(pl.col("age").first(), pl.col("sex").first())
    adtte = adtte.rename({"age": "age_years"}).with_columns(
        pl.when(pl.col("patient_key").is_in(["P001", "P002"]))
        .then(None)
        .otherwise(pl.col("sex"))
        .alias("sex")
    )
    study = synthetic_study()
    result = time_varying_cox(frame.drop("age", "sex"), study, adtte=adtte, adjusted=True)
    assert result.dropped_missing_ == {
        "total": 2,
        "by_covariate": {"episode_stratum_key": 0, "sex": 2, "age_years": 0},
    }
    assert result.n_patients_ == frame["patient_key"].n_unique() - 2
    rows_left = frame.filter(~pl.col("patient_key").is_in(["P001", "P002"])).height
    assert result.n_intervals_ == rows_left
    with pytest.raises(AnalysisError, match="needs the ADTTE"):
        time_varying_cox(frame, study, adjusted=True)


def test_splitting_an_interval_changes_nothing() -> None:
    """A right-censored data set split at arbitrary times into (start, stop] rows with the same
    covariates gives exactly the model of the unsplit data."""
    rng = np.random.default_rng(8)
    n = 300
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)]).astype(float)
    time = np.ceil(rng.exponential(10, n))
    event = rng.random(n) < 0.7
    whole = fit_efron(time, event, x)
    cut = np.floor(time * rng.random(n))
    split = cut > 0
    start = np.r_[np.zeros(n), cut[split]]
    stop = np.r_[np.where(split, cut, time), time[split]]
    flag = np.r_[event & ~split, event[split]]
    pieces = fit_efron(stop, flag, np.r_[x, x[split]], start=start)
    np.testing.assert_allclose(pieces.coef_, whole.coef_, atol=1e-12)
    np.testing.assert_allclose(pieces.var_, whole.var_, rtol=1e-10)
    assert pieces.loglik_[1] == pytest.approx(whole.loglik_[1], rel=1e-12)


def test_unknown_engine_and_bad_intervals_are_errors() -> None:
    with pytest.raises(AnalysisError, match="unknown engine"):
        counting_process_cox(
            episodes(), start="tstart", stop="tstop", event="event", id_col="id", engine="r"
        )
    with pytest.raises(AnalysisError, match="start < stop"):
        fit_efron([1.0, 2.0], [1, 1], [[0.0], [1.0]], start=[1.0, 0.0])
