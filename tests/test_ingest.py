"""Ingest guarantees, each with a test that fails if the guarantee breaks.

Real DuckDB files, real second processes, real kills.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from small_submission import write_submission

from toolkit.ingest import archive_dir
from toolkit.pipeline import ingest_submission
from toolkit.synth import synthesise

TABLES = ("patients", "treatments", "adverse_events", "assessments")


def _query(db: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _toolkit(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, **kwargs
    )


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    """The small clean submission of site S01 (two patients, tests/small_submission.py)."""
    return write_submission(tmp_path / "S01")


def test_accepted_submission_is_loaded_with_source_rows(site: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    outcome = ingest_submission(site, db)
    assert (outcome.status, outcome.site_id) == ("loaded", "S01")
    assert outcome.row_counts == {
        "patients": 2,
        "treatments": 3,
        "adverse_events": 2,
        "assessments": 2,
    }
    assert (outcome.n_errors, outcome.n_warnings) == (0, 0)
    rows = _query(db, "select source_row, patient_id, birth_year from patients order by 1")
    assert rows == [(2, "00123", 1950), (3, "P-2", 1961)]  # row 1 is the header
    treatments = _query(
        db, "select source_row, treatment_id, agent, agent_as_sent from treatments order by 1"
    )
    assert treatments == [
        (2, "T1", "aldesleukin", "Proleukin"),
        (3, "T2", "pembrolizumab", "Keytruda"),
        (4, "T3", "aldesleukin", "aldesleukin"),
    ]
    recorded = _query(
        db,
        "select submission_id, ingest_seq, site_id, cast(extracted_on as varchar), "
        "contract_version, source_name, status, n_errors, n_warnings, row_counts "
        "from submissions",
    )
    assert recorded == [
        (
            outcome.submission_id,
            1,
            "S01",
            "2015-03-14",
            "1",
            "S01",
            "accepted",
            0,
            0,
            '{"adverse_events": 2, "assessments": 2, "patients": 2, "treatments": 3}',
        )
    ]
    assert _query(db, "select count(*) from findings") == [(0,)]
    assert outcome.describe() == (
        f"loaded submission {outcome.submission_id[:12]} of site S01: 2 patients, "
        "3 treatments, 2 adverse events, 2 assessments (0 warnings)"
    )


def test_warnings_are_counted_and_recorded_with_the_rows(tmp_path: Path) -> None:
    changes = [("treatments.csv", 2, "doses", "45")]
    site = write_submission(tmp_path / "S01", changes)
    db = tmp_path / "registry.duckdb"
    outcome = ingest_submission(site, db)
    assert (outcome.status, outcome.n_errors, outcome.n_warnings) == ("loaded", 0, 1)
    assert outcome.describe().endswith("(1 warning)")
    assert _query(db, "select n_errors, n_warnings from submissions") == [(0, 1)]
    assert _query(db, "select file, row, rule, severity from findings") == [
        ("treatments.csv", 2, "TRT-DOSES-HIGH", "warning")
    ]
    assert _query(db, "select count(*) from treatments") == [(3,)]


def test_a_rejected_submission_is_counted_and_described(tmp_path: Path) -> None:
    changes = [
        ("patients.csv", 2, "sex", "X"),
        ("patients.csv", 3, "sex", "Y"),
        ("treatments.csv", 2, "doses", "45"),
    ]
    db = tmp_path / "registry.duckdb"
    outcome = ingest_submission(write_submission(tmp_path / "S01", changes), db)
    assert (outcome.status, outcome.n_errors, outcome.n_warnings) == ("rejected", 2, 1)
    assert outcome.row_counts == {}
    assert outcome.describe() == (
        f"submission {outcome.submission_id[:12]} of site S01 rejected with 2 errors; "
        "findings recorded, analysis tables untouched"
    )
    recorded = _query(
        db, "select status, extracted_on, n_errors, n_warnings, row_counts from submissions"
    )
    assert recorded == [("rejected", None, 2, 1, "{}")]
    assert _query(db, "select count(*) from patients") == [(0,)]
    again = ingest_submission(write_submission(tmp_path / "S01", changes), db)
    assert again.status == "already-rejected"
    assert (again.n_errors, again.n_warnings, again.row_counts) == (0, 0, {})
    assert again.describe() == (
        f"submission {outcome.submission_id[:12]} was already ingested (rejected): nothing to do"
    )


def test_one_error_is_said_in_the_singular(tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    site = write_submission(tmp_path / "S01", [("patients.csv", 2, "sex", "X")])
    assert "rejected with 1 error;" in ingest_submission(site, db).describe()


def test_raw_bytes_are_archived_under_their_sha256_and_never_rewritten(
    site: Path, tmp_path: Path
) -> None:
    db = tmp_path / "registry.duckdb"
    first = ingest_submission(site, db)
    stored = archive_dir(db) / first.submission_id
    for name in ("manifest.json", "patients.csv", "treatments.csv"):
        assert (stored / name).read_bytes() == (site / name).read_bytes()
    stamp = (stored / "patients.csv").stat().st_mtime_ns
    again = ingest_submission(site, db)
    assert again.status == "already-accepted"
    assert "already ingested" in again.describe()
    assert (stored / "patients.csv").stat().st_mtime_ns == stamp
    assert _query(db, "select count(*) from submissions") == [(1,)]
    counts = _query(db, "select count(*) from patients")
    assert counts[0][0] == len((site / "patients.csv").read_text().splitlines()) - 1


def test_unreadable_zip_is_archived_and_recorded_as_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "S09.zip"
    bogus.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    db = tmp_path / "registry.duckdb"
    outcome = ingest_submission(bogus, db)
    assert outcome.status == "rejected"
    assert (archive_dir(db) / outcome.submission_id / "S09.zip").read_bytes() == bogus.read_bytes()
    rules = _query(db, "select rule from findings where submission_id = ?", [outcome.submission_id])
    assert rules == [("SUBMISSION-UNREADABLE",)]
    assert _query(
        db, "select site_id, extracted_on, contract_version, status from submissions"
    ) == [(None, None, None, "rejected")]
    assert outcome.describe() == (
        f"submission {outcome.submission_id[:12]} of an unknown site rejected with 1 error; "
        "findings recorded, analysis tables untouched"
    )


def test_rejected_submission_leaves_analysis_tables_untouched(site: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    ingest_submission(site, db)
    before = {t: _query(db, f"select count(*) from {t}")[0][0] for t in TABLES}
    bad = Path(shutil.copytree(site, tmp_path / "bad"))
    text = (bad / "patients.csv").read_text(encoding="utf-8").replace(",M,", ",male,", 1)
    (bad / "patients.csv").write_text(text, encoding="utf-8")
    outcome = ingest_submission(bad, db)
    assert outcome.status == "rejected"
    assert {t: _query(db, f"select count(*) from {t}")[0][0] for t in TABLES} == before
    recorded = _query(
        db, "select rule, row from findings where submission_id = ?", [outcome.submission_id]
    )
    assert recorded == [("PAT-SEX-CODE", 3)]  # P-2's row, the first with sex M
    status = _query(
        db, "select status from submissions where submission_id = ?", [outcome.submission_id]
    )
    assert status == [("rejected",)]


def test_newer_extract_supersedes_the_older_without_deleting_it(site: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    old = ingest_submission(site, db)
    newer = Path(shutil.copytree(site, tmp_path / "newer"))
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["extracted_on"] = "2015-06-30"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    lines = (newer / "patients.csv").read_text().splitlines()
    (newer / "patients.csv").write_text("\n".join(lines[:-1]) + "\n")  # one patient fewer
    removed = lines[-1].split(",")[0]
    _strip_patient(newer, removed)
    new = ingest_submission(newer, db)
    assert new.status == "loaded"
    in_force = _query(
        db,
        "select submission_id from (select * from submissions where status = 'accepted') "
        "qualify row_number() over (partition by site_id order by extracted_on desc) = 1",
    )
    assert in_force == [(new.submission_id,)]
    both = dict(_query(db, "select submission_id, count(*) from patients group by all"))
    assert both[old.submission_id] == both[new.submission_id] + 1


def test_an_older_extract_sent_after_a_newer_one_is_kept_and_said_not_in_force(
    site: Path, tmp_path: Path
) -> None:
    db = tmp_path / "registry.duckdb"
    newer = Path(shutil.copytree(site, tmp_path / "newer"))
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["extracted_on"] = "2015-06-30"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    first = ingest_submission(newer, db)
    assert first.newer_extract is None
    late = ingest_submission(site, db)
    assert late.status == "loaded"
    assert late.newer_extract == (first.submission_id, "2015-06-30")
    assert late.describe().endswith(
        f"; not in force: the site's extract {first.submission_id[:12]} of 2015-06-30 is later "
        "and stays in force (a site's newest extract is the one analysed)"
    )
    same_day = Path(shutil.copytree(newer, tmp_path / "same-day"))
    (same_day / "assessments.csv").write_text(
        (newer / "assessments.csv").read_text().splitlines()[0] + "\n"
    )
    assert ingest_submission(same_day, db).newer_extract is None  # same date: the later one wins


def _strip_patient(folder: Path, patient_id: str) -> None:
    for name in ("treatments.csv", "adverse_events.csv", "assessments.csv"):
        lines = (folder / name).read_text().splitlines()
        column = lines[0].split(",").index("patient_id")
        kept = [lines[0]] + [r for r in lines[1:] if r.split(",")[column] != patient_id]
        (folder / name).write_text("\n".join(kept) + "\n")


def test_second_writer_gets_a_clear_busy_error(site: Path, tmp_path: Path) -> None:
    from toolkit.errors import DatabaseBusy
    from toolkit.ingest import connect

    db = tmp_path / "registry.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            "time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        done = _toolkit("ingest", str(site), "--db", str(db))
        with pytest.raises(DatabaseBusy) as caught:
            connect(db)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert "busy" in done.stderr and "Traceback" not in done.stderr
    assert str(caught.value) == (
        f"the database {db} is busy: another toolkit process is using it; "
        "try again when it has finished"
    )
    assert ingest_submission(site, db).status == "loaded"  # and the file is fine afterwards


def test_killed_ingest_leaves_the_database_before_or_after(tmp_path: Path) -> None:
    """Kill real ingest processes at several moments; each time the database is consistent."""
    synthesise(tmp_path / "big", patients=60000, sites=1)
    submission = tmp_path / "big" / "S01"
    db = tmp_path / "registry.duckdb"
    start = time.monotonic()
    assert (
        _toolkit("ingest", str(submission), "--db", str(tmp_path / "timing.duckdb")).returncode == 0
    )
    full = time.monotonic() - start
    outcomes = set()
    for fraction in (0.3, 0.5, 0.7, 0.85, 0.95):
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "toolkit", "ingest", str(submission), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(full * fraction)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        outcomes.add(_consistent_state(db, _csv_rows(submission)))
    print("kill outcomes", sorted(outcomes), "full ingest", round(full, 2), "s")
    assert outcomes <= {"empty", "loaded"}
    assert "empty" in outcomes, "no kill landed before the commit: the test tested nothing"
    assert _consistent_state(tmp_path / "timing.duckdb", _csv_rows(submission)) == "loaded"


def _csv_rows(submission: Path) -> dict[str, int]:
    """Data rows per file, counted from the CSV text (no field of these files spans lines)."""
    return {
        table: len((submission / f"{table}.csv").read_text(encoding="utf-8").splitlines()) - 1
        for table in TABLES
    }


def _consistent_state(db: Path, expected_rows: dict[str, int]) -> str:
    """``empty`` (nothing recorded) or ``loaded`` (every row of the submission, as counted in its
    files); else fail."""
    if not db.exists():
        return "empty"
    con = duckdb.connect(str(db))
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "submissions" not in tables:
            return "empty"
        recorded = con.execute("select submission_id, row_counts from submissions").fetchall()
        if not recorded:
            assert all(con.execute(f"select count(*) from {t}").fetchone()[0] == 0 for t in TABLES)
            return "empty"
        ((sid, counts),) = recorded
        assert json.loads(counts) == expected_rows
        for table, expected in expected_rows.items():
            got = con.execute(
                f"select count(*) from {table} where submission_id = ?", [sid]
            ).fetchone()[0]
            assert got == expected, (table, got, expected)
        return "loaded"
    finally:
        con.close()


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("Query interrupted")])
def test_ctrl_c_while_a_connection_is_configured_is_an_interrupt_and_loads_nothing(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    # Ctrl-C can land on any statement; DuckDB then raises RuntimeError("Query interrupted").
    import toolkit.ingest as ingest
    from toolkit.errors import Interrupted

    def interrupted(con, allowed) -> None:
        raise error

    monkeypatch.setattr(ingest, "_lock_configuration", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest.connect(tmp_path / "other.duckdb")
    db = tmp_path / "registry.duckdb"
    with _ctrl_c_does_not_escape(), pytest.raises(Interrupted) as caught:
        ingest_submission(site, db)
    assert str(caught.value) == (
        f"interrupted: the load into {db} was rolled back; nothing was loaded"
    )
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


def test_reading_a_missing_registry_is_a_usage_error_and_creates_nothing(tmp_path: Path) -> None:
    import toolkit.ingest as ingest
    from toolkit.errors import UsageError

    db = tmp_path / "absent.duckdb"
    with pytest.raises(UsageError, match=f"no registry database at {db}"):
        ingest.connect(db, read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_load_rolls_back_everything_it_wrote(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest
    from toolkit.errors import ToolkitError

    db = tmp_path / "registry.duckdb"
    first = ingest_submission(site, db)
    assert first.status == "loaded"
    newer = Path(shutil.copytree(site, tmp_path / "newer"))
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["extracted_on"] = "2015-06-30"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    real_insert = ingest._insert

    def insert_then_fail(con, table, frame, sid) -> None:
        real_insert(con, table, frame, sid)
        if table == "treatments":  # after the submission row, findings and patients
            con.execute("select * from no_such_table")

    monkeypatch.setattr(ingest, "_insert", insert_then_fail)
    with pytest.raises(ToolkitError, match="failed and was rolled back"):
        ingest_submission(newer, db)
    assert _query(db, "select count(*) from submissions") == [(1,)]
    assert _query(db, "select distinct submission_id from patients") == [(first.submission_id,)]


# --- the database file, its connections and the archive, one rule each -------------------------


def _duckdb_file(path: Path, *statements: str) -> Path:
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()
    return path


NOT_DUCKDB = (
    "--db {p} is not a DuckDB database (no DuckDB header); give the registry's .duckdb file"
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "--db {p} is a folder, not a DuckDB database file"),
        (lambda p: p.write_bytes(b""), "--db {p} is an empty file, not a DuckDB database"),
        (
            lambda p: p.write_bytes(b"12345678DUCX and more"),
            NOT_DUCKDB,
        ),
        (
            lambda p: p.write_bytes(b"1234567DUCK"),
            NOT_DUCKDB,
        ),
        (lambda p: p.symlink_to(p.with_name("gone")), "--db {p} is a broken symbolic link"),
    ],
    ids=["folder", "empty", "other-magic", "magic-one-byte-early", "broken-link"],
)
def test_what_is_not_a_database_file_is_refused_by_name(tmp_path: Path, make, message) -> None:
    from toolkit.errors import UsageError
    from toolkit.ingest import check_database_file

    path = tmp_path / "r.duckdb"
    make(path)
    with pytest.raises(UsageError) as caught:
        check_database_file(path)
    assert str(caught.value) == message.format(p=path)


def test_a_database_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    from toolkit.errors import UsageError
    from toolkit.ingest import check_database_file

    assert check_database_file(_duckdb_file(tmp_path / "r.duckdb")) is True
    assert (tmp_path / "r.duckdb").read_bytes()[8:12] == b"DUCK"  # what the check relies on
    assert check_database_file(tmp_path / "new.duckdb") is False
    missing = tmp_path / "no-such-folder" / "r.duckdb"
    with pytest.raises(UsageError) as caught:
        check_database_file(missing)
    assert str(caught.value) == f"--db {missing}: the folder {missing.parent} does not exist"


def test_an_unreadable_database_file_is_a_clear_error() -> None:
    from toolkit.errors import ToolkitError, UsageError
    from toolkit.ingest import check_database_file

    # /proc/self/mem exists and opens, but reading its first bytes fails (even for root).
    with pytest.raises(ToolkitError) as caught:
        check_database_file(Path("/proc/self/mem"))
    assert not isinstance(caught.value, UsageError)
    assert str(caught.value) == "cannot read --db /proc/self/mem: input/output error"


def test_a_connection_reads_no_file_and_changes_no_setting(tmp_path: Path) -> None:
    from toolkit.ingest import connect

    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    con = connect(tmp_path / "r.duckdb", settings={"preserve_insertion_order": False})
    try:
        settings = dict(
            con.execute(
                "select name, value from duckdb_settings() where name in ('lock_configuration',"
                " 'enable_external_access', 'autoload_known_extensions',"
                " 'autoinstall_known_extensions', 'preserve_insertion_order')"
            ).fetchall()
        )
        assert settings == {
            "lock_configuration": "true",
            "enable_external_access": "false",
            "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false",
            "preserve_insertion_order": "false",
        }
        with pytest.raises(duckdb.Error, match="disabled"):
            con.execute("select * from read_csv(?)", [str(outside)])
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set enable_external_access = true")
    finally:
        con.close()


def test_allowed_folders_are_the_only_ones_readable(tmp_path: Path) -> None:
    from toolkit.ingest import connect

    inside, outside = tmp_path / "in", tmp_path / "out"
    for folder in (inside, outside):
        folder.mkdir()
        (folder / "x.csv").write_text("a\n1\n")
    con = connect(tmp_path / "r.duckdb", allowed=[inside])
    try:
        assert con.execute("select a from read_csv(?)", [str(inside / "x.csv")]).fetchall() == [
            (1,)
        ]
        with pytest.raises(duckdb.Error):
            con.execute("select a from read_csv(?)", [str(outside / "x.csv")])
    finally:
        con.close()


def test_a_second_connection_in_the_process_finds_the_lock_in_place(tmp_path: Path) -> None:
    from toolkit.ingest import connect

    db = _duckdb_file(tmp_path / "r.duckdb")
    first = connect(db, read_only=True)
    try:
        second = connect(db, read_only=True)
        assert second.execute("select current_setting('enable_external_access')").fetchone() == (
            False,
        )
        second.close()
    finally:
        first.close()


def test_a_damaged_database_is_a_clear_error(tmp_path: Path) -> None:
    from toolkit.errors import ToolkitError, UsageError
    from toolkit.ingest import connect

    db = tmp_path / "r.duckdb"
    db.write_bytes(b"\0" * 8 + b"DUCK" + b"\xff" * 5000)
    with pytest.raises(ToolkitError) as caught:
        connect(db, read_only=True)
    assert not isinstance(caught.value, UsageError)
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the database {db}: Corrupt database file: computed checksum "
    )
    assert "\n" not in message and "Traceback" not in message


def test_interrupts_are_recognised_as_duckdb_reports_them() -> None:
    from toolkit.ingest import is_interrupt

    assert is_interrupt(KeyboardInterrupt())
    assert is_interrupt(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
    assert is_interrupt(RuntimeError("Query interrupted"))
    assert not is_interrupt(RuntimeError("out of memory"))
    assert not is_interrupt(ValueError("interrupted"))


@pytest.mark.parametrize("read_only", [True, False])
def test_a_duckdb_file_that_is_not_a_registry_is_refused(tmp_path: Path, read_only: bool) -> None:
    from toolkit.errors import UsageError
    from toolkit.ingest import check_ingest_target, open_registry

    other = _duckdb_file(
        tmp_path / "other.duckdb", *(f"create table {name} (x int)" for name in "fedcba")
    )
    with pytest.raises(UsageError) as caught:
        open_registry(other, read_only=read_only)
    assert str(caught.value) == (
        f"--db {other} is a DuckDB database but not a registry (no submissions table); "
        "give the file that toolkit ingest created"
    )
    with pytest.raises(UsageError) as caught:
        check_ingest_target(other)
    assert str(caught.value) == (
        f"--db {other} is a DuckDB database but not a registry (it holds a, b, c, d, e and no "
        "submissions table); give the registry's file or a new path"
    )


def test_a_registry_missing_a_table_says_which(tmp_path: Path) -> None:
    from toolkit.errors import UsageError
    from toolkit.ingest import DDL, open_registry

    db = _duckdb_file(tmp_path / "r.duckdb", DDL, "drop table findings", "drop table assessments")
    with pytest.raises(UsageError) as caught:
        open_registry(db)
    assert str(caught.value) == f"--db {db} is a registry without its tables findings, assessments"


def test_an_empty_duckdb_file_may_become_a_registry(tmp_path: Path, site: Path) -> None:
    from toolkit.ingest import check_ingest_target, open_registry, registry_tables

    db = _duckdb_file(tmp_path / "r.duckdb", "create temporary table scratch (x int)")
    assert check_ingest_target(db) is True
    assert check_ingest_target(tmp_path / "new.duckdb") is False
    assert ingest_submission(site, db).status == "loaded"
    con = open_registry(db)
    try:
        assert registry_tables(con) == {
            "submissions",
            "cutoff_freezes",
            "findings",
            "patients",
            "treatments",
            "adverse_events",
            "assessments",
        }
    finally:
        con.close()


def test_previous_status_is_known_only_for_bytes_ingested_before(
    tmp_path: Path, site: Path
) -> None:
    from toolkit.ingest import previous_status

    db = tmp_path / "r.duckdb"
    assert previous_status(db, "ab" * 32) is None
    assert previous_status(_duckdb_file(tmp_path / "empty.duckdb"), "ab" * 32) is None
    outcome = ingest_submission(site, db)
    assert previous_status(db, outcome.submission_id) == "accepted"
    assert previous_status(db, "ab" * 32) is None


def test_the_archive_is_written_once_and_complete(tmp_path: Path, site: Path) -> None:
    from toolkit.ingest import archive
    from toolkit.submission import receive

    received = receive(site)
    db = tmp_path / "r.duckdb"
    target = archive(received, db)
    assert target == tmp_path / "r-archive" / received.sha256
    assert sorted(p.name for p in target.iterdir()) == sorted(received.blobs)
    assert all((target / n).read_bytes() == data for n, data in received.blobs.items())
    (target / "patients.csv").write_bytes(b"changed")  # an archive is never rewritten
    assert archive(received, db) == target
    assert (target / "patients.csv").read_bytes() == b"changed"
    assert [p.name for p in target.parent.iterdir()] == [received.sha256]


def test_an_archive_that_cannot_be_written_is_a_clear_error(tmp_path: Path, site: Path) -> None:
    from toolkit.errors import ToolkitError
    from toolkit.ingest import archive
    from toolkit.submission import receive

    (tmp_path / "r-archive").write_text("a file where the archive folder goes")
    with pytest.raises(ToolkitError) as caught:
        archive(receive(site), tmp_path / "r.duckdb")
    assert str(caught.value).startswith(
        f"cannot archive the submission into {tmp_path / 'r-archive'}: "
    )
    assert str(caught.value).endswith("; nothing was ingested")


def test_only_registry_tables_are_inserted_into(tmp_path: Path) -> None:
    import polars as pl

    from toolkit.ingest import _insert, connect

    con = connect(tmp_path / "r.duckdb")
    try:
        with pytest.raises(ValueError, match="^not a registry table: submissions$"):
            _insert(con, "submissions", pl.DataFrame({"x": [1]}), "sid")
    finally:
        con.close()


# --- paths a race, a failure or an interrupt takes ---------------------------------------------


def _load_args(site: Path, db: Path) -> tuple:
    """What the pipeline passes to ``load`` for the submission at ``site``."""
    from toolkit.ingest import archive
    from toolkit.submission import open_submission, receive
    from toolkit.validate import validate

    received = receive(site)
    submission = open_submission(received)
    result = validate(submission)
    tables = result.tables if result.accepted else None
    return received, archive(received, db), result.findings, submission.manifest, tables


@pytest.mark.parametrize(
    "changes",
    [[("treatments.csv", 2, "doses", "45")], [("patients.csv", 2, "sex", "X")]],
    ids=["warning", "error"],
)
def test_bytes_loaded_by_another_process_meanwhile_are_not_loaded_twice(
    tmp_path: Path, changes
) -> None:
    from toolkit.ingest import load

    db = tmp_path / "registry.duckdb"
    args = _load_args(write_submission(tmp_path / "S01", changes), db)
    first = load(db, *args)
    assert first.archive_path == args[1]
    again = load(db, *args)  # as when another ingest of the same bytes committed first
    assert again.status == f"already-{'accepted' if first.status == 'loaded' else 'rejected'}"
    assert (again.n_errors, again.n_warnings, again.row_counts) == (0, 0, {})
    assert _query(db, "select count(*), min(archive_path) from submissions") == [(1, str(args[1]))]


def test_a_failed_first_load_names_the_database_and_leaves_no_file(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest
    from toolkit.errors import ToolkitError

    def failing(con, table, frame, sid) -> None:
        con.execute("select * from no_such_table")

    monkeypatch.setattr(ingest, "_insert", failing)
    db = tmp_path / "registry.duckdb"
    with pytest.raises(ToolkitError) as caught:
        ingest_submission(site, db)
    assert str(caught.value).startswith(
        f"loading into {db} failed and was rolled back: Catalog Error: Table with name "
        "no_such_table does not exist!"
    )
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("Query interrupted")])
def test_ctrl_c_during_the_load_rolls_it_back(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    import toolkit.ingest as ingest
    from toolkit.errors import Interrupted

    db = tmp_path / "registry.duckdb"
    _duckdb_file(db, ingest.DDL)

    def interrupted(con, table, frame, sid) -> None:
        raise error

    monkeypatch.setattr(ingest, "_insert", interrupted)
    with _ctrl_c_does_not_escape(), pytest.raises(Interrupted) as caught:
        ingest_submission(site, db)
    assert str(caught.value) == (
        f"interrupted: the load into {db} was rolled back; nothing was loaded"
    )
    assert _query(db, "select count(*) from submissions") == [(0,)]


def test_another_runtime_error_during_the_load_is_not_called_an_interrupt(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest

    def broken(con, table, frame, sid) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(ingest, "_insert", broken)
    db = _duckdb_file(tmp_path / "registry.duckdb", ingest.DDL)
    with pytest.raises(RuntimeError, match="^out of memory$"):
        ingest_submission(site, db)
    assert _query(db, "select count(*) from submissions") == [(0,)]


@contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    """Writes past ``limit`` bytes of any file fail with EFBIG, as on a full disk."""
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@contextmanager
def _ctrl_c_does_not_escape() -> Iterator[None]:
    """A KeyboardInterrupt from the code under test fails the test instead of stopping pytest
    (which mutmut would read as a run its user interrupted, not as a kill)."""
    try:
        yield
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped as KeyboardInterrupt instead of being reported")


def test_a_database_that_cannot_be_synced_is_not_put_in_place(tmp_path: Path, site: Path) -> None:
    from toolkit.errors import ToolkitError

    db = tmp_path / "registry.duckdb"
    # the commit's WAL fits, the checkpoint at close cannot grow the file: DuckDB closes
    # without an error and keeps the WAL
    with _file_size_limit(100_000), pytest.raises(ToolkitError) as caught:
        ingest_submission(site, db)
    assert str(caught.value) == f"creating the database {db} failed: it could not be synced"
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []
    assert ingest_submission(site, db).status == "loaded"  # once there is room again


def test_a_database_created_meanwhile_by_another_process_is_loaded_into(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest

    real_link = os.link

    def link_after_another(source, target) -> None:
        real_link(source, target)  # the other process's database, holding the same load
        raise FileExistsError(target)

    monkeypatch.setattr(ingest.os, "link", link_after_another)
    db = tmp_path / "registry.duckdb"
    assert ingest_submission(site, db).status == "already-accepted"
    assert _query(db, "select count(*) from submissions") == [(1,)]


def test_connections_to_a_database_open_for_reading_elsewhere_read_only(
    tmp_path: Path, site: Path
) -> None:
    from toolkit.ingest import (
        LOCKED_SETTINGS,
        check_ingest_target,
        connect,
        open_registry,
        previous_status,
    )

    db = tmp_path / "registry.duckdb"
    ingest_submission(site, db)
    # a report running in this process: DuckDB refuses a second connection to the same file
    # with another configuration, so a connection opened for writing would fail here
    reader = duckdb.connect(str(db), read_only=True, config=dict(LOCKED_SETTINGS))
    try:
        assert check_ingest_target(db) is True
        assert previous_status(db, "ab" * 32) is None
        open_registry(db).close()
        connect(db, read_only=True).close()
    finally:
        reader.close()


def test_a_database_locked_with_external_access_on_is_refused(tmp_path: Path) -> None:
    from toolkit.errors import ToolkitError
    from toolkit.ingest import LOCKED_SETTINGS, connect

    db = _duckdb_file(tmp_path / "r.duckdb")
    other = duckdb.connect(str(db), config=dict(LOCKED_SETTINGS))
    other.execute("set lock_configuration = true")
    try:
        with pytest.raises(ToolkitError) as caught:
            connect(db)
        assert str(caught.value) == "the database connection is locked with external access on"
    finally:
        other.close()


def test_a_truncated_database_is_a_clear_error(tmp_path: Path) -> None:
    from toolkit.errors import ToolkitError
    from toolkit.ingest import connect

    whole = _duckdb_file(tmp_path / "whole.duckdb", "create table t (x int)")
    db = tmp_path / "r.duckdb"
    db.write_bytes(whole.read_bytes()[:5000])
    with pytest.raises(ToolkitError) as caught:
        connect(db, read_only=True)
    assert str(caught.value).startswith(
        f"cannot open the database {db}: IO Error: Could not read enough bytes from file"
    )


def test_the_first_line_of_an_error() -> None:
    from toolkit.ingest import _first_line

    assert _first_line(ValueError("  first\nsecond ")) == "first"
    assert _first_line(ValueError("   ")) == "ValueError"


def test_an_archive_left_by_a_crashed_run_of_this_process_id_is_replaced(
    tmp_path: Path, site: Path
) -> None:
    from toolkit.ingest import archive
    from toolkit.submission import receive

    received = receive(site)
    stale = tmp_path / "r-archive" / f".{received.sha256}.partial-{os.getpid()}"
    stale.mkdir(parents=True)
    (stale / "left.csv").write_text("from a run that crashed")
    target = archive(received, tmp_path / "r.duckdb")
    assert sorted(p.name for p in target.iterdir()) == sorted(received.blobs)
    assert [p.name for p in target.parent.iterdir()] == [received.sha256]


def test_an_archive_write_that_fails_leaves_no_partial_folder(tmp_path: Path, site: Path) -> None:
    from toolkit.errors import ToolkitError
    from toolkit.ingest import archive
    from toolkit.submission import receive

    received = receive(site)
    with _file_size_limit(10), pytest.raises(ToolkitError) as caught:
        archive(received, tmp_path / "r.duckdb")
    assert str(caught.value) == (
        f"cannot archive the submission into {tmp_path / 'r-archive'}: file too large; "
        "nothing was ingested"
    )
    assert list((tmp_path / "r-archive").iterdir()) == []


def test_an_archive_written_meanwhile_by_another_process_is_kept(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest
    from toolkit.submission import receive

    real_replace = os.replace

    def replace_after_another(source, target) -> None:
        shutil.copytree(source, target)  # the other process's archive of the same bytes
        real_replace(source, target)  # fails: the folder is there and not empty

    monkeypatch.setattr(ingest.os, "replace", replace_after_another)
    received = receive(site)
    target = ingest.archive(received, tmp_path / "r.duckdb")
    assert all((target / n).read_bytes() == data for n, data in received.blobs.items())
    assert [p.name for p in target.parent.iterdir()] == [received.sha256]


def test_a_new_database_that_cannot_be_put_in_place_is_a_clear_error(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import toolkit.ingest as ingest
    from toolkit.errors import ToolkitError

    def refused(source, target) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(target))

    monkeypatch.setattr(ingest.os, "link", refused)
    db = tmp_path / "registry.duckdb"
    with pytest.raises(ToolkitError) as caught:
        ingest_submission(site, db)
    assert str(caught.value) == f"creating the database {db} failed: operation not permitted ({db})"
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


def test_a_failed_load_into_a_database_created_meanwhile_names_it(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.ingest as ingest
    from toolkit.errors import ToolkitError

    def link_after_another(source, target) -> None:
        _duckdb_file(Path(target), "create table submissions (x integer)")  # not a registry's
        raise FileExistsError(target)

    monkeypatch.setattr(ingest.os, "link", link_after_another)
    db = tmp_path / "registry.duckdb"
    with pytest.raises(ToolkitError) as caught:
        ingest_submission(site, db)
    assert str(caught.value).startswith(
        f"loading into {db} failed and was rolled back: Binder Error: "
    )
    assert _query(db, "select * from submissions") == []


def test_leftovers_are_removed_and_what_cannot_be_removed_is_left(tmp_path: Path) -> None:
    from toolkit.ingest import _remove

    file, folder = tmp_path / "a.duckdb", tmp_path / "a.duckdb.wal"
    file.write_text("x")
    folder.mkdir()
    _remove([file, folder, tmp_path / "missing"])
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]


def test_a_rollback_without_a_transaction_is_harmless(tmp_path: Path) -> None:
    from toolkit.ingest import _rollback, connect

    con = connect(tmp_path / "r.duckdb")
    try:
        _rollback(con)
        assert con.execute("select 1").fetchone() == (1,)
    finally:
        con.close()


_FINDING = {"rule": ["PAT-SEX"], "severity": ["error"], "message": ["not a sex"]}


def _incoming_is_registered(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("select count(*) from incoming")
    except duckdb.CatalogException:
        return False
    return True


def test_an_insert_leaves_no_view_behind_whether_it_succeeds_or_fails(tmp_path: Path) -> None:
    import polars as pl

    from toolkit.ingest import DDL, _insert, connect

    con = connect(tmp_path / "r.duckdb")
    try:
        con.execute(DDL)
        _insert(con, "findings", pl.DataFrame(_FINDING), "sid")
        assert not _incoming_is_registered(con)
        assert con.execute("select submission_id, rule from findings").fetchall() == [
            ("sid", "PAT-SEX")
        ]
        with pytest.raises(duckdb.BinderException):
            _insert(con, "findings", pl.DataFrame({"no_such_column": [1]}), "sid")
        assert not _incoming_is_registered(con)
    finally:
        con.close()


class _InterruptedWhileExecuting:
    """A real connection whose every execute is interrupted, as Ctrl-C does, until it stops."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)

    def execute(self, *args: object) -> object:
        import threading

        stop = threading.Event()

        def keep_interrupting() -> None:
            while not stop.is_set():
                self._con.interrupt()
                time.sleep(0.001)

        thread = threading.Thread(target=keep_interrupting)
        thread.start()
        try:
            return self._con.execute(*args)
        finally:
            stop.set()
            thread.join()


def test_an_interrupted_insert_is_reported_as_the_interrupt(tmp_path: Path) -> None:
    import polars as pl

    from toolkit.ingest import DDL, _insert, connect

    con = connect(tmp_path / "r.duckdb")
    con.execute(DDL)
    con.execute("begin transaction")
    frame = pl.DataFrame(_FINDING).select(pl.all().repeat_by(2_000_000).explode())
    try:
        # the aborted transaction makes unregistering fail too; the interrupt is what surfaces
        with pytest.raises(duckdb.InterruptException):
            _insert(_InterruptedWhileExecuting(con), "findings", frame, "s")
    finally:
        con.close()


def test_a_new_database_leaves_nothing_beside_it(tmp_path: Path, site: Path) -> None:
    # A crashed run of this process id left its building file, WAL and spill folder.
    folder = tmp_path / "registry"
    folder.mkdir()
    building = folder / f".r.duckdb.new-{os.getpid()}"
    building.write_bytes(b"partial")
    Path(f"{building}.wal").write_bytes(b"partial")
    Path(f"{building}.tmp").mkdir()
    (Path(f"{building}.tmp") / "spill.block").write_bytes(b"partial")
    assert ingest_submission(site, folder / "r.duckdb").status == "loaded"
    assert sorted(p.name for p in folder.iterdir()) == ["r-archive", "r.duckdb"]
