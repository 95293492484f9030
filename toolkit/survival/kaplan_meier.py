"""Kaplan–Meier estimates as plain data: curve, medians and quartiles with CI, S(t), at risk.

Vectorised with NumPy: the times are sorted once, tied times collapsed with cumulative counts,
and every quantity is read off the arrays at the unique times; there is no loop per patient.

Methods, named in every result (``method``):

- survival: Kaplan–Meier product-limit estimator;
- variance: Greenwood's formula for Var(log S(t)), as R's ``survfit``;
- pointwise CI: ``"log-log"`` (default; Kalbfleisch–Prentice, as SAS PROC LIFETEST and
  lifelines), ``"log"`` (R's default) or ``"plain"`` (linear, clipped to [0, 1]), exactly as R's
  ``survfit(conf.type = …)``;
- median and quartiles with CI: R's ``quantile.survfit`` rule — the first time S(t) ≤ 1 − p,
  except that where S(t) equals 1 − p (within √ε) over an interval the quantile is the midpoint
  of that interval (to the last follow-up time if S stays there); the CI limits are the same rule
  applied to the lower and upper CI curves (Brookmeyer–Crowley style). Where a CI curve rises
  again (rare: the log CI's upper limit near the end), the limit is its first crossing, as
  R's ``print.survfit`` (see :func:`survival_quantile`).

A median or CI limit that the curve never reaches is ``None`` ("not reached"), never infinity.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from toolkit.survival._common import counted_groups, counted_survival_data, result_dict, z_value

__all__ = [
    "CONF_TYPES",
    "METHODS",
    "KaplanMeierSummary",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "confidence_limits",
    "survival_quantile",
]

CONF_TYPES = ("log-log", "log", "plain")

QUANTILE_TOLERANCE = math.sqrt(sys.float_info.epsilon)
"""Two survival values closer than this are equal (R's ``quantile.survfit`` tolerance)."""

CI_METHODS = {
    "log-log": "Greenwood variance, log(-log) transform (Kalbfleisch–Prentice)",
    "log": "Greenwood variance, log transform",
    "plain": "Greenwood variance, linear (plain) limits clipped to [0, 1]",
}

METHODS = {
    "estimator": "Kaplan–Meier (product-limit)",
    "ci": "95% pointwise CI, Greenwood variance, log(-log) transform",
    "median_ci": "times at which the 95% CI bounds of S(t) cross 0.5",
    "quantile": ("first time S(t) <= 1 - p; midpoint of the interval where S(t) = 1 - p exactly"),
    "followup": "reverse Kaplan–Meier (censoring treated as the event)",
    "potential_followup": "median of the time from start to the data cutoff, all patients",
    "logrank": "log-rank test (Mantel–Haenszel)",
    "pairwise": "pairwise log-rank tests, Holm-adjusted p-values",
    "rmst": "restricted mean survival time: area under the Kaplan–Meier curve up to tau",
}


class _Steps(NamedTuple):
    """Kaplan–Meier at the unique observed times of one group (internal)."""

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    var_log: np.ndarray

    @property
    def n(self) -> int:
        return int(self.at_risk[0])

    @property
    def last_time(self) -> float:
        return float(self.time[-1])


@dataclass(frozen=True, eq=False)
class KaplanMeierSummary:
    """Kaplan–Meier estimate of one group.

    Attributes
    ----------
    key, label : str
        The group's identifier and display label.
    n, events, censored : int
        Counts.
    median_ : float or None
        Median survival time (``None``: not reached).
    median_ci_ : tuple
        Its confidence interval; a limit not reached is ``None``.
    quantiles_ : list of dict
        ``{"p", "time", "ci"}`` for each requested probability ``p`` (0.25 is the time by which
        25% had the event, i.e. where S(t) falls to 0.75).
    survival_at_ : list of dict
        ``{"time", "estimate", "ci", "at_risk"}`` at each requested time. Past the last
        follow-up time ``at_risk`` is 0 and the CI ``None``; the estimate is 0 if the curve
        reached 0 (R's ``summary(…, extend = TRUE)``), else ``None`` (it ended censored).
    at_risk_ : list of dict
        ``{"time", "at_risk", "events", "censored"}``: at each tick the number at risk (time ≥
        tick), and the events and censorings since the previous tick (up to and including it).
    curve_ : dict of numpy.ndarray
        The step function at its change points: ``time`` (0 first, then each event time, then
        the last follow-up time if censored), ``survival``, ``ci_lower``, ``ci_upper``
        (``NaN`` → ``None`` where S(t) = 0), ``at_risk`` and ``events`` at those times.
    censor_marks_ : dict of numpy.ndarray
        ``time`` and ``survival`` at each time with a censored observation.
    conf_type : str
        CI transform: ``"log-log"``, ``"log"`` or ``"plain"``.
    conf_level : float
        Confidence level of every interval.
    method : dict of str
        The methods, in words.
    """

    key: str
    label: str
    n: int
    events: int
    censored: int
    median_: float | None
    median_ci_: tuple[float | None, float | None]
    quantiles_: list[dict]
    survival_at_: list[dict]
    at_risk_: list[dict]
    curve_: dict[str, np.ndarray]
    censor_marks_: dict[str, np.ndarray]
    conf_type: str
    conf_level: float
    method: dict[str, str]

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_`` (``median_`` → ``median``)."""
        return result_dict(self)


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    counts: Any = None,
    key: str = "all",
    label: str = "All patients",
    at_times: Sequence[float] = (),
    ticks: Sequence[float] = (),
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
) -> KaplanMeierSummary:
    """Fit Kaplan–Meier to one group and summarise it.

    Parameters
    ----------
    time : array_like
        Follow-up times (any unit, e.g. months), finite and non-negative.
    event : array_like
        1/True for the event, 0/False for censoring.
    counts : array_like of int, optional
        How many patients each row stands for (one each by default): the rows of an
        aggregate, one per distinct time and event with its count, give the estimate of
        the patients' own rows.
    key, label : str
        Identifier and display label carried into the result.
    at_times : sequence of float
        Times at which to report S(t) with its CI and number at risk.
    ticks : sequence of float
        Times of the numbers-at-risk table.
    conf_type : {"log-log", "log", "plain"}
        Transform of the pointwise CI.
    conf_level : float
        Confidence level, 0.95 by default.
    probs : sequence of float
        Probabilities of the reported quantiles (the median is always reported).

    Returns
    -------
    KaplanMeierSummary

    Raises
    ------
    ValueError
        Invalid input (see :func:`toolkit.survival._common.as_survival_data`) or ``conf_type``.
    """
    t, e, w = counted_survival_data(time, event, counts)
    order = np.argsort(t)
    steps = _steps(t[order], e[order], w[order])
    options = _Options(tuple(at_times), tuple(ticks), conf_type, conf_level, tuple(probs))
    return _summarise(steps, key, label, options)


def empty_summary(
    *,
    key: str,
    label: str,
    at_times: Sequence[float] = (),
    ticks: Sequence[float] = (),
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
) -> KaplanMeierSummary:
    """The summary of a group without patients: no estimate at all, and none at risk.

    Parameters
    ----------
    key, label, at_times, ticks, conf_type, conf_level, probs
        As for :func:`kaplan_meier`.

    Returns
    -------
    KaplanMeierSummary
        ``n`` 0; every estimate, quantile and interval ``None``; empty curve arrays.
    """
    nothing = [None, None]
    curve = {name: np.zeros(0) for name in ("time", "survival", "ci_lower", "ci_upper")}
    curve |= {name: np.zeros(0, dtype=np.int64) for name in ("at_risk", "events")}
    return KaplanMeierSummary(
        key=key,
        label=label,
        n=0,
        events=0,
        censored=0,
        median_=None,
        median_ci_=(None, None),
        quantiles_=[{"p": float(p), "time": None, "ci": nothing} for p in probs],
        survival_at_=[
            {"time": float(t), "estimate": None, "ci": nothing, "at_risk": 0} for t in at_times
        ],
        at_risk_=[{"time": float(t), "at_risk": 0, "events": 0, "censored": 0} for t in ticks],
        curve_=_read_only(curve),
        censor_marks_=_read_only({"time": np.zeros(0), "survival": np.zeros(0)}),
        conf_type=conf_type,
        conf_level=float(conf_level),
        method=_method(conf_type, conf_level),
    )


def kaplan_meier_by_group(
    time: Any,
    event: Any,
    group: Any,
    *,
    counts: Any = None,
    labels: Sequence[str] | None = None,
    at_times: Sequence[float] = (),
    ticks: Sequence[float] = (),
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
) -> list[KaplanMeierSummary]:
    """Kaplan–Meier of each group, the times sorted once for all groups.

    Parameters
    ----------
    time, event : array_like
        As for :func:`kaplan_meier`.
    group : array_like
        Group of each observation; groups are reported in the order their values sort, keyed
        and labelled by the value as text.
    labels : sequence of str, optional
        Labels of the distinct group values in sorted order (e.g. ``group`` holds integer codes
        and ``labels`` their names); by default each value as text.
    counts, at_times, ticks, conf_type, conf_level, probs
        As for :func:`kaplan_meier`.

    Returns
    -------
    list of KaplanMeierSummary
        One per group.
    """
    t, e, w, labels, codes = counted_groups(time, event, group, counts, labels)
    options = _Options(tuple(at_times), tuple(ticks), conf_type, conf_level, tuple(probs))
    order = np.argsort(t)
    t, e, w, codes = t[order], e[order], w[order], codes[order]
    summaries = []
    for code, label in enumerate(labels):
        members = codes == code
        steps = _steps(t[members], e[members], w[members])
        summaries.append(_summarise(steps, label, label, options))
    return summaries


class _Options(NamedTuple):
    at_times: tuple[float, ...]
    ticks: tuple[float, ...]
    conf_type: str
    conf_level: float
    probs: tuple[float, ...]


def _steps(time: np.ndarray, event: np.ndarray, count: np.ndarray) -> _Steps:
    """Product-limit estimate at the unique times of sorted ``time``, each row standing for
    ``count`` (at least 1) patients."""
    first = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    counts = np.add.reduceat(count, first)
    events = np.add.reduceat(np.where(event, count, 0), first)
    at_risk = np.cumsum(counts[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - events / at_risk)
        terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
    return _Steps(time[first], at_risk, events, counts - events, survival, np.cumsum(terms))


def confidence_limits(
    survival: np.ndarray, var_log: np.ndarray, conf_type: str = "log-log", conf_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits of S(t), as R's ``survfit``.

    Parameters
    ----------
    survival : numpy.ndarray
        Kaplan–Meier estimates.
    var_log : numpy.ndarray
        Greenwood variance of log S(t) (infinite once S(t) = 0).
    conf_type : {"log-log", "log", "plain"}
        The transform.
    conf_level : float
        Confidence level.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits: ``NaN`` where S(t) = 0 (undefined, as R's ``NA``), 1 and 1
        where S(t) = 1 (R gives ``NA`` for log-log there, except at time 0).
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")
    z = z_value(conf_level)
    s = np.asarray(survival, dtype=float)
    se = np.sqrt(np.asarray(var_log, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = z * se * s
            lower, upper = np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
        elif conf_type == "log":
            log_s = np.log(s)
            lower, upper = np.exp(log_s - z * se), np.minimum(np.exp(log_s + z * se), 1.0)
        else:
            log_log = np.log(-np.log(s))
            width = z * se / np.log(s)
            lower, upper = np.exp(-np.exp(log_log - width)), np.exp(-np.exp(log_log + width))
    lower = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, np.nan, lower))
    upper = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, np.nan, upper))
    return lower, upper


def survival_quantile(
    p: float,
    time: np.ndarray,
    curve: np.ndarray,
    last_time: float,
    tolerance: float = QUANTILE_TOLERANCE,
) -> float | None:
    """Time at which a survival curve (or a CI curve) falls to 1 − p, by R's rule.

    The first time the curve is at or below 1 − p; where it equals 1 − p (within
    ``tolerance``) the midpoint between that time and the time it next falls below 1 − p, or
    ``last_time`` if it never does. This is R's ``quantile.survfit`` (``survival:::findq``)
    for every non-increasing curve — S(t) always, its CI curves almost always. A CI curve can
    rise again (the log CI's upper limit near the end); ``findq`` then returns a later
    crossing, an artefact of its ``approx()`` sorting the curve's values, and we keep the
    first crossing, as R's ``print.survfit`` does for the median.

    Parameters
    ----------
    p : float
        Probability in [0, 1]; 0.5 gives the median.
    time : numpy.ndarray
        Times of the curve's values, increasing (the event times suffice).
    curve : numpy.ndarray
        Curve values at ``time`` (``NaN`` where undefined).
    last_time : float
        Last follow-up time of the group.

    Returns
    -------
    float or None
        ``None`` if the curve never reaches 1 − p.
    """
    if p == 0:
        return 0.0
    target = 1.0 - p
    values = np.asarray(curve, dtype=float)
    with np.errstate(invalid="ignore"):
        reached = np.flatnonzero(values <= target + tolerance)
    if reached.size == 0:
        return None
    first = int(reached[0])
    if abs(values[first] - target) >= tolerance:
        return float(time[first])
    with np.errstate(invalid="ignore"):
        below = np.flatnonzero(values[first:] < target - tolerance)
    end = float(time[first + below[0]]) if below.size else float(last_time)
    return _midpoint(float(time[first]), end)


def _midpoint(a: float, b: float) -> float:
    """(a + b) / 2 without overflow for huge finite times (a/2 and b/2 are exact)."""
    return a / 2.0 + b / 2.0


def _summarise(steps: _Steps, key: str, label: str, options: _Options) -> KaplanMeierSummary:
    lower, upper = confidence_limits(
        steps.survival, steps.var_log, options.conf_type, options.conf_level
    )
    hit = steps.events > 0
    curves = (steps.time[hit], steps.survival[hit], lower[hit], upper[hit])
    quantiles = [_quantile(p, curves, steps.last_time) for p in options.probs]
    median = _quantile(0.5, curves, steps.last_time)
    events = int(steps.events.sum())
    return KaplanMeierSummary(
        key=key,
        label=label,
        n=steps.n,
        events=events,
        censored=steps.n - events,
        median_=median["time"],
        median_ci_=tuple(median["ci"]),
        quantiles_=quantiles,
        survival_at_=[_survival_at(steps, lower, upper, t) for t in options.at_times],
        at_risk_=_at_risk_table(steps, options.ticks),
        curve_=_curve(steps, lower, upper),
        censor_marks_=_censor_marks(steps),
        conf_type=options.conf_type,
        conf_level=float(options.conf_level),
        method=_method(options.conf_type, options.conf_level),
    )


def _method(conf_type: str, conf_level: float) -> dict[str, str]:
    return {
        "estimator": METHODS["estimator"],
        "ci": f"{conf_level:.0%} pointwise CI, {CI_METHODS[conf_type]}",
        "quantile": METHODS["quantile"],
        "quantile_ci": f"the same rule applied to the {conf_level:.0%} CI curves",
    }


def _quantile(p: float, curves: tuple[np.ndarray, ...], last_time: float) -> dict:
    time, survival, lower, upper = curves
    return {
        "p": float(p),
        "time": survival_quantile(p, time, survival, last_time),
        "ci": [
            survival_quantile(p, time, lower, last_time),
            survival_quantile(p, time, upper, last_time),
        ],
    }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _survival_at(steps: _Steps, lower: np.ndarray, upper: np.ndarray, t: float) -> dict:
    """S(t) with CI and the number at risk at t (time ≥ t).

    Past the last time, S(t) is 0 with an undefined CI if the curve reached 0 (the last
    observation was a death), as R's ``summary(survfit, times, extend = TRUE)``; else unknown
    (``None``), the curve having ended on a censoring above 0.
    """
    j = int(np.searchsorted(steps.time, t, side="left"))
    at_risk = int(steps.at_risk[j]) if j < steps.time.size else 0
    if t > steps.last_time:
        estimate = 0.0 if steps.survival[-1] <= 0.0 else None
        return {"time": float(t), "estimate": estimate, "ci": [None, None], "at_risk": at_risk}
    i = int(np.searchsorted(steps.time, t, side="right")) - 1
    if i < 0:
        return {"time": float(t), "estimate": 1.0, "ci": [1.0, 1.0], "at_risk": at_risk}
    return {
        "time": float(t),
        "estimate": float(steps.survival[i]),
        "ci": [_finite(lower[i]), _finite(upper[i])],
        "at_risk": at_risk,
    }


def _at_risk_table(steps: _Steps, ticks: tuple[float, ...]) -> list[dict]:
    """At each tick: number at risk (time ≥ tick), events and censorings since the last tick."""
    if not ticks:
        return []
    tick = np.asarray(ticks, dtype=float)
    if (np.diff(tick) < 0).any():
        raise ValueError("ticks must be in increasing order")
    j = np.searchsorted(steps.time, tick, side="left")
    at_risk = np.where(j < steps.time.size, steps.at_risk[np.minimum(j, steps.time.size - 1)], 0)
    upto = np.searchsorted(steps.time, tick, side="right")
    events = np.diff(np.r_[0, np.cumsum(steps.events)][upto], prepend=0)
    censored = np.diff(np.r_[0, np.cumsum(steps.censored)][upto], prepend=0)
    return [
        {"time": float(t), "at_risk": int(a), "events": int(d), "censored": int(c)}
        for t, a, d, c in zip(tick, at_risk, events, censored, strict=True)
    ]


def _curve(steps: _Steps, lower: np.ndarray, upper: np.ndarray) -> dict[str, np.ndarray]:
    """Start (0, 1), every event time, and the last time if the curve ends on a censoring."""
    keep = steps.events > 0
    keep[-1] = True
    time = steps.time[keep]
    return _read_only(
        {
            "time": np.r_[0.0, time],
            "survival": np.r_[1.0, steps.survival[keep]],
            "ci_lower": np.r_[1.0, lower[keep]],
            "ci_upper": np.r_[1.0, upper[keep]],
            "at_risk": np.r_[steps.n, steps.at_risk[keep]],
            "events": np.r_[0, steps.events[keep]],
        }
    )


def _censor_marks(steps: _Steps) -> dict[str, np.ndarray]:
    marked = steps.censored > 0
    return _read_only({"time": steps.time[marked], "survival": steps.survival[marked]})


def _read_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for array in arrays.values():
        array.flags.writeable = False
    return arrays


def steps_of(time: Any, event: Any, counts: Any = None) -> _Steps:
    """The Kaplan–Meier step arrays of one group (for the other survival modules)."""
    t, e, w = counted_survival_data(time, event, counts)
    order = np.argsort(t)
    return _steps(t[order], e[order], w[order])
