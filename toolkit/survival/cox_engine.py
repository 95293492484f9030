"""The Cox engine: a vectorised Newton–Raphson on Efron's partial likelihood, on arrays.

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

Estimation is Newton–Raphson with step halving, started at β = 0, until the largest step is
below :data:`STEP_TOL` (or the log-likelihood stops increasing: an infinite coefficient,
flagged). A column whose pivot in the information matrix falls below :data:`ALIAS_TOL` is
aliased, by the rule of R's ``cholesky2`` (:func:`aliased_columns`).

This module knows nothing of frames or studies: :mod:`toolkit.survival.cox` builds the design
and the public result, :mod:`toolkit.survival.cox_inference` the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from toolkit.errors import AnalysisError

__all__ = [
    "ALIAS_TOL",
    "LOGLIK_TOL",
    "MAX_ITER",
    "STEP_TOL",
    "EfronFit",
    "SingularInformation",
    "aliased_columns",
    "collapse_rows",
    "fit_efron",
    "null_model",
]

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


def collapse_rows(stop, event, x, *, start=None, weights=None):
    """Merge identical rows (start, stop, event, covariates) into one row with their count.

    Exact for the Efron partial likelihood: its terms at a time depend on the sums over the
    risk set and over the deaths and on the number d of deaths, and the tie correction runs
    over the d deaths (:class:`_RiskSets` repeats the deaths of a counted row). Worth it when
    the covariates take few values (categorical covariates only): 10⁶ patients become about
    (distinct times × covariate patterns) rows.

    Parameters
    ----------
    stop, event, x, start, weights
        As for :func:`fit_efron` (``weights``: how many rows each row stands for already).

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
    frame = pl.DataFrame(columns).with_columns(
        len=pl.lit(1.0) if weights is None else pl.Series(np.asarray(weights, dtype=float))
    )
    rows = frame.group_by(list(columns), maintain_order=True).agg(pl.col("len").sum())
    distinct = rows.select(f"x{i}" for i in range(x.shape[1])).to_numpy().astype(float)
    return (
        rows["stop"].to_numpy(),
        rows["event"].to_numpy(),
        distinct.reshape(rows.height, x.shape[1]),
        rows["start"].to_numpy() if start is not None else None,
        rows["len"].to_numpy().astype(float),
    )


def fit_efron(
    stop,
    event,
    x,
    *,
    start=None,
    weights=None,
    collapse: bool = False,
    max_iter: int = MAX_ITER,
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
    weights : array_like of int, optional
        How many patients each row stands for (rows of an aggregate); one each by default.
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
    if collapse:
        stop, event, x, start, weights = collapse_rows(stop, event, x, start=start, weights=weights)
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
