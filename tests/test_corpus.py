"""The corpus of malformed submissions (``tests/corpus/``): bad input gets a clear message, never
a traceback.

Every case runs through the real command line (``toolkit validate CASE --json`` through the
CLI's entry point, in batch subprocesses that pay the imports once: exit code, no traceback,
exactly the expected rule ids and findings) and through
:func:`toolkit.pipeline.ingest_submission` into a temporary DuckDB file (status, the findings
recorded, analysis tables empty when rejected, values stored as sent when accepted). A few cases
also run without ``--json``, the console summary, on hostile values.

The committed cases are written by ``tests/corpus/build_corpus.py``; the ones too big or too
binary to commit are built here from ``tests/corpus/_base/`` (:data:`BUILDERS`). The console
runs are real ``python -m toolkit`` processes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from schemas.rules import RULES
from toolkit.errors import SubmissionUnreadable
from toolkit.ingest import LOADED_TABLES, archive_dir
from toolkit.pipeline import ingest_submission
from toolkit.submission import SUBMISSION_FILES, open_submission
from toolkit.validate import validate

CORPUS = Path(__file__).resolve().parent / "corpus"
BASE = CORPUS / "_base"
ZIP_NAME = "submission.zip"
ZIP_DATE = (2015, 3, 14, 12, 0, 0)
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())
CONSOLE_CASES = ("31-cyrillic-patient-id", "35-html-in-free-text", "53-zip-parent-paths")
"""Cases also run without ``--json``: the console summary must cope with their values."""
CLI_TIMEOUT = 120
ROUTES = ("ingest", "command-line")


def _expected(case: str) -> dict:
    return json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))


# --- cases built at test time ------------------------------------------------------------------


def _copy_base(out: Path) -> Path:
    return Path(shutil.copytree(BASE, out / "S07"))


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip with fixed timestamps, members deflated, in the order given."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def _base_members(prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}{name}": (BASE / name).read_bytes() for name in SUBMISSION_FILES}


def _huge_line(out: Path) -> Path:
    """patients.csv row 3: one line of about 32 MB; treatments.csv row 3: an 8 MB agent."""
    folder = _copy_base(out)
    lines = (folder / "patients.csv").read_bytes().split(b"\n")
    lines[2] = b"PA02,S07," + b"x," * 16_000_000 + b"x"
    (folder / "patients.csv").write_bytes(b"\n".join(lines))
    treatments = (folder / "treatments.csv").read_bytes()
    huge = treatments.replace(b",pembrolizumab,", b"," + b"Keytruda" * 1_000_000 + b",")
    (folder / "treatments.csv").write_bytes(huge)
    return folder


def _zip_parent_paths(out: Path) -> Path:
    members = {**_base_members(), "../patients.csv": b"patient_id\n"}
    return _write_zip(out / ZIP_NAME, members)


def _zip_bomb(out: Path) -> Path:
    members = _base_members()
    members["patients.csv"] += b" " * (16 * 1024**2)
    return _write_zip(out / ZIP_NAME, members)


def _zip_one_folder(out: Path) -> Path:
    return _write_zip(out / ZIP_NAME, _base_members("S07/"))


def _zip_two_folders(out: Path) -> Path:
    return _write_zip(out / ZIP_NAME, {**_base_members("S07/"), **_base_members("S07-old/")})


def _zip_dot_member(out: Path) -> Path:
    return _write_zip(out / ZIP_NAME, {**_base_members(), ".": b"not a file"})


def _symlink_to_outside(out: Path) -> Path:
    folder = _copy_base(out)
    (folder / "assessments.csv").unlink()
    (folder / "assessments.csv").symlink_to("/etc/passwd")
    return folder


def _zip_symlink_member(out: Path) -> Path:
    path = _write_zip(
        out / ZIP_NAME, {n: d for n, d in _base_members().items() if n != "assessments.csv"}
    )
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("assessments.csv", date_time=ZIP_DATE)
        info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, b"/etc/passwd")
    return path


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "52-huge-line": _huge_line,
    "53-zip-parent-paths": _zip_parent_paths,
    "54-zip-bomb": _zip_bomb,
    "55-zip-one-folder": _zip_one_folder,
    "56-zip-two-folders": _zip_two_folders,
    "57-zip-dot-member": _zip_dot_member,
    "65-symlink-to-outside": _symlink_to_outside,
    "66-zip-symlink-member": _zip_symlink_member,
}
"""Case name → builder writing the submission under a fresh folder and returning its path."""


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case's submission path: the committed folder, or what its builder made."""
    paths = {case: CORPUS / case for case in CASES}
    for case, builder in BUILDERS.items():
        paths[case] = builder(tmp_path_factory.mktemp(case))
    return paths


@dataclass(frozen=True)
class Done:
    """A finished command-line run."""

    returncode: int
    stdout: str
    stderr: str


BATCH = """
import contextlib, io, json, os, sys, traceback
from toolkit.cli import main
jobs = json.loads(sys.stdin.read())
for job in jobs:
    os.chdir(job["work"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(job["args"])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 99
    with open(os.path.join(job["work"], "result.json"), "w", encoding="utf-8") as handle:
        json.dump({"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()},
                  handle)
"""
"""Runs many ``toolkit`` command lines through the real entry point, ``toolkit.cli.main``, in
one process, so that the imports are paid once; an exception escaping ``main`` is printed as a
traceback into that run's stderr, which the checks refuse."""


class CommandLineRuns:
    """The command-line runs of the corpus, done in a few batch processes when first asked for.

    ``--json`` runs go through :data:`BATCH` (the real entry point, imports paid once per
    batch, one batch per CPU); the console runs of :data:`CONSOLE_CASES` are real
    ``python -m toolkit`` processes each.
    """

    def __init__(self, jobs: dict[tuple[str, bool], list[str]], folder: Path, width: int) -> None:
        self.keys = frozenset(jobs)
        self.jobs = jobs
        self.folder = folder
        self.width = width
        self.done: dict[tuple[str, bool], Done] = {}

    def start_more(self) -> None:
        """Kept for the tests' call; the runs happen together in :meth:`result`."""

    def result(self, key: tuple[str, bool]) -> Done:
        if not self.done:
            self._run_all()
        return self.done[key]

    def stop(self) -> None:
        """Nothing is left running: :meth:`result` waits for every process it starts."""

    def _work(self, key: tuple[str, bool]) -> Path:
        work = self.folder / f"{key[0]}-{'json' if key[1] else 'console'}"
        work.mkdir(exist_ok=True)
        return work

    def _run_all(self) -> None:
        batched = [key for key in self.jobs if key[1]]
        chunks = [batched[i :: self.width] for i in range(self.width)]
        processes = []
        for chunk in filter(None, chunks):
            payload = [{"work": str(self._work(k)), "args": self.jobs[k][3:]} for k in chunk]
            process = subprocess.Popen(
                [sys.executable, "-c", BATCH], stdin=subprocess.PIPE, text=True
            )
            process.stdin.write(json.dumps(payload))
            process.stdin.close()
            processes.append((process, chunk))
        for key in (k for k in self.jobs if not k[1]):
            done = subprocess.run(
                self.jobs[key],
                cwd=self._work(key),
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT,
            )
            self.done[key] = Done(done.returncode, done.stdout, done.stderr)
        for process, chunk in processes:
            process.wait(timeout=CLI_TIMEOUT * len(chunk))
            for key in chunk:
                result = json.loads((self._work(key) / "result.json").read_text("utf-8"))
                self.done[key] = Done(result["returncode"], result["stdout"], result["stderr"])


@pytest.fixture(scope="session")
def cli_runs(
    request: pytest.FixtureRequest, built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> CommandLineRuns:
    """The command-line runs of the selected cases: ``(case, json)`` → run."""
    wanted = _selected_cases(request.session)
    runs = [(case, as_json) for case in wanted for as_json in (True, False)]
    runs = [(case, as_json) for case, as_json in runs if as_json or case in CONSOLE_CASES]
    jobs = {(case, as_json): _toolkit_validate(built[case], as_json) for case, as_json in runs}
    runner = CommandLineRuns(jobs, tmp_path_factory.mktemp("cli"), max(2, os.cpu_count() or 2))
    request.addfinalizer(runner.stop)
    return runner


def _selected_cases(session: pytest.Session) -> list[str]:
    selected = {
        item.callspec.params["case"]
        for item in session.items
        if hasattr(item, "callspec") and item.callspec.params.get("route") == "command-line"
    }
    return [case for case in CASES if case in selected]


def _toolkit_validate(path: Path, as_json: bool) -> list[str]:
    """``python -m toolkit validate PATH [--json]``."""
    args = [sys.executable, "-m", "toolkit", "validate", str(path)]
    return [*args, "--json"] if as_json else args


# --- checks ------------------------------------------------------------------------------------


def _key(finding: dict) -> tuple:
    return (finding["file"], finding["row"], finding["column"], finding["rule"])


def _check_findings(expected: dict, findings: list[dict], where: str) -> None:
    """Exactly the expected rule ids; exactly the expected findings when they are listed."""
    rules = sorted({finding["rule"] for finding in findings})
    assert rules == expected["rules"], f"{where}: {findings}"
    if "findings" not in expected:
        return
    assert sorted(map(_key, findings), key=str) == sorted(
        map(_key, expected["findings"]), key=str
    ), f"{where}: {findings}"
    messages = {_key(finding): finding.get("message", "") for finding in findings}
    for entry in expected["findings"]:
        if "message_contains" in entry:
            assert entry["message_contains"] in messages[_key(entry)], f"{where}: {entry}"


def _no_traceback(done: Done) -> None:
    for stream in (done.stdout, done.stderr):
        assert "Traceback" not in stream, stream[-3000:]


def _cli_findings(done: Done) -> list[dict]:
    """The findings of ``--json``; an unreadable submission is refused with ``error:`` on stderr
    and may print no document."""
    if done.stdout.strip():
        return json.loads(done.stdout)["findings"]
    assert done.stderr.startswith("error: "), done.stderr
    message = done.stderr.removeprefix("error: ")
    return [
        {"file": ZIP_NAME, "row": None, "column": None, "rule": "SUBMISSION-UNREADABLE"}
        | {"message": message}
    ]


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- tests -------------------------------------------------------------------------------------


def test_corpus_is_as_build_corpus_writes_it(tmp_path: Path) -> None:
    builder = _load_build_corpus()
    builder.build(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(CORPUS)
        for p in CORPUS.rglob("*")
        if p.is_file() and p.parent != CORPUS and "__pycache__" not in p.parts
    )
    assert fresh == committed
    for relative in fresh:
        assert (tmp_path / relative).read_bytes() == (CORPUS / relative).read_bytes(), relative


def _load_build_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_corpus", CORPUS / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def test_base_submission_is_clean() -> None:
    result = validate(open_submission(BASE))
    assert result.accepted and result.findings.is_empty(), result.findings


def test_corpus_shape() -> None:
    assert len(CASES) >= 35
    generated = {case for case in CASES if _expected(case).get("built_at_test_time")}
    assert generated == set(BUILDERS)
    for case in set(CASES) - generated:
        assert any(p.name != "expected.json" for p in (CORPUS / case).iterdir()), case
    warned = {
        rule for case in CASES if _expected(case)["accepted"] for rule in _expected(case)["rules"]
    }
    assert {
        "TRT-START-EARLY",
        "AE-GRADE5-NOT-DEAD",
        "TRT-AFTER-DEATH",
        "ASM-AFTER-DEATH",
        "PAT-NO-TREATMENT",
        "AE-BEFORE-TREATMENT",
        "TRT-DUPLICATE-COURSE",
        "TRT-DOSES-HIGH",
    } <= warned


@pytest.mark.parametrize(("case", "route"), [(case, route) for case in CASES for route in ROUTES])
def test_case(
    case: str, route: str, cli_runs: CommandLineRuns, built: dict[str, Path], tmp_path: Path
) -> None:
    """One case by one route; a case's ingest runs while its command line runs in the
    background."""
    cli_runs.start_more()
    if route == "ingest":
        _check_ingest(case, built[case], tmp_path / "registry.duckdb")
    else:
        _check_command_line(case, cli_runs)


def _check_command_line(case: str, cli_runs: CommandLineRuns) -> None:
    expected = _expected(case)
    done = cli_runs.result((case, True))
    _no_traceback(done)
    assert done.returncode == (0 if expected["accepted"] else 1), done.stderr[-3000:]
    assert len(done.stdout) < 1_000_000, "the output quotes too much of the input"
    _check_findings(expected, _cli_findings(done), "validate --json")
    if (case, False) in cli_runs.keys:
        console = cli_runs.result((case, False))
        _no_traceback(console)
        assert console.returncode == done.returncode, console.stderr[-3000:]


#: Folder cases refused before anything is archived: what a link points to is never read, so
#: there are no bytes of the submission as sent to keep, and the database is not touched.
REFUSED_UNREAD = {"65-symlink-to-outside"}


def _check_ingest(case: str, path: Path, db: Path) -> None:
    expected = _expected(case)
    if case in REFUSED_UNREAD:
        (finding,) = expected["findings"]
        with pytest.raises(SubmissionUnreadable, match=finding["message_contains"]):
            ingest_submission(path, db)
        assert not db.exists() and not archive_dir(db).exists()
        return
    outcome = ingest_submission(path, db)
    assert outcome.status == ("loaded" if expected["accepted"] else "rejected")
    recorded = _query(db, 'select file, "row", "column", rule, message from findings')
    keys = ("file", "row", "column", "rule", "message")
    _check_findings(expected, [dict(zip(keys, row, strict=True)) for row in recorded], "ingest")
    if "findings" in expected:  # the full list: its counts by the catalog's severities
        severity = [RULES[finding["rule"]].severity for finding in expected["findings"]]
        counts = (severity.count("error"), severity.count("warning"))
        assert (outcome.n_errors, outcome.n_warnings) == counts
        assert _query(db, "select n_errors, n_warnings from submissions") == [counts]
    counts = {table: _query(db, f"select count(*) from {table}")[0][0] for table in LOADED_TABLES}
    if not expected["accepted"]:
        assert counts == dict.fromkeys(LOADED_TABLES, 0)
        return
    assert counts["patients"] > 0
    for target, values in expected.get("stored", {}).items():
        table, column = target.split(".")
        stored = _query(db, f"select {column} from {table} order by source_row")
        assert [row[0] for row in stored] == values, target
