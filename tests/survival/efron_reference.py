"""Efron's partial likelihood written from its definition, one event time at a time.

An independent implementation for the tests of the Cox engine (``toolkit/survival/cox.py``),
which works with suffix sums over sorted rows: here every risk set is found by comparing
times, and each row with a count stands for that many rows. Slow, plain and obviously right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EfronTerms:
    """The log partial likelihood, score and information at β, and the score and information
    contributed by each event time (for the ``cox.zph`` pieces)."""

    loglik: float
    score: np.ndarray
    info: np.ndarray
    times: np.ndarray
    score_by_time: np.ndarray
    info_by_time: np.ndarray


def efron(stop, event, x, beta, *, start=None, counts=None) -> EfronTerms:
    """Efron terms at ``beta``; a row is at risk at t when start < t ≤ stop."""
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event, dtype=bool)
    x = np.asarray(x, dtype=float).reshape(stop.size, -1)
    start = np.full(stop.size, -np.inf) if start is None else np.asarray(start, dtype=float)
    counts = np.ones(stop.size) if counts is None else np.asarray(counts, dtype=float)
    beta = np.asarray(beta, dtype=float)
    p = x.shape[1]
    # exp of the linear predictor less its largest value: every denominator is a sum of such
    # terms, so each log-denominator is log(Σ r) + c, which the numerator's (eta - c) cancels
    eta = x @ beta
    c = float(eta.max())
    r = np.exp(eta - c)
    times = np.unique(stop[event])
    loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    score_by_time, info_by_time = [], []
    for t in times:
        risk = (start < t) & (t <= stop)
        died = risk & event & (stop == t)
        d = int(counts[died].sum())
        w_risk, w_died = counts * risk * r, counts * died * r
        s0, s1, s2 = w_risk.sum(), w_risk @ x, (x.T * w_risk) @ x
        d0, d1, d2 = w_died.sum(), w_died @ x, (x.T * w_died) @ x
        u = (counts * died) @ x
        i = np.zeros((p, p))
        loglik += float((counts * died) @ (eta - c))
        for tie in range(d):
            share = tie / d  # Efron: the deaths' share already gone
            den = s0 - share * d0
            mean = (s1 - share * d1) / den
            loglik -= np.log(den)
            u = u - mean
            i += (s2 - share * d2) / den - np.outer(mean, mean)
        score += u
        info += i
        score_by_time.append(u)
        info_by_time.append(i)
    return EfronTerms(loglik, score, info, times, np.array(score_by_time), np.array(info_by_time))


def newton(
    stop, event, x, *, start=None, counts=None, tol: float = 1e-12, max_iter: int = 100
) -> np.ndarray:
    """The maximum partial likelihood estimate by plain Newton–Raphson on :func:`efron`."""
    return newton_path(stop, event, x, start=start, counts=counts, tol=tol, max_iter=max_iter)[-1]


def newton_path(
    stop, event, x, *, start=None, counts=None, tol: float = 1e-12, max_iter: int = 100
) -> list[np.ndarray]:
    """Every iterate of plain Newton–Raphson from 0 (no step halving) until a step < ``tol``,
    or the first ``max_iter + 1`` iterates."""
    path = [np.zeros(np.asarray(x, dtype=float).reshape(len(stop), -1).shape[1])]
    for _ in range(max_iter):
        terms = efron(stop, event, x, path[-1], start=start, counts=counts)
        step = np.linalg.solve(terms.info, terms.score)
        path.append(path[-1] + step)
        if np.max(np.abs(step)) < tol:
            return path
    if max_iter < 100:
        return path
    raise AssertionError("the reference Newton–Raphson did not converge")
