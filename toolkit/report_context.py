"""The report context: every number and text the report shows, as one JSON-able dict.

Templates render from this dict and nothing else; the pipeline saves it as ``results.json``.
Its shape is declared in :mod:`toolkit.results` (:class:`~toolkit.results.ReportContext`), and
the pipeline checks it against that declaration before anything is rendered.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import NamedTuple

import numpy as np
import polars as pl

from toolkit.analyses.comparisons import (
    comparison_notes,
    comparison_rows,
    comparisons,
    figure_groups,
    side_by_side,
    strata_tests,
)
from toolkit.analyses.safety import safety_incidence
from toolkit.cohort import Cohort
from toolkit.documents import join_and
from toolkit.study import BASELINE_COVARIATES, Stratum, Study
from toolkit.survival import METHODS, empty_summary, kaplan_meier, median_followup, rmst
from toolkit.survival.association import categorical_test, kruskal_wallis

__all__ = ["build_context"]


def _ticks(cohort: Cohort, every: float) -> list[float]:
    longest = float(cohort.risk_sets["aval"].max())
    # true division: 1.0 // 0.1 is 9.0 in binary floating point, and would drop the last tick
    return [every * i for i in range(int(longest / every) + 1)]


class _Survival(NamedTuple):
    """Overall survival of a group as the estimators take it: the rows of its risk sets."""

    time: np.ndarray
    event: np.ndarray
    counts: np.ndarray


def _survival(cohort: Cohort, key: str | None = None) -> _Survival:
    """The risk-set rows of one stratum (``None``: every stratum) from ``survival_risk_sets``."""
    rows = cohort.risk_sets
    if key is not None:
        rows = rows.filter(pl.col("stratum_key") == key)
    return _Survival(
        rows["aval"].to_numpy(), rows["is_event"].to_numpy(), rows["n_patients"].to_numpy()
    )


def _group_summaries(cohort: Cohort, study: Study, ticks: list[float]) -> list[dict]:
    groups = []
    for stratum in study.strata_for_display:
        rows = _survival(cohort, stratum.key)
        options = {
            "key": stratum.key,
            "label": stratum.label,
            "at_times": study.endpoint.landmarks_months,
            "ticks": tuple(ticks),
        }
        present = rows.time.size > 0
        summary = (
            kaplan_meier(rows.time, rows.event, counts=rows.counts, **options)
            if present
            else empty_summary(**options)
        )
        summary = summary.to_dict()
        groups.append(
            summary
            | _shares(summary)
            | {
                "later_therapy": stratum.depends_on_later_therapy,
                "counts": _stratum_counts(cohort, stratum.key),
                "followup": median_followup(rows.time, rows.event, counts=rows.counts).to_dict()
                if present
                else None,
            }
        )
    return groups


def _shares(group: dict) -> dict[str, float | None]:
    """A group's deaths and censored as percentages of its patients (one decimal)."""
    return {
        "events_pct": _pct(group["events"], group["n"]),
        "censored_pct": _pct(group["censored"], group["n"]),
    }


def _stratum_counts(cohort: Cohort, key: str) -> dict[str, int]:
    """The poster's per-stratum counts (progression, safety), computed by the metrics SQL."""
    row = cohort.stratum_counts.filter(pl.col("stratum_key") == key).row(0, named=True)
    return {
        "progressed_before_later_therapy": int(row["n_progressed_before_later_therapy"]),
        "related_autoimmune_post_therapy": int(row["n_related_autoimmune_post_therapy"]),
        "treatment_related_deaths": int(row["n_treatment_related_deaths"]),
    }


def _software(cohort: Cohort) -> dict[str, str]:
    versions = {
        "toolkit": metadata.version("registry-toolkit"),
        "python": platform.python_version(),
    }
    for dist in ("duckdb", "lifelines", "numpy", "pandera", "polars", "scipy", "weasyprint"):
        versions[dist] = metadata.version(dist)
    return versions | cohort.software


CLASS_NAMES = {
    "il2": "HD IL-2",
    "ctla4": "anti-CTLA-4",
    "pd1": "anti-PD-1",
    "pdl1": "anti-PD-L1",
    "braf_mek": "BRAF/MEK inhibitor",
    "chemo": "chemotherapy",
    "other": "other therapy",
}


def _stratum_rule(stratum: Stratum, first: bool) -> str:
    """The rule of one stratum in words."""
    if stratum.baseline is not None:
        column = stratum.baseline.column
        values = " or ".join(level_label(column, v) for v in stratum.baseline.values)
        rule = f"{BASELINE_COVARIATES[column].label} at baseline: {values}"
    elif stratum.later_agent_classes:
        names = " or ".join(CLASS_NAMES[c] for c in stratum.later_agent_classes)
        rule = f"{names} course started on or after the index date"
    else:
        return "all other patients" if not first else "all patients"
    return rule if first else f"otherwise, {rule}"


def _cautions(study: Study) -> list[str]:
    """Warnings the design itself calls for, whatever the numbers."""
    if not study.strata_depend_on_later_therapy:
        return []
    return [
        "The groups are defined by therapy received after the index date, which a patient had "
        "to live long enough to receive. This immortal time favours the later-therapy groups in "
        "the naive comparisons (curves by stratum, log-rank tests, naive and adjusted Cox); the "
        "landmark, time-varying Cox and Simon–Makuch analyses remove it."
    ]


def _methods(study: Study) -> dict:
    return {
        "eligibility": f"Patients whose {study.index.description} started on or before the cutoff.",
        "exclusions": f"Excluded: {study.exclusions.description}.",
        "index_date": f"Time zero is the start of the {study.index.description}.",
        "strata": [f"{s.label}: {_stratum_rule(s, i == 0)}" for i, s in enumerate(study.strata)],
        "endpoint": f"{study.endpoint.name.capitalize()}: {study.endpoint.event}.",
        "censoring": (
            "Patients alive are censored at the earlier of their last contact and the data "
            "cutoff; deaths after the cutoff are censored at the cutoff."
        ),
        "km_method": METHODS["estimator"],
        "ci_method": METHODS["ci"],
        "median_ci_method": METHODS["median_ci"],
        "followup_method": METHODS["followup"],
        "time_unit": f"months (days / {study.endpoint.days_per_month:g})",
    }


def build_context(cohort: Cohort, study: Study) -> dict:
    """Compute the survival results of ``cohort`` and assemble the internal report context
    (:func:`toolkit.pipeline.edition_context` makes the other editions of it)."""
    ticks = _ticks(cohort, study.endpoint.at_risk_every_months)
    everyone = _survival(cohort)
    overall = kaplan_meier(
        everyone.time,
        everyone.event,
        counts=everyone.counts,
        key="overall",
        label="All patients",
        at_times=study.endpoint.landmarks_months,
        ticks=tuple(ticks),
    ).to_dict()
    overall |= _shares(overall)
    flow = cohort.flow
    # the tables beside the comparisons: independent, and mostly in polars
    done = side_by_side(
        {
            "compared": lambda: _comparisons(cohort, study, ticks),
            "extras": lambda: report_extras(cohort, study),
        }
    )
    extras, compared = done["extras"].result(), done["compared"].result()
    return (
        {
            "title": study.study.title,
            "short_title": study.study.short_title,
            "registry": study.study.registry,
            "cutoff": cohort.cutoff.isoformat(),
            "edition": "internal",
            "study_sha256": study.sha256,
            "texts": {
                "background": study.texts.background,
                "conclusions": study.texts.conclusions,
                "cautions": _cautions(study),
            },
            "methods": _methods(study),
            "cohort": {
                "n_analysed": int(cohort.adtte.height),
                "flow": [
                    {
                        "label": _flow_label(row, flow.height),
                        "n": int(row["n_remaining"]),
                        "excluded": int(row["n_excluded"]),
                        "reason": _flow_reason(row["exclusion_reason"], study),
                    }
                    for row in flow.iter_rows(named=True)
                ],
                "excluded": [
                    {
                        "reason": _flow_reason(row["exclusion_reason"], study),
                        "n": int(row["n_excluded"]),
                    }
                    for row in flow.iter_rows(named=True)
                    if row["n_excluded"]
                ],
            },
            "overall": overall,
            "strata": _group_summaries(cohort, study, ticks),
            "followup": median_followup(
                everyone.time, everyone.event, counts=everyone.counts
            ).to_dict(),
            "landmarks": [float(x) for x in study.endpoint.landmarks_months],
            "at_risk_times": ticks,
            "software": _software(cohort),
        }
        | extras
        | compared
    )


#: The eligibility steps of ``cohort_flow.sql`` as a reader names them, by step.
FLOW_LABELS = {
    1: "with the index therapy started by the cutoff",
    2: "with at least one dose of the index therapy",
}
#: The exclusion reasons of ``cohort_eligibility.sql`` in plain words (the prior therapy's
#: reason is the study's own description of its exclusions).
FLOW_REASONS = {
    "no index therapy course on or before the cutoff": "no index therapy started by the cutoff",
    "index therapy course with no dose given": "index therapy course without a dose",
}


def _flow_label(row: dict, steps: int) -> str:
    """The first step as the SQL says it, the last "analysed", the others in plain words."""
    if row["step"] == steps - 1:
        return "analysed"
    return FLOW_LABELS.get(row["step"], row["label"])


def _flow_reason(reason: str | None, study: Study) -> str | None:
    if reason == "excluding therapy before the index date":
        return study.exclusions.description
    return FLOW_REASONS.get(reason, reason)


def _rmst_cell(estimate: dict | None) -> dict | None:
    if estimate is None:
        return None
    return {"estimate": estimate["rmst"], "ci": estimate["ci"], "se": estimate["se"]}


def _comparisons(cohort: Cohort, study: Study, ticks: list[float]) -> dict:
    """The strata comparisons, naive and immortal-time-aware, and what the report draws."""
    result = comparisons(cohort, study, ticks)
    tau = result["rmst_tau"]
    everyone = _survival(cohort)
    overall_rmst = (
        rmst(everyone.time, everyone.event, tau, counts=everyone.counts).to_dict() if tau else None
    )
    return {
        "rmst": {
            "tau": tau,
            "overall": _rmst_cell(overall_rmst),
            "strata": {g["group"]: _rmst_cell(g) for g in (result["rmst"] or {}).get("groups", [])},
            "reference": (result["rmst"] or {}).get("reference"),
            "differences": {
                d["group"]: {"estimate": d["difference"], "ci": d["ci"], "p": d["p"]}
                for d in (result["rmst"] or {}).get("differences", [])
            },
        },
        "comparisons": result,
        "comparison_rows": comparison_rows(result, study),
        "comparison_notes": comparison_notes(
            result, study, _MODEL_COVARIATE_LABELS, tabled=("cox_adjusted",)
        ),
        "strata_tests": strata_tests(result, study),
        "adjusted_model": _adjusted_model(result["cox_adjusted"], study),
        "aware_figures": figure_groups(
            result,
            study.endpoint.min_at_risk_shown,
            reference=study.default_stratum,
        ),
    }


def _adjusted_model(model: dict | None, study: Study) -> dict | None:
    """The adjusted Cox model's own table: the patients and events it used, and every
    coefficient as a reader names it (covariate, level, reference level)."""
    if model is None:
        return None
    names = {c.column: name for name, c in BASELINE_COVARIATES.items()}
    strata = {s.key: s.label for s in study.strata}
    terms = []
    for term in model["terms"]:
        column, level, reference = term["covariate"], term["level"], term["reference"]
        if column == "stratum_key":
            covariate, level, reference = "Stratum", strata[level], strata[reference]
        else:
            name = names.get(column, column)
            covariate = _MODEL_COVARIATE_LABELS.get(column, column)
            if level is None:
                unit = BASELINE_COVARIATES[name].unit.removesuffix("s")  # "years": per year
                covariate = f"{covariate}, per {unit or 'unit'}"
            else:
                level, reference = level_label(name, level), level_label(name, reference)
        terms.append(
            {
                "covariate": covariate,
                "level": level,
                "reference": reference,
                "hr": term["hr"],
                "ci": term["hr_ci"],
                "p": term["p"],
                "infinite": term["infinite"],
                "aliased": term["aliased"],
            }
        )
    return {
        "n": model["n"],
        "n_input": model["n_input"],
        "n_dropped_missing": model["dropped_missing"]["total"],
        "events": model["events"],
        "terms": terms,
        "ph_p": model["ph_test"]["global"]["p"],
        "method": model["methods"]["missing"],
    }


# --- Table 1, safety, provenance: the report's tables besides survival -------------------------

#: Table 1's row labels of the baseline covariates.
COVARIATE_LABELS = {name: c.table_label for name, c in BASELINE_COVARIATES.items()}

#: The labels of the models' columns (the ADTTE's ``age_years`` is the covariate ``age``).
_MODEL_COVARIATE_LABELS = {c.column: c.label for c in BASELINE_COVARIATES.values()}

#: Human labels of covariate levels, by covariate; ``"*"`` applies to every covariate.
LEVEL_LABELS = {
    "*": {"missing": "Missing", "unknown": "Unknown", "yes": "Yes", "no": "No"},
    **{name: c.levels for name, c in BASELINE_COVARIATES.items() if c.levels},
}


class SafetyRow(NamedTuple):
    """A row of the adverse-events table.

    ``index_label`` names the row of a study without later-therapy strata, for a row whose
    window starts at the later therapy where there is one (``None``: the window never moves);
    a total adds only strata that share the window. ``later_only``: the row applies to the
    later-therapy strata only."""

    key: str
    label: str
    index_label: str | None = None
    later_only: bool = False


SAFETY_ROWS = (
    SafetyRow(
        "related_autoimmune_post_therapy",
        "Treatment-related autoimmune events after the later-therapy start "
        "(after the index date in strata without later therapy)",
        index_label="Treatment-related autoimmune events after the index date",
    ),
    SafetyRow(
        "progressed_before_later_therapy", "Progression before the later therapy", later_only=True
    ),
    SafetyRow("treatment_related_deaths", "Treatment-related deaths"),
)


def level_label(covariate: str, level: str) -> str:
    """The human label of one level of a covariate (the level itself if none is known)."""
    return LEVEL_LABELS.get(covariate, {}).get(level) or LEVEL_LABELS["*"].get(level, level)


def _level_order(covariate: str, levels: set[str]) -> list[str]:
    """Known codes in their vocabulary order, other levels sorted, unknown and missing last."""
    last = [lv for lv in ("unknown", "missing") if lv in levels]
    known = [lv for lv in LEVEL_LABELS.get(covariate, {}) if lv in levels and lv not in last]
    rest = sorted(levels - set(last) - set(known), key=lambda v: (not v.isdigit(), v))
    return known + rest + last


def _table_groups(cohort: Cohort, study: Study) -> list[dict]:
    """Table columns: each stratum in display order, then all patients (key ``overall``)."""
    counts = cohort.adtte.group_by("stratum_key").len()
    sizes = dict(zip(counts["stratum_key"], counts["len"], strict=True))
    groups = [
        {"key": s.key, "label": s.label, "n": int(sizes.get(s.key, 0))}
        for s in study.strata_for_display
    ]
    return groups + [{"key": "overall", "label": "All patients", "n": int(cohort.adtte.height)}]


def _pct(count: int, total: int) -> float | None:
    return round(100 * count / total, 1) if total else None


def _kruskal_test(cohort: Cohort, groups: list[dict]) -> dict | None:
    """Kruskal–Wallis test of the per-patient ages across strata (``adtte.age_years``)."""
    samples = []
    for group in groups[:-1]:
        ages = cohort.adtte.filter(pl.col("stratum_key") == group["key"])["age_years"]
        ages = ages.drop_nulls().to_numpy()
        if ages.size:
            samples.append(ages)
    if len(samples) < 2:
        return None
    statistic, p_value = kruskal_wallis(samples)
    return {
        "name": "Kruskal–Wallis",
        "statistic": statistic,
        "df": len(samples) - 1,
        "p_value": p_value,
    }


def _age_summary(cohort: Cohort, groups: list[dict]) -> dict:
    """Median (IQR), range and missing ages per table column, from ``baseline_continuous``."""
    rows = {
        row["stratum_key"] or "overall": row
        for row in cohort.baseline_continuous.iter_rows(named=True)
    }
    cells = []
    for group in groups:
        row = rows.get(group["key"])
        stats = ("median", "q1", "q3", "minimum", "maximum")
        cell = {name: (None if row is None else row[name]) for name in stats}
        cell = {k: (None if v is None else float(v)) for k, v in cell.items()}
        cell["n_missing"] = int(row["n_missing"]) if row else 0
        cells.append(cell)
    return {
        "key": "age",
        "label": COVARIATE_LABELS["age"],
        "cells": cells,
        "test": _kruskal_test(cohort, groups),
    }


def _categorical_rows(cohort: Cohort, covariate: str, groups: list[dict]) -> dict:
    """Levels of one covariate with n (%) per table column; denominators are the column n."""
    frame = cohort.baseline_categorical.filter(pl.col("covariate") == covariate)
    counts = {
        (row["stratum_key"] or "overall", row["level"]): int(row["n_patients"])
        for row in frame.iter_rows(named=True)
    }
    levels = _level_order(covariate, {level for _, level in counts} | {"missing"})
    rows = []
    for level in levels:
        cells = []
        for group in groups:
            n = counts.get((group["key"], level), 0)
            cells.append({"n": n, "pct": _pct(n, group["n"])})
        rows.append({"key": level, "label": level_label(covariate, level), "cells": cells})
    tested = [
        [counts.get((g["key"], level), 0) for level in levels if level != "missing"]
        for g in groups[:-1]
    ]
    return {
        "key": covariate,
        "label": COVARIATE_LABELS.get(covariate, covariate.replace("_", " ").capitalize()),
        "levels": rows,
        "test": categorical_test(tested),
    }


def _table1(cohort: Cohort, study: Study) -> dict:
    """Table 1: baseline characteristics by stratum and overall, with a test across strata."""
    groups = _table_groups(cohort, study)
    covariates = [c for c in study.baseline.covariates if c != "age"]
    return {
        "groups": groups,
        "age": _age_summary(cohort, groups) if "age" in study.baseline.covariates else None,
        "covariates": [_categorical_rows(cohort, c, groups) for c in covariates],
        "missing_excluded_from_tests": True,
    }


def _safety(cohort: Cohort, study: Study) -> dict:
    """The adverse-events table: per stratum n/N (%) and a total over the strata it applies to."""
    groups = []
    for stratum in study.strata_for_display:
        counts = _stratum_counts(cohort, stratum.key)
        row = cohort.stratum_counts.filter(pl.col("stratum_key") == stratum.key).row(0, named=True)
        groups.append(
            {
                "key": stratum.key,
                "label": stratum.label,
                "n": int(row["n_patients"]),
                "later_therapy": stratum.depends_on_later_therapy,
                "counts": counts,
            }
        )
    rows = []
    any_later = any(g["later_therapy"] for g in groups)
    for key, label, index_label, later_only in SAFETY_ROWS:
        if later_only and not any_later:  # e.g. progression before a later therapy
            continue
        later_window = index_label is not None
        if later_window and not any_later:
            label = index_label
        cells, over = [], []
        for group in groups:
            applies = group["later_therapy"] or not later_only
            n = group["counts"][key] if applies else None
            cells.append({"n": n, "N": group["n"], "pct": _pct(n, group["n"]) if applies else None})
            if applies and (group["later_therapy"] or not (later_window and any_later)):
                over.append(group)
        n_total = sum(g["counts"][key] for g in over)
        N_total = sum(g["n"] for g in over)
        total = {"n": n_total, "N": N_total, "pct": _pct(n_total, N_total)}
        rows.append({"key": key, "label": label, "later_only": later_only, "cells": cells})
        rows[-1] |= {"total_over": [g["key"] for g in over], "total": total}
    columns = [{"key": g["key"], "label": g["label"], "n": g["n"]} for g in groups]
    return {
        "columns": columns,
        "rows": rows,
        "description": study.adverse_events.description,
        "total_note": _safety_total_note(rows, groups),
        "incidence": safety_incidence(
            cohort.safety_times,
            study,
            times=study.adverse_events.incidence_at_months,
            min_at_risk=study.endpoint.min_at_risk_shown,
        ),
    }


def _safety_total_note(rows: list[dict], groups: list[dict]) -> str:
    """What each total adds up: the strata a row applies to, with the same window."""
    partial = [
        row for row in rows if not row["later_only"] and len(row["total_over"]) < len(groups)
    ]
    if not partial:
        return "Each total adds the strata its row applies to."
    later = join_and(g["label"] for g in groups if g["later_therapy"])
    return (
        "Each total adds the strata its row applies to. Where the window differs between strata "
        f"(it starts at the later therapy in {later}, at the index date elsewhere), the total "
        f"adds {later} only."
    )


def _provenance(cohort: Cohort) -> dict:
    """The submissions the cutoff used, with rows accepted per file and validation warnings."""
    import hashlib
    import json

    submissions = []
    for row in cohort.submissions.iter_rows(named=True):
        rows = json.loads(row["row_counts"]) if row.get("row_counts") else {}
        submissions.append(
            {
                "site_id": row["site_id"],
                "extracted_on": row["extracted_on"].isoformat() if row["extracted_on"] else None,
                "sha256": row["submission_id"],
                "rows": {name: int(rows[name]) for name in sorted(rows)},
                "n_warnings": int(row.get("n_warnings") or 0),
            }
        )
    files = sorted({name for s in submissions for name in s["rows"]})
    digest = hashlib.sha256("\n".join(sorted(s["sha256"] for s in submissions)).encode())
    return {
        "n_submissions": len(submissions),
        "n_sites": len({s["site_id"] for s in submissions}),
        "set_sha256": digest.hexdigest(),
        "set_sha256_method": "SHA-256 of the sorted submission SHA-256s, one per line",
        "extracted_from": min(
            (s["extracted_on"] for s in submissions if s["extracted_on"]), default=None
        ),
        "extracted_to": max(
            (s["extracted_on"] for s in submissions if s["extracted_on"]), default=None
        ),
        "rows_total": {f: sum(s["rows"].get(f, 0) for s in submissions) for f in files},
        "n_warnings_total": sum(s["n_warnings"] for s in submissions),
        "submissions": submissions,
        "since_previous": cohort.changes,
    }


def report_extras(cohort: Cohort, study: Study) -> dict:
    """Context keys of the tables and appendix: ``table1``, ``safety``, ``provenance`` …"""
    return {
        "table1": _table1(cohort, study),
        "safety": _safety(cohort, study),
        "provenance": _provenance(cohort),
        "min_at_risk_shown": int(study.endpoint.min_at_risk_shown),
        "disclosure": {"suppressed": False, "threshold": None, "rules": []},
    }
