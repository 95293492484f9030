"""Load an accepted submission into the registry database, atomically, raw bytes archived first.

The database is one DuckDB file. Loaded tables keep every row with its submission and source
row number; nothing is deleted. Which submission of a site is used for analysis is decided by
the staging SQL (the newest accepted one), not by removing rows here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from toolkit.errors import DatabaseBusy, ToolkitError
from toolkit.submission import Submission
from toolkit.validate import ValidationResult

__all__ = ["IngestOutcome", "ingest", "connect", "archive_dir", "LOADED_TABLES"]

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


def _archive(submission: Submission, db_path: Path) -> Path:
    """Write the raw bytes once under their SHA-256; an existing archive is never rewritten."""
    target = archive_dir(db_path) / submission.sha256
    if target.exists():
        return target
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    staging.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(submission.files.items()):
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(staging, target)
    return target


def ingest(submission: Submission, result: ValidationResult, db_path: Path) -> IngestOutcome:
    """Archive, then record the submission; load its rows only when it was accepted.

    Everything written to the database happens in one transaction.
    """
    archive = _archive(submission, db_path)
    manifest = submission.manifest or {}
    severity = result.findings["severity"]
    n_errors = int((severity == "error").sum())
    n_warnings = int((severity == "warning").sum())
    con = connect(db_path)
    try:
        con.execute(DDL)
        seen = con.execute(
            "select status from submissions where submission_id = ?", [submission.sha256]
        ).fetchone()
        if seen is not None:
            return IngestOutcome(
                submission.sha256,
                f"already-{seen[0]}",
                manifest.get("site_id"),
                {},
                n_errors,
                n_warnings,
                archive,
            )
        counts = (
            {name: result.tables[name].height for name in LOADED_TABLES} if result.accepted else {}
        )
        status = "accepted" if result.accepted else "rejected"
        con.execute("begin transaction")
        con.execute(
            """
            insert into submissions
            values (?, nextval('ingest_seq'), ?, ?::date, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                submission.sha256,
                manifest.get("site_id"),
                manifest.get("extracted_on") if result.accepted else None,
                manifest.get("contract_version"),
                submission.source.name,
                status,
                n_errors,
                n_warnings,
                str(archive),
                json.dumps(counts, sort_keys=True),
            ],
        )
        _insert(con, "findings", result.findings, submission.sha256)
        if result.accepted:
            for name in LOADED_TABLES:
                _insert(con, name, result.tables[name], submission.sha256)
        con.execute("commit")
    except duckdb.Error as error:
        con.execute("rollback") if con.in_transaction else None
        raise ToolkitError(f"loading into {db_path} failed and was rolled back: {error}") from None
    finally:
        con.close()
    return IngestOutcome(
        submission.sha256,
        "loaded" if result.accepted else "rejected",
        manifest.get("site_id"),
        counts,
        n_errors,
        n_warnings,
        archive,
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
