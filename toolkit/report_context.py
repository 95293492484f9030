"""The report context: every number and text the report shows, as one JSON-able dict.

Templates render from this dict and nothing else; the pipeline saves it as ``results.json``.
"""

from __future__ import annotations

import platform
from importlib import metadata

import polars as pl

from toolkit.cohort import Cohort
from toolkit.study import Stratum, Study
from toolkit.survival import METHODS, kaplan_meier, median_followup

__all__ = ["build_context"]


def _ticks(cohort: Cohort, every: float) -> list[float]:
    longest = float(cohort.adtte["aval"].max())
    return [every * i for i in range(int(longest // every) + 1)]


def _group_summaries(cohort: Cohort, study: Study, ticks: list[float]) -> list[dict]:
    groups = []
    for stratum in study.strata_for_display:
        rows = cohort.adtte.filter(pl.col("stratum_key") == stratum.key)
        summary = kaplan_meier(
            rows["aval"].to_numpy(),
            rows["is_event"].to_numpy(),
            key=stratum.key,
            label=stratum.label,
            at_times=study.endpoint.landmarks_months,
            ticks=tuple(ticks),
        )
        groups.append(
            summary.to_dict()
            | {
                "later_therapy": stratum.depends_on_later_therapy,
                "counts": _stratum_counts(cohort, stratum.key),
            }
        )
    return groups


def _stratum_counts(cohort: Cohort, key: str) -> dict[str, int]:
    """The poster's per-stratum counts (progression, safety), computed by the metrics SQL."""
    row = cohort.stratum_counts.filter(pl.col("stratum_key") == key).row(0, named=True)
    return {
        "progressed_before_later_therapy": int(row["n_progressed_before_later_therapy"]),
        "related_autoimmune_post_therapy": int(row["n_related_autoimmune_post_therapy"]),
        "treatment_related_deaths": int(row["n_treatment_related_deaths"]),
    }


def _software() -> dict[str, str]:
    versions = {
        "toolkit": metadata.version("registry-toolkit"),
        "python": platform.python_version(),
    }
    for dist in ("duckdb", "lifelines", "pandera", "polars", "weasyprint", "matplotlib"):
        versions[dist] = metadata.version(dist)
    return versions


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
        values = " or ".join(stratum.baseline.values)
        rule = f"{stratum.baseline.column.replace('_', ' ')} {values} at baseline"
    elif stratum.later_agent_classes:
        names = " or ".join(CLASS_NAMES.get(c, c) for c in stratum.later_agent_classes)
        rule = f"{names} course started on or after the index date"
    else:
        return "all other patients" if not first else "all patients"
    return rule if first else f"otherwise, {rule}"


def _cautions(study: Study) -> list[str]:
    """Warnings the design itself calls for, whatever the numbers."""
    if not study.strata_depend_on_later_therapy:
        return []
    return [
        "The groups are defined by therapy received after the index date: a patient had to "
        "live long enough to receive it to be counted in its group. This immortal time favours "
        "the groups with later therapy, so the survival differences between groups shown here "
        "are descriptive and do not measure the effect of that therapy."
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


def build_context(cohort: Cohort, study: Study, *, edition: str = "internal") -> dict:
    """Compute the survival results of ``cohort`` and assemble the report context."""
    ticks = _ticks(cohort, study.endpoint.at_risk_every_months)
    adtte = cohort.adtte
    time = adtte["aval"].to_numpy()
    event = adtte["is_event"].to_numpy()
    overall = kaplan_meier(
        time,
        event,
        key="overall",
        label="All patients",
        at_times=study.endpoint.landmarks_months,
        ticks=tuple(ticks),
    ).to_dict()
    flow = cohort.flow
    return {
        "title": study.study.title,
        "short_title": study.study.short_title,
        "registry": study.study.registry,
        "cutoff": cohort.cutoff.isoformat(),
        "edition": edition,
        "study_sha256": study.sha256,
        "texts": {
            "background": study.texts.background,
            "conclusions": study.texts.conclusions,
            "cautions": _cautions(study),
        },
        "methods": _methods(study),
        "cohort": {
            "n_analysed": int(adtte.height),
            "flow": [
                {"label": row["label"], "n": int(row["n_remaining"])}
                for row in flow.iter_rows(named=True)
            ],
            "excluded": [
                {"reason": row["exclusion_reason"], "n": int(row["n_excluded"])}
                for row in flow.iter_rows(named=True)
                if row["n_excluded"]
            ],
        },
        "overall": overall,
        "strata": _group_summaries(cohort, study, ticks),
        "followup": median_followup(time, event).to_dict(),
        "landmarks": [float(x) for x in study.endpoint.landmarks_months],
        "at_risk_times": ticks,
        "software": _software(),
    }
