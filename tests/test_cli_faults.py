"""Faults a careless user, a full disk or an interrupted run cause: one line, the right exit code.

Each test runs the command line as a user does (``toolkit.cli.main``) and checks that the error
is one ``error: ...`` line without a traceback, that the exit code is 2 for a usage problem, 1
for a failure and 130 for Ctrl-C, and that nothing was written that should not be. Disk-full and
read-only cases use a real tmpfs or a read-only bind mount and are skipped when not root.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from toolkit.cli import main

REPO = Path(__file__).resolve().parent.parent


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([str(arg) for arg in args])
    err = capsys.readouterr().err
    return code, err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture()
def registry(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo registry, with its archive, that a test may spoil."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_dir / "registry.duckdb", db)
    shutil.copytree(demo_dir / "registry-archive", tmp_path / "registry-archive")
    return db


# --- --db that is not a registry ---------------------------------------------------------------


def test_ingest_into_a_csv_is_refused_and_the_csv_is_untouched(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "p.csv"
    csv.write_bytes(b"patient_id,site_id\nP1,S01\n")
    code, err = _run(capsys, "ingest", proclaim_dir / "S01", "--db", csv)
    assert code == 2
    assert "not a DuckDB database" in _one_error_line(err)
    assert csv.read_bytes() == b"patient_id,site_id\nP1,S01\n"
    assert not (tmp_path / "p-archive").exists()


@pytest.mark.parametrize("command", ["report", "cohort"])
def test_report_and_cohort_on_a_duckdb_file_that_is_not_a_registry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table t as select 1 as x")
    con.close()
    out = tmp_path / "out"
    code, err = _run(capsys, command, "--db", other, "--out", out)
    assert code == 2
    assert "not a registry" in _one_error_line(err)
    assert not out.exists()


@pytest.mark.parametrize("command", ["report", "cohort"])
def test_report_and_cohort_on_a_csv_leave_no_output_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("a,b\n1,2\n")
    out = tmp_path / "out"
    code, err = _run(capsys, command, "--db", csv, "--out", out)
    assert code == 2
    assert "not a DuckDB database" in _one_error_line(err)
    assert not out.exists()


def test_db_that_is_a_folder_is_refused(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmp_path: Path
) -> None:
    code, err = _run(capsys, "ingest", proclaim_dir / "S01", "--db", tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert "is a directory" in err


# --- --out that must not be written ------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "cohort"])
def test_out_that_is_an_existing_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], registry: Path, tmp_path: Path, command: str
) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    code, err = _run(capsys, command, "--db", registry, "--out", target)
    assert code == 2
    assert "is a file, not a folder" in _one_error_line(err)
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("command", ["report", "cohort"])
def test_out_inside_the_archive_is_refused(
    capsys: pytest.CaptureFixture[str], registry: Path, command: str
) -> None:
    archive = registry.with_name("registry-archive")
    folder = next(p for p in archive.iterdir() if p.is_dir())
    before = sorted(p.name for p in folder.iterdir())
    code, err = _run(capsys, command, "--db", registry, "--out", folder / "export")
    assert code == 2
    assert "archive" in _one_error_line(err)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_out_that_is_the_archive_itself_is_refused(
    capsys: pytest.CaptureFixture[str], registry: Path
) -> None:
    archive = registry.with_name("registry-archive")
    code, err = _run(capsys, "cohort", "--db", registry, "--out", archive)
    assert code == 2
    assert "archive" in _one_error_line(err)


# --- DuckDB locked down ------------------------------------------------------------------------


def _toolkit_connections(db: Path):
    from toolkit.ingest import connect, open_registry

    yield connect(db, read_only=True)
    yield connect(db, read_only=False)
    yield open_registry(db, read_only=True)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "copy (select 1) to '/tmp/toolkit-escape.csv'",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
    ],
)
def test_no_toolkit_connection_reads_or_fetches_outside(
    registry: Path, tmp_path: Path, sql: str
) -> None:
    for con in _toolkit_connections(registry):
        try:
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        finally:
            con.close()
    assert not Path("/tmp/toolkit-escape.csv").exists()


def test_connections_in_a_fresh_process_are_locked(registry: Path) -> None:
    """The same in a new process, where no earlier connection locked the instance first."""
    script = (
        "import sys, duckdb\n"
        "from pathlib import Path\n"
        "from toolkit.ingest import connect\n"
        "con = connect(Path(sys.argv[1]), read_only=True)\n"
        "try:\n"
        "    con.execute(\"select * from read_csv('/etc/passwd')\")\n"
        "except duckdb.Error:\n"
        "    print('refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(registry)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "refused"


# --- full disk, read-only file system ----------------------------------------------------------


@pytest.fixture()
def tmpfs(tmp_path: Path):
    """Mount a small tmpfs; yields a function that mounts one of a given size."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: str, name: str = "disk") -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_disk_full_while_creating_a_database_leaves_no_stub(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmpfs
) -> None:
    disk = tmpfs("600k")
    db = disk / "registry.duckdb"
    code, err = _run(capsys, "ingest", proclaim_dir / "S01", "--db", db)
    assert code == 1
    _one_error_line(err)
    assert not db.exists()
    leftovers = [p.name for p in disk.rglob("*") if "partial" in p.name or ".new-" in p.name]
    assert leftovers == []


def test_disk_full_during_report_leaves_the_earlier_report(
    capsys: pytest.CaptureFixture[str], registry: Path, tmpfs
) -> None:
    disk = tmpfs("200k")
    out = disk / "report"
    out.mkdir()
    (out / "results.json").write_text('{"earlier": true}\n')
    code, err = _run(capsys, "report", "--db", registry, "--out", out, "--format", "html")
    assert code == 1
    assert "no space left" in _one_error_line(err)
    assert (out / "results.json").read_text() == '{"earlier": true}\n'
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


def test_ingest_into_a_read_only_file_system(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)])
    if mounted.returncode != 0:
        pytest.skip("cannot bind-mount read-only here")
    try:
        probe = subprocess.run(["touch", str(folder / "probe")], capture_output=True)
        if probe.returncode == 0:
            pytest.skip("the bind mount is not read-only on this kernel")
        code, err = _run(capsys, "ingest", proclaim_dir / "S01", "--db", folder / "r.duckdb")
        assert code == 1
        assert "read-only" in _one_error_line(err)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


# --- Ctrl-C ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from toolkit.synth import synthesise

    out = tmp_path_factory.mktemp("big")
    synthesise(out, patients=150_000, sites=1, seed=3)
    return next(p for p in out.iterdir() if p.is_dir())


@pytest.mark.parametrize("delay", [1.0, 1.6, 2.2])
def test_ctrl_c_during_ingest_is_one_line_exit_130_and_says_what_was_loaded(
    big_submission: Path, tmp_path: Path, delay: float
) -> None:
    db = tmp_path / "r.duckdb"
    process = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "toolkit"), "ingest", str(big_submission), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the ingest finished before the interrupt")
    assert process.returncode == 130, err
    line = _one_error_line(err)
    patients = 0
    if db.exists():
        con = duckdb.connect(str(db), read_only=True)
        try:
            patients = con.execute("select count(*) from patients").fetchone()[0]
        finally:
            con.close()
    if "nothing was loaded" in line or line == "error: interrupted":
        # the bare form: the interrupt came before the command began (during start-up)
        assert patients == 0
    else:
        assert "recorded as accepted" in line
        assert patients == 150_000
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


# --- what ingest says --------------------------------------------------------------------------


def test_loaded_ingest_counts_rows_in_plain_words(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmp_path: Path
) -> None:
    code = main(["ingest", str(proclaim_dir / "S01"), "--db", str(tmp_path / "r.duckdb")])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"of site S01: \d+ patients, \d+ treatments, \d+ adverse events, ", out)
    assert "patientss" not in out


def test_rejected_ingest_prints_the_summary_and_writes_the_steward_report(
    capsys: pytest.CaptureFixture[str], proclaim_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "S01"
    shutil.copytree(proclaim_dir / "S01", bad)
    lines = (bad / "patients.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    cells = lines[1].rstrip("\r\n").split(",")
    cells[header.index("sex")] = "X"
    lines[1] = ",".join(cells) + "\r\n" if lines[1].endswith("\r\n") else ",".join(cells) + "\n"
    (bad / "patients.csv").write_text("".join(lines), encoding="utf-8")
    report = tmp_path / "steward"
    code = main(
        ["ingest", str(bad), "--db", str(tmp_path / "r.duckdb"), "--report-out", str(report)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "of site S01 rejected with 1 error;" in out
    assert "REJECTED" in out
    assert "PAT-SEX-CODE" in out
    assert "validation.html" in out.replace("\n", "")
    assert sorted(p.name for p in report.iterdir()) == [
        "findings.json",
        "queries.csv",
        "validation.html",
    ]


@pytest.mark.parametrize("threshold", ["0", "-3"])
def test_a_threshold_below_one_is_refused_before_anything_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, threshold: str
) -> None:
    # no database exists: the argument is refused first, and no folder is made
    out = tmp_path / "report"
    args = ("report", "--db", tmp_path / "none.duckdb", "--out", out)
    code, err = _run(capsys, *args, "--suppress-below", threshold)
    assert code == 2
    assert _one_error_line(err) == "error: --suppress-below must be at least 1"
    assert not out.exists()


def test_bare_toolkit_prints_its_help_and_succeeds_and_h_is_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    assert "Commands" in capsys.readouterr().out
    assert main(["-h"]) == 0
    assert "Usage: toolkit" in capsys.readouterr().out
    assert main(["status", "-h"]) == 0
    assert "--db" in capsys.readouterr().out
