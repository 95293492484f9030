"""Log-rank tests as plain data: across all groups (as R's ``survdiff``) and pairwise (Holm).

Vectorised: the times are sorted once, and the numbers at risk and events of every group at
every event time are one matrix (event times × groups) built with ``np.bincount``; each test
reads its columns of that matrix.

Methods, named in every result (``method``):

- log-rank test (Mantel–Haenszel, ``rho = 0``): observed minus expected events per group and
  their hypergeometric covariance; the statistic is (O − E)' V⁻ (O − E) over the groups with
  expected events > 0, one dropped, on (that number − 1) degrees of freedom, as ``survdiff``;
- pairwise: the same test on the patients of each pair of groups, p-values adjusted by Holm's
  step-down method (R ``p.adjust(method = "holm")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, NamedTuple

import numpy as np

from toolkit.survival._common import chi2_upper_p, counted_groups, result_dict

__all__ = ["LogRankTest", "PairwiseLogRank", "logrank_test", "pairwise_logrank", "holm"]

METHOD = "log-rank test (Mantel–Haenszel)"
PAIRWISE_METHOD = "log-rank test on each pair of groups; p-values adjusted by Holm's method"


@dataclass(frozen=True)
class LogRankTest:
    """Log-rank test across groups.

    Attributes
    ----------
    groups : tuple of str
        Group labels, in the order of the per-group fields.
    n : tuple of int
        Patients per group.
    observed_, expected_ : tuple of float
        Observed and expected events per group.
    statistic_ : float
        Chi-square statistic (0 when fewer than two groups have expected events).
    df_ : int
        Degrees of freedom.
    p_ : float or None
        P-value (``None`` when ``df_`` is 0: there is nothing to test).
    method : str
        The method in words.
    """

    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed_: tuple[float, ...]
    expected_: tuple[float, ...]
    statistic_: float
    df_: int
    p_: float | None
    method: str = METHOD

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


@dataclass(frozen=True)
class PairwiseLogRank:
    """Log-rank tests of every pair of groups.

    Attributes
    ----------
    pairs_ : tuple of dict
        ``{"groups": [a, b], "statistic", "df", "p", "p_adjusted"}`` per pair, in the order of
        the groups.
    adjustment : str
        Multiple-testing adjustment (``"holm"``).
    method : str
        The method in words.
    """

    pairs_: tuple[dict, ...]
    adjustment: str = "holm"
    method: str = PAIRWISE_METHOD

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


class _Table(NamedTuple):
    """At each event time (rows), the number at risk and the events of each group (columns)."""

    labels: list[str]
    n: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray


def logrank_test(
    time: Any,
    event: Any,
    group: Any,
    *,
    labels: Sequence[str] | None = None,
    counts: Any = None,
) -> LogRankTest:
    """Log-rank test of equal survival across the groups, as R's ``survdiff``.

    Parameters
    ----------
    time : array_like
        Follow-up times, finite and non-negative.
    event : array_like
        1/True for the event, 0/False for censoring.
    group : array_like
        Group of each observation (labelled by its value as text, in sorted order).
    labels : sequence of str, optional
        Labels of the distinct group values in sorted order (e.g. ``group`` holds integer codes
        and ``labels`` their names); by default each value as text.
    counts : array_like of int, optional
        How many patients each row stands for (one each by default), as for
        :func:`toolkit.survival.kaplan_meier`.

    Returns
    -------
    LogRankTest
    """
    table = _event_table(time, event, group, labels, counts)
    observed, expected, statistic, df = _test(table.at_risk, table.events)
    return LogRankTest(
        groups=tuple(table.labels),
        n=tuple(int(x) for x in table.n),
        observed_=tuple(float(x) for x in observed),
        expected_=tuple(float(x) for x in expected),
        statistic_=statistic,
        df_=df,
        p_=chi2_upper_p(statistic, df),
    )


def pairwise_logrank(
    time: Any,
    event: Any,
    group: Any,
    *,
    labels: Sequence[str] | None = None,
    counts: Any = None,
) -> PairwiseLogRank:
    """Log-rank test of each pair of groups, with Holm-adjusted p-values.

    Each pair's test uses only the patients of those two groups (as ``survdiff`` on the
    subset); the times are sorted once for all pairs.

    Parameters
    ----------
    time, event, group, labels, counts
        As for :func:`logrank_test`.

    Returns
    -------
    PairwiseLogRank
    """
    table = _event_table(time, event, group, labels, counts)
    pairs = []
    for a, b in combinations(range(len(table.labels)), 2):
        columns = [a, b]
        at_risk, events = table.at_risk[:, columns], table.events[:, columns]
        used = events.sum(axis=1) > 0
        _, _, statistic, df = _test(at_risk[used], events[used])
        pairs.append(
            {
                "groups": [table.labels[a], table.labels[b]],
                "statistic": statistic,
                "df": df,
                "p": chi2_upper_p(statistic, df),
            }
        )
    adjusted = holm([pair["p"] for pair in pairs])
    return PairwiseLogRank(
        pairs_=tuple(pair | {"p_adjusted": q} for pair, q in zip(pairs, adjusted, strict=True))
    )


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment, as R's ``p.adjust(method = "holm")`` (``None`` kept)."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    p = np.array([p_values[i] for i in present], dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = (p.size - np.arange(p.size)) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out: list[float | None] = [None] * len(p_values)
    for i, q in zip(present, adjusted.tolist(), strict=True):
        out[i] = q
    return out


def _event_table(
    time: Any, event: Any, group: Any, labels: Sequence[str] | None, counts: Any
) -> _Table:
    """Numbers at risk and events per group at each distinct event time (one sort)."""
    t, e, w, labels, codes = counted_groups(time, event, group, counts, labels)
    order = np.argsort(t)
    t, e, w, codes = t[order], e[order], w[order], codes[order]
    n_groups = len(labels)
    new_time = np.r_[True, t[1:] != t[:-1]]
    row = np.cumsum(new_time) - 1
    cells = row * n_groups + codes
    size = int(row[-1] + 1) * n_groups
    total = _bincount(cells, w, size).reshape(-1, n_groups)
    events = _bincount(cells[e], w[e], size).reshape(-1, n_groups)
    at_risk = np.cumsum(total[::-1], axis=0)[::-1]
    used = events.sum(axis=1) > 0
    return _Table(labels, total.sum(axis=0), at_risk[used], events[used])


def _bincount(cells: np.ndarray, count: np.ndarray, size: int) -> np.ndarray:
    """Patients per cell, as integers (``np.bincount`` with weights gives floats)."""
    return np.bincount(cells, weights=count, minlength=size).astype(np.int64)


def _test(at_risk: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Observed, expected, chi-square and df from the event-time × group counts."""
    n = at_risk.sum(axis=1).astype(float)
    d = events.sum(axis=1).astype(float)
    expected = (at_risk * (d / n)[:, None]).sum(axis=0)
    observed = events.sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    weighted = at_risk * weight[:, None]
    variance = np.diag((weighted * n[:, None]).sum(axis=0)) - weighted.T @ at_risk
    tested = np.flatnonzero(expected > 0)
    df = tested.size - 1
    if df < 1:
        return observed, expected, 0.0, max(df, 0)
    keep = tested[1:]
    diff = (observed - expected)[keep]
    statistic = float(diff @ np.linalg.solve(variance[np.ix_(keep, keep)], diff))
    return observed, expected, statistic, df
