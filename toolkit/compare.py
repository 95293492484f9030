"""What changed between two data cutoffs (``toolkit compare``): per site, the patients new to
an extract or gone from it, who left the analysis (and why), who entered it, whose stratum
changed, deaths added and already-reported dates that moved, each with the old and new value
and the submissions they came from; and the headline numbers at both cutoffs, naive and
immortal-time aware, as each cutoff's report of the same edition shows them.

Both cutoffs use the submissions frozen for them. The changes are the relations of
``queries/50_changes``, run for the later cutoff with the earlier as ``previous_cutoff_date``
and the earlier cutoff's ``patient_analysis`` kept as ``previous_analysis``
(:func:`keep_as_previous`). :func:`toolkit.pipeline.compare_cutoffs` runs the steps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from toolkit.cohort import CHANGE_KINDS, is_frozen, sources
from toolkit.errors import UsageError

__all__ = [
    "ANALYSIS_CHANGE_KINDS",
    "COMPARE_FILES",
    "check_cutoffs",
    "compare_context",
    "keep_as_previous",
    "read_changes",
]

#: The documents ``toolkit compare`` writes beside compare.json, by format.
COMPARE_FILES = {"html": "compare.html", "pdf": "compare.pdf"}

#: The kinds of change of ``analysis_changes``, as compare.json names their lists.
ANALYSIS_CHANGE_KINDS = {
    "left_analysis": "patients_left_analysis",
    "entered_analysis": "patients_entered_analysis",
    "stratum_changed": "strata_changed",
}
#: Every list of changes a site has, in the document's order.
CHANGE_LISTS = (
    *CHANGE_KINDS.values(),
    *ANALYSIS_CHANGE_KINDS.values(),
    "treatment_dates_changed",
)


def check_cutoffs(con, older: date, newer: date) -> None:
    """Refuse a pair that is not two frozen cutoffs in order (:class:`UsageError`)."""
    if not older < newer:
        raise UsageError(f"--from ({older}) must be before --to ({newer})")
    for cutoff in (older, newer):
        if not is_frozen(con, cutoff):
            raise UsageError(
                f"the cutoff {cutoff} was never frozen: run toolkit report or toolkit cohort "
                "for it first"
            )


def keep_as_previous(con) -> None:
    """Keep the ``patient_analysis`` of the cutoff just run as ``previous_analysis``, which
    ``analysis_changes`` compares the next run's with."""
    columns = ", ".join(
        c["name"] for c in sources()["runner"]["tables"]["previous_analysis"]["columns"]
    )
    con.execute("delete from previous_analysis")
    con.execute(f"insert into previous_analysis select {columns} from patient_analysis")


def read_changes(con) -> dict[str, list[dict[str, Any]]]:
    """The change relations of the cutoff just run, as rows: ``patients``, ``analysis`` and
    ``courses``, each ordered by site and patient."""
    return {
        "patients": _rows(con, "select * from patient_changes order by site_id, patient_id"),
        "analysis": _rows(
            con, "select * from analysis_changes order by site_id, patient_id, change_kind"
        ),
        "courses": _rows(
            con, "select * from treatment_changes order by site_id, patient_id, treatment_id"
        ),
    }


def _rows(con, sql: str) -> list[dict[str, Any]]:
    con.execute(sql)
    names = [column[0] for column in con.description]
    return [dict(zip(names, values, strict=True)) for values in con.fetchall()]


def compare_context(
    changes: dict[str, list[dict]], before: dict, after: dict, *, totals: dict[str, int | str]
) -> dict[str, Any]:
    """The compare document's context.

    Parameters
    ----------
    changes : dict
        :func:`read_changes` of the later cutoff.
    before, after : dict
        The report contexts of the two cutoffs, of the edition wanted
        (:func:`toolkit.pipeline.edition_context`).
    totals : dict
        The number of each kind of change as the edition shows it (:func:`change_totals`;
        the sponsor edition's from :func:`toolkit.disclosure.change_totals_shown`).

    Returns
    -------
    dict
        ``from``, ``to``, ``edition``; ``totals`` (the number of each kind of change);
        ``sites`` (per site, each change with ``patient_id``, the field, ``old_value``,
        ``new_value`` and the submissions' SHA-256 prefixes; empty in the sponsor edition);
        ``headline`` (per stratum, the numbers at each cutoff); ``disclosure`` (the later
        report's).
    """
    sponsor = after["edition"] == "sponsor"
    return {
        "from": before["cutoff"],
        "to": after["cutoff"],
        "edition": after["edition"],
        "totals": totals,
        "sites": [] if sponsor else _by_site(changes),
        "headline": headline(before, after),
        "disclosure": after["disclosure"],
    }


def change_totals(changes: dict[str, list[dict]]) -> dict[str, int]:
    """How many changes of each kind, over all sites (compare.json's ``totals``)."""
    kinds = CHANGE_KINDS | ANALYSIS_CHANGE_KINDS
    counts = dict.fromkeys(CHANGE_LISTS, 0)
    for row in changes["patients"] + changes["analysis"]:
        counts[kinds[row["change_kind"]]] += 1
    counts["treatment_dates_changed"] = len(changes["courses"])
    return counts


def _by_site(changes: dict[str, list[dict]]) -> list[dict[str, Any]]:
    kinds = CHANGE_KINDS | ANALYSIS_CHANGE_KINDS
    sites: dict[str, dict[str, list]] = {}

    def site(name: str) -> dict[str, list]:
        return sites.setdefault(name, {kind: [] for kind in CHANGE_LISTS})

    for row in changes["patients"] + changes["analysis"]:
        site(row["site_id"])[kinds[row["change_kind"]]].append(_change(row))
    for row in changes["courses"]:
        site(row["site_id"])["treatment_dates_changed"].append(
            _change(row) | {"treatment_id": row["treatment_id"]}
        )
    return [{"site_id": name, **lists} for name, lists in sorted(sites.items())]


def _change(row: dict[str, Any]) -> dict[str, Any]:
    def short(sha: str | None) -> str | None:
        return sha[:12] if sha else None

    return {
        "patient_id": row["patient_id"],
        "field": row["field_name"],
        "old_value": row["old_value"],
        "new_value": row["new_value"],
        "old_submission": short(row["old_submission_id"]),
        "new_submission": short(row["new_submission_id"]),
    }


def headline(before: dict, after: dict) -> dict[str, Any]:
    """The headline numbers of both reports side by side: per group (all patients, then the
    strata), the naive Kaplan–Meier numbers from the index date, and the immortal-time-aware
    ones (time-varying Cox HR, the first landmark's group from the landmark, the Simon–Makuch
    median where the report shows it), as each report shows them."""
    at = [_numbers(context) for context in (before, after)]
    keys = [g["key"] for g in [after["overall"], *after["strata"]]]
    labels = {g["key"]: g["label"] for g in [after["overall"], *after["strata"]]}
    first = after["aware_figures"]["landmark"]
    return {
        "landmarks": after["landmarks"],
        "landmark": first["landmark"] if first else None,
        "reference_label": next(
            (row["reference_label"] for row in after.get("comparison_rows", [])), None
        ),
        "groups": [
            {"key": key, "label": labels[key], "from": at[0].get(key), "to": at[1][key]}
            for key in keys
        ],
    }


def _numbers(context: dict) -> dict[str, dict[str, Any]]:
    """Per group key, the headline numbers of one report context."""
    rows = {row["key"]: row for row in context.get("comparison_rows", [])}
    figures = context.get("aware_figures") or {}
    landmark = figures.get("landmark") or {"groups": []}
    from_landmark = {g["key"]: g for g in landmark["groups"]}
    simon_makuch = {g["key"]: g for g in figures.get("simon_makuch", [])}
    out = {}
    for group in [context["overall"], *context["strata"]]:
        key = group["key"]
        row = rows.get(key) or {}
        at_landmark = from_landmark.get(key)
        out[key] = {
            "n": group["n"],
            "events": group["events"],
            "median": group["median"],
            "median_ci": group["median_ci"],
            "survival_at": [_rate(s) for s in group["survival_at"]],
            "hr_naive": row.get("naive"),
            "hr_time_varying": row.get("time_varying"),
            "landmark": None
            if at_landmark is None
            else {
                "n": at_landmark["n"],
                "median": at_landmark["median"],
                "median_ci": at_landmark["median_ci"],
                "survival_at": [_rate(s) for s in at_landmark["survival_at"]],
            },
            "simon_makuch_median": (simon_makuch.get(key) or {}).get("median"),
        }
    return out


def _rate(at: dict) -> dict[str, Any]:
    return {"time": at["time"], "estimate": at["estimate"], "ci": at["ci"]}
