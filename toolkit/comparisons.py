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

__all__ = ["comparisons", "comparison_rows", "figure_groups", "rmst_horizon"]


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
    time, event = adtte["aval"], adtte["is_event"]
    # The tests label the distinct group values in sorted order: code strata by display order.
    group = adtte["stratum_key"].replace_strict(
        {key: code for code, key in enumerate(keys)}, return_dtype=pl.Int64
    )
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
    tau = result["rmst_tau"] = rmst_horizon(adtte, study)
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


def _hr_cell(term: dict | None) -> dict | None:
    if term is None:
        return None
    return {"hr": term["hr"], "ci": term["hr_ci"], "p": term["p"], "infinite": term["infinite"]}


def _term_for(result: dict | None, key: str) -> dict | None:
    """The stratum term of a Cox result (naive, adjusted, time-varying or landmark) for ``key``."""
    if not result:
        return None
    grouping = ("stratum_key", "episode_stratum_key", "landmark_group")
    return next(
        (t for t in result["terms"] if t["level"] == key and t["covariate"] in grouping), None
    )


def comparison_rows(result: dict, study: Study) -> list[dict]:
    """One row per stratum compared with the reference: every analysis side by side.

    The naive log-rank (Holm-adjusted pairwise p) and Cox HRs come first; for strata defined
    by later therapy, the time-varying Cox HR and the landmark HRs follow.
    """
    naive = result["cox_unadjusted"]
    if naive is None:
        return []
    reference = naive["references"].get("stratum_key")
    labels = {s.key: s.label for s in study.strata}
    pairs = (result["pairwise_logrank"] or {}).get("pairs", [])
    rows = []
    for stratum in study.strata_for_display:
        if stratum.key == reference or _term_for(naive, stratum.key) is None:
            continue
        pair = next((p for p in pairs if set(p["groups"]) == {stratum.key, reference}), None)
        rows.append(
            {
                "key": stratum.key,
                "label": stratum.label,
                "reference_label": labels.get(reference, reference),
                "later_therapy": stratum.depends_on_later_therapy,
                "logrank_p_holm": pair["p_adjusted"] if pair else None,
                "naive": _hr_cell(_term_for(naive, stratum.key)),
                "adjusted": _hr_cell(_term_for(result["cox_adjusted"], stratum.key)),
                "time_varying": _hr_cell(_term_for(result["time_varying_cox"], stratum.key)),
                "landmarks": [
                    {
                        "landmark": lm["landmark"],
                        "n_at_risk": lm["n_at_risk"],
                        **(_hr_cell(_term_for(lm["cox"], stratum.key)) or {"hr": None}),
                    }
                    for lm in result["landmarks"]
                ],
            }
        )
    return rows


def figure_groups(result: dict) -> dict:
    """Groups shaped for the Kaplan–Meier figure: Simon–Makuch and the first landmark."""
    out: dict = {"simon_makuch": [], "landmark": None}
    if result["simon_makuch"]:
        out["simon_makuch"] = [
            {
                "key": g["key"],
                "label": g["label"],
                "n": g["n_start"] + g["n_entered_later"],
                "median": g["median"],
                "curve": g["curve"],
                "at_risk": [
                    {
                        "time": r["time"],
                        "at_risk": r["at_risk"],
                        "events": r["events"],
                        "censored": "–",
                    }
                    for r in g["at_risk"]
                ],
            }
            for g in result["simon_makuch"]["groups"]
        ]
    if result["landmarks"]:
        first = result["landmarks"][0]
        out["landmark"] = {
            "landmark": first["landmark"],
            "n_at_risk": first["n_at_risk"],
            "excluded": first["excluded"],
            "groups": [g["km"] for g in first["groups"] if g["n"]],
        }
    return out
