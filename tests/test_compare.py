"""``toolkit compare``: a corrected extract that adds a death and moves a death date, between
two frozen cutoffs, lists both with old and new values; a site that sends nothing new shows
nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from small_submission import write_submission

from toolkit.compare import compare_cutoffs
from toolkit.errors import UsageError
from toolkit.pipeline import analysis_cohort, ingest_submission
from toolkit.study import builtin_study_path, load_study

FIRST, SECOND = date(2015, 3, 14), date(2015, 3, 15)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """S01's first extract frozen for the first cutoff; its next extract (00123's death moved
    from 2014-02-01 to 2014-01-20, P-2 now dead on 2015-02-01) frozen for the second."""
    root = tmp_path_factory.mktemp("compare")
    db = root / "registry.duckdb"
    study = load_study(builtin_study_path())
    assert ingest_submission(write_submission(root / "a" / "S01"), db).status == "loaded"
    analysis_cohort(db, study, FIRST)
    changed = [
        ("patients.csv", 2, "death_date", "2014-01-20"),
        ("patients.csv", 2, "last_contact_date", "2014-01-20"),
        ("patients.csv", 3, "vital_status", "dead"),
        ("patients.csv", 3, "death_date", "2015-02-01"),
        ("patients.csv", 3, "last_contact_date", "2015-02-01"),
        ("patients.csv", 3, "cause_of_death", "melanoma"),
    ]
    outcome = ingest_submission(write_submission(root / "b" / "S01", changed), db)
    assert outcome.status == "loaded", outcome
    analysis_cohort(db, study, SECOND)
    return db


def test_the_new_death_and_the_moved_death_date_are_listed_with_old_and_new(
    registry: Path,
) -> None:
    changes = compare_cutoffs(registry, load_study(builtin_study_path()), FIRST, SECOND)
    (site,) = changes["sites"]
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
    # the headline: the same patients, one more death
    patients = {
        s["stratum"]: (s["from"]["patients"], s["to"]["patients"]) for s in changes["strata"]
    }
    deaths_from = sum(s["from"]["deaths"] for s in changes["strata"])
    deaths_to = sum(s["to"]["deaths"] for s in changes["strata"])
    assert all(a == b for a, b in patients.values()) and deaths_to == deaths_from + 1


def test_the_same_cutoff_twice_or_an_unfrozen_one_is_refused(registry: Path) -> None:
    study = load_study(builtin_study_path())
    with pytest.raises(UsageError, match="must be before"):
        compare_cutoffs(registry, study, SECOND, FIRST)
    with pytest.raises(UsageError, match="was never frozen"):
        compare_cutoffs(registry, study, FIRST, date(2015, 6, 1))


def test_nothing_new_shows_nothing(registry: Path, tmp_path: Path) -> None:
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
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "compare.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(text.split())
    assert "What changed from 2015-03-14 to 2015-03-15" in flat
    assert "00123 date moved: death_date 2014-02-01 2014-01-20" in flat
    assert "P-2 death added: death_date – 2015-02-01" in flat
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
