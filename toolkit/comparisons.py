"""Comparisons between strata for the report: the naive ones and the immortal-time-aware ones.

Part of the report-context stage: it runs the survival models on the cohort and returns plain
JSON-able data. When the strata depend on therapy received after the index date, the naive
log-rank and Cox comparisons carry immortal-time bias, so the landmark analyses, the Cox model
with later therapy as a time-varying covariate and the Simon–Makuch curves are computed beside
them, and the assessment says so in words.
"""

from __future__ import annotations

import polars as pl

from toolkit.cohort import Cohort
from toolkit.study import Study
from toolkit.survival import (
    assess_immortal_time,
    landmark_analyses,
    logrank_test,
    pairwise_logrank,
    rmst_by_group,
    simon_makuch,
    stratum_cox,
    time_varying_cox,
)

__all__ = ["comparisons", "rmst_horizon"]


def rmst_horizon(adtte: pl.DataFrame, study: Study) -> float | None:
    """The RMST horizon: the longest landmark that every stratum's follow-up reaches."""
    reach = adtte.group_by("stratum_key").agg(pl.col("aval").max())["aval"].min()
    fitting = [t for t in study.endpoint.landmarks_months if t <= reach]
    return max(fitting) if fitting else None


def comparisons(cohort: Cohort, study: Study, ticks: list[float]) -> dict:
    """Log-rank, Cox (unadjusted, adjusted), RMST and, for later-therapy strata, the
    landmark, time-varying Cox and Simon–Makuch analyses, with the immortal-time assessment."""
    adtte = cohort.adtte
    shown = [s for s in study.strata_for_display if (adtte["stratum_key"] == s.key).any()]
    keys = [s.key for s in shown]
    time, event, group = adtte["aval"], adtte["is_event"], adtte["stratum_key"]
    result = {
        "immortal_time": assess_immortal_time(study, adtte).to_dict(),
        "logrank": logrank_test(time, event, group, labels=keys).to_dict()
        if len(keys) > 1
        else None,
        "pairwise_logrank": (
            pairwise_logrank(time, event, group, labels=keys).to_dict() if len(keys) > 1 else None
        ),
        "cox_unadjusted": stratum_cox(adtte, study).to_dict() if len(keys) > 1 else None,
        "cox_adjusted": (
            stratum_cox(adtte, study, adjusted=True).to_dict() if len(keys) > 1 else None
        ),
        "rmst": None,
        "time_varying_cox": None,
        "landmarks": [],
        "simon_makuch": None,
    }
    tau = rmst_horizon(adtte, study)
    if tau is not None and len(keys) > 1:
        result["rmst"] = rmst_by_group(time, event, group, tau, labels=keys).to_dict()
    if study.strata_depend_on_later_therapy and len(keys) > 1:
        episodes = cohort.episodes
        result["time_varying_cox"] = time_varying_cox(episodes, study, adtte=adtte).to_dict()
        result["landmarks"] = [
            r.to_dict() for r in landmark_analyses(adtte, study, episodes=episodes)
        ]
        result["simon_makuch"] = simon_makuch(episodes, study, ticks=ticks).to_dict()
    return result
