"""Competing risks against R (stored references), lifelines, a brute-force oracle, and by hand.

The reference values were written by ``r/competing_risks.R`` into
``reference/competing_risks.json`` from the CSV files it exported into ``data/``
(``competing_edge``, ``mgus2``, ``competing_sim``); the tests read them and never need R,
except the last one, which reruns the script where R and cmprsk are installed.

Tolerances, and why:

- ``ESTIMATE`` (1e-12 relative): F(t), S(t) and the CI limits are a few products and sums; they
  agree with R to 1e-15 on every reference (floating-point reordering only).
- ``VARIANCE`` (1e-10 relative): the standard errors agree to 1e-15 here, but our closed-form
  infinitesimal jackknife expands Σ (α + β F)² into cumulative sums, which cancels digits as n
  grows: 8e-13 against R at 10⁵ patients with distinct times. 1e-10 leaves room for that.
- ``TEST`` (1e-10 relative): Gray's statistic agrees to 1e-14; p-values to 1e-8 relative,
  because R's ``1 - pchisq()`` loses digits as p falls (7e-12 relative at p = 6e-6).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from km_reference import same

from toolkit.survival import (
    CumulativeIncidence,
    aalen_johansen,
    aalen_johansen_by_group,
    cif_confidence_limits,
    gray_test,
    incidence_rate,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REFERENCE = HERE / "reference" / "competing_risks.json"
R_SCRIPT = HERE / "r" / "competing_risks.R"
DATASETS = ("competing_edge", "mgus2", "competing_sim")

ESTIMATE = 1e-12
VARIANCE = 1e-10
TEST = 1e-10
P_VALUE = 1e-8


@cache
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def analysis(name: str) -> dict:
    (found,) = [a for a in reference()["analyses"] if a["name"] == name]
    return found


@cache
def frame(name: str) -> pl.DataFrame:
    spec = analysis(name)
    data = pl.read_csv(DATA / f"{spec['dataset']}.csv")
    return data if spec["case"] is None else data.filter(pl.col("case") == spec["case"])


def columns(name: str, group: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Time and status of an analysis (of one group), as read from its CSV."""
    spec, data = analysis(name), frame(name)
    if group is not None:
        data = data.filter(pl.col(spec["group_column"]).cast(pl.Utf8) == group)
    return data[spec["time_column"]].to_numpy(), data[spec["status_column"]].to_numpy()


def values(x: list) -> np.ndarray:
    """R's values with NA (null) as NaN."""
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def assert_close(ours: np.ndarray, theirs: list, rel: float, what: str = "") -> None:
    np.testing.assert_allclose(ours, values(theirs), rtol=rel, atol=1e-15, err_msg=what)


def expected_limits(cif: np.ndarray, limits: list) -> np.ndarray:
    """R's CI limits, where R gives NA (F = 0; F = 1 for log-log) F itself, as ours."""
    r = values(limits)
    missing = np.isnan(r)
    assert np.isin(cif[missing], (0.0, 1.0)).all(), "R has NA where F is neither 0 nor 1"
    return np.where(missing, cif, r)


CURVES = [
    (a["name"], int(cause), conf_type)
    for a in reference()["analyses"]
    for cause in a["causes"]
    for conf_type in a["conf_types"]
]
GROUP_FITS = [
    (a["name"], int(cause), group)
    for a in reference()["analyses"]
    for cause in a["causes"]
    for group in a["fits"][str(cause)].get("groups", {})
]
GRAY = [
    (a["name"], i, j)
    for a in reference()["analyses"]
    for i, test in enumerate(a.get("gray", []))
    for j in range(len(test["causes"]))
]


def ids(case: tuple) -> str:
    return "-".join(str(x) for x in case)


# ---- the Aalen–Johansen estimate against R's survfit (multi-state) -------------------------


@pytest.mark.parametrize("case", CURVES, ids=ids)
def test_curve_matches_survfit_at_every_time(case: tuple) -> None:
    name, cause, conf_type = case
    r = analysis(name)["fits"][str(cause)]["overall"]["survfit"]
    fit = aalen_johansen(*columns(name), cause=cause, conf_type=conf_type)
    np.testing.assert_array_equal(fit.time_, r["time"])
    np.testing.assert_array_equal(fit.at_risk_, r["n_risk"])
    np.testing.assert_array_equal(fit.events_[:, fit.causes.index(cause)], r["n_event"])
    np.testing.assert_array_equal(fit.censored_, r["n_censor"])
    assert_close(fit.cif_, r["pstate"], ESTIMATE, "pstate")
    assert_close(fit.survival_, r["survival"], ESTIMATE, "S(t)")
    assert_close(fit.se_, r["std_err"], VARIANCE, "std.err")
    for side in ("lower", "upper"):
        expected = expected_limits(fit.cif_, r["ci"][conf_type][side])
        np.testing.assert_allclose(getattr(fit, f"ci_{side}_"), expected, rtol=ESTIMATE, atol=1e-15)


def check_at_times(fit: CumulativeIncidence, r: dict, conf_type: str) -> None:
    """Our values at R's ``summary(fit, times, extend = TRUE)`` times against R's.

    After the last time R carries the last value forward; we do so only where no one was left
    event-free (S = 0), and otherwise say the value is unknown (NaN)."""
    at = fit.at(r["time"])
    unknown = (at["time"] > fit.time_[-1]) & (fit.survival_[-1] > 0)
    assert np.isnan(at["cif"][unknown]).all()
    known = ~unknown
    np.testing.assert_array_equal(at["at_risk"], r["n_risk"])
    assert_close(at["cif"][known], list(values(r["pstate"])[known]), ESTIMATE)
    assert_close(at["se"][known], list(values(r["std_err"])[known]), VARIANCE)
    if conf_type in r["ci"]:  # summary() mangles R's arcsin limits
        for side in ("lower", "upper"):
            limits = list(values(r["ci"][conf_type][side])[known])
            expected = expected_limits(at["cif"][known], limits)
            ours = at[f"ci_{side}"][known]
            np.testing.assert_allclose(ours, expected, rtol=ESTIMATE, atol=1e-15)


@pytest.mark.parametrize("case", CURVES, ids=ids)
def test_values_at_times_match_summary(case: tuple) -> None:
    """Before the first event, between and at event times, and after the last time."""
    name, cause, conf_type = case
    r = analysis(name)["fits"][str(cause)]["overall"]["survfit"]["at"]
    fit = aalen_johansen(*columns(name), cause=cause, conf_type=conf_type, times=r["time"])
    check_at_times(fit, r, conf_type)
    for key in ("cif", "se", "ci_lower", "ci_upper", "at_risk"):
        np.testing.assert_array_equal(fit.at_times_[key], fit.at(r["time"])[key])


def test_a_time_after_a_censored_end_is_unknown_but_r_extends_it() -> None:
    """edge_ties ends at t = 7 with a censoring above S = 0; R's extend = TRUE says 0.5357 at
    t = 8, we say unknown."""
    r = analysis("edge_ties")["fits"]["1"]["overall"]["survfit"]["at"]
    assert r["time"][-1] == 8 and r["pstate"][-1] == pytest.approx(0.5357142857142857)
    fit = aalen_johansen(*columns("edge_ties"), times=[7, 8])
    assert fit.at_times_["cif"][0] == pytest.approx(0.5357142857142857)
    assert math.isnan(fit.at_times_["cif"][1]) and fit.at_times_["at_risk"][1] == 0


@pytest.mark.parametrize("case", GROUP_FITS, ids=ids)
def test_each_group_matches_survfit_at_times(case: tuple) -> None:
    name, cause, group = case
    r = analysis(name)["fits"][str(cause)]["groups"][group]["survfit"]["at"]
    check_at_times(aalen_johansen(*columns(name, group), cause=cause), r, "log-log")


def test_by_group_equals_one_fit_per_group() -> None:
    time, status = columns("sim_group")
    group = frame("sim_group")["group"].to_numpy()
    fits = aalen_johansen_by_group(time, status, group, cause=2, times=(6, 12))
    assert list(fits) == ["A", "B", "C"]
    for label, fit in fits.items():
        alone = aalen_johansen(time[group == label], status[group == label], cause=2, times=(6, 12))
        assert json.dumps(fit.to_dict()) == json.dumps(alone.to_dict())


# ---- the delta-method variance against cmprsk::cuminc ----------------------------------------


@pytest.mark.parametrize("case", CURVES, ids=ids)
def test_delta_variance_matches_cuminc(case: tuple) -> None:
    """cuminc's corners: x = (0, t₁, t₁, t₂, t₂, …, last); the new value at t_j is the second
    of each pair. Its CI is R's survfit_confint() on sqrt(var)."""
    name, cause, conf_type = case
    r = analysis(name)["fits"][str(cause)]["overall"]["cuminc"]
    fit = aalen_johansen(*columns(name), cause=cause, conf_type=conf_type, variance="delta")
    corners = slice(2, -1, 2)
    at = fit.at(r["time"][corners])
    assert_close(at["cif"], r["est"][corners], ESTIMATE, "est")
    assert_close(at["se"] ** 2, r["var"][corners], VARIANCE, "var")
    for side in ("lower", "upper"):
        expected = expected_limits(at["cif"], r["ci"][conf_type][side][corners])
        np.testing.assert_allclose(at[f"ci_{side}"], expected, rtol=ESTIMATE, atol=1e-15)
    points = fit.at(r["at"]["time"])
    assert_close(points["cif"], r["at"]["est"], ESTIMATE, "timepoints est")
    assert_close(points["se"] ** 2, r["at"]["var"], VARIANCE, "timepoints var")


@pytest.mark.parametrize("case", GROUP_FITS, ids=ids)
def test_delta_variance_of_each_group_matches_timepoints(case: tuple) -> None:
    name, cause, group = case
    r = analysis(name)["fits"][str(cause)]["groups"][group]["cuminc"]
    if r is None:  # no event of the cause in the group: cuminc has no curve
        return
    fit = aalen_johansen(*columns(name, group), cause=cause, variance="delta")
    points = fit.at(r["at"]["time"])
    assert_close(points["cif"], r["at"]["est"], ESTIMATE)
    assert_close(points["se"] ** 2, r["at"]["var"], VARIANCE)


# ---- Gray's test against cmprsk::cuminc(...)$Tests -----------------------------------------


@pytest.mark.parametrize("case", GRAY, ids=ids)
def test_gray_matches_cuminc_tests(case: tuple) -> None:
    name, i, j = case
    spec, data = analysis(name), frame(name)
    r = spec["gray"][i]
    strata = data[spec["strata_column"]].to_numpy() if r["stratified"] else None
    result = gray_test(
        *columns(name),
        data[spec["group_column"]].to_numpy(),
        cause=int(r["causes"][j]),
        rho=r["rho"],
        strata=strata,
    )
    assert result.df_ == r["df"][j]
    assert result.statistic_ == pytest.approx(r["stat"][j], rel=TEST)
    assert result.p_ == pytest.approx(r["pv"][j], rel=P_VALUE, abs=1e-15)


def test_gray_reports_groups_counts_and_scores() -> None:
    time, status = columns("sim_group")
    group = frame("sim_group")["group"].to_numpy()
    result = gray_test(time, status, group, cause=1)
    assert result.groups == ("A", "B", "C")
    assert sum(result.n) == time.size
    assert list(result.events) == [int(((group == g) & (status == 1)).sum()) for g in "ABC"]
    assert len(result.score_) == 2 and len(result.covariance_) == 2
    score, cov = np.array(result.score_), np.array(result.covariance_)
    assert score @ np.linalg.solve(cov, score) == pytest.approx(result.statistic_)
    json.dumps(result.to_dict(), allow_nan=False)


def test_gray_with_a_group_never_at_risk_at_an_event_has_no_statistic() -> None:
    """Group B is censored before the first event: V is singular, cuminc's stat is -1."""
    result = gray_test([1, 2, 3, 0.5, 0.5], [1, 2, 1, 0, 0], list("AAABB"))
    assert result.statistic_ is None and result.p_ is None
    assert result.covariance_ == ((0.0,),)


def test_gray_needs_two_groups() -> None:
    with pytest.raises(ValueError, match="at least two groups"):
        gray_test([1, 2, 3], [1, 2, 0], ["a", "a", "a"])
    with pytest.raises(ValueError, match="group and time differ in length"):
        gray_test([1, 2, 3], [1, 2, 0], ["a", "b"])


# ---- the incidence rate against poisson.test ---------------------------------------------------


@pytest.mark.parametrize(
    "case", reference()["poisson"], ids=lambda c: f"{c['events']}-{c['person_time']}"
)
def test_incidence_rate_ci_matches_poisson_test(case: dict) -> None:
    ours = incidence_rate(
        case["events"], case["person_time"], per=1.0, conf_level=case["conf_level"]
    )
    assert ours.rate_ == pytest.approx(case["rate"], rel=ESTIMATE)
    assert ours.ci_[0] == pytest.approx(case["lower"], rel=ESTIMATE, abs=1e-300)
    assert ours.ci_[1] == pytest.approx(case["upper"], rel=ESTIMATE)


def test_incidence_rate_per_100_patient_years() -> None:
    """12 events in 60 patient-years: 20 per 100 patient-years; 0 events: lower limit 0 and
    upper −log(0.025) = 3.689 events."""
    rate = incidence_rate(12, 60.0)
    assert rate.rate_ == pytest.approx(20.0)
    assert rate.ci_[0] < 20.0 < rate.ci_[1]
    none = incidence_rate(0, 100.0)
    assert none.rate_ == 0.0 and none.ci_[0] == 0.0
    assert none.ci_[1] == pytest.approx(-math.log(0.025), rel=1e-12)
    out = rate.to_dict()
    assert out["rate"] == pytest.approx(20.0) and "Garwood" in out["method"]


@pytest.mark.parametrize(
    "events, person_time, per, message",
    [
        (-1, 10.0, 100.0, "events must be a non-negative integer"),
        (1.5, 10.0, 100.0, "events must be a non-negative integer"),
        (3, 0.0, 100.0, "person_time must be positive"),
        (3, math.nan, 100.0, "person_time must be positive"),
        (3, 10.0, -1.0, "per must be positive"),
    ],
)
def test_invalid_incidence_rate_input_is_a_value_error(events, person_time, per, message) -> None:
    with pytest.raises(ValueError, match=message):
        incidence_rate(events, person_time, per=per)


def test_incidence_rate_refuses_a_confidence_level_outside_0_1() -> None:
    with pytest.raises(ValueError, match="conf_level"):
        incidence_rate(3, 10.0, conf_level=95)


# ---- a second and a third oracle ----------------------------------------------------------------


def brute_force_influence(time: np.ndarray, status: np.ndarray, cause: int) -> np.ndarray:
    """Each patient's derivative of F(t) at every distinct time, by R's recursion (the chain
    rule through p(t) = p(t−) (I + dA), one distinct time at a time): O(patients × times)."""
    times = np.unique(time)
    n = time.size
    s_prev, f_prev = 1.0, 0.0
    u_s, u_f = np.zeros(n), np.zeros(n)
    out = np.zeros((n, times.size))
    for j, t in enumerate(times):
        at_risk = time >= t
        leaving = time == t
        r = at_risk.sum()
        d = (leaving & (status > 0)).sum()
        dk = (leaving & (status == cause)).sum()
        dh = ((leaving & (status > 0)) - at_risk * d / r) / r  # derivative of d / n
        dhk = ((leaving & (status == cause)) - at_risk * dk / r) / r
        u_f = u_f + u_s * dk / r + s_prev * dhk
        u_s = u_s * (1 - d / r) - s_prev * dh
        f_prev, s_prev = f_prev + s_prev * dk / r, s_prev * (1 - d / r)
        out[:, j] = u_f
    return out


def test_closed_form_jackknife_equals_the_brute_force_influence() -> None:
    rng = np.random.default_rng(11)
    time = rng.integers(0, 40, 400).astype(float)  # heavy ties, time 0 included
    status = rng.choice([0, 1, 2, 3], 400, p=[0.3, 0.3, 0.3, 0.1])
    time[:5], status[:5] = 39.0, 1  # events at the last time
    for cause in (1, 3):
        influence = brute_force_influence(time, status, cause)
        fit = aalen_johansen(time, status, cause=cause)
        np.testing.assert_allclose(fit.se_, np.sqrt((influence**2).sum(axis=0)), rtol=1e-11)


def test_untied_data_agrees_with_lifelines() -> None:
    """lifelines' AalenJohansenFitter jitters tied times; without ties it is the same CIF, and
    its variance is the infinitesimal jackknife's."""
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(5)
    time = rng.exponential(12.0, 500)
    status = rng.choice([0, 1, 2], 500, p=[0.4, 0.3, 0.3])
    theirs = AalenJohansenFitter(calculate_variance=True).fit(time, status, event_of_interest=1)
    grid = theirs.cumulative_density_.index.to_numpy()
    ours = aalen_johansen(time, status, cause=1).at(grid)
    np.testing.assert_allclose(ours["cif"], theirs.cumulative_density_.iloc[:, 0], rtol=1e-12)
    variance = theirs.variance_.to_numpy()
    finite = np.isfinite(variance)  # lifelines: NaN once S(t) = 0
    assert finite[:-1].all()
    np.testing.assert_allclose(ours["se"][finite] ** 2, variance[finite], rtol=1e-9, atol=1e-16)


# ---- edge cases by hand ---------------------------------------------------------------------


def test_no_event_of_the_cause_gives_zero_incidence() -> None:
    fit = aalen_johansen([1, 2, 3, 4], [2, 0, 2, 0], cause=1, times=(0, 2.5, 4))
    assert fit.causes == (2,)
    assert (fit.cif_ == 0).all() and (fit.se_ == 0).all()
    assert (fit.ci_lower_ == 0).all() and (fit.ci_upper_ == 0).all()
    assert fit.survival_.tolist() == pytest.approx([0.75, 0.75, 0.375, 0.375])
    assert fit.at_times_["cif"].tolist() == [0.0, 0.0, 0.0]


def test_all_censored() -> None:
    fit = aalen_johansen([2, 3, 5], [0, 0, 0], times=(1, 5, 6))
    assert fit.causes == () and fit.events_.shape == (3, 0)
    assert (fit.cif_ == 0).all() and (fit.survival_ == 1).all()
    assert fit.at_times_["cif"][:2].tolist() == [0.0, 0.0]
    assert math.isnan(fit.at_times_["cif"][2])  # after a censored end: unknown
    assert fit.at_times_["at_risk"].tolist() == [3, 1, 0]


def test_single_patient() -> None:
    fit = aalen_johansen([5], [1], times=(4, 5, 6))
    assert fit.at_times_["cif"].tolist() == [0.0, 1.0, 1.0]  # S = 0 at 5: F stays 1
    assert fit.at_times_["se"].tolist() == [0.0, 0.0, 0.0]
    assert fit.at_times_["ci_lower"].tolist() == [0.0, 1.0, 1.0]
    assert fit.at_times_["ci_upper"].tolist() == [0.0, 1.0, 1.0]
    other = aalen_johansen([5], [2], times=(6,))
    assert other.at_times_["cif"].tolist() == [0.0]
    censored = aalen_johansen([5], [0], times=(5, 6))
    assert censored.at_times_["cif"][0] == 0.0 and math.isnan(censored.at_times_["cif"][1])


def test_all_events_at_one_time() -> None:
    """Four at t = 3: two of cause 1, one of cause 2, one censored. F = 2/4. The jackknife
    variance is the binomial F (1 − F) / n = 1/16; cmprsk's (Gray's tie correction 1 −
    (d − 1)/(n − 1)) is 1/12: v1 = 1/4 + 3/4, v2 = 1/2 + 1, v3 = 1 + 4/3, v = v1 + F² v3 −
    2 F v2."""
    fit = aalen_johansen([3, 3, 3, 3], [1, 1, 2, 0])
    assert fit.cif_.tolist() == [0.5] and fit.survival_.tolist() == [0.25]
    assert fit.se_[0] ** 2 == pytest.approx(1 / 16, rel=1e-14)
    delta = aalen_johansen([3, 3, 3, 3], [1, 1, 2, 0], variance="delta")
    assert delta.se_[0] ** 2 == pytest.approx(1 / 12, rel=1e-14)


def test_censored_at_an_event_time_are_at_risk_then() -> None:
    """t = 2: one of each cause and a censoring among 5 at risk. S(1−) = 1, S(1) = 5/6 …"""
    fit = aalen_johansen([1, 2, 2, 2, 3, 4], [1, 1, 2, 0, 1, 0])
    assert fit.at_risk_.tolist() == [6, 5, 2, 1]
    assert fit.events_.tolist() == [[1, 0], [1, 1], [1, 0], [0, 0]]
    assert fit.censored_.tolist() == [0, 1, 0, 1]
    f2 = 1 / 6 + (5 / 6) * (1 / 5)
    s2 = (5 / 6) * (3 / 5)
    assert fit.cif_.tolist() == pytest.approx([1 / 6, f2, f2 + s2 / 2, f2 + s2 / 2])


def test_cif_of_every_cause_and_survival_add_up_to_one() -> None:
    time, status = columns("sim_group")
    fits = [aalen_johansen(time, status, cause=k) for k in (1, 2, 3)]
    total = sum(f.cif_ for f in fits) + fits[0].survival_
    np.testing.assert_allclose(total, 1.0, rtol=1e-13)


def test_ci_stays_within_0_and_1() -> None:
    time, status = columns("mgus2_sex")
    for conf_type in ("log-log", "logit", "arcsin", "log", "plain"):
        fit = aalen_johansen(time, status, cause=1, conf_type=conf_type)
        assert (fit.ci_lower_ >= 0).all() and (fit.ci_upper_ <= 1).all()
        assert (fit.ci_lower_ <= fit.cif_ + 1e-15).all() and (
            fit.cif_ <= fit.ci_upper_ + 1e-15
        ).all()


def test_log_log_limits_by_hand() -> None:
    """F^exp(±z se / (F log F)) for the log(−log F) transform."""
    lower, upper = cif_confidence_limits([0.2], [0.05], "log-log", 0.95)
    z = 1.959963984540054
    width = z * 0.05 / (0.2 * math.log(0.2))
    assert lower[0] == pytest.approx(0.2 ** math.exp(-width), rel=1e-14)
    assert upper[0] == pytest.approx(0.2 ** math.exp(width), rel=1e-14)


def test_result_is_plain_data_naming_its_methods() -> None:
    fit = aalen_johansen([1, 2, 3, 4], [1, 2, 1, 0], times=(2, 9))
    out = fit.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["at_times"]["cif"][1] is None  # NaN (unknown) → null
    assert "Aalen–Johansen" in out["method"]["estimator"]
    assert "infinitesimal-jackknife" in out["method"]["variance"]
    assert "log(-log F)" in out["method"]["ci"]
    assert "delta-method" in aalen_johansen([1, 2], [1, 0], variance="delta").method["variance"]
    assert isinstance(fit, CumulativeIncidence)
    with pytest.raises(AttributeError):
        fit.n = 3  # frozen
    with pytest.raises(ValueError):
        fit.cif_[0] = 1.0  # read-only


def test_status_codes_may_be_floats_holding_integers() -> None:
    a = aalen_johansen([1.0, 2.0, 3.0], [1.0, 2.0, 0.0])
    b = aalen_johansen([1, 2, 3], np.array([1, 2, 0], dtype=np.int8))
    assert a.cif_.tolist() == b.cif_.tolist()


@pytest.mark.parametrize(
    "time, status, message",
    [
        ([1, -2], [1, 0], "time holds a negative value"),
        ([1, np.nan], [1, 0], "time holds a missing"),
        ([1, 2], [1, -1], "status holds a negative value"),
        ([1, 2], [1, 1.5], "status holds a non-integer value"),
        ([1, 2], [1, np.nan], "status holds a missing"),
        ([1, 2], ["a", "b"], "status must be numeric"),
        ([1, 2], [1], "differ in length"),
        ([], [], "no observations"),
    ],
)
def test_invalid_input_is_a_value_error(time, status, message) -> None:
    with pytest.raises(ValueError, match=message):
        aalen_johansen(time, status)
    with pytest.raises(ValueError, match=message):
        gray_test(time, status, [0] * len(time))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"cause": 0}, "cause must be a positive integer"),
        ({"cause": 1.5}, "cause must be a positive integer"),
        ({"conf_type": "cloglog"}, "conf_type must be one of"),
        ({"variance": "greenwood"}, "variance must be one of"),
        ({"conf_level": 1.5}, "conf_level"),
        ({"times": [-1]}, "times must be finite and non-negative"),
    ],
)
def test_invalid_options_are_value_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aalen_johansen([1, 2, 3], [1, 2, 0], **options)


# ---- the stored reference is what the R script writes now -----------------------------------


def _r_with_cmprsk() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('cmprsk', quietly = TRUE))"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _r_with_cmprsk(), reason="needs Rscript with survival and cmprsk")
def test_r_script_reproduces_the_stored_data_and_reference(tmp_path: Path) -> None:
    out = tmp_path / "competing_risks.json"
    done = subprocess.run(
        ["Rscript", str(R_SCRIPT), str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for dataset in DATASETS:
        assert (tmp_path / f"{dataset}.csv").read_bytes() == (DATA / f"{dataset}.csv").read_bytes()
    fresh = json.loads(out.read_text(encoding="utf-8"))
    stored = json.loads(REFERENCE.read_text(encoding="utf-8"))
    for key in ("survival_version", "cmprsk_version"):
        assert fresh.pop(key) == stored.pop(key)
    fresh.pop("r_version"), stored.pop("r_version")
    assert same(fresh, stored), f"{REFERENCE.name} is stale: rerun {R_SCRIPT.name}"
