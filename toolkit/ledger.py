"""The registry over time: every submission each site sent, its outcome, which extract is in
force and which data cutoffs froze it (``toolkit status``).

Read-only: the ledger is derived from the recorded submissions and cutoff freezes
(``queries/10_staging/stg_submission_ledger.sql``), so it can always be rebuilt.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from toolkit.ingest import connect
from toolkit.resources import standalone_sql

__all__ = [
    "QUERY_FIELDS",
    "newer_than_frozen",
    "queries_overview",
    "query_states",
    "render_queries_html",
    "submission_ledger",
]


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
        _with_added_columns(con)
        ledger_sql = standalone_sql("stg_submission_ledger")
        ledger = con.sql(f"select * from ({ledger_sql}) order by site_id, ingest_seq").pl()
        frozen = con.execute(
            "select submission_id, cutoff_date from cutoff_freezes order by cutoff_date"
        ).fetchall()
        in_force = ledger.filter("is_in_force")["submission_id"].to_list()
        patients = con.execute(
            "select count(*) from patients where list_contains(?, submission_id)", [in_force]
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


#: Columns newer registries have and older ones lack, with their type: read as unknown.
_ADDED_COLUMNS = {
    "submissions": {"received_on": "date"},
    "findings": {
        "query_id": "varchar",
        "patient_id": "varchar",
        "record_id": "varchar",
        "compared": "varchar",
    },
}


def _with_added_columns(con) -> None:
    """A registry written before the columns of :data:`_ADDED_COLUMNS` existed reads with them
    unknown (read-only: the next ingest adds them)."""
    database = con.execute("select current_database()").fetchone()[0]
    for table, added in _ADDED_COLUMNS.items():
        have = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_name = ?",
                [table],
            ).fetchall()
        }
        missing = [f"null::{kind} as {name}" for name, kind in added.items() if name not in have]
        if missing:
            con.execute(
                f"create temp view {table} as "
                f'select *, {", ".join(missing)} from "{database}".main.{table}'
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


#: A query's fields, as ``toolkit queries --json`` and queries.csv give them.
QUERY_FIELDS = (
    "query_id",
    "site_id",
    "patient_id",
    "record_id",
    "file",
    "row",
    "column",
    "value",
    "compared",
    "rule",
    "severity",
    "message",
    "state",
    "first_seen",
    "last_seen",
    "resolved_by",
)


def query_states(
    db_path: Path, *, site: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Every query of every recorded submission, with its state across the site's extracts.

    Parameters
    ----------
    db_path : pathlib.Path
        The registry's DuckDB file (opened read-only).
    site, state : str, optional
        Only this site's queries; only ``"open"`` or ``"resolved"`` ones.

    Returns
    -------
    list of dict
        :data:`QUERY_FIELDS` each; ``first_seen``, ``last_seen`` and ``resolved_by`` are
        ``{"submission", "received_on"}`` (``resolved_by`` None while open), and ``row`` is
        the row as last seen. Ordered by site, state (open first), patient and query id.
    """
    con = connect(db_path, read_only=True)
    try:
        _with_added_columns(con)
        con.execute(
            f"""
            select * from ({standalone_sql("stg_query_states")})
            where (? is null or site_id = ?) and (? is null or query_state = ?)
            order by site_id, query_state, patient_id nulls last, query_id
            """,
            [site, site, state, state],
        )
        names = [column[0] for column in con.description]
        rows = [dict(zip(names, values, strict=True)) for values in con.fetchall()]
    finally:
        con.close()
    return [_query(row) for row in rows]


def _query(row: dict[str, Any]) -> dict[str, Any]:
    def seen(prefix: str) -> dict[str, Any] | None:
        name = row[f"{prefix}_submission"]
        if name is None:
            return None
        day = row[f"{prefix}_date"]
        return {"submission": name, "received_on": day.isoformat() if day else None}

    fields = {name: row.get(name) for name in QUERY_FIELDS[:12]}
    return fields | {
        "state": row["query_state"],
        "first_seen": seen("first_seen"),
        "last_seen": seen("last_seen"),
        "resolved_by": seen("resolved_by"),
    }


def newer_than_frozen(db_path: Path, cutoff) -> int:
    """How many sites have an accepted extract in force that the frozen ``cutoff`` does not
    use (0 when the cutoff is not frozen, or is up to date)."""
    con = connect(db_path, read_only=True)
    try:
        _with_added_columns(con)
        return con.execute(
            f"""
            select count(*) from ({standalone_sql("stg_submission_ledger")}) as ledger
            where is_in_force
              and exists (select 1 from cutoff_freezes where cutoff_date = ?)
              and submission_id not in (
                  select submission_id from cutoff_freezes where cutoff_date = ?
              )
            """,
            [cutoff, cutoff],
        ).fetchone()[0]
    finally:
        con.close()


def queries_overview(queries: list[dict[str, Any]], today) -> dict[str, Any]:
    """Open and resolved queries per site with the age of the oldest open one (days since it
    was first received), and the queries first seen and resolved per month received."""
    sites: dict[str, dict[str, Any]] = {}
    months: dict[str, dict[str, int]] = {}
    for query in queries:
        site = sites.setdefault(
            query["site_id"] or "unknown",
            {"open": 0, "resolved": 0, "oldest_open_since": None},
        )
        site[query["state"]] += 1
        since = query["first_seen"]["received_on"]
        if (
            query["state"] == "open"
            and since
            and (site["oldest_open_since"] is None or since < site["oldest_open_since"])
        ):
            site["oldest_open_since"] = since
        for key, seen in (("first_seen", query["first_seen"]), ("resolved", query["resolved_by"])):
            if seen is not None:
                month = (seen["received_on"] or "unknown")[:7]
                months.setdefault(month, {"first_seen": 0, "resolved": 0})[key] += 1
    for site in sites.values():
        since = site["oldest_open_since"]
        site["oldest_open_days"] = (today - date.fromisoformat(since)).days if since else None
    return {
        "today": today.isoformat(),
        "sites": [{"site_id": name, **values} for name, values in sorted(sites.items())],
        "months": [{"month": m, **counts} for m, counts in sorted(months.items())],
    }


def render_queries_html(overview: dict[str, Any]) -> str:
    """The overview as a self-contained HTML page (inline CSS, embedded font subset)."""
    from toolkit.documents import render_page

    return render_page("queries.html.j2", (), overview=overview)
