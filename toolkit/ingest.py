"""Load an accepted submission into the registry database, atomically, raw bytes archived first.

The database is one DuckDB file. Loaded tables keep every row with its submission and source
row number; nothing is deleted. Which submission of a site is used for analysis is decided by
the staging SQL (the newest accepted one), not by removing rows here.

Every connection the toolkit opens goes through :func:`connect`: the path must be a DuckDB file
(``DUCK`` at byte 8) or not exist yet, and the engine's configuration is locked: no file
outside the database (and its own WAL and spill folder) can be read or written, no extension
installed or loaded, and no setting changed afterwards. A new database is built under a
temporary name beside the final one and appears under its name only once its first
transaction has committed, so a failed first ingest leaves no file behind.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from toolkit import clock
from toolkit.atomic import os_error_text
from toolkit.errors import DatabaseBusy, Interrupted, ToolkitError, UsageError
from toolkit.submission import Received

__all__ = [
    "IngestOutcome",
    "archive",
    "load",
    "previous_status",
    "connect",
    "open_registry",
    "check_database_file",
    "check_ingest_target",
    "registry_tables",
    "archive_dir",
    "LOADED_TABLES",
    "REGISTRY_TABLES",
    "LOCKED_SETTINGS",
]

LOADED_TABLES = ("patients", "treatments", "adverse_events", "assessments")
REGISTRY_TABLES = ("submissions", "cutoff_freezes", "findings", *LOADED_TABLES)
"""The tables every registry database has (:data:`DDL`)."""

LOCKED_SETTINGS: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
"""Set when a connection opens; ``enable_external_access`` and the lock follow (:func:`connect`)."""

_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8

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
alter table submissions add column if not exists received_on date;
create table if not exists cutoff_freezes (
    cutoff_date date not null,
    submission_id varchar not null,
    site_id varchar not null,
    frozen_after_seq integer not null,
    primary key (cutoff_date, submission_id)
);
create table if not exists findings (
    submission_id varchar not null, query_id varchar,
    file varchar, "row" bigint, patient_id varchar, record_id varchar, "column" varchar,
    value varchar, compared varchar, rule varchar not null, severity varchar not null,
    message varchar not null
);
alter table findings add column if not exists query_id varchar;
alter table findings add column if not exists patient_id varchar;
alter table findings add column if not exists record_id varchar;
alter table findings add column if not exists compared varchar;
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
    ``already-rejected`` (nothing is written then). ``info`` and ``findings`` (the steward's
    report material, :mod:`toolkit.validation_report`) are there when the bytes were checked.
    ``newer_extract`` is ``(submission_id, extracted_on)`` of the site's accepted extract with
    a later ``extracted_on``, which stays in force, when a loaded one is older than it.
    """

    submission_id: str
    status: str
    site_id: str | None
    row_counts: dict[str, int]
    n_errors: int
    n_warnings: int
    archive_path: Path
    info: Any = field(default=None, repr=False, compare=False)
    findings: Any = field(default=None, repr=False, compare=False)
    newer_extract: tuple[str, str] | None = None

    def describe(self) -> str:
        """One line: what happened to the submission."""
        sid = self.submission_id[:12]
        if self.status.startswith("already-"):
            verdict = self.status.removeprefix("already-")
            return f"submission {sid} was already ingested ({verdict}): nothing to do"
        site = f"site {self.site_id}" if self.site_id else "an unknown site"
        if self.status == "rejected":
            return (
                f"submission {sid} of {site} rejected with {_count(self.n_errors, 'error')}; "
                "findings recorded, analysis tables untouched"
            )
        rows = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in self.row_counts.items())
        line = f"loaded submission {sid} of {site}: {rows} ({_count(self.n_warnings, 'warning')})"
        if self.newer_extract is None:
            return line
        newer, extracted_on = self.newer_extract
        return (
            f"{line}; not in force: the site's extract {newer[:12]} of {extracted_on} is later "
            "and stays in force (a site's newest extract is the one analysed)"
        )


def _count(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``1,234 patients``."""
    return f"{n:,} {noun if n == 1 else noun + 's'}"


# --- the database file and its connections -----------------------------------------------------


def check_database_file(db_path: Path) -> bool:
    """Whether ``db_path`` is an existing DuckDB file; ``False`` when nothing is there yet.

    Raises
    ------
    UsageError
        When the path is a folder, an empty file, or a file that is not a DuckDB database
        (DuckDB files carry ``DUCK`` at byte 8), or when its folder does not exist.
    """
    if db_path.is_dir():
        raise UsageError(f"--db {db_path} is a folder, not a DuckDB database file")
    if not db_path.exists():
        if db_path.is_symlink():
            raise UsageError(f"--db {db_path} is a broken symbolic link")
        if not db_path.absolute().parent.is_dir():
            raise UsageError(f"--db {db_path}: the folder {db_path.parent} does not exist")
        return False
    try:
        with open(db_path, "rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError as error:
        raise ToolkitError(f"cannot read --db {db_path}: {os_error_text(error)}") from None
    if not head:
        raise UsageError(f"--db {db_path} is an empty file, not a DuckDB database")
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise UsageError(
            f"--db {db_path} is not a DuckDB database (no DuckDB header); "
            "give the registry's .duckdb file"
        )
    return True


def connect(
    db_path: Path,
    *,
    read_only: bool = False,
    allowed: Iterable[Path] = (),
    settings: Mapping[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with its configuration locked.

    Parameters
    ----------
    db_path : pathlib.Path
        The database file; it must be a DuckDB file, or (unless ``read_only``) not exist yet.
    read_only : bool
        Open for reading only (several processes may then read at once).
    allowed : iterable of pathlib.Path
        Folders SQL may read or write besides the database (none: the toolkit moves data in
        and out through Arrow, never through DuckDB's file functions).
    settings : mapping, optional
        Further settings fixed for the connection's life (e.g. ``preserve_insertion_order``).

    Raises
    ------
    UsageError
        When the path is not a DuckDB database (:func:`check_database_file`).
    DatabaseBusy
        When another process holds the database.
    ToolkitError
        When DuckDB cannot open the file (damaged, unreadable).
    """
    exists = check_database_file(db_path)
    if read_only and not exists:
        raise UsageError(f"no registry database at {db_path}")
    config = {**LOCKED_SETTINGS, **(settings or {})}
    try:
        con = duckdb.connect(str(db_path), read_only=read_only, config=config)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseBusy(
                f"the database {db_path} is busy: another toolkit process is using it; "
                "try again when it has finished"
            ) from None
        raise ToolkitError(f"cannot open the database {db_path}: {_first_line(error)}") from None
    except duckdb.Error as error:
        raise ToolkitError(f"cannot open the database {db_path}: {_first_line(error)}") from None
    try:
        _lock_configuration(con, allowed)
    except BaseException as error:
        con.close()
        if is_interrupt(error):  # Ctrl-C while the settings were applied
            raise KeyboardInterrupt from None
        raise
    return con


def is_interrupt(error: BaseException) -> bool:
    """Ctrl-C as DuckDB reports it: ``InterruptException``, or "Query interrupted"."""
    if isinstance(error, KeyboardInterrupt | duckdb.InterruptException):
        return True
    return isinstance(error, RuntimeError) and "interrupted" in str(error).lower()


def _lock_configuration(con: duckdb.DuckDBPyConnection, allowed: Iterable[Path]) -> None:
    """No file access outside ``allowed`` (and the database), then no setting may change.

    DuckDB shares one database instance among a process's connections to the same file, so a
    later connection may find the instance locked already, with external access off.
    """
    if con.execute("select current_setting('lock_configuration')").fetchone()[0]:
        if con.execute("select current_setting('enable_external_access')").fetchone()[0]:
            raise ToolkitError("the database connection is locked with external access on")
        return
    folders = [str(Path(folder).resolve()) + os.sep for folder in allowed]
    if folders:
        con.execute("set allowed_directories = ?", [folders])
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def registry_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views of the database's main schema (temporary ones excluded)."""
    rows = con.execute(
        """
        select table_name from duckdb_tables() where not temporary and schema_name = 'main'
        union all
        select view_name from duckdb_views()
        where not temporary and not internal and schema_name = 'main'
        """
    ).fetchall()
    return {row[0] for row in rows}


def open_registry(db_path: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """:func:`connect` to a registry: a DuckDB file holding every table of :data:`DDL`.

    Raises
    ------
    UsageError
        When the file is missing, not a DuckDB database, or a DuckDB database that is not a
        registry (it lacks the ``submissions`` table or another registry table).
    """
    con = connect(db_path, read_only=read_only)
    try:
        missing = [name for name in REGISTRY_TABLES if name not in registry_tables(con)]
    except BaseException:
        con.close()
        raise
    if missing:
        con.close()
        if "submissions" in missing:
            raise UsageError(
                f"--db {db_path} is a DuckDB database but not a registry "
                "(no submissions table); give the file that toolkit ingest created"
            )
        raise UsageError(f"--db {db_path} is a registry without its tables {', '.join(missing)}")
    return con


def check_ingest_target(db_path: Path) -> bool:
    """Refuse a ``--db`` that ingest must not write; ``True`` when the database exists.

    A missing file is fine (it is created), as is a DuckDB file with no table at all (it
    becomes a registry); a DuckDB file with other tables, or anything else, is refused.
    """
    if not check_database_file(db_path):
        return False
    con = connect(db_path, read_only=True)
    try:
        tables = registry_tables(con)
    finally:
        con.close()
    if tables and "submissions" not in tables:
        raise UsageError(
            f"--db {db_path} is a DuckDB database but not a registry "
            f"(it holds {', '.join(sorted(tables)[:5])} and no submissions table); "
            "give the registry's file or a new path"
        )
    return True


# --- the raw-bytes archive ---------------------------------------------------------------------


def archive_dir(db_path: Path) -> Path:
    """Where raw submission bytes are kept: beside the database, one folder per SHA-256."""
    return db_path.with_name(db_path.stem + "-archive")


def archive(received: Received, db_path: Path) -> Path:
    """Write the bytes as received, once, under their SHA-256; an archive is never rewritten.

    The files are written to a temporary folder, synced, and renamed into place, so an archive
    folder exists only complete; on a failure (a full disk, Ctrl-C) the temporary folder is
    removed.

    Raises
    ------
    ToolkitError
        When the archive cannot be written (read-only file system, no space left).
    """
    target = archive_dir(db_path) / received.sha256
    if target.exists():
        return target
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, data in sorted(received.blobs.items()):
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            # another process archived the same bytes first
    except OSError as error:
        raise ToolkitError(
            f"cannot archive the submission into {target.parent}: {os_error_text(error)}; "
            "nothing was ingested"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --- loading -----------------------------------------------------------------------------------


def previous_status(db_path: Path, sha256: str) -> str | None:
    """``accepted`` or ``rejected`` when these bytes were ingested before, else ``None``."""
    if not check_database_file(db_path):
        return None
    con = connect(db_path, read_only=True)
    try:
        if "submissions" not in registry_tables(con):
            return None
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
    a failure, Ctrl-C or a killed process leaves the database as it was before. A database
    that does not exist yet is built under a temporary name and appears only when complete.
    """
    batch = _Batch(received, archive_path, findings, manifest or {}, tables)
    if check_ingest_target(db_path):
        return _load_into(db_path, db_path, batch)
    return _create_and_load(db_path, batch)


@dataclass(frozen=True)
class _Batch:
    """What one load writes."""

    received: Received
    archive_path: Path
    findings: pl.DataFrame
    manifest: dict
    tables: dict[str, pl.DataFrame] | None

    @property
    def site_id(self) -> str | None:
        site = self.manifest.get("site_id")
        return site if isinstance(site, str) and site else None

    def outcome(self, status: str, newer: tuple[str, str] | None = None) -> IngestOutcome:
        accepted = self.tables is not None
        counts = {n: self.tables[n].height for n in LOADED_TABLES} if accepted else {}
        severity = self.findings["severity"]
        return IngestOutcome(
            self.received.sha256,
            status,
            self.site_id,
            counts if status in ("loaded", "rejected") else {},
            int((severity == "error").sum()) if status in ("loaded", "rejected") else 0,
            int((severity == "warning").sum()) if status in ("loaded", "rejected") else 0,
            self.archive_path,
            newer_extract=newer,
        )


def _create_and_load(db_path: Path, batch: _Batch) -> IngestOutcome:
    """Build a new database under a temporary name; link it into place once committed.

    ``os.link`` never replaces a file: when another process created the database meanwhile,
    the load goes into that one instead.
    """
    building = db_path.with_name(f".{db_path.name}.new-{os.getpid()}")
    leftovers = (building, building.with_name(building.name + ".wal"))
    try:
        _remove(leftovers)
        outcome = _load_into(building, db_path, batch)
        if leftovers[1].exists():  # close checkpoints; a WAL left means it could not
            raise ToolkitError(f"creating the database {db_path} failed: it could not be synced")
        try:
            os.link(building, db_path)
        except FileExistsError:
            return _load_into(db_path, db_path, batch)
        except OSError as error:
            raise ToolkitError(
                f"creating the database {db_path} failed: {os_error_text(error)}"
            ) from None
        return outcome
    finally:
        _remove(leftovers)
        shutil.rmtree(building.with_name(building.name + ".tmp"), ignore_errors=True)


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink(missing_ok=True)


def _load_into(path: Path, db_path: Path, batch: _Batch) -> IngestOutcome:
    """The load transaction on the file ``path`` (``db_path`` is the name the user gave)."""
    # Rows carry source_row and every analysis query orders explicitly, so the physical
    # order of a load is free: DuckDB may then write row groups in parallel.
    try:
        con = connect(path, settings={"preserve_insertion_order": False})
    except KeyboardInterrupt:
        raise _rolled_back(db_path) from None
    try:
        con.execute(DDL)
        con.execute("begin transaction")
        seen = con.execute(
            "select status from submissions where submission_id = ?", [batch.received.sha256]
        ).fetchone()
        if seen is not None:
            con.execute("rollback")
            return batch.outcome(f"already-{seen[0]}")
        _write_batch(con, batch)
        newer = _newer_extract(con, batch)
        con.execute("commit")
    except (duckdb.InterruptException, KeyboardInterrupt, RuntimeError) as error:
        _rollback(con)
        if not is_interrupt(error):
            raise
        raise _rolled_back(db_path) from None
    except duckdb.Error as error:
        _rollback(con)
        raise ToolkitError(
            f"loading into {db_path} failed and was rolled back: {_first_line(error)}"
        ) from None
    finally:
        # DuckDB checkpoints here; when it cannot (a full disk) it keeps the committed WAL
        con.close()
    return batch.outcome("loaded" if batch.tables is not None else "rejected", newer)


def _newer_extract(con: duckdb.DuckDBPyConnection, batch: _Batch) -> tuple[str, str] | None:
    """The site's accepted extract dated later than this accepted one, if any."""
    if batch.tables is None:
        return None
    row = con.execute(
        """
        select submission_id, cast(extracted_on as varchar)
        from submissions
        where status = 'accepted' and site_id = ? and submission_id <> ?
          and extracted_on > try_cast(? as date)
        order by extracted_on desc, ingest_seq desc
        limit 1
        """,
        [batch.site_id, batch.received.sha256, batch.manifest.get("extracted_on")],
    ).fetchone()
    return None if row is None else (row[0], row[1])


def _rolled_back(db_path: Path) -> Interrupted:
    return Interrupted(f"interrupted: the load into {db_path} was rolled back; nothing was loaded")


def _write_batch(con: duckdb.DuckDBPyConnection, batch: _Batch) -> None:
    """The submission's row, its findings and (when accepted) its tables."""
    accepted = batch.tables is not None
    counts = batch.outcome("loaded").row_counts
    manifest = batch.manifest
    con.execute(
        """
        insert into submissions (
            submission_id, ingest_seq, site_id, extracted_on, contract_version, source_name,
            status, n_errors, n_warnings, archive_path, row_counts, received_on
        )
        values (?, nextval('ingest_seq'), ?, try_cast(? as date), ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            batch.received.sha256,
            batch.site_id,
            manifest.get("extracted_on") if accepted else None,
            str(manifest.get("contract_version")) if manifest else None,
            batch.received.source.name,
            "accepted" if accepted else "rejected",
            int((batch.findings["severity"] == "error").sum()),
            int((batch.findings["severity"] == "warning").sum()),
            str(batch.archive_path),
            json.dumps(counts, sort_keys=True),
            clock.today(),
        ],
    )
    _insert(con, "findings", batch.findings, batch.received.sha256)
    for name in LOADED_TABLES if accepted else ():
        _insert(con, name, batch.tables[name], batch.received.sha256)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is open; a connection DuckDB invalidated rolls back itself."""
    with suppress(duckdb.Error):
        con.execute("rollback")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, sid: str) -> None:
    """Append a frame to one of the fixed tables by column name, tagged with the submission id."""
    if table not in (*LOADED_TABLES, "findings"):
        raise ValueError(f"not a registry table: {table}")
    con.register("incoming", frame.to_arrow())
    try:
        con.execute(
            f"insert into {table} by name select ? as submission_id, * from incoming", [sid]
        )
    except BaseException:
        # An interrupted insert aborts the transaction; unregistering then fails and would
        # hide the interrupt, which the caller reports as such.
        with suppress(duckdb.Error):
            con.unregister("incoming")
        raise
    con.unregister("incoming")
