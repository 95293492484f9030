"""Tests of a fitted Cox model: likelihood ratio, Wald and score tests, and R's ``cox.zph``.

- model tests: likelihood ratio, Wald, and the score (log-rank-type) test at β = 0, as R's
  ``summary.coxph``;
- per covariate: the joint Wald test of its coefficients;
- proportional hazards: the score test of R ``cox.zph`` (survival ≥ 3.0, R's own file
  ``cox.zph.R``): time transform g(t) = 1 - S(t-) of the pooled Kaplan–Meier ("km"), centred
  at its mean over the events, per term (a categorical covariate's dummies together) and
  globally.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from toolkit.errors import AnalysisError
from toolkit.survival._common import chi2_upper_p
from toolkit.survival.cox_engine import EfronFit, _evaluate, _RiskSets

__all__ = ["PH_TEST_METHOD", "covariate_tests", "model_tests", "zph_test"]

PH_TEST_METHOD = (
    "Grambsch–Therneau score test on the scaled Schoenfeld residuals against 1 - KM(t-) "
    "centred over the events, per term and global"
)


def _km_transform(rs: _RiskSets) -> np.ndarray:
    """1 - S(t-) of the pooled Kaplan–Meier at each event time (right-censored data)."""
    at_risk = rs.at_risk()
    surv = np.cumprod(1.0 - rs.d / at_risk)
    return 1.0 - np.concatenate([[1.0], surv[:-1]])


def zph_test(fit: EfronFit, assign: Mapping[str, Sequence[int]]) -> dict:
    """Proportional-hazards score test of R ``cox.zph`` (transform "km"), per term and global.

    Parameters
    ----------
    fit : EfronFit
        A :func:`fit_efron` result on right-censored data.
    assign : mapping of str to sequence of int
        Term name → the columns of the coefficient vector that form it (a categorical
        covariate's dummies are one term, as R's ``cox.zph(terms = TRUE)``).

    Returns
    -------
    dict
        ``terms`` (list of ``{"term", "chisq", "df", "p"}``), ``global`` (``chisq``, ``df``,
        ``p``), ``transform`` (``"km"``) and ``method``.

    Raises
    ------
    AnalysisError
        The fit is of counting-process data.
    """
    rs = fit.risk_sets
    if rs.j_start is not None:
        raise AnalysisError("the cox.zph test here is for right-censored data only")
    tt = _km_transform(rs)
    gk = tt - np.average(tt, weights=rs.d)
    evaluation = _evaluate(rs, fit.coef_, gk)
    u2, i12, i22 = evaluation.zph
    info = evaluation.info
    p = info.shape[0]
    full = np.block([[info, i12], [i12.T, i22]])
    rows = []
    for term, columns in assign.items():
        cols = list(columns)
        keep = list(range(p)) + [p + c for c in cols]
        u = np.concatenate([np.zeros(p), u2[cols]])
        chisq = _quadratic(u, full[np.ix_(keep, keep)])
        rows.append(_chisq_row(term, chisq, len(cols)))
    u = np.concatenate([np.zeros(p), u2])
    overall = _chisq_row("GLOBAL", _quadratic(u, full), p)
    overall.pop("term")
    return {"terms": rows, "global": overall, "transform": "km", "method": PH_TEST_METHOD}


def _chisq_row(term: str, chisq: float, df: int) -> dict:
    p = chi2_upper_p(chisq, df) if math.isfinite(chisq) else None
    return {"term": term, "chisq": chisq, "df": df, "p": p}


def _quadratic(b: np.ndarray, v: np.ndarray) -> float:
    """b' v⁻¹ b; NaN when v is singular (no test: an infinite coefficient, or one event)."""
    try:
        value = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return float("nan")
    return value if math.isfinite(value) else float("nan")


def model_tests(fit) -> dict[str, dict]:
    """Likelihood-ratio, Wald and score tests of all coefficients (chisq, df, p)."""
    df = int(fit.coef_.size)
    lr = 2 * (fit.loglik_[1] - fit.loglik_[0])
    wald = _quadratic(fit.coef_, fit.var_)
    tests = {"likelihood_ratio": lr, "wald": wald, "score": fit.score_test_}
    rows = {k: _chisq_row(k, v, df) for k, v in tests.items()}
    return {k: {key: row[key] for key in ("chisq", "df", "p")} for k, row in rows.items()}


def covariate_tests(fit, assign: Mapping[str, Sequence[int]]) -> list[dict]:
    """Joint Wald test of each covariate's coefficients."""
    rows = []
    for name, cols in assign.items():
        b = fit.coef_[list(cols)]
        v = fit.var_[np.ix_(list(cols), list(cols))]
        rows.append(_chisq_row(name, _quadratic(b, v), len(cols)))
    return rows
