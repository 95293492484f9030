"""The Cox engine of ``toolkit/survival/cox.py`` (risk sets by suffix sums, Efron ties,
Newton–Raphson, the ``cox.zph`` pieces) against Efron's likelihood written from its definition
in ``efron_reference.py``, on data with ties, delayed entry, counted rows and huge linear
predictors."""

from __future__ import annotations

import numpy as np
import pytest
from efron_reference import efron, newton

from toolkit.errors import AnalysisError
from toolkit.survival.cox_engine import _evaluate, _RiskSets, collapse_rows, fit_efron, null_model


def tied(n: int = 40, p: int = 2, seed: int = 1):
    """Integer times (many ties, deaths and censorings at the same time) and p covariates."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    stop = np.ceil(rng.exponential(6 / np.exp(0.5 * x[:, 0]), n))
    event = rng.random(n) < 0.7
    return stop, event, x


def delayed(n: int = 40, seed: int = 2):
    """Counting-process rows: some starts fall on an event time (not at risk there), some
    rows end with a censoring at an event time."""
    stop, event, x = tied(n, seed=seed)
    start = np.where(np.arange(n) % 3 == 0, np.maximum(stop - 2, 0), 0.0)
    start[1] = stop[event][0]  # an entry exactly at an event time
    stop[1] = start[1] + 1
    return stop, event, x, start


def assert_terms(evaluation, reference, rel: float = 1e-10) -> None:
    assert evaluation.loglik == pytest.approx(reference.loglik, rel=rel)
    np.testing.assert_allclose(evaluation.score, reference.score, rtol=rel, atol=1e-10)
    np.testing.assert_allclose(evaluation.info, reference.info, rtol=rel, atol=1e-10)


BETAS = [np.array([0.0, 0.0]), np.array([0.7, -0.4]), np.array([-1.3, 2.1])]


@pytest.mark.parametrize("beta", BETAS, ids=["zero", "moderate", "large"])
def test_right_censored_terms_equal_efron_by_definition(beta: np.ndarray) -> None:
    stop, event, x = tied()
    assert_terms(_evaluate(_RiskSets(stop, event, x), beta), efron(stop, event, x, beta))


@pytest.mark.parametrize("beta", BETAS, ids=["zero", "moderate", "large"])
def test_counting_process_terms_equal_efron_by_definition(beta: np.ndarray) -> None:
    stop, event, x, start = delayed()
    rs = _RiskSets(stop, event, x, start)
    assert_terms(_evaluate(rs, beta), efron(stop, event, x, beta, start=start))
    reference = efron(stop, event, x, beta, start=start)
    # the number at risk at each event time, counted by comparing times
    at_risk = [((start < t) & (t <= stop)).sum() for t in reference.times]
    np.testing.assert_array_equal(rs.at_risk(), at_risk)


@pytest.mark.parametrize("with_start", [False, True], ids=["right-censored", "counting"])
def test_counted_rows_are_the_rows_repeated(with_start: bool) -> None:
    stop, event, x = tied(30, seed=4)
    x = np.round(x)  # few covariate patterns
    start = np.where(np.arange(30) % 4 == 0, np.maximum(stop - 3, 0), 0.0) if with_start else None
    counts = np.arange(30) % 3 + 1.0
    repeated = np.repeat(np.arange(30), counts.astype(int))
    beta = np.array([0.4, -0.8])
    rs = _RiskSets(stop, event, x, start, counts)
    expanded = efron(
        stop[repeated],
        event[repeated],
        x[repeated],
        beta,
        start=None if start is None else start[repeated],
    )
    assert_terms(_evaluate(rs, beta), expanded)
    assert_terms(_evaluate(rs, beta), efron(stop, event, x, beta, start=start, counts=counts))
    assert rs.n == counts.sum()
    assert rs.deaths.size == counts[event].sum()


def test_a_huge_linear_predictor_is_shifted_not_overflowed() -> None:
    stop, event, x = tied(25, p=1, seed=6)
    x[:, 0] = np.linspace(0, 1, 25)
    beta = np.array([1200.0])  # a centred linear predictor up to 600: exp(600 + ...) is shifted
    evaluation = _evaluate(_RiskSets(stop, event, x), beta)
    assert_terms(evaluation, efron(stop, event, x, beta), rel=1e-8)


@pytest.mark.parametrize("beta", [600.0, -600.0])
def test_a_linear_predictor_spread_widely_below_the_shift_is_not_shifted(beta: float) -> None:
    # a centred linear predictor in [-300, 300]: exp() of it is finite, and shifting it down by
    # more than its maximum would underflow the smallest weights to 0
    stop, event, x = tied(25, p=1, seed=6)
    x[:, 0] = np.linspace(0, 1, 25)
    evaluation = _evaluate(_RiskSets(stop, event, x), np.array([beta]))
    assert_terms(evaluation, efron(stop, event, x, np.array([beta])), rel=1e-8)


def test_one_death_and_no_death() -> None:
    stop, event, x = tied(12, seed=7)
    event = np.zeros(12, bool)
    event[4] = True
    beta = np.array([0.3, -0.2])
    assert_terms(_evaluate(_RiskSets(stop, event, x), beta), efron(stop, event, x, beta))
    none = _evaluate(_RiskSets(stop, np.zeros(12, bool), x), beta)
    assert none.loglik == 0.0
    np.testing.assert_array_equal(none.score, [0.0, 0.0])
    np.testing.assert_array_equal(none.info, np.zeros((2, 2)))


def test_one_covariate_may_be_given_as_a_vector() -> None:
    stop, event, x = tied(30, p=1, seed=5)
    assert fit_efron(stop, event, x[:, 0]).coef_ == pytest.approx(newton(stop, event, x))
    assert fit_efron(stop, event, x[:, 0], collapse=True).coef_ == pytest.approx(
        newton(stop, event, x)
    )


def test_gram_products_add_up_over_blocks_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.survival import cox_engine

    rng = np.random.default_rng(13)
    xt, w, v = rng.normal(size=(3, 11)), rng.random(11), rng.normal(size=11)
    monkeypatch.setattr(cox_engine, "_GRAM_BLOCK", 4)  # 11 rows: blocks of 4, 4 and 3
    np.testing.assert_allclose(cox_engine._gram(xt, w), (xt * w) @ xt.T, rtol=1e-12)
    first, second = cox_engine._grams(xt, [w, v])
    np.testing.assert_allclose(first, (xt * w) @ xt.T, rtol=1e-12)
    np.testing.assert_allclose(second, (xt * v) @ xt.T, rtol=1e-12)


@pytest.mark.parametrize("data", ["right-censored", "counting"])
def test_fit_maximises_the_partial_likelihood(data: str) -> None:
    if data == "counting":
        stop, event, x, start = delayed(60, seed=8)
    else:
        (stop, event, x), start = tied(60, seed=8), None
    beta = newton(stop, event, x, start=start)
    fit = fit_efron(stop, event, x, start=start)
    np.testing.assert_allclose(fit.coef_, beta, rtol=1e-9, atol=1e-12)
    at_fit, at_zero = (
        efron(stop, event, x, fit.coef_, start=start),
        efron(stop, event, x, [0, 0], start=start),
    )
    np.testing.assert_allclose(fit.var_, np.linalg.inv(at_fit.info), rtol=1e-9)
    assert fit.loglik_ == pytest.approx((at_zero.loglik, at_fit.loglik), rel=1e-12)
    score_test = at_zero.score @ np.linalg.solve(at_zero.info, at_zero.score)
    assert fit.score_test_ == pytest.approx(score_test, rel=1e-10)
    assert null_model(stop, event, x, start=start) == pytest.approx(
        (at_zero.loglik, score_test), rel=1e-10
    )
    assert (fit.n_, fit.events_, fit.converged_) == (stop.size, int(event.sum()), True)
    assert not fit.infinite_.any()
    # Newton–Raphson from 0 on a smooth concave likelihood: a handful of steps
    assert 3 <= fit.iterations_ <= 8


def test_collapsed_fit_equals_the_reference_on_counted_rows() -> None:
    stop, event, x = tied(80, seed=9)
    x = np.round(x)
    fit = fit_efron(stop, event, x, collapse=True)
    c_stop, c_event, c_x, _, counts = collapse_rows(stop, event, x)
    np.testing.assert_allclose(fit.coef_, newton(stop, event, x), rtol=1e-9)
    np.testing.assert_allclose(fit.coef_, newton(c_stop, c_event, c_x, counts=counts), rtol=1e-9)
    assert (fit.n_, fit.events_) == (80, int(event.sum()))


def test_zph_pieces_equal_the_expanded_model_by_definition() -> None:
    stop, event, x = tied(50, seed=10)
    fit = fit_efron(stop, event, x)
    reference = efron(stop, event, x, fit.coef_)
    # the pooled Kaplan–Meier 1 - S(t-) at each event time, centred with the deaths' weights
    at_risk = np.array([(stop >= t).sum() for t in reference.times])
    deaths = np.array([(event & (stop == t)).sum() for t in reference.times])
    surv = np.cumprod(1 - deaths / at_risk)
    g = 1 - np.r_[1.0, surv[:-1]]
    g = g - np.average(g, weights=deaths)
    u2, i12, i22 = _evaluate(fit.risk_sets, fit.coef_, g).zph
    np.testing.assert_allclose(u2, g @ reference.score_by_time, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(i12, np.einsum("k,kij->ij", g, reference.info_by_time), rtol=1e-9)
    np.testing.assert_allclose(i22, np.einsum("k,kij->ij", g**2, reference.info_by_time), rtol=1e-9)


def test_rows_that_cannot_be_fitted_are_analysis_errors() -> None:
    with pytest.raises(AnalysisError, match=r"^the Cox model has no rows$"):
        _RiskSets([], [], np.zeros((0, 1)))
    lengths = r"^time, event and covariates differ in length$"
    with pytest.raises(AnalysisError, match=lengths):
        _RiskSets([1.0, 2.0], [True], [[0.0], [1.0]])
    with pytest.raises(AnalysisError, match=lengths):
        _RiskSets([1.0, 2.0], [True, False], [[0.0]])
    finite = r"^the Cox model's times and covariates must be finite numbers$"
    with pytest.raises(AnalysisError, match=finite):
        _RiskSets([1.0, np.inf], [True, False], [[0.0], [1.0]])
    with pytest.raises(AnalysisError, match=finite):
        _RiskSets([1.0, 2.0], [True, False], [[0.0], [np.nan]])
    with pytest.raises(AnalysisError, match=r"^every interval needs start < stop$"):
        _RiskSets([1.0, 2.0], [True, False], [[0.0], [1.0]], start=[0.0, 2.0])


def test_iterations_stop_at_the_documented_tolerances() -> None:
    from efron_reference import newton_path

    from toolkit.survival.cox_engine import LOGLIK_TOL, STEP_TOL

    stop, event, x = tied(60, seed=8)
    path = newton_path(stop, event, x)
    logliks = [efron(stop, event, x, b).loglik for b in path]
    # the first iteration whose step is below STEP_TOL or whose gain is at most LOGLIK_TOL
    expected = next(
        i
        for i in range(1, len(path))
        if np.max(np.abs(path[i] - path[i - 1])) < STEP_TOL
        or logliks[i] - logliks[i - 1] <= LOGLIK_TOL * abs(logliks[i])
    )
    assert fit_efron(stop, event, x).iterations_ == expected


def test_a_fit_stopped_by_max_iter_is_not_converged_and_says_what_still_moves() -> None:
    from efron_reference import newton_path

    stop, event, x = tied(60, seed=8)
    x = x * np.array([4.0, 0.001])  # the second coefficient moves by far more than 1e-3
    path = newton_path(stop, event, x, max_iter=2)
    fit = fit_efron(stop, event, x, max_iter=2)
    assert (fit.iterations_, fit.converged_) == (2, False)
    np.testing.assert_allclose(fit.coef_, path[2], rtol=1e-9)
    np.testing.assert_array_equal(fit.infinite_, np.abs(path[2] - path[1]) > 1e-3)
    assert fit.infinite_.tolist() == [False, True]


def test_a_newton_step_on_a_singular_information_skips_the_flat_directions() -> None:
    from toolkit.survival.cox_engine import _step

    info = np.diag([100.0, 1e-12, -1.0])  # not positive definite: no Cholesky factor
    np.testing.assert_allclose(_step(info, np.array([1.0, 1.0, 1.0])), [0.01, 0.0, 0.0])
    np.testing.assert_allclose(_step(np.diag([4.0, 2.0]), np.array([2.0, 1.0])), [0.5, 0.5])


def test_quadratic_forms_without_an_inverse_are_nan() -> None:
    import math

    from toolkit.survival.cox_inference import _quadratic

    assert _quadratic(np.array([1.0, 2.0]), np.diag([1.0, 4.0])) == pytest.approx(2.0)
    assert math.isnan(_quadratic(np.array([1.0, 1.0]), np.zeros((2, 2))))
    assert math.isnan(_quadratic(np.array([1e200]), np.array([[1e-200]])))


def test_engine_errors_say_what_is_wrong() -> None:
    from toolkit.survival.cox_engine import _solve
    from toolkit.survival.cox_inference import zph_test

    with pytest.raises(AnalysisError, match=r"^the Cox model needs at least one event$"):
        fit_efron([1.0, 2.0], [False, False], [[0.0], [1.0]])
    with pytest.raises(
        AnalysisError,
        match=r"^the Cox model's information matrix is singular \(a covariate is constant or "
        r"collinear with others among the rows used\)$",
    ):
        _solve(np.zeros((1, 1)), np.ones(1))
    stop, event, x, start = delayed()
    with pytest.raises(
        AnalysisError, match=r"^the cox.zph test here is for right-censored data only$"
    ):
        zph_test(fit_efron(stop, event, x, start=start), {"a": [0]})


def test_zph_result_is_terms_then_global() -> None:
    from toolkit.survival.cox import METHODS
    from toolkit.survival.cox_inference import zph_test

    stop, event, x = tied(50, seed=10)
    result = zph_test(fit_efron(stop, event, x), {"a": [0], "b": [1]})
    assert list(result) == ["terms", "global", "transform", "method"]
    assert [row["term"] for row in result["terms"]] == ["a", "b"]
    assert list(result["global"]) == ["chisq", "df", "p"] and result["global"]["df"] == 2
    assert (result["transform"], result["method"]) == ("km", METHODS["ph_test"])


def test_fit_efron_fits_the_rows_as_given_unless_told_to_collapse() -> None:
    import inspect

    assert inspect.signature(fit_efron).parameters["collapse"].default is False
    stop, event, x = tied(30, seed=3)
    assert fit_efron(stop, event, x).risk_sets.weights is None


def test_warnings_in_full() -> None:
    from types import SimpleNamespace

    from toolkit.survival.cox import fit_warnings, left_out_warnings

    fit = SimpleNamespace(converged_=False, iterations_=7, infinite_=np.array([False, True]))
    assert fit_warnings(fit, [("age", None), ("ecog", "2")]) == [
        "Newton–Raphson did not converge in 7 iterations",
        "the coefficient of ecog=2 is infinite (monotone likelihood, e.g. a level without events "
        "or with all events); its hazard ratio is not estimable",
    ]
    assert left_out_warnings(
        [
            {"covariate": "sex", "level": "F", "reason": "single_level"},
            {"covariate": "m_stage", "level": "M1c", "reason": "aliased"},
        ]
    ) == [
        "sex takes one value (F) among the rows used; it is left out of the model",
        "the coefficient of m_stage=M1c is not estimable (constant or collinear with other "
        "covariates among the risk sets of the events); it is left out of the model, as R's "
        "coxph gives it NA",
    ]


def test_nothing_to_estimate_says_why() -> None:
    from toolkit.survival.cox import Design, _nothing_to_estimate

    common = {
        "references": {},
        "keep": np.ones(3, bool),
        "missing": {},
        "single_level": {"sex": "F", "ecog": "1"},
    }
    constant = Design(matrix=np.zeros((3, 0)), columns=[], assign={}, **common)
    aliased = Design(matrix=np.ones((3, 1)), columns=[("a", None)], assign={"a": [0]}, **common)
    assert _nothing_to_estimate(constant) == (
        "the Cox model has nothing to compare: sex, ecog takes one value among the rows used"
    )
    assert _nothing_to_estimate(aliased) == (
        "no coefficient of the Cox model is estimable: every covariate is constant or "
        "collinear among the risk sets of the events"
    )


def test_missing_values_of_each_kind() -> None:
    import polars as pl

    from toolkit.survival.cox import missing_mask

    floats = pl.Series([1.0, None, float("nan"), 2.0])
    assert missing_mask(floats, ["missing"]).tolist() == [False, True, True, False]
    texts = pl.Series(["a", None, "missing", "unknown"])
    assert missing_mask(texts, ["missing", "unknown"]).tolist() == [False, True, True, True]
    assert missing_mask(texts, []).tolist() == [False, True, False, False]
    integers = pl.Series([1, None, 3])
    assert missing_mask(integers, ["1"]).tolist() == [False, True, False]


def test_design_matrix_levels_references_and_errors() -> None:
    import polars as pl

    from toolkit.survival.cox import design_matrix

    frame = pl.DataFrame(
        {
            "g": ["b", "a", "c", "b", "a", "missing", "c", "b"],
            "h": ["x"] * 8,
            "age": [50.0, 60, 70, None, 40, 45, 55, 65],
        }
    )
    design = design_matrix(frame, continuous=["age"], categorical={"g": None, "h": None})
    # rows 3 (age) and 5 (g) missing: a a b b c c → the most frequent level, ties
    # alphabetically: a; h takes one value
    assert design.keep.tolist() == [True, True, True, False, True, False, True, True]
    assert design.references == {"g": "a"} and design.single_level == {"h": "x"}
    assert design.columns == [("g", "b"), ("g", "c"), ("age", None)]
    assert design.assign == {"g": [0, 1], "age": [2]}
    np.testing.assert_array_equal(
        design.matrix,
        [[1, 0, 50], [0, 0, 60], [0, 1, 70], [0, 0, 40], [0, 1, 55], [1, 0, 65]],
    )
    assert design.missing == {"age": 1, "g": 1, "h": 0}
    ordered = design_matrix(frame, categorical={"g": "b"}, level_order={"g": ["c", "a"]})
    assert ordered.columns == [("g", "c"), ("g", "a")]
    # h has no column, g still gets its own; without age row 3 stays: b is the most frequent
    after_single = design_matrix(frame, categorical=["h", "g"])
    assert after_single.columns == [("g", "a"), ("g", "c")]
    smaller = design.without(np.array([False, True, False]))
    np.testing.assert_array_equal(smaller.matrix, design.matrix[:, [0, 2]])
    assert smaller.columns == [("g", "b"), ("age", None)]
    assert smaller.assign == {"g": [0], "age": [1]}
    nothing = design_matrix(frame, categorical=["h"])
    assert nothing.matrix.shape == (8, 0) and nothing.single_level == {"h": "x"}
    with pytest.raises(AnalysisError, match=r"^the data have no column x, y for the Cox model$"):
        design_matrix(frame, continuous=["x"], categorical=["y"])
    with pytest.raises(AnalysisError, match=r"^the reference level 'z' of g has no row"):
        design_matrix(frame, categorical={"g": "z"})


def test_cox_ph_passes_its_options_to_the_design_and_the_result() -> None:
    import polars as pl

    from toolkit.survival.cox import cox_ph

    stop, event, x = tied(90, seed=11)
    group = np.where(x[:, 0] > 0.4, "c", np.where(x[:, 0] < -0.4, "b", "a")).astype(object)
    group[:5] = "unknown"
    frame = pl.DataFrame({"t": stop, "e": event, "g": group, "z": x[:, 1]})
    result = cox_ph(
        frame,
        time="t",
        event="e",
        continuous=["z"],
        categorical={"g": "a"},
        missing_levels=["unknown"],
        level_order={"g": ["c", "b"]},
        labels={"c": "Level C"},
        ph_test=False,
    )
    assert result.name == "cox" and result.ph_test_ is None
    assert [t.term for t in result.terms_] == ["g=c", "g=b", "z"]
    assert result.dropped_missing_ == {"total": 5, "by_covariate": {"z": 0, "g": 5}}
    assert (result.n_, result.n_input_) == (85, 90)
    assert result.terms_[0].label == "Level C"
    used = frame[5:]
    design = np.column_stack([used["g"] == "c", used["g"] == "b", used["z"]]).astype(float)
    np.testing.assert_allclose(
        [t.coef_ for t in result.terms_],
        newton(used["t"].to_numpy(), used["e"].to_numpy(), design),
        rtol=1e-8,
    )
    assert cox_ph(frame, time="t", event="e", categorical=["g"]).ph_test_ is not None
    from toolkit.survival.cox import METHODS

    assert result.methods == METHODS and result.iterations_ >= 3
    # the joint Wald test of g's two coefficients: b' V⁻¹ b with V the inverse information
    b = np.array([t.coef_ for t in result.terms_])
    var = np.linalg.inv(efron(used["t"].to_numpy(), used["e"].to_numpy(), design, b).info)
    assert [(row["term"], row["df"]) for row in result.covariate_tests_] == [("g", 2), ("z", 1)]
    assert result.covariate_tests_[0]["chisq"] == pytest.approx(
        b[:2] @ np.linalg.solve(var[:2, :2], b[:2]), rel=1e-8
    )
    assert result.term("z") is result.terms_[2]
    with pytest.raises(KeyError, match="nope"):
        result.term("nope")


def test_a_step_whose_every_halving_overflows_stops_at_the_current_point() -> None:
    # An information of 1e-20 in the first direction makes the Newton step 1e20; halved 30
    # times it is still ~9e10, and the death at time 2 then has a risk set whose weights all
    # underflow to 0: no trial is finite, so the fit stops where it is, not converged, with
    # the coefficients the full step moves by more than 1e-3 flagged (the second moves by
    # exactly 1e-3: not flagged). The overflow warnings of the trials are silenced.
    import warnings

    from toolkit.survival.cox_engine import _Evaluation, _newton

    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    rs = _RiskSets([1.0, 2.0, 3.0], [1, 1, 1], x)
    start = _evaluate(rs, np.zeros(3))
    current = _Evaluation(start.loglik, np.array([1.0, 1e-3, 0.5]), np.diag([1e-20, 1.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        beta, evaluation, iterations, converged, infinite = _newton(rs, current, 20)
    assert beta.tolist() == [0.0, 0.0, 0.0] and evaluation is current
    assert (iterations, converged) == (1, False)
    assert infinite.tolist() == [True, False, True]


def test_a_step_that_loses_likelihood_is_halved() -> None:
    # Cauchy covariates (outliers): the full Newton step from 0 lowers the partial likelihood,
    # its half does not; after one iteration the fit is at that half (R's coxph halves too)
    rng = np.random.default_rng(8)
    x = rng.standard_cauchy((15, 2))
    stop = np.ceil(rng.exponential(5, 15))
    event = rng.random(15) < 0.7
    at_zero = efron(stop, event, x, np.zeros(2))
    full = np.linalg.solve(at_zero.info, at_zero.score)
    assert efron(stop, event, x, full).loglik < at_zero.loglik
    assert efron(stop, event, x, full / 2).loglik > at_zero.loglik
    one = fit_efron(stop, event, x, max_iter=1)
    np.testing.assert_allclose(one.coef_, full / 2, rtol=1e-10)
    # stopped by the iteration limit: not converged, and both coefficients (moved by 0.27 and
    # 0.005 in the last step, more than 1e-3) are flagged as still running
    assert (one.converged_, one.iterations_, one.infinite_.tolist()) == (False, 1, [True, True])
    # plain Newton–Raphson (the reference's) does not converge here; the halving fit does
    at_end = efron(stop, event, x, fit_efron(stop, event, x).coef_)
    np.testing.assert_allclose(at_end.score, [0.0, 0.0], atol=1e-8)
    assert np.all(np.linalg.eigvalsh(at_end.info) > 0)


def test_a_coefficient_running_off_stops_once_the_likelihood_gains_nothing() -> None:
    # 50 of 400 patients (x1 = 1) never die: the likelihood rises for ever as beta1 → -inf.
    # The fit stops at the first iteration that gains at most 1e-13 × |log-likelihood|
    # (measured here by refitting with fewer iterations), converged, beta1 flagged infinite.
    rng = np.random.default_rng(3)
    x = np.column_stack([np.arange(400) < 50, rng.normal(size=400)]).astype(float)
    stop = np.ceil(rng.exponential(10, 400))
    event = np.arange(400) >= 50
    fit = fit_efron(stop, event, x)
    assert fit.converged_ and fit.infinite_.tolist() == [True, False]
    k = fit.iterations_
    loglik = [fit_efron(stop, event, x, max_iter=m).loglik_[1] for m in (k - 2, k - 1)]
    tolerance = 1e-13 * abs(fit.loglik_[1])
    assert fit.loglik_[1] - loglik[1] <= tolerance < loglik[1] - loglik[0]
