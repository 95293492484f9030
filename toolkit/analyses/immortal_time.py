"""Immortal-time check: does the grouping depend on what happened after the index date?

A patient counted in a group defined by a therapy received *after* the index date had to
survive (and stay in follow-up) until that therapy started; that time is "immortal" in the
group. Comparing such groups from the index date (Kaplan–Meier by stratum, log-rank, Cox
with a fixed stratum) credits it to the later-therapy groups and biases the comparison in
their favour (Suissa, Am J Epidemiol 2008; Lévesque et al., BMJ 2010).

:func:`assess_immortal_time` reads the study definition (rules with
``later_agent_classes``) and/or the data (``stratum_start_date`` after ``startdt``) and
returns a plain-language statement for the report, the evidence in numbers, and the
analyses of this package that address the bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from toolkit.survival._common import result_dict

__all__ = ["METHODS", "REMEDIES", "ImmortalTimeAssessment", "assess_immortal_time"]

METHODS = {
    "design": "a stratum rule with later_agent_classes groups patients by therapy started on "
    "or after the index date",
    "data": "patients whose stratum_start_date is after the index date (startdt)",
    "immortal_time": "per later-therapy patient, the time from the index date to the start of "
    "the stratum-defining therapy",
}

REMEDIES = (
    {
        "analysis": "landmark",
        "function": "toolkit.analyses.landmark.landmark_analyses",
        "description": "groups fixed by the therapy received by each landmark; survival "
        "compared from the landmark among patients still followed then",
    },
    {
        "analysis": "time_varying_cox",
        "function": "toolkit.analyses.time_varying.time_varying_cox",
        "description": "Cox model with the later therapy as a time-varying covariate: the "
        "time before it counts in the group the patient was in",
    },
    {
        "analysis": "simon_makuch",
        "function": "toolkit.analyses.simon_makuch.simon_makuch",
        "description": "Kaplan–Meier curves whose risk sets follow patients as they move "
        "from the default group into a later-therapy group",
    },
)
"""The analyses of this package that address immortal time, in the order a report shows."""


@dataclass(frozen=True)
class ImmortalTimeAssessment:
    """Whether a grouping is subject to immortal-time bias, with the evidence.

    Attributes
    ----------
    depends_on_post_index_ : True when the grouping depends on events after the index date
        (by the study's rules, or seen in the data).
    by_design_ : what the study's rules say (``None`` without a study).
    in_data_ : whether any patient's stratum started after the index date (``None``
        without data).
    later_therapy_strata : the strata defined by later therapy (key, label, agent classes).
    evidence_ : from the data, per later-therapy stratum and overall: patients, those whose
        therapy started after the index date, the median, minimum and maximum delay and the
        immortal person-months (sum of delays) with their share of the stratum's follow-up
        (``None`` without data).
    statement : the finding in plain language, for the report.
    remedies : the analyses that address the bias (``analysis``, ``function``,
        ``description``); empty when there is no bias to address.
    methods : the methods, in words.
    """

    depends_on_post_index_: bool
    by_design_: bool | None
    in_data_: bool | None
    later_therapy_strata: list[dict]
    evidence_: dict | None
    statement: str
    remedies: list[dict]
    methods: dict[str, str]

    def to_dict(self) -> dict:
        """JSON-able form (fitted names without the trailing ``_``)."""
        return result_dict(self)


def _delays(adtte: pl.DataFrame, days_per_month: float) -> pl.DataFrame:
    """Per patient with a stratum start date: the delay from the index date in months."""
    return adtte.filter(pl.col("stratum_start_date").is_not_null()).select(
        "stratum_key",
        "aval",
        ((pl.col("stratum_start_date") - pl.col("startdt")).dt.total_days() / days_per_month).alias(
            "delay"
        ),
    )


def _summary(rows: pl.DataFrame, follow_up: float) -> dict:
    late = rows.filter(pl.col("delay") > 0)
    immortal = math.fsum(late["delay"].to_list())
    return {
        "patients": rows.height,
        "started_after_index": late.height,
        "median_delay_months": float(late["delay"].median()) if late.height else None,
        "min_delay_months": float(late["delay"].min()) if late.height else None,
        "max_delay_months": float(late["delay"].max()) if late.height else None,
        "immortal_person_months": immortal,
        "share_of_follow_up": immortal / follow_up if follow_up > 0 else None,
    }


def _evidence(adtte: pl.DataFrame, days_per_month: float) -> dict:
    delays = _delays(adtte, days_per_month)
    # sums correctly rounded (math.fsum), so the same in any row order: a parallel group-by
    # sum of a million rows differs in its last bits from run to run
    total = {
        key: math.fsum(part["aval"].to_list())
        for (key,), part in adtte.partition_by("stratum_key", as_dict=True).items()
    }
    by_stratum = {
        key: _summary(delays.filter(pl.col("stratum_key") == key), total.get(key, 0.0))
        for key in sorted(set(delays["stratum_key"]))
    }
    overall = _summary(delays, math.fsum(total.get(k, 0.0) for k in by_stratum))
    return {"overall": overall, "by_stratum": by_stratum}


def _statement(later: list[dict], evidence, landmarks) -> str:
    if not later and not (evidence and evidence["overall"]["started_after_index"]):
        return (
            "The groups are defined by what was known at the index date, so comparing them "
            "from the index date has no immortal-time bias from the grouping."
        )
    labels = [s["label"] for s in later] or sorted(evidence["by_stratum"])
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    text = [
        ("The group " if len(labels) == 1 else "The groups ")
        + names
        + (" is" if len(labels) == 1 else " are")
        + " defined by therapy received after the index date. A patient "
        "counted in such a group had to survive until that therapy started, so comparing the "
        "groups from the index date credits this immortal time to them and favours them."
    ]
    if evidence:
        o = evidence["overall"]
        if o["started_after_index"]:
            text.append(
                f"In these data {o['started_after_index']} of {o['patients']} patients in "
                f"these groups started the therapy after the index date (median "
                f"{o['median_delay_months']:.1f} months, up to {o['max_delay_months']:.1f}), "
                f"{o['immortal_person_months']:.0f} person-months of immortal time "
                f"({o['share_of_follow_up']:.0%} of these groups' follow-up)."
            )
    marks = " and ".join(f"{m:g}" for m in landmarks)
    text.append(
        "The naive comparison is shown for reference only; the landmark analysis"
        + (f" (at {marks} months)" if marks else "")
        + ", the Cox model with later therapy as a time-varying covariate and the "
        "Simon–Makuch curves address the bias."
    )
    return " ".join(text)


def assess_immortal_time(
    study=None,
    adtte: pl.DataFrame | None = None,
    *,
    days_per_month: float | None = None,
) -> ImmortalTimeAssessment:
    """Say whether the grouping depends on post-index events, and what addresses it.

    Parameters
    ----------
    study : toolkit.study.Study, optional
        The study definition (its strata rules).
    adtte : polars.DataFrame, optional
        One row per patient with ``stratum_key``, ``stratum_start_date``, ``startdt`` and
        ``aval`` (months).
    days_per_month : float, optional
        Days per month for the delays (default: the study's, else 30.4375).

    Returns
    -------
    ImmortalTimeAssessment

    Raises
    ------
    ValueError
        Neither a study nor data.
    """
    if study is None and adtte is None:
        raise ValueError("give the study, the data, or both")
    if days_per_month is None:
        days_per_month = study.endpoint.days_per_month if study is not None else 30.4375
    later = []
    by_design = None
    if study is not None:
        by_design = study.strata_depend_on_later_therapy
        later = [
            {"key": s.key, "label": s.label, "agent_classes": list(s.later_agent_classes)}
            for s in study.strata
            if s.depends_on_later_therapy
        ]
    evidence = _evidence(adtte, days_per_month) if adtte is not None else None
    in_data = None if evidence is None else evidence["overall"]["started_after_index"] > 0
    depends = bool(by_design) or bool(in_data)
    landmarks = study.endpoint.landmarks_months if study is not None else ()
    return ImmortalTimeAssessment(
        depends_on_post_index_=depends,
        by_design_=by_design,
        in_data_=in_data,
        later_therapy_strata=later,
        evidence_=evidence,
        statement=_statement(later, evidence, landmarks),
        remedies=[dict(r) for r in REMEDIES] if depends else [],
        methods=dict(METHODS),
    )
