"""Cox proportional-hazards models as plain data, with a vectorised Efron Newton–Raphson.

The partial likelihood is evaluated with NumPy in O(n p²) per iteration without a Python
loop over patients or event times: each row gets the index of the last event time it
reaches, and the rows are sorted once by it (deaths first), so the sums over every risk set
and over the deaths at each time (Σ r, Σ r x) are segment sums read as suffix sums over the
unique event times. Efron's tie correction gives the d deaths at a time the weights l/d
(l = 0 … d-1); the sums over them of the means and of their outer products are per-time
sums of scalars (no deaths × p array), and the second-derivative sum
Σ_k a_k Σ_{i∈R_k} r_i x_i x_iᵀ is rewritten as Xᵀ diag(r_i A_i) X with A_i = Σ_{k: i∈R_k} a_k,
a cumulative sum over event times (one symmetric BLAS product). The same code takes
counting-process rows (start, stop] (risk set at t: start < t ≤ stop), which the
time-varying model uses, and rows with counts: models with categorical covariates only are
fitted on the distinct rows (time, event, covariates) with their counts, the same partial
likelihood (:func:`collapse_rows`).

Methods, named in every result (see :data:`METHODS`):

- ties: Efron's approximation (R ``coxph`` default, lifelines);
- estimation: Newton–Raphson with step halving, started at β = 0, until the largest step
  is below 1e-9 (or the log-likelihood stops increasing: an infinite coefficient, flagged);
- per-term CI and p: Wald, from the inverse of the observed information;
- model tests: likelihood ratio, Wald, and score (log-rank-type) test at β = 0, as R;
- proportional hazards: the score test of R ``cox.zph`` (survival ≥ 3.0): time transform
  g(t) = 1 - S(t-) of the pooled Kaplan–Meier ("km"), centred at its mean over the events,
  per term (a categorical covariate's dummies together) and globally.

Categorical covariates are treatment-coded; the reference level is the most frequent level
among the rows the model uses (ties broken alphabetically) unless given. Rows with a missing
value (null, NaN, or a level listed in ``missing_levels``, by default the SQL's ``'missing'``)
are dropped from the model and counted per covariate; recorded codes such as ``'unknown'``
are levels like any other unless listed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from toolkit.errors import AnalysisError
from toolkit.survival._common import chi2_upper_p, normal_two_sided_p, result_dict, z_value

__all__ = [
    "METHODS",
    "CoxTerm",
    "CoxResult",
    "Design",
    "EfronFit",
    "cox_ph",
    "stratum_cox",
    "design_matrix",
    "collapse_rows",
    "fit_efron",
    "fit_estimable",
    "aliased_columns",
    "SingularInformation",
    "zph_test",
]

METHODS = {
    "model": "Cox proportional hazards (partial likelihood)",
    "ties": "Efron",
    "estimation": "Newton–Raphson with step halving from beta = 0 (max step < 1e-9)",
    "engine": "vectorised NumPy evaluation of the Efron partial likelihood",
    "ci": "Wald 95% CI, exp(coef ± 1.96 se), se from the observed information",
    "p": "two-sided Wald test of each coefficient",
    "tests": "likelihood ratio, Wald and score (at beta = 0) tests of all coefficients",
    "ph_test": (
        "cox.zph score test (R survival >= 3.0): g(t) = 1 - KM(t-) centred over events, "
        "per term and global"
    ),
    "coding": "categorical covariates treatment-coded against the reference level",
    "aliasing": (
        "a coefficient whose pivot in the information matrix at beta = 0 is below 1e-12 of "
        "its largest diagonal (constant or collinear among the risk sets of the events) is "
        "not estimable and left out, as R's coxph gives it NA"
    ),
    "missing": "complete cases: rows with a missing covariate value are dropped and counted",
}

IMMORTAL_TIME_WARNING = (
    "the strata depend on therapy received after the index date: this comparison counts the "
    "time before that therapy (immortal time) in the later-therapy groups and is biased in "
    "their favour; see the landmark, time-varying Cox and Simon–Makuch analyses"
)

MAX_ITER = 40
STEP_TOL = 1e-9
LOGLIK_TOL = 1e-13
#: Relative pivot below which a column of the information matrix is aliased: R's
#: ``coxph.control(toler.chol = .Machine$double.eps^0.75)``.
ALIAS_TOL = np.finfo(float).eps ** 0.75


class SingularInformation(AnalysisError):
    """The information matrix is singular; ``info`` is the matrix (for :func:`aliased_columns`)."""

    def __init__(self, message: str, info: np.ndarray) -> None:
        super().__init__(message)
        self.info = info


# --------------------------------------------------------------------------------------------
# The engine: risk sets, Efron partial likelihood, Newton–Raphson
# --------------------------------------------------------------------------------------------


class _RiskSets:
    """Index arrays for the risk sets of one data set (built once).

    Each row gets j_stop = #{event times ≤ stop} and j_start = #{event times ≤ start}; the
    row is in the risk set of the event time k (0-based) exactly when j_start ≤ k < j_stop.
    The rows are kept ordered by j_stop and, within one j_stop, deaths first (a stable sort),
    so the sums over the deaths at each time and over all rows of each j_stop are sums over
    contiguous segments: one ``np.add.reduceat`` for all covariates. Sums over risk sets are
    the latter read as suffix sums (minus a bincount over j_start). Covariates are stored
    centred and transposed (p × n) for contiguous row sums.

    With ``weights`` (integer counts, see :func:`collapse_rows`) each row stands for that many
    identical rows: sums over rows are weighted, and the deaths of a row are repeated, so
    Efron's tie correction runs over the d deaths at a time exactly as on the repeated rows.
    """

    def __init__(self, stop, event, x, start=None, weights=None):
        stop = np.asarray(stop, dtype=float)
        event = np.asarray(event, dtype=bool)
        x = np.asarray(x, dtype=float)
        x = x[:, None] if x.ndim == 1 else x
        if stop.size == 0:
            raise AnalysisError("the Cox model has no rows")
        if event.shape != stop.shape or x.shape[0] != stop.size:
            raise AnalysisError("time, event and covariates differ in length")
        if not (np.isfinite(stop).all() and np.isfinite(x).all()):
            raise AnalysisError("the Cox model's times and covariates must be finite numbers")
        count = np.ones(stop.size) if weights is None else np.asarray(weights, dtype=float)
        centre = x.mean(axis=0) if weights is None else np.average(x, axis=0, weights=count)
        self.times = np.unique(stop[event])
        j_stop = np.searchsorted(self.times, stop, side="right")
        order = np.argsort(2 * j_stop + ~event, kind="stable")
        self.j_stop, event, count = j_stop[order], event[order], count[order]
        self.weights = None if weights is None else count
        self.n = int(round(count.sum()))
        self.xt = np.ascontiguousarray((x[order] - centre).T)
        self._segments(event)
        rows = np.flatnonzero(event)
        self.death_rows = rows
        self.deaths = np.repeat(rows, count[rows].astype(np.int64))
        self.k = self.j_stop[self.deaths] - 1
        m = self.times.size
        self.d = np.bincount(self.k, minlength=m)
        self.tie_starts = np.cumsum(self.d) - self.d
        self.frac = (np.arange(self.deaths.size) - self.tie_starts[self.k]) / self.d[self.k]
        self.j_start = None
        if start is not None:
            start = np.asarray(start, dtype=float)
            if np.any(start >= stop):
                raise AnalysisError("every interval needs start < stop")
            self.j_start = np.searchsorted(self.times, start[order], side="right")
        self.death_x = self.sums(self.xt)[1]

    def _segments(self, event: np.ndarray) -> None:
        """The non-empty segments (deaths, other rows) of each j_stop, for ``sums``."""
        m = self.times.size
        bounds = np.searchsorted(self.j_stop, np.arange(m + 2))
        died = bounds[:-1] + np.bincount(self.j_stop[event], minlength=m + 1)
        cuts = np.stack([bounds[:-1], died, bounds[1:]])
        death_seg, rest_seg = cuts[1] > cuts[0], cuts[2] > cuts[1]
        starts = np.stack([np.where(death_seg, cuts[0], -1), np.where(rest_seg, cuts[1], -1)])
        flat = starts.T.ravel()
        self.seg_starts = flat[flat >= 0]
        position = np.cumsum(flat >= 0).reshape(m + 1, 2) - 1
        self.seg_death = (np.flatnonzero(death_seg), position[death_seg, 0])
        self.seg_rest = (np.flatnonzero(rest_seg), position[rest_seg, 1])

    def sums(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Σ q over the risk set and over the deaths of each event time (q: (n,) or (p, n)).

        Both have the shape of q with the rows replaced by the event times.
        """
        q = q if self.weights is None else q * self.weights
        segments = np.add.reduceat(q, self.seg_starts, axis=-1)
        m = self.times.size + 1
        binned = np.zeros((*q.shape[:-1], m))
        deaths = np.zeros_like(binned)
        deaths[..., self.seg_death[0]] = segments[..., self.seg_death[1]]
        binned[..., self.seg_rest[0]] = segments[..., self.seg_rest[1]]
        binned += deaths
        risk = np.cumsum(binned[..., ::-1], axis=-1)[..., ::-1][..., 1:]
        if self.j_start is not None:
            risk = risk - _suffix_bincount(self.j_start, q, m)
        return risk, deaths[..., 1:]

    def at_risk(self) -> np.ndarray:
        """Number of rows at risk at each event time."""
        return self.sums(np.ones(self.j_stop.size))[0]

    def cumulate(self, per_time: np.ndarray) -> np.ndarray:
        """Σ over the event times in each row's risk interval of a per-event-time value."""
        total = np.concatenate([[0.0], np.cumsum(per_time)])
        out = total[self.j_stop]
        return out if self.j_start is None else out - total[self.j_start]


def _suffix_bincount(j: np.ndarray, q: np.ndarray, m: int) -> np.ndarray:
    """Σ q over the rows with j > k, for k = 0 … m - 2 (q: (n,) or (p, n))."""
    if q.ndim == 1:
        binned = np.bincount(j, weights=q, minlength=m)
    else:
        binned = np.stack([np.bincount(j, weights=row, minlength=m) for row in q])
    return np.cumsum(binned[..., ::-1], axis=-1)[..., ::-1][..., 1:]


#: Rows per block of the weighted Gram products Xᵀ diag(w) X (bounds the temporary arrays).
_GRAM_BLOCK = 1 << 18


def _gram(xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Xᵀ diag(w) X for w ≥ 0, as Yᵀ Y with Y = diag(√w) X (a symmetric BLAS product).

    w is non-negative in exact arithmetic; a rounding residue below zero counts as zero.
    """
    p, n = xt.shape
    root = np.sqrt(np.maximum(w, 0.0))
    total = np.zeros((p, p))
    for lo in range(0, n, _GRAM_BLOCK):
        y = xt[:, lo : lo + _GRAM_BLOCK] * root[lo : lo + _GRAM_BLOCK]
        total += y @ y.T
    return total


def _grams(xt: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """Xᵀ diag(w) X for each w (any sign): one matrix product per block of rows for all."""
    p, n = xt.shape
    total = np.zeros((len(weights) * p, p))
    for lo in range(0, n, _GRAM_BLOCK):
        block = xt[:, lo : lo + _GRAM_BLOCK]
        total += np.concatenate([block * w[lo : lo + _GRAM_BLOCK] for w in weights]) @ block.T
    return np.split(total, len(weights))


@dataclass
class _Evaluation:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    zph: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _evaluate(rs: _RiskSets, beta: np.ndarray, gk: np.ndarray | None = None) -> _Evaluation:
    """Efron log partial likelihood, score and information at ``beta``.

    The d deaths at an event time get the denominators den_l = Σ_risk r - (l/d) Σ_deaths r
    (l = 0 … d-1) and the means (e + (1 - l/d) D) / den_l, with e the sum of r x over the
    survivors of the risk set and D over the deaths; sums over l of the means and of their
    outer products are then per-time sums of scalars times e and D, so no (deaths × p) array
    is formed. With ``gk`` (a value per event time) also the pieces of the ``cox.zph`` score
    test: the score of the covariates g(t)·x at their zero, and the blocks I·g and I·g² of
    the information of the expanded model.
    """
    eta = beta @ rs.xt
    shift = max(0.0, float(eta.max()) - 500.0)
    r = np.exp(eta - shift) if shift else np.exp(eta)
    rx = r * rs.xt
    (s0, d0), (s1, d1) = rs.sums(r), rs.sums(rx)
    e0, e1 = s0 - d0, s1 - d1
    k, keep = rs.k, 1.0 - rs.frac
    den = e0[k] + keep * d0[k]
    loglik = float((eta[rs.deaths] - shift).sum() - np.log(den).sum())
    inv = 1.0 / den
    # The squared terms are of e1 / den etc., formed as (e1 / s0) (s0 / den): s0 / den lies in
    # [1, d], where 1 / den² would underflow to 0 once den exceeds ~1e154 (eta ~354).
    rel = s0[k] * inv
    terms = np.stack([inv, keep * inv, rs.frac * inv, rel * rel, keep * rel**2, keep**2 * rel**2])
    sums, squares = np.split(_tie_sums(rs, terms), 2)
    mean_sum = e1 * sums[0] + d1 * sums[1]
    score = (rs.death_x - mean_sum).sum(axis=1)
    gram = _gram(rs.xt, _row_weights(rs, r, sums[0], sums[2]))
    e1_rel, d1_rel = e1 / s0, d1 / s0  # the sums over s0, to pair with the squares of s0 / den
    info = gram - _mean_outer(e1_rel, d1_rel, squares, 1.0)
    zph = None
    if gk is not None:
        powers = (gk, gk**2)
        weights = [_row_weights(rs, r, sums[0] * g, sums[2] * g) for g in powers]
        pairs = zip(_grams(rs.xt, weights), powers, strict=True)
        blocks = [gram_g - _mean_outer(e1_rel, d1_rel, squares, g) for gram_g, g in pairs]
        zph = ((rs.death_x - mean_sum) @ gk, *blocks)
    return _Evaluation(loglik, score, info, zph)


def _tie_sums(rs: _RiskSets, terms: np.ndarray) -> np.ndarray:
    """Σ over the deaths of each event time of per-death values (rows of ``terms``).

    The deaths are ordered by time and every event time has one, so the sums are over
    contiguous non-empty segments.
    """
    if rs.deaths.size == 0:
        return np.zeros((terms.shape[0], rs.times.size))
    return np.add.reduceat(terms, rs.tie_starts, axis=1)


def _row_weights(rs: _RiskSets, r: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row weights w of Σ_deaths (Efron second moment) = Xᵀ diag(w) X.

    The second moment of the death l at time k is (S2 - (l/d) D2) / den_l with S2, D2 the
    sums of r x xᵀ over the risk set and the deaths; with a_k = Σ_l 1/den_l and
    b_k = Σ_l (l/d)/den_l a row gets r (Σ of a over its risk interval - b at its death time).
    """
    w = rs.cumulate(a)
    w[rs.death_rows] -= b[rs.j_stop[rs.death_rows] - 1]
    w *= r
    return w if rs.weights is None else w * rs.weights


def _mean_outer(e1, d1, squares, g) -> np.ndarray:
    """Σ over deaths of g · mean meanᵀ, from the per-time sums of the means' coefficients.

    A (p × 2m) by (2m × p) product: ``einsum``'s own loop, as BLAS's threads cost more than
    they save on so small a product.
    """
    q0, q1, q2 = (s * g for s in squares)
    left = np.concatenate([e1 * q0 + d1 * q1, e1 * q1 + d1 * q2], axis=1)
    return np.einsum("ik,jk->ij", left, np.concatenate([e1, d1], axis=1))


@dataclass(frozen=True)
class EfronFit:
    """The numbers of one fitted Cox model (engine output, before labelling).

    Attributes
    ----------
    coef_, var_ : coefficients and their covariance (inverse observed information).
    loglik_ : log partial likelihood at β = 0 and at the estimate.
    score_test_ : score statistic at β = 0.
    iterations_ : Newton–Raphson iterations.
    converged_ : the largest step fell below 1e-9, or the log-likelihood stopped increasing
        (relative gain below 1e-13) — the latter happens when a coefficient is infinite.
    infinite_ : per coefficient, True when it was still moving when the log-likelihood had
        stopped increasing: the estimate is infinite (monotone likelihood, e.g. a level of a
        categorical covariate without events) and its HR is not estimable.
    n_, events_ : rows and events used.
    """

    coef_: np.ndarray
    var_: np.ndarray
    loglik_: tuple[float, float]
    score_test_: float
    iterations_: int
    converged_: bool
    infinite_: np.ndarray
    n_: int
    events_: int
    risk_sets: _RiskSets = field(repr=False)


_SINGULAR = (
    "the Cox model's information matrix is singular (a covariate is constant or collinear "
    "with others among the rows used)"
)


def _solve(info: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """info⁻¹ rhs for a positive definite information matrix."""
    try:
        factor = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        raise SingularInformation(_SINGULAR, info) from None
    return np.linalg.solve(factor.T, np.linalg.solve(factor, rhs))


def aliased_columns(info: np.ndarray, tol: float = ALIAS_TOL) -> np.ndarray:
    """Columns of a (positive semi-definite) information matrix that are not estimable.

    The rule of R's ``cholesky2`` (``coxph``'s "X matrix deemed to be singular"): columns are
    eliminated in order, and one whose pivot is below ``tol`` times the largest diagonal
    element is aliased with those before it and set aside.

    Parameters
    ----------
    info : numpy.ndarray
        p × p information matrix.
    tol : float
        Relative pivot tolerance.

    Returns
    -------
    numpy.ndarray of bool
        True for each aliased column.
    """
    work = np.array(info, dtype=float)
    p = work.shape[0]
    eps = tol * float(np.abs(np.diag(work)).max(initial=0.0))
    aliased = np.zeros(p, dtype=bool)
    for i in range(p):
        pivot = work[i, i]
        if not np.isfinite(pivot) or pivot <= eps:
            aliased[i] = True
            continue
        ratio = work[i + 1 :, i] / pivot
        work[i + 1 :, i + 1 :] -= np.outer(ratio, work[i, i + 1 :])
    return aliased


def _step(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Newton step; near-singular directions (a coefficient running off) get no step."""
    try:
        return _solve(info, score)
    except AnalysisError:
        values, vectors = np.linalg.eigh(info)
        keep = values > 1e-12 * values.max()
        return vectors[:, keep] @ ((vectors[:, keep].T @ score) / values[keep])


def _finite(evaluation: _Evaluation) -> bool:
    return math.isfinite(evaluation.loglik) and bool(np.isfinite(evaluation.info).all())


def _newton(rs: _RiskSets, current: _Evaluation, max_iter: int):
    """Newton–Raphson with step halving from β = 0: (β, evaluation, iterations, flags).

    A trial step whose sums overflow (a coefficient running off) counts as no gain, so its
    floating-point warnings are silenced here and the fit stops at the last finite point.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _newton_steps(rs, current, max_iter)


def _newton_steps(rs: _RiskSets, current: _Evaluation, max_iter: int):
    beta = np.zeros(rs.xt.shape[0])
    step = np.zeros_like(beta)
    for iteration in range(1, max_iter + 1):
        step = full_step = _step(current.info, current.score)
        trial = _evaluate(rs, beta + step)
        for _ in range(30):
            if _finite(trial) and trial.loglik >= current.loglik - 1e-12 * abs(current.loglik):
                break
            step = step / 2
            trial = _evaluate(rs, beta + step)
        if not _finite(trial):  # the coefficients run off so far that the sums overflow
            return beta, current, iteration, False, np.abs(full_step) > 1e-3
        gain = trial.loglik - current.loglik
        beta, current = beta + step, trial
        if float(np.max(np.abs(step))) < STEP_TOL:
            return beta, current, iteration, True, np.zeros(beta.size, bool)
        if gain <= LOGLIK_TOL * abs(current.loglik):
            # a coefficient the full Newton step still moves is running off (the halved step
            # that gained nothing says nothing)
            return beta, current, iteration, True, np.abs(full_step) > 1e-3
    return beta, current, max_iter, False, np.abs(step) > 1e-3


def null_model(stop, event, x, *, start=None) -> tuple[float, float]:
    """Log partial likelihood at β = 0 and the score test there (Efron ties).

    Parameters
    ----------
    stop, event, x, start
        As for :func:`fit_efron`.

    Returns
    -------
    tuple of float
        The log partial likelihood and the score statistic.
    """
    rs = _RiskSets(stop, event, x, start)
    null = _evaluate(rs, np.zeros(rs.xt.shape[0]))
    return null.loglik, float(null.score @ _solve(null.info, null.score))


def collapse_rows(stop, event, x, *, start=None):
    """Merge identical rows (start, stop, event, covariates) into one row with their count.

    Exact for the Efron partial likelihood: its terms at a time depend on the sums over the
    risk set and over the deaths and on the number d of deaths, and the tie correction runs
    over the d deaths (:class:`_RiskSets` repeats the deaths of a counted row). Worth it when
    the covariates take few values (categorical covariates only): 10⁶ patients become about
    (distinct times × covariate patterns) rows.

    Parameters
    ----------
    stop, event, x, start
        As for :func:`fit_efron`.

    Returns
    -------
    tuple
        ``(stop, event, x, start, counts)``, the distinct rows in order of first appearance
        (``start`` ``None`` when not given) and how many rows each stands for.
    """
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    columns = {"stop": np.asarray(stop, dtype=float), "event": np.asarray(event, dtype=bool)}
    if start is not None:
        columns["start"] = np.asarray(start, dtype=float)
    columns |= {f"x{i}": x[:, i] for i in range(x.shape[1])}
    rows = pl.DataFrame(columns).group_by(list(columns), maintain_order=True).len()
    distinct = rows.select(f"x{i}" for i in range(x.shape[1])).to_numpy().astype(float)
    return (
        rows["stop"].to_numpy(),
        rows["event"].to_numpy(),
        distinct.reshape(rows.height, x.shape[1]),
        rows["start"].to_numpy() if start is not None else None,
        rows["len"].to_numpy().astype(float),
    )


def fit_efron(
    stop, event, x, *, start=None, collapse: bool = False, max_iter: int = MAX_ITER
) -> EfronFit:
    """Fit a Cox model with Efron ties by Newton–Raphson.

    Parameters
    ----------
    stop : array_like
        Follow-up times (or interval ends of counting-process rows), finite.
    event : array_like
        1/True where the row ends with the event.
    x : array_like
        Covariates, one row per row of data, one column per coefficient (finite).
    start : array_like, optional
        Interval starts for counting-process data (risk set at t: start < t ≤ stop);
        ``None`` for right-censored data.
    collapse : bool
        Fit on the distinct rows with their counts (:func:`collapse_rows`): the same model,
        faster when the covariates are categorical only.
    max_iter : int
        Newton–Raphson iterations at most.

    Returns
    -------
    EfronFit

    Raises
    ------
    AnalysisError
        No event, or a covariate constant or collinear (singular information at β = 0).
    """
    weights = None
    if collapse:
        stop, event, x, start, weights = collapse_rows(stop, event, x, start=start)
    rs = _RiskSets(stop, event, x, start, weights)
    if rs.deaths.size == 0:
        raise AnalysisError("the Cox model needs at least one event")
    null = _evaluate(rs, np.zeros(rs.xt.shape[0]))
    # R's cholesky2 rule decides, not rounding: an exactly collinear column can leave a pivot
    # of rounding noise that is positive, and Cholesky alone would then accept it
    if aliased_columns(null.info).any():
        raise SingularInformation(_SINGULAR, null.info)
    score_test = float(null.score @ _solve(null.info, null.score))
    beta, final, iterations, converged, infinite = _newton(rs, null, max_iter)
    values, vectors = np.linalg.eigh(final.info)
    var = (vectors / np.maximum(values, 1e-300)) @ vectors.T
    return EfronFit(
        coef_=beta,
        var_=var,
        loglik_=(null.loglik, final.loglik),
        score_test_=score_test,
        iterations_=iterations,
        converged_=converged,
        infinite_=infinite,
        n_=rs.n,
        events_=int(rs.deaths.size),
        risk_sets=rs,
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
    return {"terms": rows, "global": overall, "transform": "km", "method": METHODS["ph_test"]}


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


# --------------------------------------------------------------------------------------------
# Design matrix from a frame
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """A model matrix built from a frame.

    Attributes
    ----------
    matrix : rows used × coefficients.
    columns : per coefficient, (covariate, level or None for a continuous covariate).
    assign : covariate → indices of its coefficients.
    references : categorical covariate → reference level.
    keep : boolean mask over the frame's rows: the rows used (complete cases).
    missing : covariate → rows with a missing value (before dropping).
    single_level : categorical covariate → its one value among the rows used (it has no
        column: nothing to compare).
    """

    matrix: np.ndarray
    columns: list[tuple[str, str | None]]
    assign: dict[str, list[int]]
    references: dict[str, str]
    keep: np.ndarray
    missing: dict[str, int]
    single_level: dict[str, str] = field(default_factory=dict)

    def without(self, drop: np.ndarray) -> Design:
        """The same design without the columns where ``drop`` is true."""
        kept = np.flatnonzero(~drop)
        new_index = {int(old): new for new, old in enumerate(kept)}
        assign = {
            name: [new_index[i] for i in cols if i in new_index]
            for name, cols in self.assign.items()
        }
        return replace(
            self,
            matrix=self.matrix[:, kept],
            columns=[self.columns[i] for i in kept],
            assign={name: cols for name, cols in assign.items() if cols},
        )


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.Utf8) if series.dtype != pl.Utf8 else series


def missing_mask(series: pl.Series, missing_levels: Sequence[str]) -> np.ndarray:
    mask = series.is_null().to_numpy()
    if series.dtype.is_float():
        mask |= series.is_nan().fill_null(False).to_numpy()
    if missing_levels and not series.dtype.is_numeric():
        mask |= _as_text(series).is_in(list(missing_levels)).fill_null(False).to_numpy()
    return mask


def _reference_level(values: pl.Series) -> str:
    counts = values.value_counts()
    counts = counts.sort([counts.columns[1], counts.columns[0]], descending=[True, False])
    return str(counts[0, 0])


def design_matrix(
    frame: pl.DataFrame,
    *,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] | Mapping[str, str | None] = (),
    missing_levels: Sequence[str] = ("missing",),
    level_order: Mapping[str, Sequence[str]] | None = None,
) -> Design:
    """Treatment-coded model matrix of complete cases.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per observation.
    continuous : sequence of str
        Columns used as numbers.
    categorical : sequence of str, or mapping of str to str or None
        Columns used as categories (values as text); a mapping gives the reference level of
        some (``None``: the most frequent level among the rows used, ties alphabetically).
    missing_levels : sequence of str
        Text values that mean "missing" (nulls and NaN always do).
    level_order : mapping of str to sequence of str, optional
        Order of the non-reference levels per covariate (else sorted as text).

    Returns
    -------
    Design
        The categorical covariates' columns first (in the order given), then the
        continuous ones.

    Raises
    ------
    AnalysisError
        A column is absent, or a given reference level has no row in the model.
    """
    refs = dict(categorical) if isinstance(categorical, Mapping) else dict.fromkeys(categorical)
    names = list(continuous) + list(refs)
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise AnalysisError(f"the data have no column {', '.join(absent)} for the Cox model")
    masks = {c: missing_mask(frame[c], missing_levels) for c in names}
    keep = ~np.logical_or.reduce([np.zeros(frame.height, bool), *masks.values()])
    used = frame.filter(pl.Series(keep))
    blocks, columns, assign, references, single = [], [], {}, {}, {}
    for name, ref in refs.items():
        values = _as_text(used[name])
        ref = _reference_level(values) if ref is None else str(ref)
        present = set(values.unique().to_list())
        if ref not in present:
            raise AnalysisError(f"the reference level {ref!r} of {name} has no row in the model")
        order = (level_order or {}).get(name)
        levels = [v for v in (order or sorted(present)) if v in present and v != ref]
        if not levels:
            single[name] = ref
            continue
        references[name] = ref
        assign[name] = list(range(len(columns), len(columns) + len(levels)))
        columns.extend((name, level) for level in levels)
        indicators = [(values == level).to_numpy() for level in levels]
        blocks.append(np.stack(indicators, axis=1).astype(float))
    for name in continuous:
        assign[name] = [len(columns)]
        columns.append((name, None))
        blocks.append(used[name].cast(pl.Float64).to_numpy()[:, None])
    matrix = np.hstack(blocks) if blocks else np.zeros((used.height, 0))
    missing = {c: int(m.sum()) for c, m in masks.items()}
    return Design(matrix, columns, assign, references, keep, missing, single)


# --------------------------------------------------------------------------------------------
# Results as plain data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoxTerm:
    """One coefficient.

    Attributes
    ----------
    term : ``covariate`` or ``covariate=level``.
    covariate, level, reference : what the coefficient compares (level and reference are
        ``None`` for a continuous covariate, whose HR is per unit).
    label : display label of the level when known (e.g. the stratum's label).
    coef_, se_, hr_, hr_ci_, z_, p_ : estimate, standard error, hazard ratio with its 95% CI,
        Wald z and two-sided p.
    infinite_ : the estimate runs off to ±infinity (monotone likelihood, e.g. a level
        without events); its HR, CI and p are then not meaningful and should not be shown.
    aliased_ : the coefficient is not estimable (constant or collinear among the risk sets
        of the events) and was left out of the fit; its estimate and HR are missing (NaN).
    """

    term: str
    covariate: str
    level: str | None
    reference: str | None
    label: str | None
    coef_: float
    se_: float
    hr_: float
    hr_ci_: tuple[float, float]
    z_: float
    p_: float
    infinite_: bool
    aliased_: bool = False

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model as plain data.

    Attributes
    ----------
    name : what the model is (e.g. ``"unadjusted"``).
    methods : the methods used, in words.
    n_, events_ : patients (rows) and events in the model.
    n_input_, dropped_missing_ : rows given, and rows dropped for a missing covariate value
        (``total`` and ``by_covariate``, counted before dropping, so a row may count twice).
    references_ : categorical covariate → reference level.
    terms_ : the coefficients (:class:`CoxTerm`).
    covariate_tests_ : joint Wald test of each covariate's coefficients (term, chisq, df, p).
    loglik_ : log partial likelihood at β = 0 and at the estimate.
    tests_ : ``likelihood_ratio``, ``wald`` and ``score`` (chisq, df, p).
    ph_test_ : the ``cox.zph`` test per covariate and global (``None`` when not computed).
    iterations_, converged_ : Newton–Raphson iterations and convergence.
    warnings_ : problems a reader must know (an infinite coefficient, no convergence, a
        covariate left out).
    left_out_ : what the fit left out and why: ``{"covariate", "level", "reason"}`` with
        reason ``"single_level"`` (one value among the rows used) or ``"aliased"``.
    """

    name: str
    methods: dict[str, str]
    n_: int
    events_: int
    n_input_: int
    dropped_missing_: dict
    references_: dict[str, str]
    terms_: list[CoxTerm]
    covariate_tests_: list[dict]
    loglik_: tuple[float, float]
    tests_: dict[str, dict]
    ph_test_: dict | None
    iterations_: int
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
        """JSON-able form (fitted names without the trailing ``_``; tuples as lists)."""
        return result_dict(self)


def wald_terms(
    fit,
    columns: Sequence[tuple[str, str | None]],
    references,
    labels=None,
    alpha=0.05,
    aliased: np.ndarray | None = None,
) -> list[CoxTerm]:
    """Label the coefficients of a fit as :class:`CoxTerm` (Wald CI and p).

    With ``aliased`` (a mask over ``columns``) the fit holds the other columns only, and each
    aliased column gets a term of missing estimates in its place.
    """
    z_crit = z_value(1 - alpha)
    se = np.sqrt(np.diag(fit.var_))
    aliased = np.zeros(len(columns), dtype=bool) if aliased is None else aliased
    fitted = np.cumsum(~aliased) - 1
    nan = float("nan")
    terms = []
    for i, (covariate, level) in enumerate(columns):
        j = int(fitted[i])
        coef, s = (nan, nan) if aliased[i] else (float(fit.coef_[j]), float(se[j]))
        z = coef / s
        with np.errstate(over="ignore"):
            hr, low, high = np.exp([coef, coef - z_crit * s, coef + z_crit * s]).tolist()
        terms.append(
            CoxTerm(
                term=term_name(covariate, level),
                covariate=covariate,
                level=level,
                reference=references.get(covariate),
                label=(labels or {}).get(level),
                coef_=coef,
                se_=s,
                hr_=hr,
                hr_ci_=(low, high),
                z_=z,
                p_=normal_two_sided_p(z),  # NaN for an aliased column, as z is
                infinite_=False if aliased[i] else bool(fit.infinite_[j]),
                aliased_=bool(aliased[i]),
            )
        )
    return terms


def term_name(covariate: str, level: str | None) -> str:
    """A coefficient's name: ``covariate``, or ``covariate=level`` for a categorical level."""
    return covariate if level is None else f"{covariate}={level}"


def fit_warnings(fit, columns: Sequence[tuple[str, str | None]]) -> list[str]:
    """Plain-language warnings about a fit: infinite coefficients, no convergence."""
    notes = []
    if not fit.converged_:
        notes.append(f"Newton–Raphson did not converge in {fit.iterations_} iterations")
    for (covariate, level), infinite in zip(columns, fit.infinite_, strict=True):
        if infinite:
            notes.append(
                f"the coefficient of {term_name(covariate, level)} is infinite (monotone "
                "likelihood, e.g. a level without events or with all events); its hazard ratio "
                "is not estimable"
            )
    return notes


def left_out_warnings(left_out: Sequence[dict]) -> list[str]:
    """Plain-language warnings about what :func:`fit_estimable` left out of a model."""
    notes = []
    for item in left_out:
        if item["reason"] == "single_level":
            notes.append(
                f"{item['covariate']} takes one value ({item['level']}) among the rows used; "
                "it is left out of the model"
            )
        else:
            what = term_name(item["covariate"], item["level"])
            notes.append(
                f"the coefficient of {what} is not estimable (constant or collinear with other "
                "covariates among the risk sets of the events); it is left out of the model, "
                "as R's coxph gives it NA"
            )
    return notes


def fit_estimable(
    stop, event, design: Design, *, start=None, collapse: bool = False
) -> tuple[EfronFit, np.ndarray, list[dict]]:
    """:func:`fit_efron` on the design's estimable columns.

    A column aliased at β = 0 (:func:`aliased_columns`) is left out and the rest refitted,
    which is R's ``coxph`` with the aliased coefficient NA; a categorical covariate with one
    value has no column at all (:class:`Design`).

    Parameters
    ----------
    stop, event, start, collapse
        As for :func:`fit_efron`, over the design's rows.
    design : Design
        The model matrix and its columns.

    Returns
    -------
    tuple
        The fit (of the columns kept), the mask of aliased columns over ``design.columns``,
        and what was left out (``{"covariate", "level", "reason"}``).

    Raises
    ------
    AnalysisError
        No event, no column, or no estimable column.
    """
    left_out = [
        {"covariate": name, "level": level, "reason": "single_level"}
        for name, level in design.single_level.items()
    ]
    aliased = np.zeros(len(design.columns), dtype=bool)
    if not design.columns:
        raise AnalysisError(_nothing_to_estimate(design))
    try:
        fit = fit_efron(stop, event, design.matrix, start=start, collapse=collapse)
    except SingularInformation as error:
        aliased = aliased_columns(error.info)
        if aliased.all():
            raise AnalysisError(_nothing_to_estimate(design)) from None
        matrix = design.matrix[:, ~aliased]
        fit = fit_efron(stop, event, matrix, start=start, collapse=collapse)
    left_out += [
        {"covariate": covariate, "level": level, "reason": "aliased"}
        for (covariate, level), is_aliased in zip(design.columns, aliased, strict=True)
        if is_aliased
    ]
    return fit, aliased, left_out


def _nothing_to_estimate(design: Design) -> str:
    if design.single_level and not design.columns:
        names = ", ".join(design.single_level)
        return f"the Cox model has nothing to compare: {names} takes one value among the rows used"
    return (
        "no coefficient of the Cox model is estimable: every covariate is constant or "
        "collinear among the risk sets of the events"
    )


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


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def cox_ph(
    frame: pl.DataFrame,
    *,
    time: str,
    event: str,
    continuous: Sequence[str] = (),
    categorical: Sequence[str] | Mapping[str, str | None] = (),
    missing_levels: Sequence[str] = ("missing",),
    level_order: Mapping[str, Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str = "cox",
    ph_test: bool = True,
    alpha: float = 0.05,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (Efron ties) to right-censored data.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per patient.
    time, event : str
        Columns of the follow-up time and the event indicator (1/True = event).
    continuous, categorical, missing_levels, level_order
        As for :func:`design_matrix`.
    labels : mapping of str to str, optional
        Display labels of categorical levels, carried into the terms.
    name : str
        Name of the model in the output.
    ph_test : bool
        Compute the ``cox.zph`` proportional-hazards test.
    alpha : float
        1 - confidence level of the CIs.

    Returns
    -------
    CoxResult
    """
    design = design_matrix(
        frame,
        continuous=continuous,
        categorical=categorical,
        missing_levels=missing_levels,
        level_order=level_order,
    )
    used = frame.filter(pl.Series(design.keep))
    fit, aliased, left_out = fit_estimable(
        used[time].cast(pl.Float64).to_numpy(),
        used[event].cast(pl.Boolean).to_numpy(),
        design,
        collapse=not continuous,
    )
    kept = design.without(aliased)
    dropped = int((~design.keep).sum())
    return CoxResult(
        name=name,
        methods=dict(METHODS),
        n_=fit.n_,
        events_=fit.events_,
        n_input_=frame.height,
        dropped_missing_={"total": dropped, "by_covariate": design.missing},
        references_=design.references,
        terms_=wald_terms(fit, design.columns, design.references, labels, alpha, aliased),
        covariate_tests_=covariate_tests(fit, kept.assign),
        loglik_=fit.loglik_,
        tests_=model_tests(fit),
        ph_test_=zph_test(fit, kept.assign) if ph_test else None,
        iterations_=fit.iterations_,
        converged_=fit.converged_,
        warnings_=fit_warnings(fit, kept.columns) + left_out_warnings(left_out),
        left_out_=left_out,
    )


def reference_stratum(study, present: pl.Series) -> str | None:
    """The study's default stratum when the data have it, else ``None`` (most frequent)."""
    default = next(s.key for s in study.strata if s.is_default)
    return default if (present == default).any() else None


def study_covariates(study, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The study's baseline covariates as (continuous, categorical) columns of the ADTTE.

    ``age`` is the ADTTE's ``age_years``; other covariates keep their name.
    """
    from toolkit.study import BASELINE_COVARIATES

    continuous, categorical = [], []
    for covariate in study.baseline.covariates:
        column = "age_years" if covariate == "age" else covariate
        if column not in columns:
            raise AnalysisError(f"the analysis data have no column for the covariate {covariate}")
        kind = BASELINE_COVARIATES[covariate]
        (continuous if kind == "continuous" else categorical).append(column)
    return continuous, categorical


def stratum_cox(
    adtte: pl.DataFrame,
    study,
    *,
    adjusted: bool = False,
    missing_levels: Sequence[str] = ("missing",),
    ph_test: bool = True,
) -> CoxResult:
    """Cox model of the study's strata (reference: the default stratum) on the ADTTE.

    Parameters
    ----------
    adtte : polars.DataFrame
        One row per patient with ``aval`` (months), ``is_event``, ``stratum_key`` and the
        baseline covariate columns.
    study : toolkit.study.Study
        The strata (reference: the default stratum; without patients in it, the most
        frequent stratum) and the baseline covariates.
    adjusted : bool
        Also adjust for the study's baseline covariates (``age`` continuous, others
        categorical with the most frequent level as reference).
    missing_levels : sequence of str
        Covariate values treated as missing (besides nulls).
    ph_test : bool
        Compute the ``cox.zph`` test.

    Returns
    -------
    CoxResult
        Named ``"unadjusted"`` or ``"adjusted"``. When the strata depend on later therapy
        its ``warnings_`` start with the immortal-time warning: see
        :mod:`toolkit.survival.immortal_time`.
    """
    order = [s.key for s in study.strata_for_display]
    continuous, categorical = study_covariates(study, adtte.columns) if adjusted else ([], [])
    default = reference_stratum(study, adtte["stratum_key"])
    result = cox_ph(
        adtte,
        time="aval",
        event="is_event",
        continuous=continuous,
        categorical={"stratum_key": default} | dict.fromkeys(categorical),
        missing_levels=missing_levels,
        level_order={"stratum_key": order},
        labels={s.key: s.label for s in study.strata},
        name="adjusted" if adjusted else "unadjusted",
        ph_test=ph_test,
    )
    if not study.strata_depend_on_later_therapy:
        return result
    return replace(result, warnings_=[IMMORTAL_TIME_WARNING, *result.warnings_])
