"""Simon–Makuch curves: Kaplan–Meier for a grouping that changes over time.

Simon and Makuch (Stat Med 1984) extended the Kaplan–Meier estimator to a time-dependent
grouping: at each event time the risk set of a group is the patients *currently* in it.
From the episodes (``treatment_episodes.sql``) every patient starts in the default (or
baseline) stratum and moves to a later-therapy stratum when that therapy starts, so the
time before a later therapy counts in the group the patient was in — not in the
later-therapy group, as the naive curves do (immortal time).

For group g with episodes (tstart, tstop], at each event time t of the group:
n_g(t) = #{tstart < t ≤ tstop}, d_g(t) = events at t, and
S_g(t) = ∏_{s ≤ t} (1 - d_g(s) / n_g(s)); Var log S_g by Greenwood's formula. This is exactly
R's ``survfit(Surv(tstart, tstop, event) ~ group)`` on the counting-process data, which the
tests use as the reference.

Numbers at risk at a tick t are the patients in the group and under follow-up just before
t, #{tstart < t ≤ tstop}; at t = 0 the patients who start in the group at the index date.
(R's ``summary(fit, times = t)`` reports the risk set at the next event or censoring time
instead, which counts patients who enter between t and then.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.survival._common import result_dict
from toolkit.survival.kaplan_meier import confidence_limits, survival_quantile

__all__ = [
    "METHODS",
    "SimonMakuchCurve",
    "extended_kaplan_meier",
]

METHODS = {
    "estimator": "Simon–Makuch extended Kaplan–Meier (time-dependent grouping; risk set at t: "
    "patients in the group with tstart < t <= tstop)",
    "ci": "95% pointwise CI, Greenwood variance, log(-log) transform",
    "median": "first time S(t) <= 0.5; CI from the CI curves",
    "at_risk": "patients in the group just before the tick (tstart < t <= tstop); at 0, "
    "those who start in the group",
    "reference": "equals R survfit(Surv(tstart, tstop, event) ~ group) on the episodes",
}


@dataclass(frozen=True)
class SimonMakuchCurve:
    """The extended Kaplan–Meier estimate of one group.

    Attributes
    ----------
    key, label : the group's identifier and display label.
    n_patients : patients who were ever in the group.
    n_start : patients in the group at time 0 (the index date).
    n_entered_later : patients who entered the group after time 0.
    events_ : events while in the group.
    median_, median_ci_ : median and its 95% CI (``None``: not reached).
    survival_at_ : ``{"time", "estimate", "ci", "at_risk"}`` at each requested time.
    at_risk_ : ``{"time", "at_risk", "entered", "events", "censored", "left"}`` at each tick:
        patients at risk just before the tick, and since the previous tick (up to and
        including it) the entries (after time 0), events, censored episodes and episodes that
        left the group for another.
    curve_ : the step function at its change points: ``time`` (its start, each event time, the
        last follow-up time), ``survival``, ``ci_lower``, ``ci_upper``, ``at_risk``, ``events``.
    start_time_ : where the estimate starts: 0, or the first event time with enough at risk
        (``from_at_risk``), S(t) then being conditional on reaching it.
    """

    key: str
    label: str
    n_patients: int
    n_start: int
    n_entered_later: int
    events_: int
    median_: float | None
    median_ci_: tuple[float | None, float | None]
    survival_at_: list[dict]
    at_risk_: list[dict]
    curve_: dict[str, np.ndarray]
    start_time_: float = 0.0

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


def _at_risk(start: np.ndarray, stop: np.ndarray, t: np.ndarray) -> np.ndarray:
    """#{start < t ≤ stop} for each t, with sorted start and stop."""
    return np.searchsorted(start, t, side="left") - np.searchsorted(stop, t, side="left")


def extended_kaplan_meier(
    start,
    stop,
    event,
    *,
    ids=None,
    censored=None,
    key: str = "all",
    label: str = "All patients",
    at_times: Sequence[float] = (),
    ticks: Sequence[float] = (),
    from_at_risk: int = 0,
) -> SimonMakuchCurve:
    """Kaplan–Meier with delayed entry (start, stop] for one group's episodes.

    Parameters
    ----------
    start, stop : array_like
        Interval (start, stop] of each episode in the group.
    event : array_like
        1/True when the episode ends with the event.
    ids : array_like, optional
        Patient of each episode, for the patient counts (default: one per episode).
    censored : array_like, optional
        1/True when the episode ends the patient's follow-up without the event; an episode
        that ends with neither leaves the group for another (default: every episode without
        the event is censored).
    key, label : str
        Identifier and display label of the group.
    at_times : sequence of float
        Times at which to report S(t) with its CI and number at risk.
    ticks : sequence of float
        Times of the numbers-at-risk table.
    from_at_risk : int
        Start the estimate at the first event time with at least this many at risk (``0``:
        at time 0): S(t) is then conditional on being in the group and alive just before
        that time (``start_time_``), like R's ``survfit(…, start.time =)``. A group that
        fills over time (patients enter it at a later therapy) may meet its first deaths
        among a handful of patients, and every later value of the curve would rest on them.
        When no event time has enough at risk, the estimate starts at 0.

    Returns
    -------
    SimonMakuchCurve
    """
    start = np.asarray(start, dtype=float)
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event, dtype=bool)
    ids = np.arange(start.size) if ids is None else np.asarray(ids)
    censored = ~event if censored is None else np.asarray(censored, dtype=bool)
    if (censored & event).any():
        raise ValueError("an episode cannot end with both the event and censoring")
    starts, stops = np.sort(start), np.sort(stop)
    times, deaths = np.unique(stop[event], return_counts=True)
    n_risk = _at_risk(starts, stops, times)
    enough = np.flatnonzero(n_risk >= from_at_risk)
    begin = int(enough[0]) if from_at_risk and enough.size else 0
    times, deaths, n_risk = times[begin:], deaths[begin:], n_risk[begin:]
    start_time = float(times[0]) if begin else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - deaths / n_risk)
        var_log = np.cumsum(
            np.where(n_risk > deaths, deaths / (n_risk * (n_risk - deaths)), np.inf)
        )
    lower, upper = confidence_limits(survival, var_log, "log-log", 0.95)
    last = float(stop.max()) if stop.size else 0.0
    median = [survival_quantile(0.5, times, c, last) for c in (survival, lower, upper)]
    steps = (times, survival, lower, upper, n_risk, deaths)
    return SimonMakuchCurve(
        key=key,
        label=label,
        n_patients=_n_distinct(ids),
        n_start=_n_distinct(ids[start <= 0]),
        n_entered_later=_n_distinct(ids[start > 0]),
        events_=int(event.sum()),
        median_=median[0],
        median_ci_=(median[1], median[2]),
        survival_at_=[_survival_at(steps, starts, stops, t, (start_time, last)) for t in at_times],
        at_risk_=_at_risk_table(starts, stops, start, stop, (event, censored), ticks),
        curve_=_curve(steps, starts, stops, (start_time, last)),
        start_time_=start_time,
    )


def _n_distinct(values: np.ndarray) -> int:
    """Number of distinct values (by sorting: faster than ``np.unique`` on integer codes)."""
    values = np.sort(values)
    return int(values.size and 1 + np.count_nonzero(values[1:] != values[:-1]))


def _risk_at_tick(starts: np.ndarray, stops: np.ndarray, t: float) -> int:
    if t <= 0:
        return int(np.searchsorted(starts, 0.0, side="right"))
    return int(_at_risk(starts, stops, np.array([t]))[0])


def _survival_at(steps, starts, stops, t: float, span: tuple[float, float]) -> dict:
    times, survival, lower, upper = steps[:4]
    at_risk = _risk_at_tick(starts, stops, t)
    first, last = span
    if t > last or t < first:  # after follow-up, or before a conditional estimate starts
        return {"time": float(t), "estimate": None, "ci": [None, None], "at_risk": at_risk}
    i = int(np.searchsorted(times, t, side="right")) - 1
    if i < 0:
        return {"time": float(t), "estimate": 1.0, "ci": [1.0, 1.0], "at_risk": at_risk}
    ci = [float(x) if np.isfinite(x) else None for x in (lower[i], upper[i])]
    return {"time": float(t), "estimate": float(survival[i]), "ci": ci, "at_risk": at_risk}


def _at_risk_table(starts, stops, start, stop, endings, ticks) -> list[dict]:
    """Per tick: at risk, and since the previous tick the entries, events, censored and the
    episodes that left the group for another (ending with neither)."""
    event, censored = endings
    ends = {
        "events": stop[event],
        "censored": stop[censored],
        "left": stop[~(event | censored)],
    }
    rows, previous = [], -np.inf
    entries = start[start > 0]
    for t in ticks:
        row = {"time": float(t), "at_risk": _risk_at_tick(starts, stops, t)}
        row["entered"] = int(((entries > previous) & (entries <= t)).sum())
        for name, times in ends.items():
            row[name] = int(((times > previous) & (times <= t)).sum())
        rows.append(row)
        previous = t
    return rows


def _curve(steps, starts, stops, span: tuple[float, float]) -> dict[str, np.ndarray]:
    """The step function from its start (0, or a conditional estimate's first event time, where
    it is 1 just before the step) to the last follow-up time."""
    times, survival, lower, upper, n_risk, deaths = steps
    first, last = span
    tail = [last] if last > (times[-1] if times.size else first) else []
    s_end = survival[-1] if survival.size else 1.0
    ends = lower[-1] if lower.size else 1.0, upper[-1] if upper.size else 1.0
    return {
        "time": np.r_[first, times, tail],
        "survival": np.r_[1.0, survival, [s_end] * len(tail)],
        "ci_lower": np.r_[1.0, lower, [ends[0]] * len(tail)],
        "ci_upper": np.r_[1.0, upper, [ends[1]] * len(tail)],
        "at_risk": np.r_[
            _risk_at_tick(starts, stops, first), n_risk, _at_risk(starts, stops, np.array(tail))
        ],
        # counts: np.r_ turns them into floats where ``deaths`` is a float array (or empty)
        "events": np.r_[0, deaths, [0] * len(tail)].astype(np.int64),
    }
