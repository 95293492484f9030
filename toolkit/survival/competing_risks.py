"""Competing risks as plain data: cumulative incidence, Gray's test, incidence rates.

Vectorised with NumPy: the times are sorted once, tied times collapsed with ``np.bincount``
into a table of distinct times × causes, and every estimate is a ``cumprod``/``cumsum`` over
that table; there is no loop per patient or per distinct time (Gray's test loops over strata
only).

Methods, named in every result (``method``):

- cumulative incidence function (CIF) of one cause: the Aalen–Johansen estimator
  F(t) = Σ_{s ≤ t} S(s−) d_k(s) / n(s), S the all-cause Kaplan–Meier, as R's
  ``survfit(Surv(time, factor(status)) ~ 1)`` (``pstate``); the other causes compete;
- its variance, ``variance=``:

  - ``"ij"`` (default): the infinitesimal-jackknife (robust) variance Σᵢ Uᵢ(t)², Uᵢ the
    derivative of F(t) with respect to patient i's case weight — R's ``std.err`` of a
    multi-state ``survfit`` (survival ≥ 3.0);
  - ``"delta"``: the Aalen-type delta-method variance with Gray's correction for tied events,
    as ``cmprsk::cuminc``'s ``var`` (which, like cuminc, changes only at the times of the
    cause of interest);

- pointwise CI, ``conf_type=``: R's ``survfit(conf.type = …)`` transforms applied to F(t)
  (``survival:::survfit_confint(logse = FALSE)``): ``"log-log"`` (default, log(−log F): the
  limits F^exp(±z·se / (F log F)) stay in [0, 1]), ``"log"`` (R's default; upper limit cut at
  1), ``"logit"``, ``"arcsin"`` and ``"plain"`` (clipped to [0, 1]);
- Gray's K-sample test of equal CIFs of one cause (rho = 0 by default), as
  ``cmprsk::cuminc(…)$Tests``;
- incidence rate: events per ``per`` units of person-time with the exact Poisson (Garwood)
  CI, the chi-square / gamma quantiles of R's ``poisson.test``.

Conventions where R differs: where F(t) is 0 (or 1 for log-log) R's CI limits are NA, ours
are F(t) itself; after the last follow-up time R's ``summary(…, extend = TRUE)`` carries F
forward, we do so only where no one is left event-free (S = 0) and otherwise give ``NaN``
(unknown), as the Kaplan–Meier module. R's ``survfit`` first merges times that differ by less
than √ε relatively (``timefix = TRUE``); we take the times as given (no difference for times in
days or months).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from toolkit.survival._common import (
    checked_times,
    chi2_upper_p,
    group_codes,
    result_dict,
    z_value,
)

__all__ = [
    "CIF_CONF_TYPES",
    "CIF_VARIANCES",
    "COMPETING_RISKS_METHODS",
    "CumulativeIncidence",
    "GrayTest",
    "IncidenceRate",
    "aalen_johansen",
    "aalen_johansen_by_group",
    "cif_confidence_limits",
    "gray_test",
    "incidence_rate",
]

CIF_CONF_TYPES = ("log-log", "log", "plain", "logit", "arcsin")
CIF_VARIANCES = ("ij", "delta")

COMPETING_RISKS_METHODS = {
    "estimator": (
        "Aalen–Johansen estimator of the cumulative incidence function, other causes competing"
    ),
    "ij": "infinitesimal-jackknife (robust) variance",
    "delta": "Aalen-type delta-method variance with Gray's correction for ties",
    "log-log": "log(-log F) transform",
    "log": "log F transform, upper limit cut at 1",
    "plain": "linear limits clipped to [0, 1]",
    "logit": "logit F transform",
    "arcsin": "arcsine square-root transform",
    "gray": "Gray's K-sample test of equal cumulative incidence",
    "incidence_rate": ("events per person-time; exact Poisson (Garwood) CI"),
}

RANK_TOLERANCE = 1e-7
"""Gray's covariance is singular below this relative pivot (R's ``qr()`` tolerance)."""


@dataclass(frozen=True, eq=False)
class CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of one cause, at every distinct observed time.

    Attributes
    ----------
    cause : int
        The status code of the cause of interest.
    causes : tuple of int
        The cause codes observed (the columns of ``events_``).
    n : int
        Patients.
    time_ : numpy.ndarray
        Distinct observed times (events or censorings), increasing.
    at_risk_ : numpy.ndarray
        Patients at risk at each time (time ≥ t; censored at t count as at risk at t).
    events_ : numpy.ndarray
        Events of each cause at each time, shape (times, causes).
    censored_ : numpy.ndarray
        Censorings at each time.
    survival_ : numpy.ndarray
        All-cause Kaplan–Meier S(t) (free of every cause).
    cif_, se_ : numpy.ndarray
        F(t) of ``cause`` and its standard error.
    ci_lower_, ci_upper_ : numpy.ndarray
        Pointwise confidence limits (F itself where F is 0 or 1: R gives NA there).
    at_times_ : dict of numpy.ndarray
        :meth:`at` of the requested ``times``.
    conf_type, conf_level, variance : str, float, str
        CI transform, confidence level and variance (``"ij"`` or ``"delta"``).
    method : dict of str
        The methods, in words.
    """

    cause: int
    causes: tuple[int, ...]
    n: int
    time_: np.ndarray
    at_risk_: np.ndarray
    events_: np.ndarray
    censored_: np.ndarray
    survival_: np.ndarray
    cif_: np.ndarray
    se_: np.ndarray
    ci_lower_: np.ndarray
    ci_upper_: np.ndarray
    at_times_: dict[str, np.ndarray]
    conf_type: str
    conf_level: float
    variance: str
    method: dict[str, str]

    def at(self, times: Any) -> dict[str, np.ndarray]:
        """F(t), its standard error, CI and number at risk at ``times`` (right-continuous).

        Before the first time F is 0 (standard error 0, CI [0, 0]). After the last follow-up
        time F keeps its last value if no one was left event-free (S = 0), as R's
        ``summary(…, extend = TRUE)``; else it is unknown (``NaN``). ``at_risk`` counts the
        patients with time ≥ t (0 after the last time).

        Parameters
        ----------
        times : array_like
            Non-negative times, in any order.

        Returns
        -------
        dict of numpy.ndarray
            ``time``, ``cif``, ``se``, ``ci_lower``, ``ci_upper``, ``at_risk``.
        """
        return _read_at(self, _as_times(times))

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_`` (``NaN`` → ``None``)."""
        return result_dict(self)


@dataclass(frozen=True)
class GrayTest:
    """Gray's test of equal cumulative incidence of one cause across groups.

    Attributes
    ----------
    cause : int
        The cause compared.
    groups : tuple of str
        Group labels, in sorted order.
    n, events : tuple of int
        Patients and events of ``cause`` per group.
    statistic_ : float or None
        Chi-square statistic s' V⁻¹ s (``None`` where V is singular: cmprsk gives −1).
    df_ : int
        Degrees of freedom, groups − 1.
    p_ : float or None
        P-value (``None`` without a statistic).
    score_ : tuple of float
        Gray's scores of the first groups − 1 groups.
    covariance_ : tuple of tuple of float
        Their covariance matrix V.
    rho : float
        Power of the weight (1 − F(t−))^rho.
    method : str
        The method in words.
    """

    cause: int
    groups: tuple[str, ...]
    n: tuple[int, ...]
    events: tuple[int, ...]
    statistic_: float | None
    df_: int
    p_: float | None
    score_: tuple[float, ...]
    covariance_: tuple[tuple[float, ...], ...]
    rho: float
    method: str = COMPETING_RISKS_METHODS["gray"]

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


@dataclass(frozen=True)
class IncidenceRate:
    """Events per ``per`` units of person-time with an exact Poisson CI.

    Attributes
    ----------
    events : int
        Number of events.
    person_time : float
        Total person-time (e.g. patient-years).
    per : float
        Rate multiplier (100: events per 100 patient-years).
    rate_ : float
        ``events / person_time * per``.
    ci_ : tuple of float
        Exact (Garwood) confidence interval of the rate.
    conf_level : float
        Its confidence level.
    method : str
        The method in words.
    """

    events: int
    person_time: float
    per: float
    rate_: float
    ci_: tuple[float, float]
    conf_level: float
    method: str = COMPETING_RISKS_METHODS["incidence_rate"]

    def to_dict(self) -> dict:
        """JSON-able form; fitted names lose their trailing ``_``."""
        return result_dict(self)


# ---- public functions ------------------------------------------------------------------------


def aalen_johansen(
    time: Any,
    status: Any,
    *,
    cause: int = 1,
    times: Sequence[float] = (),
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    variance: str = "ij",
) -> CumulativeIncidence:
    """Cumulative incidence of one cause with competing risks (Aalen–Johansen).

    Aalen–Johansen estimator, F(t) = Σ_{s ≤ t} S(s−) d_k(s) / n(s) with S the all-cause
    Kaplan–Meier, equal to R's ``survfit(Surv(time, factor(status)) ~ 1)$pstate``. Tied
    events of different causes at one time share the risk set; censored at t count as at risk
    at t. Variance: ``"ij"``, the infinitesimal jackknife (R's multi-state ``std.err``), or
    ``"delta"``, cmprsk's delta-method variance (``cuminc``'s ``var``). CI: R's
    ``conf.type`` transform of F (default log(−log F)).

    Parameters
    ----------
    time : array_like
        Follow-up times, finite and non-negative.
    status : array_like
        0 for censoring, a positive integer for the cause of the event (1, 2, …).
    cause : int
        The cause of interest; every other positive code is a competing event.
    times : sequence of float
        Times at which to report F(t) (see :meth:`CumulativeIncidence.at`).
    conf_type : {"log-log", "log", "plain", "logit", "arcsin"}
        CI transform.
    conf_level : float
        Confidence level, 0.95 by default.
    variance : {"ij", "delta"}
        Variance estimator.

    Returns
    -------
    CumulativeIncidence

    Raises
    ------
    ValueError
        Lengths differ, no observations, a time negative or missing, a status not a
        non-negative integer, ``cause`` not a positive integer, or an unknown option.
    """
    _check_options(conf_type, variance, conf_level)
    cause = _as_cause(cause)
    t, s = as_competing_data(time, status)
    table = _table(t, s)
    return _fit(table, cause, _as_times(times), conf_type, conf_level, variance)


def aalen_johansen_by_group(
    time: Any,
    status: Any,
    group: Any,
    *,
    labels: Sequence[str] | None = None,
    **options: Any,
) -> dict[str, CumulativeIncidence]:
    """:func:`aalen_johansen` in each group (a loop over the groups only).

    Parameters
    ----------
    time, status : array_like
        As for :func:`aalen_johansen`.
    group : array_like
        Group of each observation; groups in the order their values sort.
    labels : sequence of str, optional
        Labels of the distinct group values in sorted order; by default each value as text.
    **options
        ``cause``, ``times``, ``conf_type``, ``conf_level``, ``variance``.

    Returns
    -------
    dict of str to CumulativeIncidence
        By group label, in sorted order.
    """
    t, s = as_competing_data(time, status)
    names, codes = _groups(group, labels, t.size)
    return {
        name: aalen_johansen(t[codes == k], s[codes == k], **options)
        for k, name in enumerate(names)
    }


def gray_test(
    time: Any,
    status: Any,
    group: Any,
    *,
    cause: int = 1,
    rho: float = 0.0,
    strata: Any = None,
    labels: Sequence[str] | None = None,
) -> GrayTest:
    """Gray's K-sample test of equal cumulative incidence of one cause across groups.

    Gray (1988): scores Σ_t w(t) [d_kg(t) − d_k(t) R_g(t) / Σ_g R_g(t)], R_g(t) = n_g(t)
    (1 − F_g(t−)) / S_g(t−), weight w(t) = (1 − F(t−))^rho, and their covariance, the
    statistic s' V⁻¹ s on groups − 1 degrees of freedom; with strata, scores and covariances
    are summed over strata. Exactly ``cmprsk::cuminc(time, status, group, strata, rho)$Tests``
    for the cause. Vectorised over a table of event times × groups (memory ∝ times × groups²).

    Parameters
    ----------
    time, status : array_like
        As for :func:`aalen_johansen`.
    group : array_like
        Group of each observation (labelled by its value as text, in sorted order).
    cause : int
        The cause compared; every other positive code is a competing event.
    rho : float
        Power of the weight; 0 (the default) as cuminc.
    strata : array_like, optional
        Stratum of each observation.
    labels : sequence of str, optional
        Labels of the distinct group values in sorted order.

    Returns
    -------
    GrayTest

    Raises
    ------
    ValueError
        Invalid input (as :func:`aalen_johansen`), lengths differ, or fewer than two groups.
    """
    cause = _as_cause(cause)
    t, s = as_competing_data(time, status)
    names, codes = _groups(group, labels, t.size)
    if len(names) < 2:
        raise ValueError(f"Gray's test needs at least two groups, got {len(names)}")
    layers = (
        np.zeros(t.size, dtype=np.int64) if strata is None else _groups(strata, None, t.size)[1]
    )
    kind = np.where(s == cause, 1, np.where(s > 0, 2, 0))
    score, cov = np.zeros(len(names)), np.zeros((len(names), len(names)))
    for layer in np.unique(layers):  # a loop over the strata only
        members = layers == layer
        counts = _group_counts(t[members], kind[members], codes[members], len(names))
        layer_score, layer_cov = _gray_score(counts, float(rho))
        score, cov = score + layer_score, cov + layer_cov
    return _gray_result(names, codes, kind, score[:-1], cov[:-1, :-1], cause, float(rho))


def incidence_rate(
    events: int, person_time: float, *, per: float = 100.0, conf_level: float = 0.95
) -> IncidenceRate:
    """Events per ``per`` units of person-time with the exact Poisson (Garwood) CI.

    The limits are χ²_{α/2}(2x) / 2 and χ²_{1−α/2}(2x + 2) / 2 events (the lower 0 when
    x = 0), i.e. the gamma quantiles of R's ``poisson.test(x, T)$conf.int``, divided by the
    person-time and multiplied by ``per``.

    Parameters
    ----------
    events : int
        Number of events, a non-negative integer.
    person_time : float
        Total person-time at risk, positive (e.g. patient-years).
    per : float
        Multiplier: 100 gives events per 100 patient-years when ``person_time`` is in years.
    conf_level : float
        Confidence level.

    Returns
    -------
    IncidenceRate

    Raises
    ------
    ValueError
        ``events`` not a non-negative integer, ``person_time`` or ``per`` not positive and
        finite, or ``conf_level`` outside (0, 1).
    """
    from scipy.special import gammaincinv

    x = _as_count(events)
    for name, value in (("person_time", person_time), ("per", per)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite, got {value}")
    z_value(conf_level)  # checks the level
    alpha = 1.0 - conf_level
    lower = 0.0 if x == 0 else float(gammaincinv(x, alpha / 2.0))
    upper = float(gammaincinv(x + 1, 1.0 - alpha / 2.0))
    scale = per / person_time
    return IncidenceRate(
        events=x,
        person_time=float(person_time),
        per=float(per),
        rate_=x * scale,
        ci_=(lower * scale, upper * scale),
        conf_level=float(conf_level),
    )


def cif_confidence_limits(
    cif: Any, se: Any, conf_type: str = "log-log", conf_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits of a cumulative incidence, as R's ``survfit``.

    R's ``survival:::survfit_confint(p, se, logse = FALSE, conf.type)`` for the state
    probabilities of a multi-state curve; the transform is applied to F itself. Where R gives
    NA (F = 0, and F = 1 for log-log) the limits are F and F.

    Parameters
    ----------
    cif, se : array_like
        Estimates F(t) and their standard errors.
    conf_type : {"log-log", "log", "plain", "logit", "arcsin"}
        The transform.
    conf_level : float
        Confidence level.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits.
    """
    if conf_type not in CIF_CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CIF_CONF_TYPES)}, got {conf_type!r}")
    z = z_value(conf_level)
    p = np.asarray(cif, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = np.where(se == 0, 0.0, se / p)
        lower, upper = _TRANSFORMS[conf_type](p, rel, z)
    undefined = (p <= 0.0) | (p >= 1.0)
    lower = np.where(undefined & ~np.isfinite(lower), p, lower)
    upper = np.where(undefined & ~np.isfinite(upper), p, upper)
    lower = np.where(p <= 0.0, 0.0, lower)
    upper = np.where(p <= 0.0, 0.0, upper)
    return lower, upper


# ---- input -----------------------------------------------------------------------------------


def as_competing_data(time: Any, status: Any) -> tuple[np.ndarray, np.ndarray]:
    """Times as float64 and status codes as int64, checked.

    Raises
    ------
    ValueError
        Lengths differ, no observations, a time is negative or not finite, or a status is
        missing, negative or not an integer.
    """
    t, raw = checked_times(time, status, "status")
    try:
        numeric = raw.astype(float)
    except (TypeError, ValueError):
        raise ValueError("status must be numeric: 0 for censoring, 1, 2, … for causes") from None
    if not np.isfinite(numeric).all():
        raise ValueError("status holds a missing or infinite value")
    if (numeric < 0).any():
        raise ValueError(
            f"status holds a negative value ({numeric.min():g}): use 0 for censoring and "
            "1, 2, … for the causes"
        )
    if (numeric != np.round(numeric)).any():
        bad = numeric[numeric != np.round(numeric)][0]
        raise ValueError(f"status holds a non-integer value ({bad:g})")
    return t + 0.0, numeric.astype(np.int64)


def _as_cause(cause: Any) -> int:
    if isinstance(cause, bool) or not float(cause).is_integer() or cause < 1:
        raise ValueError(f"cause must be a positive integer (a status code), got {cause!r}")
    return int(cause)


def _as_count(events: Any) -> int:
    value = float(events)
    if not (math.isfinite(value) and value >= 0 and value.is_integer()):
        raise ValueError(f"events must be a non-negative integer, got {events!r}")
    return int(value)


def _as_times(times: Any) -> np.ndarray:
    values = np.asarray(times, dtype=float).ravel()
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("times must be finite and non-negative")
    return values


def _check_options(conf_type: str, variance: str, conf_level: float) -> None:
    if conf_type not in CIF_CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CIF_CONF_TYPES)}, got {conf_type!r}")
    if variance not in CIF_VARIANCES:
        raise ValueError(f"variance must be one of {', '.join(CIF_VARIANCES)}, got {variance!r}")
    z_value(conf_level)


def _groups(group: Any, labels: Sequence[str] | None, n: int) -> tuple[list[str], np.ndarray]:
    names, codes = group_codes(group, labels)
    if codes.size != n:
        raise ValueError(f"group and time differ in length ({codes.size} and {n})")
    return names, codes


# ---- the Aalen–Johansen engine ---------------------------------------------------------------


class _Table(NamedTuple):
    """Distinct times with numbers at risk, events per cause and censorings (internal)."""

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    causes: np.ndarray


def _table(time: np.ndarray, status: np.ndarray) -> _Table:
    """Collapse tied times: one row per distinct time, one column per cause (bincount)."""
    order = np.argsort(time, kind="stable")
    t, s = time[order], status[order]
    new = np.r_[True, t[1:] != t[:-1]]
    row = np.cumsum(new) - 1
    causes = np.unique(s[s > 0])
    column = np.searchsorted(np.r_[0, causes], s)
    width = causes.size + 1
    counts = np.bincount(row * width + column, minlength=int(row[-1] + 1) * width)
    counts = counts.reshape(-1, width)
    at_risk = t.size - np.flatnonzero(new)
    return _Table(t[new], at_risk, counts[:, 1:], counts[:, 0], causes)


class _Curves(NamedTuple):
    """All-cause S(t), S(t−) and the CIF of one cause at the distinct times (internal)."""

    survival: np.ndarray
    survival_before: np.ndarray
    cif: np.ndarray
    deaths: np.ndarray
    cause_events: np.ndarray


def _curves(table: _Table, cause: int) -> _Curves:
    """Aalen–Johansen: S = Π (1 − d/n), F = Σ S(t−) d_k / n."""
    n = table.at_risk.astype(float)
    deaths = table.events.sum(axis=1).astype(float)
    column = np.flatnonzero(table.causes == cause)
    dk = table.events[:, column[0]].astype(float) if column.size else np.zeros(n.size)
    survival = np.cumprod(1.0 - deaths / n)
    before = np.r_[1.0, survival[:-1]]
    return _Curves(survival, before, np.cumsum(before * dk / n), deaths, dk)


def _ij_variance(table: _Table, c: _Curves) -> np.ndarray:
    """Infinitesimal-jackknife variance of F(t): Σᵢ Uᵢ(t)², in closed form.

    Differentiating F(t) with respect to the case weight of patient i, who leaves at the
    distinct time e (cause k, another cause or censored), gives Uᵢ(t) = G(t) for e > t and
    Uᵢ(t) = αᵢ + βᵢ F(t) for e ≤ t, with G(t) = Σ_{s ≤ t} f(s) (A(s−) − 1/n(s)), f the jumps
    of F, A(t) = Σ d / (n (n − d)) (Greenwood's sum), αᵢ = G(e) − A(e) F(e) + [cause k] S(e−)
    / n(e) + [event] F(e) / (n(e) − d(e)) and βᵢ = A(e) − [event] / (n(e) − d(e)). The sums of
    α², αβ and β² over patients who left before t are cumulative sums, so Σᵢ Uᵢ(t)² costs
    O(times). R computes the same derivatives recursively (``survfit``, multi-state).
    """
    n, d, dk = table.at_risk.astype(float), c.deaths, c.cause_events
    censored = table.censored.astype(float)
    left = n - d
    b = np.where(left > 0, 1.0 / np.where(left > 0, left, 1.0), 0.0)  # unused where n = d
    greenwood = np.cumsum(d * b / n)
    jumps = c.survival_before * dk / n
    g = np.cumsum(jumps * (np.r_[0.0, greenwood[:-1]] - 1.0 / n))
    q = c.survival_before / n
    h = g - greenwood * c.cif
    alpha_k, alpha_other, alpha_cens = h + q + b * c.cif, h + b * c.cif, h
    beta_event, beta_cens = greenwood - b, greenwood
    other = d - dk
    saa = dk * alpha_k**2 + other * alpha_other**2 + censored * alpha_cens**2
    sab = (dk * alpha_k + other * alpha_other) * beta_event + censored * alpha_cens * beta_cens
    sbb = d * beta_event**2 + censored * beta_cens**2
    before = [np.r_[0.0, np.cumsum(x)[:-1]] for x in (saa, sab, sbb)]
    earlier = before[0] + 2.0 * c.cif * before[1] + c.cif**2 * before[2]
    now = dk * (g + q) ** 2 + (other + censored) * g**2
    later = (n - d - censored) * g**2
    return np.maximum(earlier + now + later, 0.0)


def _delta_variance(table: _Table, c: _Curves) -> np.ndarray:
    """cmprsk's ``cuminc`` variance (Fortran ``cinc``), vectorised with cumulative sums.

    At each time with events, d_k events of the cause and d_o of the others, n at risk,
    S(t−) and S(t): terms t6 = S(t−)² τ d / n² (τ = 1 − (d − 1) / (n − 1), Gray's tie
    correction) add (1 + F/S)², (1 + F/S)/S and 1/S² (cause k; the 1/S terms 0 where S = 0)
    or (F/S)², F/S² and 1/S² (other causes, where S > 0) to v1, v2 and v3; the variance is
    v1 + F² v3 − 2 F v2, taken at the times of cause k and carried to the next one.
    """
    n, dk = table.at_risk.astype(float), c.cause_events
    do = c.deaths - dk
    s, f = c.survival, c.cif
    inv = np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)

    def weight(events: np.ndarray) -> np.ndarray:
        tie = np.where(events > 1, 1.0 - (events - 1.0) / np.maximum(n - 1.0, 1.0), 1.0)
        return c.survival_before**2 * tie * events / n**2

    w_other = np.where((do > 0) & (s > 0), weight(do), 0.0)
    w_cause = np.where(dk > 0, weight(dk), 0.0)
    t4 = 1.0 + inv * f
    v1 = np.cumsum(w_other * (f * inv) ** 2 + w_cause * t4**2)
    v2 = np.cumsum(w_other * inv * f * inv + w_cause * inv * t4)
    v3 = np.cumsum((w_other + w_cause) * inv**2)
    at_cause = v1 + f**2 * v3 - 2.0 * f * v2
    last = np.maximum.accumulate(np.where(dk > 0, np.arange(n.size), -1))
    return np.where(last >= 0, at_cause[np.maximum(last, 0)], 0.0)


def _fit(
    table: _Table,
    cause: int,
    times: np.ndarray,
    conf_type: str,
    conf_level: float,
    variance: str,
) -> CumulativeIncidence:
    curves = _curves(table, cause)
    var = _ij_variance(table, curves) if variance == "ij" else _delta_variance(table, curves)
    se = np.sqrt(var)
    lower, upper = cif_confidence_limits(curves.cif, se, conf_type, conf_level)
    arrays = {
        "time_": table.time,
        "at_risk_": table.at_risk,
        "events_": table.events,
        "censored_": table.censored,
        "survival_": curves.survival,
        "cif_": curves.cif,
        "se_": se,
        "ci_lower_": lower,
        "ci_upper_": upper,
    }
    for array in arrays.values():
        array.flags.writeable = False
    fit = CumulativeIncidence(
        cause=cause,
        causes=tuple(int(k) for k in table.causes),
        n=int(table.at_risk[0]),
        at_times_={},
        conf_type=conf_type,
        conf_level=float(conf_level),
        variance=variance,
        method=_method(conf_type, conf_level, variance),
        **arrays,
    )
    return replace(fit, at_times_=fit.at(times))


def _method(conf_type: str, conf_level: float, variance: str) -> dict[str, str]:
    return {
        "estimator": COMPETING_RISKS_METHODS["estimator"],
        "variance": COMPETING_RISKS_METHODS[variance],
        "ci": f"{conf_level:.0%} pointwise CI, {COMPETING_RISKS_METHODS[conf_type]}",
    }


def _read_at(fit: CumulativeIncidence, times: np.ndarray) -> dict[str, np.ndarray]:
    """The right-continuous step functions at ``times`` (see :meth:`CumulativeIncidence.at`)."""
    i = np.searchsorted(fit.time_, times, side="right") - 1
    j = np.searchsorted(fit.time_, times, side="left")
    last = fit.time_.size - 1
    known = fit.survival_[-1] <= 0.0
    out = {"time": times.copy()}
    for name in ("cif", "se", "ci_lower", "ci_upper"):
        values = getattr(fit, f"{name}_")[np.clip(i, 0, last)]
        values = np.where(i < 0, 0.0, values)
        out[name] = np.where((times > fit.time_[-1]) & ~known, np.nan, values)
    out["at_risk"] = np.where(j <= last, fit.at_risk_[np.minimum(j, last)], 0)
    return out


def _log_log(p: np.ndarray, rel: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    shift = z * rel / np.log(p)
    log_log = np.log(-np.log(p))
    return np.exp(-np.exp(log_log - shift)), np.exp(-np.exp(log_log + shift))


def _log(p: np.ndarray, rel: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    return np.exp(np.log(p) - z * rel), np.minimum(np.exp(np.log(p) + z * rel), 1.0)


def _plain(p: np.ndarray, rel: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    half = z * rel * p
    return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)


def _logit(p: np.ndarray, rel: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    shift = z * rel * (1.0 + p / (1.0 - p))
    logit = np.log(p / (1.0 - p))
    return 1.0 - 1.0 / (1.0 + np.exp(logit - shift)), 1.0 - 1.0 / (1.0 + np.exp(logit + shift))


def _arcsin(p: np.ndarray, rel: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    shift = 0.5 * z * rel * np.sqrt(p / (1.0 - p))
    angle = np.arcsin(np.sqrt(p))
    lower = np.sin(np.maximum(0.0, angle - shift)) ** 2
    return lower, np.sin(np.minimum(np.pi / 2.0, angle + shift)) ** 2


_TRANSFORMS = {
    "log-log": _log_log,
    "log": _log,
    "plain": _plain,
    "logit": _logit,
    "arcsin": _arcsin,
}


# ---- Gray's test -----------------------------------------------------------------------------


class _GroupCounts(NamedTuple):
    """At each time with an event (rows) and in each group (columns): at risk, events of the
    cause (d1) and of the other causes (d2) (internal)."""

    at_risk: np.ndarray
    d1: np.ndarray
    d2: np.ndarray


def _group_counts(time: np.ndarray, kind: np.ndarray, code: np.ndarray, ng: int) -> _GroupCounts:
    """Counts per (distinct time, group, kind) by ``np.bincount``; kind 0 censored, 1 the
    cause, 2 another cause. The numbers at risk are reverse cumulative sums."""
    order = np.argsort(time, kind="stable")
    t, kind, code = time[order], kind[order], code[order]
    row = np.cumsum(np.r_[True, t[1:] != t[:-1]]) - 1
    rows = int(row[-1]) + 1
    counts = np.bincount((row * ng + code) * 3 + kind, minlength=rows * ng * 3)
    counts = counts.reshape(rows, ng, 3)
    leaving = counts.sum(axis=2)
    at_risk = np.cumsum(leaving[::-1], axis=0)[::-1]
    hit = (counts[:, :, 1:].sum(axis=(1, 2))) > 0
    return _GroupCounts(
        at_risk[hit].astype(float), counts[hit, :, 1].astype(float), counts[hit, :, 2] * 1.0
    )


class _GrayCurves(NamedTuple):
    """Per group and event time, cmprsk ``crst``'s quantities (internal)."""

    present: np.ndarray  # at risk > 0
    skm_before: np.ndarray  # group all-cause KM S_g(t−)
    skm: np.ndarray  # S_g(t)
    t1: np.ndarray  # n_g / S_g(t−) (0 where no one is at risk)
    tr: np.ndarray  # Σ_g t1
    f: np.ndarray  # pooled F(t) = Σ d1 / tr
    f_before: np.ndarray  # F(t−)
    weight: np.ndarray  # (1 − F(t−))^rho
    score: np.ndarray  # Gray's scores, all groups


def _gray_curves(counts: _GroupCounts, rho: float) -> _GrayCurves:
    n, d1, d2 = counts
    present = n > 0
    safe_n = np.where(present, n, 1.0)
    skm = np.cumprod(np.where(present, 1.0 - (d1 + d2) / safe_n, 1.0), axis=0)
    skm_before = np.vstack([np.ones((1, n.shape[1])), skm[:-1]])
    safe_skm = np.where(present, skm_before, 1.0)
    f1 = np.cumsum(np.where(present, skm_before * d1 / safe_n, 0.0), axis=0)
    f1_before = np.vstack([np.zeros((1, n.shape[1])), f1[:-1]])
    t1 = np.where(present, n / safe_skm, 0.0)
    tr = t1.sum(axis=1)
    tq = (t1 * (1.0 - f1_before)).sum(axis=1)
    nd1 = d1.sum(axis=1)
    f = np.cumsum(nd1 / tr)
    f_before = np.r_[0.0, f[:-1]]
    weight = (1.0 - f_before) ** rho
    expected = nd1[:, None] * t1 * (1.0 - f1_before) / tq[:, None]
    score = (weight[:, None] * np.where(present, d1 - expected, 0.0)).sum(axis=0)
    return _GrayCurves(present, skm_before, skm, t1, tr, f, f_before, weight, score)


def _gray_score(counts: _GroupCounts, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Gray's scores and their covariance for all groups (cmprsk ``crst``, vectorised).

    ``a`` (times × groups × groups) is w (diag(t1) − t1 t1' / tr); ``c`` its cumulative sum
    weighted by d1 / (tr (1 − F(t−))). Events of the cause add the outer products of
    a − t4 c (t4 = 1 − (1 − F) / S_g) with weight t3 = τ S_g(t−) d1 / (tr n_g); events of the
    other causes those of t4 c (t4 = (1 − F) / S_g) with t3 = τ S_g(t−)² d2_g / n_g²; τ is
    the tie correction. The terms in the final ``c`` are added at the end, as ``crst``.
    """
    g = _gray_curves(counts, rho)
    a = _gray_a(g)
    nd1 = counts.d1.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.cumsum(a * (nd1 / (g.tr * (1.0 - g.f_before)))[:, None, None], axis=0)
    t3, t4, t3o, t4o = _gray_weights(counts, g)
    b1 = a - t4[:, None, :] * c
    b2 = t4o[:, None, :] * c
    v = np.einsum("tik,tjk,tk->ij", b1, b1, t3) + np.einsum("tik,tjk,tk->ij", b2, b2, t3o)
    v2 = np.einsum("tik,tk->ik", b1, t4 * t3) - np.einsum("tik,tk->ik", b2, t4o * t3o)
    v3 = (t4**2 * t3 + t4o**2 * t3o).sum(axis=0)
    final = c[-1]
    v = v + (final * v3) @ final.T + final @ v2.T + v2 @ final.T
    return g.score, v


def _gray_a(g: _GrayCurves) -> np.ndarray:
    """w (diag(t1) − t1 t1' / tr) per time; the diagonal as w t1 (1 − t1 / tr), which is
    exactly 0 where one group makes up the whole risk set (as ``crst``)."""
    share = g.t1 / g.tr[:, None]
    a = -g.weight[:, None, None] * g.t1[:, :, None] * share[:, None, :]
    diagonal = np.arange(g.t1.shape[1])
    a[:, diagonal, diagonal] = g.weight[:, None] * g.t1 * (1.0 - share)
    return a


def _gray_weights(
    counts: _GroupCounts, g: _GrayCurves
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``crst``'s t3 and t4 (times × groups) for events of the cause and of the others; 0
    where a group takes no part (no one at risk; no other-cause event, or S_g(t) = 0)."""
    n, d1, d2 = counts
    nd1 = d1.sum(axis=1)[:, None]
    tr = g.tr[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_skm = np.where(g.skm > 0, g.skm, 1.0)
        t4 = np.where(g.skm > 0, 1.0 - (1.0 - g.f)[:, None] / safe_skm, 1.0)
        tie = np.where(nd1 > 1, 1.0 - (nd1 - 1.0) / (tr * g.skm_before - 1.0), 1.0)
        use = g.present & (nd1 > 0)
        t3 = np.where(use, tie * g.skm_before * nd1 / (tr * np.where(use, n, 1.0)), 0.0)
        other = (g.skm > 0) & (d2 > 0)
        t4o = np.where(other, (1.0 - g.f)[:, None] / safe_skm, 0.0)
        safe_n = np.where(other, n, 2.0)
        tie_o = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (safe_n - 1.0), 1.0)
        t3o = np.where(other, tie_o * g.skm_before**2 * d2 / safe_n**2, 0.0)
    return t3, t4, t3o, t4o


def _gray_result(
    names: list[str],
    codes: np.ndarray,
    kind: np.ndarray,
    score: np.ndarray,
    cov: np.ndarray,
    cause: int,
    rho: float,
) -> GrayTest:
    """The statistic s' V⁻¹ s, or none where V is singular (R's QR rank test)."""
    df = len(names) - 1
    r = np.linalg.qr(cov, mode="r")
    pivots = np.abs(np.diag(r))
    statistic = None
    if np.isfinite(cov).all() and pivots.size and pivots.min() > RANK_TOLERANCE * pivots.max():
        statistic = float(score @ np.linalg.solve(cov, score))
    return GrayTest(
        cause=cause,
        groups=tuple(names),
        n=tuple(int(x) for x in np.bincount(codes, minlength=len(names))),
        events=tuple(int(x) for x in np.bincount(codes[kind == 1], minlength=len(names))),
        statistic_=statistic,
        df_=df,
        p_=None if statistic is None else chi2_upper_p(statistic, df),
        score_=tuple(float(x) for x in score),
        covariance_=tuple(tuple(float(x) for x in row) for row in cov),
        rho=rho,
    )
