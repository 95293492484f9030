"""Restricted mean survival time (RMST) to a horizon τ, per group and between groups.

Methods, named in every result (``method``):

- RMST: area under the Kaplan–Meier curve from 0 to τ;
- its variance: Σ A(tᵢ, τ)² dᵢ / (nᵢ (nᵢ − dᵢ)) over the event times tᵢ ≤ τ, A(tᵢ, τ) being
  the area under the curve from tᵢ to τ (a term with nᵢ = dᵢ counts 0) — the formula of R's
  ``print(survfit(…), rmean = τ)`` and of survRM2's ``rmst2``; normal-theory CI;
- difference between groups: RMST of a group minus that of the reference group, standard
  error √(SE₁² + SE₀²), normal CI and two-sided p (as ``rmst2``); the ratio likewise on the
  log scale.

As ``rmst2``, τ must not exceed any group's last follow-up time: beyond it the curve is
unknown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolkit.survival._common import (
    counted_groups,
    normal_two_sided_p,
    result_dict,
    z_value,
)
from toolkit.survival.kaplan_meier import steps_of

__all__ = ["RMSTEstimate", "RMSTComparison", "rmst", "rmst_by_group"]

METHOD = (
    "restricted mean survival time: area under the Kaplan–Meier curve from 0 to tau; "
    "variance sum of A(t, tau)^2 d / (n (n - d)) over event times (R survfit rmean, survRM2)"
)
COMPARISON_METHOD = (
    "difference (and ratio, log scale) of RMST versus the reference group; normal-theory CI "
    "and two-sided p (survRM2 rmst2)"
)


@dataclass(frozen=True)
class RMSTEstimate:
    """RMST of one group.

    Attributes
    ----------
    group : str
        The group's label.
    tau : float
        The horizon.
    n, events : int
        Patients, and events up to ``tau``.
    rmst_, se_ : float
        RMST and its standard error.
    ci_ : tuple of float
        Normal-theory confidence interval.
    conf_level : float
        Its confidence level.
    method : str
        The method in words.
    """

    group: str
    tau: float
    n: int
    events: int
    rmst_: float
    se_: float
    ci_: tuple[float, float]
    conf_level: float
    method: str = METHOD

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


@dataclass(frozen=True)
class RMSTComparison:
    """RMST per group and each group versus the reference group.

    Attributes
    ----------
    tau : float
        The horizon.
    reference : str
        Label of the reference group.
    groups_ : tuple of RMSTEstimate
        One per group.
    differences_ : tuple of dict
        Per non-reference group: ``{"group", "difference", "se", "ci", "p", "ratio",
        "ratio_ci", "ratio_p"}`` (group minus, or over, the reference).
    conf_level : float
        Confidence level of every interval.
    method : str
        The method in words.
    """

    tau: float
    reference: str
    groups_: tuple[RMSTEstimate, ...]
    differences_: tuple[dict, ...]
    conf_level: float
    method: str = COMPARISON_METHOD

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


def rmst(
    time: Any,
    event: Any,
    tau: float,
    *,
    group: str = "all",
    conf_level: float = 0.95,
    counts: Any = None,
) -> RMSTEstimate:
    """Restricted mean survival time to ``tau`` of one group.

    Parameters
    ----------
    time : array_like
        Follow-up times, finite and non-negative.
    event : array_like
        1/True for the event, 0/False for censoring.
    tau : float
        Horizon, positive and not beyond the last follow-up time.
    group : str
        Label carried into the result.
    conf_level : float
        Confidence level of the CI.
    counts : array_like of int, optional
        How many patients each row stands for (one each by default), as for
        :func:`toolkit.survival.kaplan_meier`.

    Returns
    -------
    RMSTEstimate

    Raises
    ------
    ValueError
        ``tau`` not positive or beyond the last follow-up time; invalid input.
    """
    steps = steps_of(time, event, counts)
    if not tau > 0:
        raise ValueError(f"tau must be positive, got {tau}")
    if tau > steps.last_time:
        raise ValueError(
            f"tau = {tau:g} is beyond the last follow-up time of group {group!r} "
            f"({steps.last_time:g}); the largest tau allowed is the smallest of the groups' "
            "last follow-up times"
        )
    hit = (steps.events > 0) & (steps.time <= tau)
    t, s = steps.time[hit], steps.survival[hit]
    n, d = steps.at_risk[hit].astype(float), steps.events[hit].astype(float)
    widths = np.diff(np.r_[0.0, t, tau])
    areas = widths * np.r_[1.0, s]
    after = np.cumsum(areas[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > d, d / (n * (n - d)), 0.0)
    area, se = float(areas.sum()), math.sqrt(float((after**2 * terms).sum()))
    z = z_value(conf_level)
    return RMSTEstimate(
        group=group,
        tau=float(tau),
        n=steps.n,
        events=int(d.sum()),
        rmst_=area,
        se_=se,
        ci_=(area - z * se, area + z * se),
        conf_level=float(conf_level),
    )


def rmst_by_group(
    time: Any,
    event: Any,
    group: Any,
    tau: float,
    *,
    labels: Sequence[str] | None = None,
    reference: str | None = None,
    conf_level: float = 0.95,
    counts: Any = None,
) -> RMSTComparison:
    """RMST to ``tau`` of each group, and each group against a reference group.

    Parameters
    ----------
    time, event : array_like
        As for :func:`rmst`.
    group : array_like
        Group of each observation (labelled by its value as text, in sorted order).
    tau : float
        Horizon; not beyond the last follow-up time of any group.
    labels : sequence of str, optional
        Labels of the distinct group values in sorted order (e.g. ``group`` holds integer codes
        and ``labels`` their names); by default each value as text.
    reference : str, optional
        Label of the reference group; the first group by default.
    conf_level : float
        Confidence level.
    counts : array_like of int, optional
        As for :func:`rmst`.

    Returns
    -------
    RMSTComparison
    """
    t, e, w, labels, codes = counted_groups(time, event, group, counts, labels)
    reference = labels[0] if reference is None else str(reference)
    if reference not in labels:
        raise ValueError(f"reference group {reference!r} is not among {labels}")
    estimates = tuple(
        rmst(
            t[codes == k],
            e[codes == k],
            tau,
            group=label,
            conf_level=conf_level,
            counts=w[codes == k],
        )
        for k, label in enumerate(labels)
    )
    ref = estimates[labels.index(reference)]
    return RMSTComparison(
        tau=float(tau),
        reference=reference,
        groups_=estimates,
        differences_=tuple(_versus(g, ref, conf_level) for g in estimates if g is not ref),
        conf_level=float(conf_level),
    )


def _versus(group: RMSTEstimate, ref: RMSTEstimate, conf_level: float) -> dict:
    """Difference and ratio of two RMSTs with CI and p (independent groups)."""
    z = z_value(conf_level)
    diff = group.rmst_ - ref.rmst_
    se = math.hypot(group.se_, ref.se_)
    ratio = _ratio(group, ref, z)
    return {
        "group": group.group,
        "difference": diff,
        "se": se,
        "ci": [diff - z * se, diff + z * se],
        "p": normal_two_sided_p(diff / se) if se > 0 else None,
    } | ratio


def _ratio(group: RMSTEstimate, ref: RMSTEstimate, z: float) -> dict:
    """Ratio of two RMSTs, CI and p on the log scale (``None`` if either RMST is 0)."""
    if group.rmst_ <= 0 or ref.rmst_ <= 0:
        return {"ratio": None, "ratio_ci": [None, None], "ratio_p": None}
    log_ratio = math.log(group.rmst_ / ref.rmst_)
    se_log = math.hypot(group.se_ / group.rmst_, ref.se_ / ref.rmst_)
    return {
        "ratio": math.exp(log_ratio),
        "ratio_ci": [math.exp(log_ratio - z * se_log), math.exp(log_ratio + z * se_log)],
        "ratio_p": normal_two_sided_p(log_ratio / se_log) if se_log > 0 else None,
    }
