"""lifelines as a second, independent oracle of the survival engine (R's survival package is the
first: ``r/`` and ``reference/``).

Every quantity where lifelines follows R's definitions is compared on the reference datasets of
``km_reference`` and on the demo's ADTTE: Kaplan–Meier S(t) with its log-log CI, the numbers at
risk, the k-group and pairwise log-rank tests, the RMST estimate, reverse-KM follow-up, and Cox
and counting-process Cox coefficients. Where lifelines does not follow R, a test pins the
difference as measured, so that the README's list of them stays true.
"""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from km_reference import analyses, data, group_names

from toolkit.survival import (
    kaplan_meier,
    logrank_test,
    median_followup,
    pairwise_logrank,
    rmst,
)
from toolkit.survival.cox import design_matrix
from toolkit.survival.cox_engine import fit_efron

HERE = Path(__file__).resolve().parent

#: Both compute the same closed forms in floating point.
ATOL = 1e-12


def _lifelines_km(time: np.ndarray, event: np.ndarray):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(time, event)


def _subsets(name: str):
    """(label, time, event) of all patients and of each group of an analysis."""
    time, event, groups = data(name)
    yield "all", time, event
    for group in sorted(set(groups)) if groups is not None else []:
        yield group, time[groups == group], event[groups == group]


def _values(entries: list[dict], key: str, index: int | None = None) -> np.ndarray:
    picked = [e[key] if index is None else e[key][index] for e in entries]
    return np.array([np.nan if v is None else v for v in picked], dtype=float)


# From the stored references, not the data: reading CSV files with polars while the tests are
# collected would start its thread pool, which does not survive the fork of a mutation run.
CASES = [(name, label) for name in analyses() for label in ["all", *group_names(name)]]


@pytest.mark.parametrize(("name", "label"), CASES)
def test_km_survival_and_log_log_ci_equal_lifelines(name: str, label: str) -> None:
    (time, event) = next((t, e) for g, t, e in _subsets(name) if g == label)
    theirs = _lifelines_km(time, event)
    times = theirs.survival_function_.index.to_numpy()
    ours = kaplan_meier(time, event, at_times=tuple(times)).survival_at_
    np.testing.assert_allclose(
        _values(ours, "estimate"), theirs.survival_function_.iloc[:, 0], atol=ATOL, rtol=0
    )
    band = theirs.confidence_interval_.to_numpy()
    # S(t) = 1: lifelines gives the limits 1, and so do we (R gives NA for log-log). S(t) = 0:
    # lifelines gives 0 and 0, R NA and we None: the log-log limits are undefined there
    positive = theirs.survival_function_.iloc[:, 0].to_numpy() > 0
    for side in (0, 1):
        limits = _values(ours, "ci", side)
        np.testing.assert_allclose(limits[positive], band[positive, side], atol=ATOL, rtol=0)
        assert np.isnan(limits[~positive]).all() and (band[~positive, side] == 0).all()


@pytest.mark.parametrize(("name", "label"), CASES)
def test_numbers_at_risk_equal_lifelines(name: str, label: str) -> None:
    (time, event) = next((t, e) for g, t, e in _subsets(name) if g == label)
    table = _lifelines_km(time, event).event_table
    ours = kaplan_meier(time, event, at_times=tuple(table.index)).survival_at_
    assert [e["at_risk"] for e in ours] == table["at_risk"].tolist()


GROUPED = [name for name in analyses() if analyses()[name].get("logrank")]


@pytest.mark.parametrize("name", GROUPED)
def test_logrank_k_groups_and_pairwise_equal_lifelines(name: str) -> None:
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test

    time, event, groups = data(name)
    ours = logrank_test(time, event, groups)
    theirs = multivariate_logrank_test(time, groups, event)
    assert ours.statistic_ == pytest.approx(theirs.test_statistic, rel=1e-12)
    assert ours.df_ == theirs.degrees_of_freedom
    assert ours.p_ == pytest.approx(theirs.p_value, rel=1e-9, abs=1e-15)
    summary = pairwise_logrank_test(time, groups, event).summary
    pairs = pairwise_logrank(time, event, groups).pairs_
    assert len(pairs) == len(summary)
    for pair in pairs:
        row = summary.loc[tuple(pair["groups"])]
        assert pair["statistic"] == pytest.approx(row["test_statistic"], rel=1e-12)
        assert pair["p"] == pytest.approx(row["p"], rel=1e-9, abs=1e-15)  # before Holm's


@pytest.mark.parametrize(("name", "label"), CASES)
def test_rmst_estimate_equals_lifelines(name: str, label: str) -> None:
    from lifelines.utils import restricted_mean_survival_time

    (time, event) = next((t, e) for g, t, e in _subsets(name) if g == label)
    tau = float(analyses()[name]["tau"])
    expected = restricted_mean_survival_time(_lifelines_km(time, event), t=tau)
    assert rmst(time, event, tau).rmst_ == pytest.approx(expected, rel=1e-12, abs=ATOL)


def test_lifelines_rmst_variance_is_not_the_estimators() -> None:
    # lifelines' return_variance gives the variance of min(T, tau) of one patient (its
    # integral of 2 t S(t) minus the squared mean), not the variance of the estimate that R's
    # survfit rmean, survRM2 and we report (lifelines issue #1682): 51,604 against 263 on lung
    from lifelines.utils import restricted_mean_survival_time

    time, event, _ = data("lung_sex")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its numerical integration warns
        _, variance = restricted_mean_survival_time(
            _lifelines_km(time, event), t=730.0, return_variance=True
        )
    ours = rmst(time, event, 730.0)
    assert ours.se_**2 == pytest.approx(263.067, rel=1e-5)
    assert variance == pytest.approx(51604.48, rel=1e-5)


FOLLOW_UP = [name for name in analyses() if name != "edge_half_last"]


@pytest.mark.parametrize("name", FOLLOW_UP)
def test_reverse_km_follow_up_equals_lifelines(name: str) -> None:
    time, event, _ = data(name)
    theirs = _lifelines_km(time, 1 - event.astype(int)).median_survival_time_
    ours = median_followup(time, event).median_
    assert (np.inf if ours is None else ours) == theirs


def test_medians_where_survival_is_flat_at_one_half_differ() -> None:
    # lifelines' median is the first time S(t) < 0.5; R's (and ours) is the first time
    # S(t) <= 0.5, or the midpoint to the next event time where S(t) is exactly 0.5 on an
    # interval, and quantile()'s rule where S(t) = 0.5 to the end (tests/survival/
    # test_kaplan_meier.py). 0.5 = 3/6 and 2/4 are exact in floating point.
    for name, ours_median, lifelines_median in [
        ("edge_half_interval", 4.0, 5.0),
        ("edge_half_last", 3.0, 2.0),
    ]:
        time, event, _ = data(name)
        assert kaplan_meier(time, event).median_ == ours_median
        assert _lifelines_km(time, event).median_survival_time_ == lifelines_median
        assert analyses()[name]["fits"]["log-log"]["overall"]["quantile"]["time"][1] == ours_median
    # the same rule on the reverse KM: follow-up flat at 0.5 from 3 to the last time 4
    time, event, _ = data("edge_half_last")
    assert (
        median_followup(time, event).median_
        == 3.5
        == analyses()["edge_half_last"]["followup"]["log-log"]["median"]
    )
    assert _lifelines_km(time, 1 - event.astype(int)).median_survival_time_ == 3.0


def test_a_survival_of_one_half_up_to_rounding_is_one_half() -> None:
    # S(11) = 5/6 · 4/5 · 3/4 = 1/2 is 0.5000000000000001 in floating point. R's survfit
    # compares with a tolerance, as we do: the midpoint (11 + 13) / 2 = 12. lifelines compares
    # exactly and takes 13, the first time S falls below.
    time, event = [7.0, 9.0, 13.0, 2.0, 11.0, 13.0, 13.0], [1, 1, 1, 0, 1, 1, 1]
    theirs = _lifelines_km(np.array(time), np.array(event))
    assert theirs.survival_function_.loc[11.0].iloc[0] == 0.5000000000000001
    assert theirs.median_survival_time_ == 13.0
    assert kaplan_meier(time, event).median_ == 12.0


def test_lifelines_ph_test_is_not_cox_zph() -> None:
    # lifelines' proportional_hazard_test (KM time transform) is the approximation cox.zph
    # used before survival 3.0; R's survival 3.5-3 (and ours: test_cox.py) give the score test
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    frame = (
        pl.read_csv(HERE / "data" / "lung.csv", null_values="NA")
        .select("time", "event", "age", "sex", "ph.ecog")
        .drop_nulls()
        .to_pandas()
    )
    fitter = CoxPHFitter().fit(frame, "time", "event")
    theirs = proportional_hazard_test(fitter, frame, time_transform="km").summary
    r_zph = json.loads((HERE / "reference" / "models_lung.json").read_text(encoding="utf-8"))
    (model,) = [m for m in r_zph["models"] if m["name"] == "lung_continuous"]
    assert model["zph"]["terms"][0] == "age"
    assert model["zph"]["chisq"][0] == pytest.approx(0.18799, rel=1e-4)
    assert theirs.loc["age", "test_statistic"] == pytest.approx(0.02866, rel=1e-3)


def test_median_ci_where_survival_reaches_zero_differs() -> None:
    # edge_ties: S(t) reaches 0 at t = 6, where the log-log limits are undefined. R and we
    # leave the upper limit of the median open (NA / None); lifelines closes it at 6
    from lifelines.utils import median_survival_times

    time, event, _ = data("edge_ties")
    theirs = median_survival_times(_lifelines_km(time, event).confidence_interval_)
    assert theirs.to_numpy().tolist() == [[1.0, 6.0]]
    assert kaplan_meier(time, event).median_ci_ == (1.0, None)
    printed = analyses()["edge_ties"]["fits"]["log-log"]["overall"]["print"]
    assert (printed["lower"], printed["upper"]) == (1, None)


# ---- Cox -----------------------------------------------------------------------------------


def _lifelines_cox(time: np.ndarray, event: np.ndarray, x: np.ndarray):
    from lifelines import CoxPHFitter

    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    frame["T"], frame["E"] = time, event
    return CoxPHFitter().fit(frame, "T", "E", fit_options={"precision": 1e-12})


COX_DATA = {
    "lung": ("time", "event", ["age", "ph.karno", "wt.loss"], {"sex": "1", "ph.ecog": "0"}),
    "veteran": ("time", "status", ["karno", "age"], {"celltype": None, "trt": None}),
    "ovarian": ("futime", "fustat", ["age"], {"rx": None, "resid.ds": None}),
}


@pytest.mark.parametrize("name", sorted(COX_DATA))
def test_cox_coefficients_equal_lifelines(name: str) -> None:
    time, event, continuous, categorical = COX_DATA[name]
    frame = pl.read_csv(HERE / "data" / f"{name}.csv", null_values="NA")
    design = design_matrix(frame, continuous=continuous, categorical=categorical)
    used = frame.filter(pl.Series(design.keep))
    t, e = used[time].to_numpy(), used[event].to_numpy() == 1
    ours = fit_efron(t, e, design.matrix)
    theirs = _lifelines_cox(t, e, design.matrix)
    np.testing.assert_allclose(ours.coef_, theirs.params_, atol=1e-7, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.var_)), theirs.standard_errors_, rtol=1e-6)
    assert ours.loglik_[1] == pytest.approx(theirs.log_likelihood_, rel=1e-10)


def test_cox_on_5000_patients_with_many_ties_equals_lifelines() -> None:
    rng = np.random.default_rng(11)
    n = 5000
    x = np.column_stack(
        [rng.normal(60, 10, n), rng.integers(0, 2, n), rng.integers(0, 3, n) == 1]
    ).astype(float)
    hazard = np.exp(x @ np.array([0.02, -0.4, 0.3]) - 2.5)
    time, censor = np.ceil(rng.exponential(1 / hazard)), np.ceil(rng.uniform(1, 40, n))
    stop, event = np.minimum(time, censor), time <= censor
    ours, theirs = fit_efron(stop, event, x), _lifelines_cox(stop, event, x)
    np.testing.assert_allclose(ours.coef_, theirs.params_, atol=1e-7, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.var_)), theirs.standard_errors_, rtol=1e-6)


def test_counting_process_cox_equals_lifelines() -> None:
    from lifelines import CoxTimeVaryingFitter

    frame = pl.read_csv(HERE / "data" / "counting_process.csv")
    design = design_matrix(frame, continuous=["age"], categorical={"group": "a", "sex": "F"})
    start, stop = frame["tstart"].to_numpy(), frame["tstop"].to_numpy()
    event = frame["event"].to_numpy() == 1
    ours = fit_efron(stop, event, design.matrix, start=start)
    rows = pd.DataFrame(design.matrix, columns=[f"x{i}" for i in range(design.matrix.shape[1])])
    rows["id"], rows["start"], rows["stop"], rows["event"] = frame["id"], start, stop, event
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its convergence messages
        theirs = CoxTimeVaryingFitter().fit(rows, id_col="id", event_col="event")
    np.testing.assert_allclose(ours.coef_, theirs.params_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.var_)), theirs.standard_errors_, rtol=1e-5)
    assert ours.loglik_[1] == pytest.approx(theirs.log_likelihood_, rel=1e-9)


# ---- the demo's ADTTE ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_adtte(demo_dir: Path) -> pl.DataFrame:
    from toolkit.cohort import build_cohort
    from toolkit.ingest import connect
    from toolkit.study import builtin_study_path, load_study

    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        return build_cohort(con, load_study(builtin_study_path()), date(2015, 3, 16)).adtte
    finally:
        con.close()


def test_the_demo_strata_agree_with_lifelines(demo_adtte: pl.DataFrame) -> None:
    from lifelines.statistics import multivariate_logrank_test
    from lifelines.utils import restricted_mean_survival_time

    time, event = demo_adtte["aval"].to_numpy(), demo_adtte["is_event"].to_numpy()
    strata = demo_adtte["stratum_key"].to_numpy()
    for key in sorted(set(strata)):
        t, e = time[strata == key], event[strata == key]
        theirs = _lifelines_km(t, e)
        at = tuple(theirs.survival_function_.index)
        ours = kaplan_meier(t, e, at_times=at).survival_at_
        np.testing.assert_allclose(
            _values(ours, "estimate"), theirs.survival_function_.iloc[:, 0], atol=ATOL, rtol=0
        )
        positive = theirs.survival_function_.iloc[:, 0].to_numpy() > 0
        np.testing.assert_allclose(
            _values(ours, "ci", 0)[positive],
            theirs.confidence_interval_.iloc[:, 0].to_numpy()[positive],
            atol=ATOL,
            rtol=0,
        )
        assert [r["at_risk"] for r in ours] == theirs.event_table["at_risk"].tolist()
        expected = restricted_mean_survival_time(theirs, t=12.0)
        assert rmst(t, e, 12.0).rmst_ == pytest.approx(expected, rel=1e-12)
    ours_test = logrank_test(time, event, strata)
    theirs_test = multivariate_logrank_test(time, strata, event)
    assert ours_test.statistic_ == pytest.approx(theirs_test.test_statistic, rel=1e-12)
    design = design_matrix(demo_adtte, categorical={"stratum_key": "il2_only"})
    cox = fit_efron(time, event, design.matrix)
    np.testing.assert_allclose(
        cox.coef_, _lifelines_cox(time, event, design.matrix).params_, atol=1e-7, rtol=0
    )


def test_a_lifelines_fit_changes_numpy_error_state_which_the_suite_restores() -> None:
    # why tests/conftest.py saves numpy's error state around every test
    before = np.geterr()
    _lifelines_km(np.array([1.0, 2.0, 3.0]), np.array([1, 0, 1]))
    assert np.geterr() != before
