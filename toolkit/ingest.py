"""Load an accepted submission into the registry database, atomically, raw bytes archived first.

The database is one DuckDB file. Loaded tables keep every row with its submission and source
row number; nothing is deleted. Which submission of a site is used for analysis is decided by
the staging SQL (the newest accepted one), not by removing rows here.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from toolkit.errors import DatabaseBusy, ToolkitError
from toolkit.submission import Received

__all__ = [
    "IngestOutcome",
    "archive",
    "load",
    "previous_status",
    "connect",
    "archive_dir",
    "LOADED_TABLES",
]

LOADED_TABLES = ("patients", "treatments", "adverse_events", "assessments")

DDL = """
create sequence if not exists ingest_seq start 1;
create table if not exists submissions (
    submission_id varchar primary key,
    ingest_seq integer not null,
    site_id varchar,
    extracted_on date,
    contract_version varchar,
    source_name varchar not null,
    status varchar not null,
    n_errors integer not null,
    n_warnings integer not null,
    archive_path varchar not null,
    row_counts varchar not null
);
create table if not exists cutoff_freezes (
    cutoff_date date not null,
    submission_id varchar not null,
    site_id varchar not null,
    frozen_after_seq integer not null,
    primary key (cutoff_date, submission_id)
);
create table if not exists findings (
    submission_id varchar not null,
    file varchar, "row" bigint, "column" varchar, value varchar,
    rule varchar not null, severity varchar not null, message varchar not null
);
create table if not exists patients (
    submission_id varchar not null, source_row bigint not null,
    patient_id varchar not null, site_id varchar not null, sex varchar not null,
    birth_year integer not null, diagnosis_date date not null, primary_site varchar,
    m_stage varchar, ecog integer, ldh_elevated varchar, brain_metastases varchar,
    braf_status varchar, vital_status varchar not null, last_contact_date date not null,
    death_date date, cause_of_death varchar
);
create table if not exists treatments (
    submission_id varchar not null, source_row bigint not null,
    treatment_id varchar not null, patient_id varchar not null, agent varchar not null,
    agent_as_sent varchar not null, agent_class varchar not null, start_date date not null,
    end_date date, doses integer, line integer, best_response varchar
);
create table if not exists adverse_events (
    submission_id varchar not null, source_row bigint not null,
    ae_id varchar not null, patient_id varchar not null, onset_date date not null,
    term varchar not null, autoimmune varchar not null, grade integer not null,
    relatedness varchar not null, treatment_id varchar, outcome varchar
);
create table if not exists assessments (
    submission_id varchar not null, source_row bigint not null,
    patient_id varchar not null, assessment_date date not null, response varchar not null,
    method varchar
);
"""


@dataclass(frozen=True)
class IngestOutcome:
    """What an ingest did.

    ``status`` is ``loaded``, ``rejected``, or, for bytes seen before, ``already-accepted`` or
    ``already-rejected`` (nothing is written then).
    """

    submission_id: str
    status: str
    site_id: str | None
    row_counts: dict[str, int]
    n_errors: int
    n_warnings: int
    archive_path: Path

    def describe(self) -> str:
        rows = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in self.row_counts.items())
        if self.status.startswith("already-"):
            verdict = self.status.removeprefix("already-")
            return (
                f"submission {self.submission_id[:12]} was already ingested ({verdict}): "
                "nothing to do"
            )
        if self.status == "rejected":
            return (
                f"submission {self.submission_id[:12]} of site {self.site_id} rejected with "
                f"{self.n_errors} errors; findings recorded, analysis tables untouched"
            )
        return (
            f"loaded submission {self.submission_id[:12]} of site {self.site_id}: {rows} "
            f"({self.n_warnings} warnings)"
        )


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the registry database; another process holding it is a clear ``DatabaseBusy``."""
    if read_only and not db_path.exists():
        raise ToolkitError(f"no registry database at {db_path}")
    try:
        return duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseBusy(
                f"the database {db_path} is busy: another toolkit process is using it; "
                "try again when it has finished"
            ) from None
        raise ToolkitError(f"cannot open the database {db_path}: {error}") from None


def archive_dir(db_path: Path) -> Path:
    """Where raw submission bytes are kept: beside the database, one folder per SHA-256."""
    return db_path.with_name(db_path.stem + "-archive")


def archive(received: Received, db_path: Path) -> Path:
    """Write the bytes as received, once, under their SHA-256; an archive is never rewritten.

    The files are written to a temporary folder, synced, and renamed into place, so an archive
    folder exists only complete.
    """
    target = archive_dir(db_path) / received.sha256
    if target.exists():
        return target
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, data in sorted(received.blobs.items()):
        with open(staging / name, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    try:
        os.replace(staging, target)
    except OSError:  # another process archived the same bytes first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def previous_status(db_path: Path, sha256: str) -> str | None:
    """``accepted`` or ``rejected`` when these bytes were ingested before, else ``None``."""
    if not db_path.exists():
        return None
    con = connect(db_path)
    try:
        con.execute(DDL)
        row = con.execute(
            "select status from submissions where submission_id = ?", [sha256]
        ).fetchone()
    finally:
        con.close()
    return None if row is None else row[0]


def load(
    db_path: Path,
    received: Received,
    archive_path: Path,
    findings: pl.DataFrame,
    manifest: dict | None,
    tables: dict[str, pl.DataFrame] | None,
) -> IngestOutcome:
    """Record a submission and its findings; load its rows when it was accepted.

    ``tables`` is ``None`` for a rejected submission. Everything happens in one transaction:
    a failure or a killed process leaves the database as it was before.
    """
    manifest = manifest or {}
    site_id = manifest.get("site_id") if isinstance(manifest.get("site_id"), str) else None
    n_errors = int((findings["severity"] == "error").sum())
    n_warnings = int((findings["severity"] == "warning").sum())
    accepted = tables is not None
    counts = {name: tables[name].height for name in LOADED_TABLES} if accepted else {}
    con = connect(db_path)
    try:
        con.execute(DDL)
        # Rows carry source_row and every analysis query orders explicitly, so the physical
        # order of a load is free: DuckDB may then write row groups in parallel.
        con.execute("set preserve_insertion_order = false")
        con.execute("begin transaction")
        seen = con.execute(
            "select status from submissions where submission_id = ?", [received.sha256]
        ).fetchone()
        if seen is not None:
            con.execute("rollback")
            return IngestOutcome(
                received.sha256, f"already-{seen[0]}", site_id, {}, 0, 0, archive_path
            )
        con.execute(
            """
            insert into submissions
            values (?, nextval('ingest_seq'), ?, try_cast(? as date), ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                received.sha256,
                site_id,
                manifest.get("extracted_on") if accepted else None,
                str(manifest.get("contract_version")) if manifest else None,
                received.source.name,
                "accepted" if accepted else "rejected",
                n_errors,
                n_warnings,
                str(archive_path),
                json.dumps(counts, sort_keys=True),
            ],
        )
        _insert(con, "findings", findings, received.sha256)
        for name in LOADED_TABLES if accepted else ():
            _insert(con, name, tables[name], received.sha256)
        con.execute("commit")
    except duckdb.Error as error:
        if con.in_transaction:
            con.execute("rollback")
        raise ToolkitError(f"loading into {db_path} failed and was rolled back: {error}") from None
    finally:
        con.close()
    status = "loaded" if accepted else "rejected"
    return IngestOutcome(
        received.sha256, status, site_id, counts, n_errors, n_warnings, archive_path
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, sid: str) -> None:
    """Append a frame to one of the fixed tables by column name, tagged with the submission id."""
    if table not in (*LOADED_TABLES, "findings"):
        raise ValueError(f"not a registry table: {table}")
    con.register("incoming", frame.to_arrow())
    try:
        con.execute(
            f"insert into {table} by name select ? as submission_id, * from incoming", [sid]
        )
    finally:
        con.unregister("incoming")
