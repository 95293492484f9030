"""Median follow-up: reverse Kaplan–Meier with CI, and the median potential follow-up.

Methods, named in the result (``method``, ``potential_method``):

- median follow-up: reverse Kaplan–Meier (Schemper and Smith 1996) — the Kaplan–Meier
  estimator with censoring as the event and the event as censoring (R
  ``survfit(Surv(time, 1 - status) ~ 1)``); median and CI by R's quantile rule;
- median potential follow-up: the median over all patients of the time from their start to
  the data cutoff (what follow-up would be had nobody died), passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from toolkit.survival._common import counted_survival_data, result_dict
from toolkit.survival.kaplan_meier import CI_METHODS, METHODS, kaplan_meier

__all__ = ["FollowUp", "median_followup"]


@dataclass(frozen=True)
class FollowUp:
    """Median follow-up of a cohort.

    Attributes
    ----------
    n : int
        Patients.
    median_ : float or None
        Reverse Kaplan–Meier median follow-up (``None``: not reached, i.e. more than half of
        the patients had the event before any censoring could reach the median).
    ci_ : tuple
        Its confidence interval (a limit not reached is ``None``).
    potential_median_ : float or None
        Median potential follow-up (time from start to the cutoff), ``None`` if not given.
    conf_type : str
        CI transform of the reverse Kaplan–Meier curve.
    conf_level : float
        Confidence level.
    method, potential_method : str
        The methods in words.
    """

    n: int
    median_: float | None
    ci_: tuple[float | None, float | None]
    potential_median_: float | None
    conf_type: str
    conf_level: float
    method: str = METHODS["followup"]
    potential_method: str = METHODS["potential_followup"]

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_`` (``median_`` → ``median``)."""
        return result_dict(self)


def median_followup(
    time: Any,
    event: Any,
    *,
    counts: Any = None,
    potential: Any = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> FollowUp:
    """Median follow-up by reverse Kaplan–Meier, with CI, and the median potential follow-up.

    Parameters
    ----------
    time : array_like
        Follow-up times, finite and non-negative.
    event : array_like
        1/True for the event, 0/False for censoring.
    counts : array_like of int, optional
        How many patients each row stands for (one each by default), as for
        :func:`toolkit.survival.kaplan_meier`.
    potential : array_like, optional
        Potential follow-up of each patient: the time from the patient's start to the data
        cutoff, in the unit of ``time``. Its median is reported as ``potential_median_``.
    conf_type : {"log-log", "log", "plain"}
        CI transform of the reverse Kaplan–Meier curve.
    conf_level : float
        Confidence level.

    Returns
    -------
    FollowUp
    """
    t, e, w = counted_survival_data(time, event, counts)
    reverse = kaplan_meier(t, ~e, counts=w, conf_type=conf_type, conf_level=conf_level, probs=())
    return FollowUp(
        n=int(w.sum()),
        median_=reverse.median_,
        ci_=reverse.median_ci_,
        potential_median_=_median(potential),
        conf_type=conf_type,
        conf_level=float(conf_level),
        method=f"{METHODS['followup']}; CI {CI_METHODS[conf_type]}",
    )


def _median(potential: Any) -> float | None:
    if potential is None:
        return None
    values = np.asarray(potential, dtype=float).ravel()
    if values.size == 0 or not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("potential follow-up must be finite, non-negative numbers")
    return float(np.median(values))
