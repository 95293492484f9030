"""The submission ledger (``toolkit status``): every submission per site, rejected ones too,
the extract in force and the cutoffs that froze it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from small_submission import write_submission

from toolkit.ledger import submission_ledger
from toolkit.pipeline import analysis_cohort, ingest_submission
from toolkit.study import builtin_study_path, load_study


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """S01 sends a broken extract (rejected), then the corrected one; the cutoff 2015-03-14
    freezes it."""
    root = tmp_path_factory.mktemp("ledger")
    db = root / "registry.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("TOOLKIT_TODAY", "2015-03-20")
    try:
        broken = write_submission(root / "broken" / "S01", [("patients.csv", 2, "sex", "X")])
        assert ingest_submission(broken, db).status == "rejected"
        fixed = write_submission(root / "fixed" / "S01")
        assert ingest_submission(fixed, db).status == "loaded"
    finally:
        patch.undo()
    analysis_cohort(db, load_study(builtin_study_path()), date(2015, 3, 14))
    return db


def test_the_ledger_shows_both_extracts_of_the_site_in_the_order_received(registry: Path) -> None:
    ledger = submission_ledger(registry)
    (site,) = ledger["sites"]
    assert site["site_id"] == "S01"
    rejected, accepted = site["submissions"]
    assert (rejected["status"], rejected["errors"], rejected["in_force"]) == ("rejected", 1, False)
    assert (accepted["status"], accepted["errors"], accepted["in_force"]) == ("accepted", 0, True)
    assert accepted["extracted_on"] == "2015-03-14"
    assert rejected["received_on"] == accepted["received_on"] == "2015-03-20"
    assert (rejected["cutoffs"], accepted["cutoffs"]) == ([], ["2015-03-14"])
    assert len(accepted["sha256"]) == 12 and accepted["sha256"] != rejected["sha256"]
    assert ledger["totals"] == {
        "submissions": 2,
        "by_status": {"accepted": 1, "rejected": 1},
        "sites_in_force": 1,
        "patients_in_force": 2,
    }


def test_a_registry_from_before_the_day_received_was_kept_reads_it_as_unknown(
    registry: Path, tmp_path: Path
) -> None:
    import duckdb

    old = tmp_path / "old.duckdb"
    old.write_bytes(registry.read_bytes())
    with duckdb.connect(str(old)) as con:
        con.execute("alter table submissions drop column received_on")
    ledger = submission_ledger(old)
    assert [s["received_on"] for s in ledger["sites"][0]["submissions"]] == [None, None]


def test_status_prints_the_table_and_json(registry: Path) -> None:
    def toolkit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "toolkit", "status", *args],
            capture_output=True,
            text=True,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        )

    shown = toolkit("--db", str(registry))
    assert shown.returncode == 0, shown.stderr
    assert "rejected" in shown.stdout and "2015-03-14" in shown.stdout
    assert (
        "2 submissions (1 accepted, 1 rejected); 1 site with an extract in force, 2 patients"
        in (" ".join(shown.stdout.split()))
    )
    as_json = toolkit("--db", str(registry), "--json")
    assert json.loads(as_json.stdout) == submission_ledger(registry)
    missing = toolkit("--db", str(registry.parent / "none.duckdb"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "run toolkit ingest first" in missing.stderr


# --- queries across extracts ---------------------------------------------------------------------


def test_a_rejected_extracts_query_is_resolved_by_the_corrected_one(registry: Path) -> None:
    from toolkit.ledger import query_states

    (query,) = query_states(registry)
    assert (query["site_id"], query["patient_id"], query["rule"]) == (
        "S01",
        "00123",
        "PAT-SEX-CODE",
    )
    assert query["state"] == "resolved"
    assert (
        query["first_seen"]
        == query["last_seen"]
        == {
            "submission": "S01",
            "received_on": "2015-03-20",
        }
    )
    assert query["resolved_by"] == {"submission": "S01", "received_on": "2015-03-20"}
    assert query_states(registry, state="open") == []
    assert query_states(registry, site="S02") == []


@pytest.fixture(scope="module")
def warned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three accepted extracts of S01: a dose count above 30 (a warning) in the first two,
    corrected in the third; each received on its own day."""
    root = tmp_path_factory.mktemp("warned")
    db = root / "registry.duckdb"
    patch = pytest.MonkeyPatch()
    try:
        for day, doses, name in (("2015-03-20", "40", "a"), ("2015-04-20", "40", "b")):
            patch.setenv("TOOLKIT_TODAY", day)
            extract = write_submission(
                root / name / "S01",
                [
                    ("treatments.csv", 2, "doses", doses),
                    ("treatments.csv", 3, "line", name == "b" and "3" or "2"),
                ],
            )
            assert ingest_submission(extract, db).status == "loaded"
    finally:
        patch.undo()
    return db


def test_a_warning_still_in_the_latest_accepted_extract_stays_open(warned: Path) -> None:
    from toolkit.ledger import query_states

    (query,) = query_states(warned)
    assert (query["rule"], query["record_id"], query["state"]) == ("TRT-DOSES-HIGH", "T1", "open")
    assert query["first_seen"]["received_on"] == "2015-03-20"
    assert query["last_seen"]["received_on"] == "2015-04-20"
    assert query["resolved_by"] is None


def test_an_accepted_extract_without_it_resolves_it_and_the_command_says_so(
    warned: Path, tmp_path: Path
) -> None:
    from toolkit.ledger import query_states

    db = tmp_path / "registry.duckdb"
    db.write_bytes(warned.read_bytes())
    archive = warned.parent / "registry-archive"
    if archive.exists():  # the registry's archive sits beside it
        import shutil

        shutil.copytree(archive, tmp_path / "registry-archive")
    patch = pytest.MonkeyPatch()
    patch.setenv("TOOLKIT_TODAY", "2015-05-20")
    try:
        fixed = write_submission(tmp_path / "c" / "S01", [("treatments.csv", 3, "line", "4")])
        assert ingest_submission(fixed, db).status == "loaded"
    finally:
        patch.undo()
    (query,) = query_states(db)
    assert query["state"] == "resolved"
    assert query["resolved_by"]["received_on"] == "2015-05-20"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "toolkit",
            "queries",
            "--db",
            str(db),
            "--json",
            "--out",
            str(tmp_path / "q"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [query]
    csv_text = (tmp_path / "q" / "queries-S01.csv").read_text(encoding="utf-8-sig")
    header, row = csv_text.splitlines()
    assert header.endswith(",state,first_seen,last_seen,resolved_by,site_answer")
    assert query["query_id"] in row and "resolved" in row
    page = (tmp_path / "q" / "queries.html").read_text(encoding="utf-8")
    flat = " ".join(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1]).split())
    assert "S01 0 1 – –" in flat  # no query open, one resolved
    assert "2015-03 1 0" in flat and "2015-05 0 1" in flat  # first seen in March, resolved in May


def test_the_overview_ages_the_oldest_open_query_from_its_first_day_received() -> None:
    from toolkit.ledger import queries_overview

    def query(site: str, state: str, first: str | None, resolved: str | None = None) -> dict:
        return {
            "site_id": site,
            "state": state,
            "first_seen": {"submission": "x", "received_on": first},
            "resolved_by": {"submission": "y", "received_on": resolved} if resolved else None,
        }

    overview = queries_overview(
        [
            query("S01", "open", "2015-03-01"),
            query("S01", "open", "2015-01-31"),
            query("S01", "resolved", "2015-01-02", "2015-02-10"),
            query("S02", "open", None),  # from before the day received was kept
        ],
        date(2015, 3, 31),
    )
    s01, s02 = overview["sites"]
    assert (s01["open"], s01["resolved"], s01["oldest_open_since"], s01["oldest_open_days"]) == (
        2,
        1,
        "2015-01-31",
        59,
    )
    assert (s02["oldest_open_since"], s02["oldest_open_days"]) == (None, None)
    assert overview["months"] == [
        {"month": "2015-01", "first_seen": 2, "resolved": 0},
        {"month": "2015-02", "first_seen": 0, "resolved": 1},
        {"month": "2015-03", "first_seen": 1, "resolved": 0},
        {"month": "unknown", "first_seen": 1, "resolved": 0},
    ]


def test_a_cutoff_frozen_before_a_newer_extract_says_so_and_how_to_take_it(
    registry: Path, tmp_path: Path
) -> None:
    from toolkit.ledger import newer_than_frozen

    db = tmp_path / "registry.duckdb"
    db.write_bytes(registry.read_bytes())
    assert newer_than_frozen(db, date(2015, 3, 14)) == 0
    newer = write_submission(tmp_path / "newer" / "S01", [("treatments.csv", 3, "line", "3")])
    assert ingest_submission(newer, db).status == "loaded"
    assert newer_than_frozen(db, date(2015, 3, 14)) == 1
    assert newer_than_frozen(db, date(2015, 1, 1)) == 0  # a cutoff never frozen

    def cohort(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "toolkit", "cohort", "--db", str(db), "--cutoff", "2015-03-14",
             "--out", str(tmp_path / "export"), *extra],
            capture_output=True,
            text=True,
        )  # fmt: skip

    stale = cohort()
    assert stale.returncode == 0, stale.stderr
    assert "note: the cutoff 2015-03-14 was frozen on its first use; 1 site sent a newer" in (
        " ".join(stale.stderr.split())
    )
    assert "--refreeze" in stale.stderr
    fresh = cohort("--refreeze")
    assert fresh.returncode == 0 and "note:" not in fresh.stderr
