"""``toolkit compare``: a broken extract (rejected), then its corrected version that adds a death
and moves a death date: between two frozen cutoffs, the ledger shows both extracts, the query
is resolved, and the comparison lists the death and the edit with old and new values. A third
extract moves a patient out of the analysis and another into a different stratum, and a fourth
leaves a patient out; the second site sends nothing new and has no change."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from small_submission import MANIFEST, TABLES, csv_bytes, write_submission

from toolkit.errors import UsageError
from toolkit.pipeline import analysis_cohort, compare_cutoffs, ingest_submission
from toolkit.study import builtin_study_path, load_study

FIRST, SECOND, THIRD, FOURTH = (date(2015, 3, day) for day in (14, 15, 16, 17))
#: The second extract: 00123's death moved from 2014-02-01 to 2014-01-20, P-2 now dead.
CORRECTED = [
    ("patients.csv", 2, "death_date", "2014-01-20"),
    ("patients.csv", 2, "last_contact_date", "2014-01-20"),
    ("patients.csv", 3, "vital_status", "dead"),
    ("patients.csv", 3, "death_date", "2015-02-01"),
    ("patients.csv", 3, "last_contact_date", "2015-02-01"),
    ("patients.csv", 3, "cause_of_death", "melanoma"),
]


def _site_s02(folder: Path) -> Path:
    """The same two patients sent by a second site S02, which sends nothing after."""
    site = [("patients.csv", row, "site_id", "S02") for row in (2, 3)]
    manifest = json.dumps({**MANIFEST, "site_id": "S02"}).encode()
    return write_submission(folder, site, raw={"manifest.json": manifest})


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """S01's and S02's first extracts frozen for the first cutoff; S01's next extract sent broken
    (rejected),
    then corrected (:data:`CORRECTED`), frozen for the second; a third extract, frozen for the
    third cutoff, gives P-2's IL-2 course as pembrolizumab (no index therapy) and 00123's
    later course as ipilimumab; a fourth, frozen for the fourth cutoff, leaves P-2 out."""
    root = tmp_path_factory.mktemp("compare")
    db = root / "registry.duckdb"
    study = load_study(builtin_study_path())
    assert ingest_submission(write_submission(root / "a" / "S01"), db).status == "loaded"
    assert ingest_submission(_site_s02(root / "s02" / "S02"), db).status == "loaded"
    analysis_cohort(db, study, FIRST)
    broken = [*CORRECTED, ("patients.csv", 2, "sex", "X")]
    assert ingest_submission(write_submission(root / "broken" / "S01", broken), db).status == (
        "rejected"
    )
    outcome = ingest_submission(write_submission(root / "b" / "S01", CORRECTED), db)
    assert outcome.status == "loaded", outcome
    analysis_cohort(db, study, SECOND)
    moved = [*CORRECTED, ("treatments.csv", 4, "agent", "Keytruda"),
             ("treatments.csv", 3, "agent", "Yervoy")]  # fmt: skip
    outcome = ingest_submission(write_submission(root / "c" / "S01", moved), db)
    assert outcome.status == "loaded", outcome
    analysis_cohort(db, study, THIRD)
    outcome = ingest_submission(_without_p2(root / "d" / "S01"), db)
    assert outcome.status == "loaded", outcome
    analysis_cohort(db, study, FOURTH)
    return db


def _without_p2(folder: Path) -> Path:
    """The first extract without P-2: none of its rows in any file."""
    kept = {
        name: csv_bytes([row for row in rows if row["patient_id"] != "P-2"])
        for name, rows in TABLES.items()
    }
    return write_submission(folder, raw=kept)


def test_the_new_death_and_the_moved_death_date_are_listed_with_old_and_new(
    registry: Path,
) -> None:
    changes = compare_cutoffs(registry, load_study(builtin_study_path()), FIRST, SECOND)
    (site,) = changes["sites"]  # S02 sent nothing new: it has no change
    assert site["site_id"] == "S01"
    (added,) = site["deaths_added"]
    assert (added["patient_id"], added["old_value"], added["new_value"]) == (
        "P-2",
        None,
        "2015-02-01",
    )
    moved = [c for c in site["dates_changed"] if c["field"] == "death_date"]
    assert [(c["patient_id"], c["old_value"], c["new_value"]) for c in moved] == [
        ("00123", "2014-02-01", "2014-01-20")
    ]
    assert moved[0]["old_submission"] != moved[0]["new_submission"]
    assert site["new_patients"] == site["patients_dropped"] == []
    assert changes["totals"]["deaths_added"] == 1
    # the headline: the same patients, S01's P-2 (HD IL-2 only) now dead; S02's twins of them
    # unchanged; 00123 (IL-2 → anti-PD-1) dead at both
    numbers = {
        g["key"]: ((g["from"]["n"], g["from"]["events"]), (g["to"]["n"], g["to"]["events"]))
        for g in changes["headline"]["groups"]
    }
    assert numbers == {
        "overall": ((4, 2), (4, 3)),
        "il2_only": ((2, 0), (2, 1)),
        "il2_ipi": ((0, 0), (0, 0)),
        "il2_pd1": ((2, 2), (2, 2)),
    }
    assert changes["headline"]["landmarks"] == [12.0, 24.0]


def test_a_patient_who_left_the_analysis_and_a_changed_stratum_are_listed_with_the_reason(
    registry: Path,
) -> None:
    changes = compare_cutoffs(registry, load_study(builtin_study_path()), SECOND, THIRD)
    (site,) = changes["sites"]
    (left,) = site["patients_left_analysis"]
    assert (left["patient_id"], left["old_value"], left["new_value"]) == (
        "P-2",
        "HD IL-2 only",
        "not analysed: no index therapy course on or before the cutoff",
    )
    (moved,) = site["strata_changed"]
    assert (moved["patient_id"], moved["old_value"], moved["new_value"]) == (
        "00123",
        "IL-2 → anti-PD-1",
        "IL-2 → ipilimumab",
    )
    assert site["patients_entered_analysis"] == site["deaths_added"] == []
    assert moved["old_submission"] != moved["new_submission"]
    assert {k: v for k, v in changes["totals"].items() if v} == {
        "patients_left_analysis": 1,
        "strata_changed": 1,
    }


def test_the_sponsor_edition_holds_counts_only(registry: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "compare", "--db", str(registry), "--from",
         "2015-03-14", "--to", "2015-03-15", "--out", str(tmp_path), "--edition", "sponsor"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    assert written["edition"] == "sponsor" and written["sites"] == []
    assert written["totals"]["deaths_added"] == written["totals"]["dates_changed"] == "<11"
    assert "patients_left_analysis" not in written["totals"]
    text = _pdf_text(tmp_path / "compare.pdf")
    for kept in (tmp_path / "compare.json").read_text(encoding="utf-8"), text:
        for identifier in ("00123", "P-2", "S01", "2014-01-20"):
            assert identifier not in kept
    assert "sponsor edition" in text.lower()


def _pdf_text(path: Path) -> str:
    """The PDF's text, read back with poppler."""
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_same_cutoff_twice_or_an_unfrozen_one_is_refused(registry: Path) -> None:
    study = load_study(builtin_study_path())
    with pytest.raises(UsageError, match="must be before"):
        compare_cutoffs(registry, study, SECOND, FIRST)
    with pytest.raises(UsageError, match="was never frozen"):
        compare_cutoffs(registry, study, FIRST, date(2015, 6, 1))


def test_the_command_writes_the_json_and_the_document(registry: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "compare", "--db", str(registry), "--from",
         "2015-03-14", "--to", "2015-03-14", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "compare", "--db", str(registry), "--from",
         "2015-03-14", "--to", "2015-03-15", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == written
    assert written["totals"]["deaths_added"] == 1
    # the same changes as a document, read back from the PDF with poppler
    text = _pdf_text(tmp_path / "compare.pdf")
    flat = " ".join(text.split())
    assert "What changed from 2015-03-14 to 2015-03-15" in flat
    assert "00123 date moved: death_date 2014-02-01 2014-01-20" in flat
    assert "P-2 death added: death_date – 2015-02-01" in flat
    assert "Headline numbers, naive" in flat and "Headline numbers, immortal time removed" in flat
    assert "<script" not in (tmp_path / "compare.html").read_text(encoding="utf-8")


def test_the_report_of_the_later_cutoff_says_what_changed_since_the_earlier(
    registry: Path, tmp_path: Path
) -> None:
    import re

    from toolkit.pipeline import build_report

    files = build_report(registry, builtin_study_path(), SECOND, tmp_path, formats=("html",))
    since = json.loads(files.results.read_text(encoding="utf-8"))["provenance"]["since_previous"]
    assert since == {
        "previous_cutoff": "2015-03-14",
        "new_patients": 0,
        "patients_dropped": 0,
        "deaths_added": 1,
        "dates_changed": 1,
        "treatment_dates_changed": 0,
    }
    page = files.html.read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1]).split())
    assert "Since the previous cutoff (14 March 2015): 0 new patients" in text
    assert "1 death added; 1 reported death or diagnosis date and 0 treatment dates moved" in text


def test_the_ledger_shows_the_rejected_extract_and_its_query_resolved_by_the_correction(
    registry: Path,
) -> None:
    from toolkit.ledger import query_states, submission_ledger

    s01, s02 = submission_ledger(registry)["sites"]
    assert [(s["status"], s["in_force"]) for s in s02["submissions"]] == [("accepted", True)]
    statuses = [s["status"] for s in s01["submissions"]]
    assert statuses == ["accepted", "rejected", "accepted", "accepted", "accepted"]
    (query,) = query_states(registry)
    assert (query["patient_id"], query["rule"], query["state"]) == (
        "00123",
        "PAT-SEX-CODE",
        "resolved",
    )


def test_compare_json_has_the_declared_shape(registry: Path) -> None:
    from toolkit.results import UndeclaredContext, declared

    changes = compare_cutoffs(registry, load_study(builtin_study_path()), FIRST, SECOND)
    assert declared(changes, shape="compare") == changes
    changes["headline"]["groups"][0]["to"]["n"] = -1
    with pytest.raises(UndeclaredContext, match=r"compare context .* headline\.groups\.0\.to\.n"):
        declared(changes, shape="compare")


def test_a_patient_gone_from_the_extract_is_listed_as_dropped(registry: Path) -> None:
    changes = compare_cutoffs(registry, load_study(builtin_study_path()), THIRD, FOURTH)
    (site,) = changes["sites"]
    (dropped,) = site["patients_dropped"]
    assert (dropped["patient_id"], dropped["new_submission"]) == ("P-2", None)
    assert site["patients_left_analysis"] == []  # P-2 was not analysed at the third cutoff


# --- the sequence on the demo registry, through the commands ------------------------------------


def _toolkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=600
    )


def _next_extract(source: Path, folder: Path, *, broken: bool) -> tuple[Path, str, str]:
    """S01's extract of 2015-09-16: its first patient alive at the demo's extract now dead on
    the day last seen, and its first dead patient's death a week later; ``broken``: with one
    patient's sex sent as "X". Returns the folder, the new death's patient and the moved one's."""
    import csv
    import io
    import shutil
    from datetime import timedelta

    shutil.copytree(source, folder)
    path = folder / "patients.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    alive = next(r for r in rows if r["vital_status"] == "alive")
    dead = next(r for r in rows if r["vital_status"] == "dead")
    alive |= {"vital_status": "dead", "death_date": alive["last_contact_date"]}
    alive["cause_of_death"] = "melanoma"
    later = (date.fromisoformat(dead["death_date"]) + timedelta(days=7)).isoformat()
    dead |= {"death_date": later, "last_contact_date": later}
    if broken:
        rows[-1]["sex"] = "X"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["extracted_on"] = "2015-09-16"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder, alive["patient_id"], dead["patient_id"]


def test_demo_then_a_broken_extract_then_its_correction(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "registry.duckdb"
    shutil.copyfile(demo_dir / "registry.duckdb", db)
    source = demo_dir / "submissions" / "S01"
    broken, _, _ = _next_extract(source, tmp_path / "broken" / "S01", broken=True)
    fixed, died, moved = _next_extract(source, tmp_path / "fixed" / "S01", broken=False)

    assert _toolkit("ingest", str(broken), "--db", str(db)).returncode == 1
    opened = json.loads(_toolkit("queries", "--db", str(db), "--site", "S01", "--json").stdout)
    (query,) = [q for q in opened if q["rule"] == "PAT-SEX-CODE"]
    assert query["state"] == "open"

    assert _toolkit("ingest", str(fixed), "--db", str(db)).returncode == 0
    later = json.loads(_toolkit("queries", "--db", str(db), "--site", "S01", "--json").stdout)
    (same,) = [q for q in later if q["query_id"] == query["query_id"]]
    assert same["state"] == "resolved"

    status = json.loads(_toolkit("status", "--db", str(db), "--json").stdout)
    (s01,) = [site for site in status["sites"] if site["site_id"] == "S01"]
    assert [(s["status"], s["in_force"]) for s in s01["submissions"]] == [
        ("accepted", False),
        ("rejected", False),
        ("accepted", True),
    ]

    report = _toolkit("report", "--db", str(db), "--cutoff", "2015-09-16", "--format", "html",
                      "--out", str(tmp_path / "report"))  # fmt: skip
    assert report.returncode == 0, report.stderr
    done = _toolkit("compare", "--db", str(db), "--from", "2015-03-16", "--to", "2015-09-16",
                    "--out", str(tmp_path / "changes"), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    changes = json.loads(done.stdout)
    reported = ("new_patients", "patients_dropped", "deaths_added", "dates_changed")
    edited = [s for s in changes["sites"] if any(s[kind] for kind in reported)]
    assert [s["site_id"] for s in edited] == ["S01"]  # the other sites sent nothing new
    (site,) = edited
    assert [c["patient_id"] for c in site["deaths_added"]] == [died]
    (edit,) = [c for c in site["dates_changed"] if c["field"] == "death_date"]
    assert edit["patient_id"] == moved
    assert date.fromisoformat(edit["new_value"]) - date.fromisoformat(edit["old_value"]) == (
        date(2000, 1, 8) - date(2000, 1, 1)
    )
