"""The registry over time: every submission each site sent, its outcome, which extract is in
force and which data cutoffs froze it (``toolkit status``).

Read-only: the ledger is derived from the recorded submissions and cutoff freezes
(``queries/10_staging/stg_submission_ledger.sql``), so it can always be rebuilt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.ingest import connect
from toolkit.resources import read_sql

__all__ = ["submission_ledger"]


def submission_ledger(db_path: Path) -> dict[str, Any]:
    """Per site, every submission in the order received, with the registry's totals.

    Parameters
    ----------
    db_path : pathlib.Path
        The registry's DuckDB file (opened read-only).

    Returns
    -------
    dict
        ``sites``: per site (sorted by id) its ``submissions``, each with ``submission``
        (the name received), ``sha256`` (its first 12 hex digits), ``extracted_on``,
        ``received_on``, ``status``, ``errors``, ``warnings``, ``in_force`` and
        ``cutoffs`` (the data cutoffs that froze it); ``totals``: submissions by status, the
        sites with an extract in force, and the patients of the extracts in force.
    """
    con = connect(db_path, read_only=True)
    try:
        _before_received_on(con)
        ledger = con.sql(
            f"select * from ({read_sql('stg_submission_ledger')}) order by site_id, ingest_seq"
        ).pl()
        frozen = con.execute(
            "select submission_id, cutoff_date from cutoff_freezes order by cutoff_date"
        ).fetchall()
        patients = con.execute(
            f"""
            select count(*) from patients
            where submission_id in (
                select submission_id from ({read_sql("stg_submission_ledger")})
                where is_in_force
            )
            """
        ).fetchone()[0]
    finally:
        con.close()
    cutoffs: dict[str, list[str]] = {}
    for submission_id, cutoff in frozen:
        cutoffs.setdefault(submission_id, []).append(cutoff.isoformat())
    sites: dict[str, list[dict[str, Any]]] = {}
    for row in ledger.iter_rows(named=True):
        sites.setdefault(row["site_id"] or "(unknown)", []).append(_entry(row, cutoffs))
    statuses = ledger["status"].value_counts(sort=True).rows() if ledger.height else []
    return {
        "sites": [{"site_id": site, "submissions": subs} for site, subs in sites.items()],
        "totals": {
            "submissions": ledger.height,
            "by_status": dict(sorted(statuses)),
            "sites_in_force": int(ledger["is_in_force"].sum()) if ledger.height else 0,
            "patients_in_force": int(patients),
        },
    }


def _before_received_on(con) -> None:
    """A registry written before submissions recorded their day of receipt (read-only: the
    next ingest adds the column) reads with that day unknown."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_name = ?",
            ["submissions"],
        ).fetchall()
    }
    if "received_on" not in columns:
        database = con.execute("select current_database()").fetchone()[0]
        con.execute(
            "create temp view submissions as "
            f'select *, null::date as received_on from "{database}".main.submissions'
        )


def _entry(row: dict[str, Any], cutoffs: dict[str, list[str]]) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "submission": row["source_name"],
        "sha256": row["submission_id"][:12],
        "extracted_on": day(row["extracted_on"]),
        "received_on": day(row["received_on"]),
        "status": row["status"],
        "errors": row["n_errors"],
        "warnings": row["n_warnings"],
        "in_force": bool(row["is_in_force"]),
        "cutoffs": cutoffs.get(row["submission_id"], []),
    }
