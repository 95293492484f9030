"""Kaplan–Meier estimates as plain data: medians with CI, landmark rates, numbers at risk.

Built on lifelines' ``KaplanMeierFitter``. Results are dataclasses of floats, ints and lists
(``to_dict`` gives JSON-able dicts); formatting belongs to the report. A median or a CI bound
that the curve never reaches is ``None`` ("not reached"), never infinity.

Methods, named in every result:

- survival: Kaplan–Meier product-limit estimator;
- pointwise 95% CI: Greenwood variance with the log(-log) transform (Kalbfleisch–Prentice),
  as SAS PROC LIFETEST and lifelines; R's ``survfit`` uses ``conf.type = "log-log"`` for this;
- median CI: the times at which the CI bounds cross 0.5 (Brookmeyer–Crowley style, as R);
- median follow-up: reverse Kaplan–Meier (censoring as the event).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["KaplanMeierSummary", "kaplan_meier", "median_followup", "METHODS"]

METHODS = {
    "estimator": "Kaplan–Meier (product-limit)",
    "ci": "95% pointwise CI, Greenwood variance, log(-log) transform",
    "median_ci": "times at which the 95% CI bounds of S(t) cross 0.5",
    "followup": "reverse Kaplan–Meier (censoring treated as the event)",
}


@dataclass(frozen=True)
class KaplanMeierSummary:
    """Kaplan–Meier estimate of one group.

    Attributes
    ----------
    key, label : the group's identifier and display label.
    n, events, censored : counts.
    median_, median_ci_ : median survival and its 95% CI (``None`` where not reached).
    survival_at_ : S(t) with 95% CI and number at risk at each requested time.
    at_risk_ : at each tick, the number at risk and the events and censorings since the
        previous tick.
    curve_ : the step function at its change points (time, survival, CI bounds).
    censor_marks_ : times and S(t) of censored observations (for the figure's marks).
    """

    key: str
    label: str
    n: int
    events: int
    censored: int
    median_: float | None
    median_ci_: tuple[float | None, float | None]
    survival_at_: list[dict]
    at_risk_: list[dict]
    curve_: dict[str, list[float]]
    censor_marks_: dict[str, list[float]]

    def to_dict(self) -> dict:
        """JSON-able form with the context's key names (no trailing underscores)."""
        raw = asdict(self)
        return {k.rstrip("_"): (list(v) if isinstance(v, tuple) else v) for k, v in raw.items()}


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _crossing_time(times: np.ndarray, values: np.ndarray) -> float | None:
    """First time at which a non-increasing step function is at or below 0.5."""
    hit = np.flatnonzero(values <= 0.5)
    return float(times[hit[0]]) if hit.size else None


def kaplan_meier(
    time: np.ndarray,
    event: np.ndarray,
    *,
    key: str = "all",
    label: str = "All patients",
    at_times: tuple[float, ...] = (),
    ticks: tuple[float, ...] = (),
) -> KaplanMeierSummary:
    """Fit Kaplan–Meier to one group and summarise it.

    Parameters
    ----------
    time : follow-up times (any unit, e.g. months), non-negative.
    event : 1/True for the event, 0/False for censoring.
    at_times : times at which to report S(t) with its CI and number at risk.
    ticks : times of the numbers-at-risk table.
    """
    from lifelines import KaplanMeierFitter

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    fitter = KaplanMeierFitter().fit(time, event, alpha=0.05)
    timeline = fitter.survival_function_.index.to_numpy()
    survival = fitter.survival_function_.iloc[:, 0].to_numpy()
    lower = fitter.confidence_interval_.iloc[:, 0].to_numpy()
    upper = fitter.confidence_interval_.iloc[:, 1].to_numpy()

    median = _crossing_time(timeline, survival)
    median_ci = (_crossing_time(timeline, lower), _crossing_time(timeline, upper))
    changes = np.r_[True, np.diff(survival) != 0] | (timeline == timeline[-1])
    return KaplanMeierSummary(
        key=key,
        label=label,
        n=int(time.size),
        events=int(event.sum()),
        censored=int((~event).sum()),
        median_=median,
        median_ci_=median_ci,
        survival_at_=[_survival_at(t, timeline, survival, lower, upper, time) for t in at_times],
        at_risk_=_at_risk_table(time, event, ticks),
        curve_={
            "time": timeline[changes].tolist(),
            "survival": survival[changes].tolist(),
            "ci_lower": [_finite(x) or 0.0 for x in lower[changes]],
            "ci_upper": [_finite(x) or 0.0 for x in upper[changes]],
        },
        censor_marks_=_censor_marks(time, event, timeline, survival),
    )


def _step_value(t: float, timeline: np.ndarray, values: np.ndarray) -> float:
    """Value of a right-continuous step function at t (1 before the first step)."""
    i = np.searchsorted(timeline, t, side="right") - 1
    return float(values[i]) if i >= 0 else 1.0


def _survival_at(t, timeline, survival, lower, upper, time) -> dict:
    beyond = t > time.max()
    return {
        "time": float(t),
        "estimate": None if beyond else _step_value(t, timeline, survival),
        "ci": [
            None if beyond else _finite(_step_value(t, timeline, lower)),
            None if beyond else _finite(_step_value(t, timeline, upper)),
        ],
        "at_risk": int((time >= t).sum()),
    }


def _at_risk_table(time: np.ndarray, event: np.ndarray, ticks: tuple[float, ...]) -> list[dict]:
    """Numbers at risk at each tick (time ≥ tick), events and censorings since the last tick."""
    rows = []
    previous = -np.inf
    for tick in ticks:
        in_interval = (time > previous) & (time <= tick)
        rows.append(
            {
                "time": float(tick),
                "at_risk": int((time >= tick).sum()),
                "events": int((in_interval & event).sum()),
                "censored": int((in_interval & ~event).sum()),
            }
        )
        previous = tick
    return rows


def _censor_marks(time, event, timeline, survival) -> dict[str, list[float]]:
    censored_times = np.unique(time[~event])
    idx = np.searchsorted(timeline, censored_times, side="right") - 1
    return {
        "time": censored_times.tolist(),
        "survival": np.where(idx >= 0, survival[np.maximum(idx, 0)], 1.0).tolist(),
    }


def median_followup(time: np.ndarray, event: np.ndarray) -> dict:
    """Median follow-up by reverse Kaplan–Meier, with its 95% CI."""
    reverse = kaplan_meier(time, ~np.asarray(event, dtype=bool), key="followup", label="")
    return {
        "median": reverse.median_,
        "ci": list(reverse.median_ci_),
        "method": METHODS["followup"],
    }
