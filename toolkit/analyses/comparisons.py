"""Comparisons between strata for the report: the naive ones and the immortal-time-aware ones.

The study analyses' last step: it runs the survival models on the cohort and returns plain
JSON-able data. When the strata depend on therapy received after the index date, the naive
log-rank and Cox comparisons carry immortal-time bias, so the landmark analyses, the Cox model
with later therapy as a time-varying covariate and the Simon–Makuch curves are computed beside
them, and the assessment says so in words.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np
import polars as pl

from toolkit.analyses.immortal_time import assess_immortal_time
from toolkit.analyses.landmark import landmark_analyses
from toolkit.analyses.simon_makuch import simon_makuch
from toolkit.analyses.strata import stratum_cox
from toolkit.analyses.time_varying import time_varying_cox
from toolkit.cohort import Cohort
from toolkit.errors import AnalysisError
from toolkit.study import Study
from toolkit.survival import logrank_test, pairwise_logrank, rmst_by_group

__all__ = [
    "comparisons",
    "comparison_notes",
    "comparison_rows",
    "figure_groups",
    "rmst_horizon",
    "side_by_side",
    "strata_tests",
]


def rmst_horizon(risk_sets: pl.DataFrame, study: Study) -> float | None:
    """The RMST horizon: the longest landmark that every stratum's follow-up reaches with at
    least the study's minimum risk set (``min_at_risk_shown``, at least one patient) still at
    risk, so that no stratum's RMST rests on a curve the report does not show.

    ``risk_sets``: ``survival_risk_sets`` (``stratum_key``, ``aval``, ``n_patients``)."""
    minimum = max(1, study.endpoint.min_at_risk_shown)

    def at_risk(t: float) -> pl.Expr:
        return pl.col("n_patients").filter(pl.col("aval") >= t).sum()

    fitting = [
        t
        for t in study.endpoint.landmarks_months
        if risk_sets.group_by("stratum_key").agg(at_risk(t))["n_patients"].min() >= minimum
    ]
    return max(fitting) if fitting else None


#: The analyses of :func:`comparisons` as a reader names them.
ANALYSIS_NAMES = {
    "logrank": "Log-rank test",
    "pairwise_logrank": "Pairwise log-rank tests",
    "cox_unadjusted": "Naive Cox model",
    "cox_adjusted": "Adjusted Cox model",
    "rmst": "Restricted mean survival time",
    "time_varying_cox": "Time-varying Cox model",
    "simon_makuch": "Simon–Makuch curves",
}


def comparisons(cohort: Cohort, study: Study, ticks: list[float]) -> dict:
    """Log-rank, Cox (unadjusted, adjusted), RMST and, for later-therapy strata, the
    landmark, time-varying Cox and Simon–Makuch analyses, with the immortal-time assessment.

    An analysis the data cannot support (too few patients, no event, nothing estimable) is
    ``None``, and ``not_estimable`` says why, by analysis; the rest are computed.
    """
    adtte, risk_sets = cohort.adtte, cohort.risk_sets
    present = set(risk_sets["stratum_key"])
    keys = [s.key for s in study.strata_for_display if s.key in present]
    time, event, counts = risk_sets["aval"], risk_sets["is_event"], risk_sets["n_patients"]
    # The tests label the distinct group values in sorted order: code strata by display order.
    group = risk_sets["stratum_key"].replace_strict(
        {key: code for code, key in enumerate(keys)}, return_dtype=pl.Int64
    )
    tau = rmst_horizon(risk_sets, study)
    reference = study.reference_stratum if study.reference_stratum in keys else None
    later = study.strata_depend_on_later_therapy
    tested = {"labels": keys, "counts": counts}
    analyses = {
        "logrank": lambda: logrank_test(time, event, group, **tested),
        "pairwise_logrank": lambda: pairwise_logrank(time, event, group, **tested),
        "cox_unadjusted": lambda: stratum_cox(risk_sets, study, counts="n_patients"),
        "cox_adjusted": lambda: stratum_cox(adtte, study, adjusted=True),
        "rmst": lambda: rmst_by_group(time, event, group, tau, reference=reference, **tested),
        "time_varying_cox": lambda: time_varying_cox(cohort.episodes, study, adtte=adtte),
        "simon_makuch": lambda: simon_makuch(
            cohort.episodes, study, ticks=ticks, from_at_risk=study.endpoint.min_at_risk_shown
        ),
    }
    skip = {"time_varying_cox", "simon_makuch"} if not later else set()
    if tau is None:
        skip.add("rmst")
    run = [name for name in analyses if name not in skip and len(keys) > 1]
    jobs = {name: analyses[name] for name in sorted(run, key=_longest_first)}
    jobs["immortal_time"] = lambda: assess_immortal_time(study, adtte)
    if later and len(keys) > 1:
        jobs["landmarks"] = lambda: landmark_analyses(adtte, study, episodes=cohort.episodes)
    done = side_by_side(jobs)
    result = {"immortal_time": done["immortal_time"].result().to_dict()}
    result["strata_compared"] = len(keys)
    result["not_estimable"] = {}
    for name in analyses:
        result[name] = None
        if name not in done:
            continue
        try:
            result[name] = done[name].result().to_dict()
        except AnalysisError as error:
            result["not_estimable"][name] = str(error)
    result["rmst_tau"] = tau
    result["landmarks"] = []
    if "landmarks" in done:
        result["landmarks"] = [r.to_dict() for r in done["landmarks"].result()]
    return result


def side_by_side(jobs: dict[str, Callable[[], Any]]) -> dict[str, Future]:
    """Run ``jobs`` in threads, in their order; their futures by name, all finished (a job's
    exception is raised by its ``result()``). Ctrl-C or a failure starts nothing more."""
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        try:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            wait(futures.values())
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return futures


#: The analyses run side by side: independent, reading the cohort only, and mostly in NumPy
#: and polars, which release the GIL on large arrays. Their results do not depend on the order
#: they finish in.
_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _longest_first(name: str) -> bool:
    """Sort key: the adjusted Cox model, the longest analysis, first."""
    return name != "cox_adjusted"


#: The analyses that are Cox models (their ``left_out`` is reported).
_COX_MODELS = ("cox_unadjusted", "cox_adjusted", "time_varying_cox")

#: The grouping covariates of the models, as a reader names them.
_GROUPING_NAMES = {
    "stratum_key": "the stratum",
    "episode_stratum_key": "the stratum",
    "landmark_group": "the group at the landmark",
}


def comparison_notes(
    result: dict,
    study: Study,
    covariate_labels: dict[str, str] | None = None,
    tabled: tuple[str, ...] = (),
) -> list[str]:
    """What a reader of the comparisons must know: each analysis not estimable and why, and
    each covariate or group a Cox model left out (``covariate_labels`` name the columns). A
    coefficient not estimable in a model of ``tabled`` (which the report shows in a table of
    its own, marked there) is not repeated."""
    if result["strata_compared"] < 2:
        return ["No comparison between strata: the cohort has patients in one stratum only."]
    names = _GROUPING_NAMES | (covariate_labels or {})
    labels = {s.key: s.label for s in study.strata}
    notes = [
        f"{ANALYSIS_NAMES[name]}: not estimable ({reason})."
        for name, reason in result["not_estimable"].items()
    ]
    models = [(ANALYSIS_NAMES[n], result[n]) for n in _COX_MODELS]
    tabled_titles = {ANALYSIS_NAMES[n] for n in tabled}
    for lm in result["landmarks"]:
        title = f"Landmark {lm['landmark']:g} months, Cox model"
        models.append((title, lm["cox"]))
        if lm["cox"] is None:
            notes.append(f"{title}: not estimable ({lm['cox_not_estimable']}).")
    for title, model in models:
        for item in (model or {}).get("left_out", []):
            notes.append(f"{title}: {_left_out_text(item, names, labels)}.")
        for term in (model or {}).get("terms", []):
            if term["infinite"] and title not in tabled_titles:
                what = _term_text(term["covariate"], term["level"], names, labels)
                notes.append(
                    f"{title}: {what} not estimable (its coefficient runs off to infinity: "
                    "monotone likelihood, e.g. no event in the group)."
                )
    return notes


def _term_text(covariate: str, level: str | None, names: dict, labels: dict) -> str:
    """A coefficient as a reader names it: a stratum's label, or the covariate and level."""
    name = names.get(covariate, covariate)
    what = labels.get(level) if covariate in _GROUPING_NAMES else None
    return what or (f"{name} {level}" if level is not None else name)


def _left_out_text(item: dict, names: dict[str, str], labels: dict[str, str]) -> str:
    covariate, level = item["covariate"], item["level"]
    if item["reason"] == "single_level":
        return f"{names.get(covariate, covariate)} left out (one value among the patients used)"
    return (
        f"{_term_text(covariate, level, names, labels)} not estimable (no contrast among the "
        "patients at risk at the events; left out of the model)"
    )


#: A comparison cell without a model behind it.
_NO_MODEL = {"hr": None, "ci": [None, None], "p": None, "infinite": False, "aliased": False}


def _hr_cell(term: dict | None) -> dict | None:
    if term is None:
        return None
    cell = {"hr": term["hr"], "ci": term["hr_ci"], "p": term["p"]}
    return cell | {"infinite": term["infinite"], "aliased": term["aliased"]}


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
                        **(_hr_cell(_term_for(lm["cox"], stratum.key)) or _NO_MODEL),
                    }
                    for lm in result["landmarks"]
                ],
            }
        )
    return rows


#: A proportional-hazards test whose p-value is below this casts doubt on the hazard ratios.
PH_ALPHA = 0.05


def strata_tests(result: dict, study: Study) -> dict:
    """Every test of the strata the report computes, shaped for its table.

    The k-group log-rank test, the log-rank test of every pair with its Holm-adjusted p-value,
    and the global ``cox.zph`` test of the naive and the adjusted Cox model (``fails``: p below
    :data:`PH_ALPHA`).
    """
    labels = {s.key: s.label for s in study.strata}
    rows = []
    overall = result["logrank"]
    if overall is not None:
        rows.append(
            {
                "label": f"All {len(overall['groups'])} strata",
                "keys": list(overall["groups"]),
                "statistic": overall["statistic"],
                "df": overall["df"],
                "p": overall["p"],
                "p_holm": None,
            }
        )
    for pair in (result["pairwise_logrank"] or {}).get("pairs", []):
        rows.append(
            {
                "label": " vs ".join(labels.get(k, k) for k in pair["groups"]),
                "keys": list(pair["groups"]),
                "statistic": pair["statistic"],
                "df": pair["df"],
                "p": pair["p"],
                "p_holm": pair["p_adjusted"],
            }
        )
    ph = []
    for name in ("cox_unadjusted", "cox_adjusted"):
        model = result[name]
        if model is None:
            continue
        test = model["ph_test"]["global"]
        fails = test["p"] is not None and test["p"] < PH_ALPHA
        model_name = ANALYSIS_NAMES[name][0].lower() + ANALYSIS_NAMES[name][1:]
        ph.append({"model": model_name, **test, "fails": fails})
    some = next((result[n] for n in ("cox_unadjusted", "cox_adjusted") if result[n]), None)
    return {
        "logrank": rows,
        "logrank_method": (overall or {}).get("method", ""),
        "adjustment": "Holm",
        "ph": ph,
        "ph_method": some["ph_test"]["method"] if some else "",
        "ph_alpha": PH_ALPHA,
    }


def while_enough_at_risk(curve: dict, minimum: int) -> tuple[dict, float | None]:
    """A curve up to its first death among fewer than ``minimum`` patients at risk.

    Every later value of a product-limit curve rests on that step, so the curve is cut there
    (carried flat up to it) and ``(curve, cut time)`` returned; the cut time is ``None`` when
    every death had enough patients at risk. A curve cut at its first death keeps only its
    start: nothing of it can be drawn.
    """
    at_risk = np.asarray(curve["at_risk"])
    events = np.asarray(curve["events"])
    small = np.flatnonzero((events > 0) & (at_risk < minimum))
    if small.size == 0:
        return curve, None
    cut = int(small[0])
    kept = {name: list(values[:cut]) for name, values in curve.items()}
    if cut > 1:  # carry the last value shown flat up to the step that is not shown
        for name in kept:
            kept[name].append(0 if name == "events" else kept[name][-1])
        kept["time"][-1] = curve["time"][cut]
    return kept, float(curve["time"][cut])


def figure_groups(result: dict, min_at_risk: int = 0, reference: str | None = None) -> dict:
    """Groups shaped for the Kaplan–Meier figure: Simon–Makuch and the first landmark.

    The Simon–Makuch curves stop at their first death among fewer than ``min_at_risk``
    patients at risk (:func:`while_enough_at_risk`): their groups fill as patients start the
    later therapy, so the first deaths of a later-therapy group may fall on a handful of
    patients, and the whole curve would rest on them. The ``reference`` stratum's curve is the
    time before any later therapy, and its label says so.
    """
    out: dict = {"simon_makuch": [], "landmark": None}
    if result["simon_makuch"]:
        out["simon_makuch"] = [
            _simon_makuch_group(g, min_at_risk) for g in result["simon_makuch"]["groups"]
        ]
        for group in out["simon_makuch"]:
            if group["key"] == reference:
                group["label"] = f"{group['label']}, before any later therapy"
    if result["landmarks"]:
        first = result["landmarks"][0]
        out["landmark"] = {
            "landmark": first["landmark"],
            "n_at_risk": first["n_at_risk"],
            "excluded": first["excluded"],
            # copies: an edition changes the figure's estimates, not the analysis's
            "groups": [copy.deepcopy(g["km"]) for g in first["groups"] if g["n"]],
        }
    return out


def _simon_makuch_group(g: dict, min_at_risk: int) -> dict:
    curve, cut = while_enough_at_risk(g["curve"], min_at_risk)
    median = g["median"] if cut is None or (g["median"] is not None and g["median"] < cut) else None
    if g["start_time"]:  # a conditional curve's median is not the group's
        median = None
    return {
        "key": g["key"],
        "label": g["label"],
        "n": g["n_start"] + g["n_entered_later"],
        "n_start": g["n_start"],
        "n_entered_later": g["n_entered_later"],
        "median": median,
        "curve": curve,
        "shown_until": cut,
        "starts_at": g["start_time"],
        "drawn": len(curve["time"]) > 1,
        "at_risk": [
            {k: r[k] for k in ("time", "at_risk", "events", "censored")} for r in g["at_risk"]
        ],
    }
