"""What changed between two data cutoffs (``toolkit compare``): per site, the patients new to
an extract or gone from it, deaths added, and already-reported dates that moved, each with the
old and new value and the submissions they came from; and the headline counts at both cutoffs.

Both cutoffs use the submissions frozen for them. The changes are the relations of
``queries/50_changes`` (run for the later cutoff, with the earlier as ``previous_cutoff_date``);
the counts come from each cutoff's own run. Read-only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from toolkit.cohort import CHANGE_KINDS, is_frozen, run_queries
from toolkit.errors import UsageError
from toolkit.ingest import connect

__all__ = ["COMPARE_FILES", "compare_cutoffs", "render_compare_html"]

#: The documents ``toolkit compare`` writes beside compare.json, by format.
COMPARE_FILES = {"html": "compare.html", "pdf": "compare.pdf"}


def compare_cutoffs(db_path: Path, study, older: date, newer: date) -> dict[str, Any]:
    """The changes from cutoff ``older`` to cutoff ``newer``.

    Parameters
    ----------
    db_path : pathlib.Path
        The registry (opened read-only).
    study : toolkit.study.Study
        The study whose strata the headline counts use.
    older, newer : datetime.date
        Two cutoffs, each frozen already (by ``toolkit report`` or ``toolkit cohort``).

    Returns
    -------
    dict
        ``from``, ``to``; ``sites`` (per site: ``new_patients``, ``patients_dropped``,
        ``deaths_added``, ``dates_changed``, ``treatment_dates_changed``, each a list of
        changes with ``patient_id``, the field, ``old_value``, ``new_value`` and the
        submissions' SHA-256 prefixes); ``totals`` (the number of each kind); ``strata``
        (per stratum, patients and deaths at each cutoff).

    Raises
    ------
    UsageError
        A cutoff was never frozen, or ``older`` is not before ``newer``.
    """
    if not older < newer:
        raise UsageError(f"--from ({older}) must be before --to ({newer})")
    con = connect(db_path, read_only=True)
    try:
        for cutoff in (older, newer):
            if not is_frozen(con, cutoff):
                raise UsageError(
                    f"the cutoff {cutoff} was never frozen: run toolkit report or toolkit cohort "
                    "for it first"
                )
        run_queries(con, study, older)
        before = _strata(con)
        run_queries(con, study, newer, previous=older)
        after = _strata(con)
        patients = _rows(con, "select * from patient_changes order by site_id, patient_id")
        courses = _rows(
            con, "select * from treatment_changes order by site_id, patient_id, treatment_id"
        )
    finally:
        con.close()
    return {
        "from": older.isoformat(),
        "to": newer.isoformat(),
        "sites": _by_site(patients, courses),
        "totals": {
            **{
                name: sum(r["change_kind"] == kind for r in patients)
                for kind, name in CHANGE_KINDS.items()
            },
            "treatment_dates_changed": len(courses),
        },
        "strata": [
            {"stratum": key, "label": label, "from": before[key][1], "to": counts}
            for key, (label, counts) in after.items()
        ],
    }


def _rows(con, sql: str) -> list[dict[str, Any]]:
    con.execute(sql)
    names = [column[0] for column in con.description]
    return [dict(zip(names, values, strict=True)) for values in con.fetchall()]


def _strata(con) -> dict[str, Any]:
    """Per stratum (study order): its label, and the patients analysed and their deaths."""
    rows = _rows(
        con,
        """
        select s.stratum_key, s.stratum_label, count(a.patient_key) as n_patients,
            count(a.patient_key) filter (where a.is_event) as n_deaths
        from study_strata as s
        left join adtte as a on a.stratum_key = s.stratum_key
        group by s.stratum_key, s.stratum_label, s.rule_order
        order by s.rule_order
        """,
    )
    return {
        r["stratum_key"]: (
            r["stratum_label"],
            {"patients": r["n_patients"], "deaths": r["n_deaths"]},
        )
        for r in rows
    }


def _by_site(patients: list[dict], courses: list[dict]) -> list[dict[str, Any]]:
    sites: dict[str, dict[str, list]] = {}

    def site(name: str) -> dict[str, list]:
        return sites.setdefault(
            name, {**{kind: [] for kind in CHANGE_KINDS.values()}, "treatment_dates_changed": []}
        )

    for row in patients:
        site(row["site_id"])[CHANGE_KINDS[row["change_kind"]]].append(_change(row))
    for row in courses:
        site(row["site_id"])["treatment_dates_changed"].append(
            _change(row) | {"treatment_id": row["treatment_id"]}
        )
    return [{"site_id": name, **changes} for name, changes in sorted(sites.items())]


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


def render_compare_html(changes: dict[str, Any]) -> str:
    """The changes as a self-contained HTML document (inline CSS, embedded font subset)."""
    from toolkit.documents import render_page

    return render_page("compare.html.j2", (), changes=changes)
