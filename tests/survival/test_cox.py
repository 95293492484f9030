"""Cox models (Efron) against hand-computed cases, R's coxph / cox.zph (stored JSON written by
``r/models.R``); lifelines' CoxPHFitter in test_lifelines_oracle.py."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from km_reference import same

from toolkit.errors import AnalysisError
from toolkit.survival.cox import cox_ph, design_matrix, fit_estimable, wald_terms
from toolkit.survival.cox_engine import aliased_columns, collapse_rows, fit_efron
from toolkit.survival.cox_inference import _chisq_row, zph_test

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REFERENCE = HERE / "reference"
R_SCRIPT = HERE / "r" / "models.R"
REL = 1e-4
COEF_ABS = 1e-6

# How each R model of r/models.R is fitted here.
R_MODELS = {
    "lung_continuous": ("lung", "time", "event", ["age", "sex", "ph.ecog"], {}),
    "lung_factors": (
        "lung",
        "time",
        "event",
        ["age", "ph.karno", "wt.loss"],
        {"sex": "1", "ph.ecog": "0"},
    ),
    "veteran_alphabetical": (
        "veteran",
        "time",
        "status",
        ["trt", "karno", "age", "prior"],
        {"celltype": "adeno"},
    ),
    "veteran_most_frequent": (
        "veteran",
        "time",
        "status",
        ["trt", "karno", "age", "prior"],
        {"celltype": None},
    ),
    "ovarian_factors": (
        "ovarian",
        "futime",
        "fustat",
        ["age"],
        {"rx": "1", "resid.ds": "1", "ecog.ps": "1"},
    ),
}


@cache
def r_models() -> dict[str, dict]:
    out = {}
    for dataset in ("lung", "veteran", "ovarian"):
        stored = json.loads((REFERENCE / f"models_{dataset}.json").read_text(encoding="utf-8"))
        out |= {model["name"]: model for model in stored["models"]}
    return out


@cache
def dataset(name: str) -> pl.DataFrame:
    return pl.read_csv(DATA / f"{name}.csv", null_values="NA")


def fit_like_r(name: str, **options):
    data, time, event, continuous, categorical = R_MODELS[name]
    return cox_ph(
        dataset(data),
        time=time,
        event=event,
        continuous=continuous,
        categorical=categorical,
        **options,
    )


def close(a: float, b: float, rel: float = REL, abs_: float = 1e-10) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# ---- hand-computed cases -------------------------------------------------------------------

# Times 1, 1, 2, 3 (events 1, 1, 1, 0), x = 1, 0, 1, 0. Efron: the tie at 1 gives
# log S0 + log(S0 - (e^b + 1)/2) with S0 = 2(e^b + 1), so
# ll(b) = 2b - 3 log(e^b + 1) - log 2 - log 1.5, maximised at e^b / (1 + e^b) = 2/3: b = log 2;
# information 3 p (1 - p) = 2/3 there and 3/4 at b = 0, score at 0: 2 - 3/2.
HAND_TIME = [1.0, 1.0, 2.0, 3.0]
HAND_EVENT = [True, True, True, False]
HAND_X = [[1.0], [0.0], [1.0], [0.0]]


def test_hand_computed_two_by_two_with_a_tie() -> None:
    fit = fit_efron(HAND_TIME, HAND_EVENT, HAND_X)
    assert fit.coef_[0] == pytest.approx(math.log(2), abs=1e-12)
    assert fit.var_[0, 0] == pytest.approx(1.5, rel=1e-10)
    ll = 2 * math.log(2) - 3 * math.log(3) - math.log(2) - math.log(1.5)
    null = -3 * math.log(2) - math.log(2) - math.log(1.5)
    assert fit.loglik_ == pytest.approx((null, ll), rel=1e-12)
    assert fit.score_test_ == pytest.approx(0.25 / 0.75, rel=1e-12)
    assert fit.converged_ and not fit.infinite_.any()


def test_hand_computed_efron_differs_from_breslow() -> None:
    """x = 1, 0, 1, 0, 0 at times 1, 1, 2, 2(censored), 3: the score equation of Efron's
    likelihood, 2 - 2u/(2u+3) - 1.5u/(1.5u+2.5) - u/(u+2) = 0 with u = e^b, solved directly."""
    from scipy.optimize import brentq

    def efron_score(b: float) -> float:
        u = math.exp(b)
        return 2 - 2 * u / (2 * u + 3) - 1.5 * u / (1.5 * u + 2.5) - u / (u + 2)

    def breslow_score(b: float) -> float:
        u = math.exp(b)
        return 2 - 2 * (2 * u / (2 * u + 3)) - u / (u + 2)

    expected = brentq(efron_score, -5, 5, xtol=1e-14)
    fit = fit_efron([1, 1, 2, 2, 3], [1, 1, 1, 0, 1], [[1], [0], [1], [0], [0]])
    assert fit.coef_[0] == pytest.approx(expected, abs=1e-10)
    assert abs(expected - brentq(breslow_score, -5, 5)) > 1e-3


def test_no_ties_and_one_covariate_matches_a_direct_newton() -> None:
    rng = np.random.default_rng(3)
    time, x = rng.exponential(size=30), rng.normal(size=30)
    event = rng.random(30) < 0.7

    def derivatives(b: float) -> tuple[float, float]:
        score, info = 0.0, 0.0
        for i in np.flatnonzero(event):
            risk = time >= time[i]
            w = np.exp(b * x[risk])
            mean = (w * x[risk]).sum() / w.sum()
            score += x[i] - mean
            info += (w * x[risk] ** 2).sum() / w.sum() - mean**2
        return score, info

    b = 0.0
    for _ in range(50):
        score, info = derivatives(b)
        b += score / info
    fit = fit_efron(time, event, x[:, None])
    assert fit.coef_[0] == pytest.approx(b, abs=1e-10)
    assert fit.var_[0, 0] == pytest.approx(1 / derivatives(b)[1], rel=1e-9)


# ---- R: coxph (Efron) and cox.zph ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(R_MODELS))
def test_coefficients_and_inference_match_coxph(name: str) -> None:
    _matches_coxph(fit_like_r(name), r_models()[name])


@pytest.mark.parametrize("name", sorted(R_MODELS))
def test_counted_rows_match_coxph_on_the_patients_rows(name: str) -> None:
    # the rows aggregated, each distinct (time, event, covariates) once with its number of
    # patients, as queries/40_metrics/survival_risk_sets.sql gives them
    data, time, event, continuous, categorical = R_MODELS[name]
    frame = dataset(data)
    counted = frame.group_by(time, event, *continuous, *categorical).len("n_patients")
    counted = counted.sort(counted.columns, nulls_last=True)
    options = {"continuous": continuous, "categorical": categorical, "counts": "n_patients"}
    result = cox_ph(counted, time=time, event=event, **options)
    reference = r_models()[name]
    _matches_coxph(result, reference)
    assert result.n_input_ == frame.height
    patient_rows = fit_like_r(name)
    assert result.dropped_missing_ == patient_rows.dropped_missing_
    assert result.references_ == patient_rows.references_
    ph, expected = result.ph_test_, reference["zph"]
    assert close(ph["global"]["chisq"], expected["global"]["chisq"])
    assert close(ph["global"]["p"], expected["global"]["p"])


def test_the_most_frequent_level_counts_patients_not_rows() -> None:
    # b has more rows, a more patients: a is the reference
    frame = pl.DataFrame(
        {
            "t": [1.0, 2.0, 3.0, 4.0, 5.0],
            "e": [1, 0, 1, 1, 0],
            "g": ["a", "b", "b", "b", "a"],
            "n_patients": [5, 1, 1, 1, 4],
        }
    )
    result = cox_ph(frame, time="t", event="e", categorical=["g"], counts="n_patients")
    assert result.references_ == {"g": "a"} and result.n_ == 12 and result.events_ == 7


def _matches_coxph(result, reference: dict) -> None:
    assert result.n_ == reference["n"]
    assert result.events_ == reference["events"]
    assert result.dropped_missing_["total"] == reference["dropped_missing"]
    assert sorted(t.term for t in result.terms_) == sorted(reference["terms"])
    for i, term_name in enumerate(reference["terms"]):
        term = result.term(term_name)
        assert term.coef_ == pytest.approx(reference["coef"][i], abs=COEF_ABS)
        assert close(term.coef_, reference["coef"][i])
        assert close(term.se_, reference["se"][i])
        assert close(term.hr_, reference["hr"][i])
        assert close(term.hr_ci_[0], reference["hr_lower"][i])
        assert close(term.hr_ci_[1], reference["hr_upper"][i])
        assert close(term.z_, reference["z"][i])
        assert close(term.p_, reference["p"][i])
    assert close(result.loglik_[0], reference["loglik"][0])
    assert close(result.loglik_[1], reference["loglik"][1])
    for test in ("likelihood_ratio", "wald", "score"):
        assert close(result.tests_[test]["chisq"], reference["tests"][test]["chisq"])
        assert result.tests_[test]["df"] == reference["tests"][test]["df"]
        assert close(result.tests_[test]["p"], reference["tests"][test]["p"])


@pytest.mark.parametrize("name", sorted(R_MODELS))
def test_proportional_hazards_test_matches_cox_zph(name: str) -> None:
    reference = r_models()[name]["zph"]
    ph = fit_like_r(name).ph_test_
    rows = {row["term"]: row for row in ph["terms"]}
    assert sorted(rows) == sorted(reference["terms"])
    for i, term in enumerate(reference["terms"]):
        assert close(rows[term]["chisq"], reference["chisq"][i])
        assert rows[term]["df"] == reference["df"][i]
        assert close(rows[term]["p"], reference["p"][i])
    assert close(ph["global"]["chisq"], reference["global"]["chisq"])
    assert ph["global"]["df"] == reference["global"]["df"]
    assert close(ph["global"]["p"], reference["global"]["p"])
    assert ph["transform"] == "km"


def test_default_reference_is_the_most_frequent_level() -> None:
    result = fit_like_r("veteran_most_frequent")
    assert result.references_ == {"celltype": "smallcell"}
    assert all(t.reference == "smallcell" for t in result.terms_ if t.covariate == "celltype")


def test_missing_covariates_are_dropped_and_counted() -> None:
    result = fit_like_r("lung_factors")
    lung = dataset("lung")
    missing = {c: lung[c].null_count() for c in ("age", "ph.karno", "wt.loss", "sex", "ph.ecog")}
    assert result.dropped_missing_["by_covariate"] == missing
    assert result.n_input_ == lung.height
    assert result.n_ == lung.height - result.dropped_missing_["total"]


def test_missing_levels_are_configurable() -> None:
    frame = pl.DataFrame(
        {
            "time": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "event": [1, 1, 0, 1, 1, 0, 1, 1],
            "level": ["x", "y", "x", "missing", "unknown", "y", "x", None],
        }
    )
    kept = design_matrix(frame, categorical=["level"])
    assert kept.missing == {"level": 2} and kept.keep.sum() == 6
    dropped = design_matrix(frame, categorical=["level"], missing_levels=("missing", "unknown"))
    assert dropped.missing == {"level": 3} and dropped.keep.sum() == 5
    assert [c for c in dropped.columns] == [("level", "y")]


# ---- edge cases ----------------------------------------------------------------------------


def test_a_level_without_events_is_flagged_infinite() -> None:
    frame = pl.DataFrame(
        {
            "time": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "event": [1, 0, 1, 1, 0, 1, 1, 0, 0, 0],
            "group": ["a", "a", "a", "a", "a", "a", "a", "b", "b", "b"],
            "age": [50.0, 61, 47, 70, 58, 66, 52, 60, 49, 71],
        }
    )
    result = cox_ph(frame, time="time", event="event", continuous=["age"], categorical=["group"])
    assert result.term("group=b").infinite_
    assert not result.term("age").infinite_
    assert result.converged_
    assert any("group=b" in warning for warning in result.warnings_)
    json.dumps(result.to_dict())


def test_collinear_covariates_are_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="singular"):
        fit_efron([1.0, 2, 3, 4], [1, 1, 0, 1], [[1.0, 2.0], [0, 0], [1, 2], [0, 0]])


# ---- aliased coefficients: NA in R's coxph, the rest fitted (r/models.R, models_aliased) ---


def _aliased_fit(name: str):
    if name.startswith("lung_collinear"):
        # 2 age + 1 makes Cholesky fail at beta = 0; 1.1 age leaves a positive pivot of rounding
        # noise, which only R's pivot tolerance (aliased_columns) calls singular
        age2 = 1.1 * pl.col("age") if name.endswith("rounding") else 2 * pl.col("age") + 1
        frame = dataset("lung").with_columns(age2=age2)
        return cox_ph(
            frame, time="time", event="event", continuous=["age", "sex", "age2"], ph_test=False
        )
    return cox_ph(
        dataset("aliased"),
        time="time",
        event="event",
        continuous=["x"],
        categorical={"g": "a"},
        ph_test=False,
    )


@pytest.mark.parametrize(
    "name", ["lung_collinear", "lung_collinear_rounding", "level_without_contrast"]
)
def test_aliased_coefficients_are_left_out_as_coxph_gives_them_na(name: str) -> None:
    stored = json.loads((REFERENCE / "models_aliased.json").read_text(encoding="utf-8"))
    reference = next(m for m in stored["models"] if m["name"] == name)
    result = _aliased_fit(name)
    assert (result.n_, result.events_) == (reference["n"], reference["events"])
    for i, term_name in enumerate(reference["terms"]):
        term = result.term(term_name)
        if reference["coef"][i] is None:
            assert term.aliased_ and math.isnan(term.coef_) and math.isnan(term.hr_)
            assert [item["level"] or item["covariate"] for item in result.left_out_] == [
                term.level or term.covariate
            ]
            continue
        assert not term.aliased_
        assert term.coef_ == pytest.approx(reference["coef"][i], abs=COEF_ABS)
        for ours, r in [
            (term.se_, reference["se"][i]),
            (term.hr_ci_[0], reference["hr_lower"][i]),
            (term.hr_ci_[1], reference["hr_upper"][i]),
            (term.p_, reference["p"][i]),
        ]:
            assert close(ours, r)
    assert close(result.loglik_[0], reference["loglik"][0])
    assert close(result.loglik_[1], reference["loglik"][1])
    for test in ("likelihood_ratio", "wald", "score"):
        assert result.tests_[test]["df"] == reference["tests"][test]["df"]
        assert close(result.tests_[test]["chisq"], reference["tests"][test]["chisq"])
        assert close(result.tests_[test]["p"], reference["tests"][test]["p"])
    assert any("left out of the model" in warning for warning in result.warnings_)
    json.dumps(result.to_dict())


def test_aliased_columns_follow_the_order_of_elimination() -> None:
    info = np.array([[2.0, 1.0, 3.0], [1.0, 2.0, 3.0], [3.0, 3.0, 6.0]])  # col 3 = col 1 + col 2
    assert aliased_columns(info).tolist() == [False, False, True]
    assert aliased_columns(np.zeros((2, 2))).tolist() == [True, True]
    assert aliased_columns(np.eye(2) * 1e-13 + np.diag([1.0, 0.0])).tolist() == [False, True]
    # the tolerance is relative to the largest diagonal element: a covariate on a tiny scale
    # (an information of 1e-13) is not singular, and a collinear column is found at any scale
    assert aliased_columns(np.eye(2) * 1e-13).tolist() == [False, False]
    assert aliased_columns(info * 1e-13).tolist() == [False, False, True]


def test_a_covariate_with_one_value_is_left_out_and_said() -> None:
    frame = dataset("aliased").with_columns(site=pl.lit("S01"))
    result = cox_ph(
        frame, time="time", event="event", continuous=["x"], categorical=["site"], ph_test=False
    )
    assert [t.term for t in result.terms_] == ["x"]
    assert result.left_out_ == [{"covariate": "site", "level": "S01", "reason": "single_level"}]
    assert "site takes one value (S01)" in result.warnings_[-1]
    alone = pl.DataFrame({"t": [1.0, 2.0], "e": [1, 0], "site": ["S01", "S01"]})
    with pytest.raises(AnalysisError, match="nothing to compare: site"):
        cox_ph(alone, time="t", event="e", categorical=["site"])


def test_a_model_with_nothing_estimable_is_an_analysis_error() -> None:
    frame = pl.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 1, 0, 1], "x": [5.0, 5, 5, 5]})
    with pytest.raises(AnalysisError, match="no coefficient of the Cox model is estimable"):
        cox_ph(frame, time="t", event="e", continuous=["x"])


def test_no_event_is_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="at least one event"):
        fit_efron([1.0, 2, 3], [0, 0, 0], [[1.0], [0], [1]])


def test_zph_is_for_right_censored_data_only() -> None:
    fit = fit_efron([2.0, 3, 4, 5], [1, 1, 0, 1], [[1.0], [0], [1], [0]], start=[0, 1, 0, 0])
    with pytest.raises(AnalysisError, match="right-censored"):
        zph_test(fit, {"x": [0]})


def tied_categorical_data(n: int = 3000, seed: int = 11):
    """Right-censored data with many ties and few covariate patterns (two dummies)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    x = np.stack([group == 1, group == 2], axis=1).astype(float)
    time = np.ceil(rng.exponential(12 / np.exp(0.4 * x[:, 0] - 0.3 * x[:, 1])))
    event = rng.random(n) < 0.7
    return time, event, x


def assert_same_fit(a, b) -> None:
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(a.var_, b.var_, rtol=1e-10)
    assert a.loglik_ == pytest.approx(b.loglik_, rel=1e-13)
    assert a.score_test_ == pytest.approx(b.score_test_, rel=1e-11)
    assert (a.n_, a.events_, a.iterations_) == (b.n_, b.events_, b.iterations_)


def test_collapse_rows_counts_the_identical_rows() -> None:
    stop, event, x, start, counts = collapse_rows(
        [2.0, 1, 2, 2, 1], [1, 0, 1, 0, 0], [[1.0], [0], [1], [1], [0]]
    )
    assert start is None
    assert stop.tolist() == [2.0, 1.0, 2.0]
    assert event.tolist() == [True, False, False]
    assert x[:, 0].tolist() == [1.0, 0.0, 1.0]
    assert counts.tolist() == [2.0, 2.0, 1.0]


def test_collapsed_rows_keep_the_order_of_first_appearance() -> None:
    # on enough rows polars groups in parallel, in no fixed order unless told to keep it; the
    # order fixes the order of the floating-point sums, so the same data give the same bytes
    rng = np.random.default_rng(0)
    stop = rng.integers(1, 50, 50_000).astype(float)
    x = rng.integers(0, 40, 50_000).astype(float)
    event = np.ones(50_000, bool)
    first = {}
    for key in zip(stop.tolist(), x.tolist(), strict=True):
        first.setdefault(key, len(first))
    c_stop, _, c_x, _, counts = collapse_rows(stop, event, x)
    assert list(zip(c_stop.tolist(), c_x[:, 0].tolist(), strict=True)) == list(first)
    assert counts.sum() == 50_000


def test_collapsed_rows_give_the_same_fit_and_zph() -> None:
    time, event, x = tied_categorical_data()
    whole = fit_efron(time, event, x)
    counted = fit_efron(time, event, x, collapse=True)
    assert counted.risk_sets.j_stop.size < time.size / 10
    assert_same_fit(counted, whole)
    ph_whole, ph_counted = zph_test(whole, {"g": [0, 1]}), zph_test(counted, {"g": [0, 1]})
    assert ph_counted["global"]["chisq"] == pytest.approx(ph_whole["global"]["chisq"], rel=1e-10)


def test_collapsed_counting_process_rows_give_the_same_fit() -> None:
    time, event, x = tied_categorical_data(seed=12)
    start = np.where(np.arange(time.size) % 3 == 0, np.floor(time / 2), 0.0)
    whole = fit_efron(time, event, x, start=start)
    assert_same_fit(fit_efron(time, event, x, start=start, collapse=True), whole)


# ---- the study's strata --------------------------------------------------------------------


# ---- optional: R itself ----------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("Rscript") is None,
    reason="Rscript is not installed; the tests use the stored reference JSON instead",
)
def test_r_script_reproduces_the_stored_model_references(tmp_path: Path) -> None:
    data, reference = tmp_path / "data", tmp_path / "reference"
    done = subprocess.run(
        ["Rscript", str(R_SCRIPT), str(data), str(reference)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for name in ("lung", "veteran", "ovarian", "counting_process", "aliased"):
        assert (data / f"{name}.csv").read_bytes() == (DATA / f"{name}.csv").read_bytes()
        fresh = json.loads((reference / f"models_{name}.json").read_text(encoding="utf-8"))
        stored = json.loads((REFERENCE / f"models_{name}.json").read_text(encoding="utf-8"))
        assert fresh.pop("survival_version") == stored.pop("survival_version")
        fresh.pop("r_version"), stored.pop("r_version")
        assert same(fresh, stored), f"models_{name}.json is stale: rerun {R_SCRIPT.name}"


def test_coefficients_running_off_until_the_sums_overflow_stop_at_the_last_finite_fit() -> None:
    # 12 patients, 6 events, 10 coefficients (a small registry's adjusted model): the
    # likelihood is monotone in several directions and a full Newton step overflows.
    stop = [21.8809, 5.0924, 18.9897, 24.7392, 9.1992, 9.8891, 2.3326, 7.1622, 24.345, 24.6078,
            2.4312, 8.3121]  # fmt: skip
    event = [1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1]
    # The nine indicator columns of each patient, as bit strings.
    rows = [
        "010000000",
        "100100000",
        "100100010",
        "100010000",
        "000100011",
        "000000100",
        "000010000",
        "000000010",
        "000010110",
        "000000000",
        "000001000",
        "001000000",
    ]
    dummies = [[int(bit) for bit in row] for row in rows]
    age = [37, 39, 51, 50, 54, 68, 67, 67, 39, 52, 62, 74]
    x = np.column_stack([np.array(dummies, float), np.array(age, float)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_efron(stop, event, x)
    assert np.isfinite(fit.loglik_[1]) and np.isfinite(fit.var_).all()
    assert fit.infinite_.any()
    assert fit.loglik_[1] > fit.loglik_[0]


def test_a_fit_with_an_aliased_column_equals_the_fit_without_it() -> None:
    # R's coxph: the NA coefficient aside, the fit is the model without the aliased column.
    frame = dataset("aliased").with_columns(x2=3 * pl.col("x") - 1)
    options = {"time": "time", "event": "event", "categorical": {"g": "a"}}
    with_alias = cox_ph(frame, continuous=["x", "x2"], **options)
    without = cox_ph(frame, continuous=["x"], **options)
    assert [t.term for t in with_alias.terms_ if t.aliased_] == ["g=c", "x2"]
    assert with_alias.covariate_tests_ == without.covariate_tests_
    assert with_alias.tests_ == without.tests_
    assert with_alias.ph_test_ == without.ph_test_
    fitted = [t.to_dict() for t in with_alias.terms_ if not t.aliased_]
    assert fitted == [t.to_dict() for t in without.terms_ if not t.aliased_]


def test_an_aliased_counting_process_model_is_refitted_on_the_same_intervals() -> None:
    frame = dataset("counting_process").with_columns(age_twice=2 * pl.col("age") + 1)
    design = design_matrix(frame, continuous=["age", "age_twice"], categorical=["group"])
    stop, event, start = (frame[c].to_numpy() for c in ("tstop", "event", "tstart"))
    fit, aliased, left_out = fit_estimable(stop, event, design, start=start)
    assert aliased.tolist() == [False, False, False, True]  # two group columns, age, age_twice
    assert left_out == [{"covariate": "age_twice", "level": None, "reason": "aliased"}]
    alone = fit_efron(stop, event, design.matrix[:, :3], start=start)
    np.testing.assert_allclose(fit.coef_, alone.coef_, rtol=1e-12)
    np.testing.assert_allclose(fit.var_, alone.var_, rtol=1e-12)


def test_wald_terms_by_hand() -> None:
    # Coefficients 1 (se 0.5, infinite) and 2 (se 1) for g=b and x, g=c aliased between them:
    # z = 2, p = erfc(2 / sqrt 2) = 0.0455; HR e^2, CI e^(2 ± 1.959964)
    from types import SimpleNamespace

    fit = SimpleNamespace(
        coef_=np.array([1.0, 2.0]), var_=np.diag([0.25, 1.0]), infinite_=np.array([True, False])
    )
    columns = [("g", "b"), ("g", "c"), ("x", None)]
    b, c, x = wald_terms(
        fit, columns, {"g": "a"}, {"b": "B", "c": "C"}, aliased=np.array([False, True, False])
    )
    assert (b.term, b.reference, b.label, b.infinite_, b.aliased_) == ("g=b", "a", "B", True, False)
    assert (c.term, c.label, c.infinite_, c.aliased_) == ("g=c", "C", False, True)
    assert all(math.isnan(v) for v in (c.coef_, c.se_, c.hr_, *c.hr_ci_, c.z_, c.p_))
    assert (x.term, x.reference, x.label, x.infinite_) == ("x", None, None, False)
    assert (x.coef_, x.se_, x.z_) == (2.0, 1.0, 2.0)
    assert x.p_ == pytest.approx(0.04550026389635842, rel=1e-12)
    assert x.hr_ == pytest.approx(math.exp(2.0), rel=1e-12)
    z = 1.959963984540054
    assert x.hr_ci_ == pytest.approx((math.exp(2.0 - z), math.exp(2.0 + z)), rel=1e-12)
    assert b.z_ == 2.0 and b.p_ == x.p_


def test_a_chi_square_that_cannot_be_computed_has_no_p() -> None:
    assert _chisq_row("age", float("inf"), 1)["p"] is None
    assert _chisq_row("age", float("nan"), 1)["p"] is None
    assert _chisq_row("age", 3.841458820694124, 1) == {
        "term": "age",
        "chisq": 3.841458820694124,
        "df": 1,
        "p": pytest.approx(0.05, rel=1e-12),
    }
