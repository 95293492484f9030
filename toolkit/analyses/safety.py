"""Safety as a biostatistician reports it: cumulative incidence with death competing, and rates.

Study-bound glue over the estimators of :mod:`toolkit.survival.competing_risks`: per stratum,
the Aalen–Johansen cumulative incidence of the first treatment-related autoimmune adverse event
from the start of the stratum's window (the later therapy that defines it, or the index date),
death before it competing, at the study's times; events per 100 patient-years; and Gray's test
among the strata that share a window (a test, like a total, never mixes windows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from toolkit.study import Study
from toolkit.survival.competing_risks import (
    COMPETING_RISKS_METHODS,
    aalen_johansen,
    gray_test,
    incidence_rate,
)

__all__ = ["DAYS_PER_YEAR", "safety_incidence"]

#: Days of a patient-year.
DAYS_PER_YEAR = 365.25
#: The status codes of ``safety_time_to_event``.
_EVENT, _DEATH = 1, 2

#: Where a stratum's window starts, by whether later therapy defines the stratum.
WINDOWS = {True: "later-therapy start", False: "index date"}


def safety_incidence(
    frame: pl.DataFrame, study: Study, *, times: Sequence[float], min_at_risk: int = 0
) -> dict:
    """Cumulative incidence and incidence rates of the safety event, by stratum.

    Parameters
    ----------
    frame : polars.DataFrame
        ``safety_time_to_event``: ``stratum_key``, ``is_window_later_therapy``,
        ``time_months``, ``time_days`` and ``status`` (0 censored, 1 the event, 2 death).
    study : toolkit.study.Study
        The strata, in display order.
    times : sequence of float
        Months at which the cumulative incidence is read.
    min_at_risk : int
        An estimate at a time with fewer patients at risk is not shown: ``"NE (<m at risk)"``.

    Returns
    -------
    dict
        ``times``, ``groups`` (one per stratum), ``gray`` (or ``None``) and ``methods``.
    """
    groups = [
        _group(frame.filter(pl.col("stratum_key") == s.key), s, times, min_at_risk)
        for s in study.strata_for_display
    ]
    return {
        "times": [float(t) for t in times],
        "groups": groups,
        "gray": _gray(frame, study),
        "methods": {
            "estimator": COMPETING_RISKS_METHODS["estimator"],
            "variance": COMPETING_RISKS_METHODS["ij"],
            "ci": "95% pointwise CI, " + COMPETING_RISKS_METHODS["log-log"],
            "rate": f"{COMPETING_RISKS_METHODS['incidence_rate']}; patient-years of "
            f"{DAYS_PER_YEAR:g} days",
            "test": COMPETING_RISKS_METHODS["gray"],
        },
    }


def _group(rows: pl.DataFrame, stratum, times: Sequence[float], min_at_risk: int) -> dict:
    status = rows["status"].to_numpy()
    events, deaths = int((status == _EVENT).sum()), int((status == _DEATH).sum())
    years = float(rows["time_days"].sum()) / DAYS_PER_YEAR
    group = {
        "key": stratum.key,
        "label": stratum.label,
        "window": WINDOWS[stratum.depends_on_later_therapy],
        "n": rows.height,
        "events": events,
        "deaths_before": deaths,
        "person_years": years,
        "rate": None,
        "rate_ci": [None, None],
        "at": [
            {"time": float(t), "estimate": None, "ci": [None, None], "at_risk": 0, "events": 0}
            for t in times
        ],
    }
    if rows.height == 0:
        return group
    if years > 0:
        rate = incidence_rate(events, years)
        group["rate"], group["rate_ci"] = rate.rate_, list(rate.ci_)
    fit = aalen_johansen(rows["time_months"].to_numpy(), status, cause=_EVENT)
    read = fit.at(list(times))
    marker = f"NE (<{min_at_risk} at risk)"
    event_times = rows["time_months"].to_numpy()[status == _EVENT]
    for entry, i in zip(group["at"], range(len(times)), strict=True):
        entry["at_risk"] = int(read["at_risk"][i])
        entry["events"] = int((event_times <= entry["time"]).sum())
        if read["at_risk"][i] < min_at_risk:
            entry["estimate"] = marker
            continue
        entry["estimate"] = _number(read["cif"][i])
        entry["ci"] = [_number(read["ci_lower"][i]), _number(read["ci_upper"][i])]
    return group


def _number(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def _gray(frame: pl.DataFrame, study: Study) -> dict | None:
    """Gray's test among the strata with the later-therapy window (all strata when none has
    one), each with patients; ``None`` with fewer than two such strata."""
    later = study.strata_depend_on_later_therapy
    keys = [s.key for s in study.strata_for_display if s.depends_on_later_therapy == later]
    rows = frame.filter(pl.col("stratum_key").is_in(keys))
    present = [k for k in keys if (rows["stratum_key"] == k).any()]
    if len(present) < 2:
        return None
    code = {key: f"{i:03d}" for i, key in enumerate(present)}  # Gray's groups sort by label
    test = gray_test(
        rows["time_months"].to_numpy(),
        rows["status"].to_numpy(),
        rows["stratum_key"].replace_strict(code).to_numpy(),
        cause=_EVENT,
    )
    labels = {s.key: s.label for s in study.strata}
    return {
        "groups": [labels[k] for k in present],
        "keys": present,
        "window": WINDOWS[later],
        "statistic": test.statistic_,
        "df": test.df_,
        "p": test.p_,
    }
