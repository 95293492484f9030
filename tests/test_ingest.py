"""Ingest guarantees, each with a test that fails if the guarantee breaks.

Real DuckDB files, real second processes, real kills.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

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
def site(proclaim_dir: Path, tmp_path: Path) -> Path:
    """A private copy of one proclaim site's submission folder."""
    return Path(shutil.copytree(proclaim_dir / "S02", tmp_path / "S02"))


def test_accepted_submission_is_loaded_with_source_rows(site: Path, tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    outcome = ingest_submission(site, db)
    assert outcome.status == "loaded"
    lines = (site / "patients.csv").read_text(encoding="utf-8").splitlines()
    rows = _query(db, "select source_row, patient_id from patients order by source_row")
    assert len(rows) == len(lines) - 1
    for source_row, patient_id in rows[:5] + rows[-5:]:
        assert lines[source_row - 1].split(",")[0] == patient_id  # row 1 is the header
    assert all(isinstance(r[1], str) and r[1].startswith("0") for r in rows[:3])


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
    assert (
        "PAT-SEX-CODE",
        text.splitlines().index(next(line for line in text.splitlines() if ",male," in line)) + 1,
    ) in recorded
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
    assert f"not in force: the site's extract {first.submission_id[:12]} of 2015-06-30" in (
        late.describe()
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
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert "busy" in done.stderr and "Traceback" not in done.stderr
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
        outcomes.add(_consistent_state(db))
    print("kill outcomes", sorted(outcomes), "full ingest", round(full, 2), "s")
    assert outcomes <= {"empty", "loaded"}


def _consistent_state(db: Path) -> str:
    """``empty`` (nothing recorded) or ``loaded`` (every row of the submission); else fail."""
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
        for table, expected in json.loads(counts).items():
            got = con.execute(
                f"select count(*) from {table} where submission_id = ?", [sid]
            ).fetchone()[0]
            assert got == expected, (table, got, expected)
        return "loaded"
    finally:
        con.close()


def test_ctrl_c_while_a_connection_is_configured_is_an_interrupt_and_loads_nothing(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C can land on any statement; DuckDB then raises RuntimeError("Query interrupted").
    import toolkit.ingest as ingest
    from toolkit.errors import Interrupted

    def interrupted(con, allowed) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(ingest, "_lock_configuration", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest.connect(tmp_path / "other.duckdb")
    db = tmp_path / "registry.duckdb"
    with pytest.raises(Interrupted, match="nothing was loaded"):
        ingest_submission(site, db)
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
