"""Cox model with later therapy as a time-varying covariate (counting-process data).

Each patient contributes one row per episode (tstart, tstop] during which they belonged to
one stratum (``queries/40_metrics/treatment_episodes.sql``): everyone starts in the default
(or baseline) stratum at the index date and moves to a later-therapy stratum on the day that
therapy starts. The risk set at an event time t is every episode with tstart < t ≤ tstop, so
the time before a later therapy counts in the group the patient was in at the time — the
immortal time that the naive comparison credits to the later-therapy groups is not.

Two engines give the same estimates (the tests check it):

- ``"numpy"`` (default): the vectorised Efron Newton–Raphson of
  :func:`toolkit.survival.cox.fit_efron` with (start, stop] risk sets; seconds at 10⁶
  patients;
- ``"lifelines"``: lifelines' ``CoxTimeVaryingFitter`` (Efron ties), which loops over event
  times in Python and is far slower at scale. Its log-likelihood at β = 0 and the score test
  are evaluated with the NumPy code (lifelines gives neither directly).

Methods, named in every result (see :data:`METHODS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from toolkit.errors import AnalysisError
from toolkit.survival._common import result_dict
from toolkit.survival.cox import (
    CoxTerm,
    design_matrix,
    fit_estimable,
    fit_warnings,
    left_out_warnings,
    missing_mask,
    wald_terms,
)
from toolkit.survival.cox_engine import EfronFit, null_model
from toolkit.survival.cox_inference import covariate_tests, model_tests

__all__ = ["METHODS", "ENGINES", "TimeVaryingCoxResult", "counting_process_cox"]

ENGINES = ("numpy", "lifelines")

METHODS = {
    "model": "Cox proportional hazards with time-varying covariates (counting process)",
    "data": "one row per episode (tstart, tstop]; at risk at t when tstart < t <= tstop",
    "ties": "Efron",
    "ci": "Wald 95% CI, exp(coef ± 1.96 se), model-based se",
    "p": "two-sided Wald test of each coefficient",
    "tests": "likelihood ratio, Wald and score (at beta = 0) tests of all coefficients",
    "missing": "patients with a missing covariate value are dropped (all their episodes)",
}


@dataclass(frozen=True)
class TimeVaryingCoxResult:
    """A fitted counting-process Cox model as plain data.

    Attributes
    ----------
    name : what the model is (e.g. ``"time-varying, unadjusted"``).
    engine : ``"numpy"`` or ``"lifelines"``.
    methods : the methods used, in words.
    n_patients_, n_intervals_, events_ : patients, episode rows and events in the model.
    dropped_missing_ : patients dropped for a missing covariate value (``total``,
        ``by_covariate``).
    references_ : categorical covariate → reference level.
    terms_ : the coefficients (:class:`~toolkit.survival.cox.CoxTerm`); the HR of a
        later-therapy stratum compares the hazard while in it with the hazard while in the
        reference stratum at the same time since the index date.
    covariate_tests_ : joint Wald test of each covariate's coefficients.
    loglik_ : log partial likelihood at β = 0 and at the estimate.
    tests_ : ``likelihood_ratio``, ``wald`` and ``score`` (chisq, df, p).
    iterations_, converged_ : Newton–Raphson iterations (``None`` for lifelines) and
        convergence.
    warnings_ : problems a reader must know.
    left_out_ : what the fit left out and why (see :class:`~toolkit.survival.cox.CoxResult`).
    """

    name: str
    engine: str
    methods: dict[str, str]
    n_patients_: int
    n_intervals_: int
    events_: int
    dropped_missing_: dict
    references_: dict[str, str]
    terms_: list[CoxTerm]
    covariate_tests_: list[dict]
    loglik_: tuple[float, float]
    tests_: dict[str, dict]
    iterations_: int | None
    converged_: bool
    warnings_: list[str]
    left_out_: list[dict] = field(default_factory=list)

    def term(self, name: str) -> CoxTerm:
        """The coefficient called ``name``."""
        for term in self.terms_:
            if term.term == name:
                return term
        raise KeyError(name)

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


def _lifelines_fit(start, stop, event, ids, x) -> EfronFit:
    """The same model fitted by lifelines' ``CoxTimeVaryingFitter``."""
    import pandas as pd
    from lifelines import CoxTimeVaryingFitter

    names = [f"x{i}" for i in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=names)
    frame["id"], frame["start"], frame["stop"], frame["event"] = ids, start, stop, event
    fitter = CoxTimeVaryingFitter().fit(
        frame,
        event_col="event",
        start_col="start",
        stop_col="stop",
        id_col="id",
        fit_options={"precision": 1e-12},
    )
    null_loglik, score_test = null_model(stop, event, x, start=start)
    return EfronFit(
        coef_=fitter.params_[names].to_numpy(),
        var_=fitter.variance_matrix_.to_numpy(),
        loglik_=(null_loglik, float(fitter.log_likelihood_)),
        score_test_=score_test,
        iterations_=None,
        converged_=True,
        infinite_=np.zeros(len(names), dtype=bool),
        n_=len(frame),
        events_=int(np.sum(event)),
        risk_sets=None,
    )


def counting_process_cox(
    frame: pl.DataFrame,
    *,
    start: str,
    stop: str,
    event: str,
    id_col: str,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] | Mapping[str, str | None] = (),
    missing_levels: Sequence[str] = ("missing",),
    level_order: Mapping[str, Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str = "time-varying",
    engine: str = "numpy",
    alpha: float = 0.05,
) -> TimeVaryingCoxResult:
    """Fit a Cox model (Efron ties) to counting-process rows (start, stop].

    Parameters
    ----------
    frame : polars.DataFrame
        One row per interval of a patient.
    start, stop, event, id_col : str
        Columns of the interval start and end, the event at the end of the interval
        (1/True), and the patient identifier.
    continuous, categorical, missing_levels, level_order
        As for :func:`toolkit.survival.cox.design_matrix`; a patient with a missing value in
        any of their rows is dropped entirely.
    labels : mapping of str to str, optional
        Display labels of categorical levels.
    name : str
        Name of the model in the output.
    engine : {"numpy", "lifelines"}
        Vectorised Efron Newton–Raphson, or lifelines' ``CoxTimeVaryingFitter``.
    alpha : float
        1 - confidence level of the CIs.

    Returns
    -------
    TimeVaryingCoxResult

    Raises
    ------
    AnalysisError
        Unknown engine, an interval with start ≥ stop, no event, or a singular model.
    """
    if engine not in ENGINES:
        raise AnalysisError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    design = design_matrix(
        frame,
        continuous=continuous,
        categorical=categorical,
        missing_levels=missing_levels,
        level_order=level_order,
    )
    incomplete = frame.filter(~pl.Series(design.keep))[id_col].unique()
    keep = ~frame[id_col].is_in(incomplete.implode()).to_numpy()
    used = frame.filter(pl.Series(keep))
    matrix = design.matrix[keep[design.keep]]
    columns = [used[c].cast(pl.Float64).to_numpy() for c in (start, stop)]
    flag = used[event].cast(pl.Boolean).to_numpy()
    design = replace(design, matrix=matrix)
    if engine == "numpy":
        fit, aliased, left_out = fit_estimable(
            columns[1], flag, design, start=columns[0], collapse=not continuous
        )
    else:
        fit = _lifelines_fit(columns[0], columns[1], flag, used[id_col].to_numpy(), matrix)
        aliased, left_out = np.zeros(len(design.columns), dtype=bool), []
    kept = design.without(aliased)
    by_covariate = {
        c: frame.filter(pl.Series(missing_mask(frame[c], missing_levels)))[id_col].n_unique()
        for c in design.missing
    }
    return TimeVaryingCoxResult(
        name=name,
        engine=engine,
        methods=dict(METHODS) | {"engine": _ENGINE_TEXT[engine]},
        n_patients_=used[id_col].n_unique(),
        n_intervals_=used.height,
        events_=fit.events_,
        dropped_missing_={"total": incomplete.len(), "by_covariate": by_covariate},
        references_=design.references,
        terms_=wald_terms(fit, design.columns, design.references, labels, alpha, aliased),
        covariate_tests_=covariate_tests(fit, kept.assign),
        loglik_=fit.loglik_,
        tests_=model_tests(fit),
        iterations_=fit.iterations_,
        converged_=fit.converged_,
        warnings_=fit_warnings(fit, kept.columns) + left_out_warnings(left_out),
        left_out_=left_out,
    )


_ENGINE_TEXT = {
    "numpy": "vectorised Newton–Raphson on the Efron partial likelihood (NumPy)",
    "lifelines": "lifelines CoxTimeVaryingFitter (Efron); null log-likelihood and score test "
    "evaluated with the NumPy code",
}
