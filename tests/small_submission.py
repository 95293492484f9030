"""A small clean submission written from Python rows: two patients, every file and rule area.

Tests change it cell by cell (:func:`write_submission`) to put one fault where they want it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

MANIFEST = {"site_id": "S01", "contract_version": "1", "extracted_on": "2015-03-14"}

PATIENTS = [
    {
        "patient_id": "00123",
        "site_id": "S01",
        "sex": "F",
        "birth_year": "1950",
        "diagnosis_date": "2012-05-01",
        "primary_site": "cutaneous",
        "m_stage": "M1c",
        "ecog": "1",
        "ldh_elevated": "yes",
        "brain_metastases": "no",
        "braf_status": "mutant",
        "vital_status": "dead",
        "last_contact_date": "2014-02-01",
        "death_date": "2014-02-01",
        "cause_of_death": "melanoma",
    },
    {
        "patient_id": "P-2",
        "site_id": "S01",
        "sex": "M",
        "birth_year": "1961",
        "diagnosis_date": "2013-01-15",
        "primary_site": "",
        "m_stage": "M1a",
        "ecog": "0",
        "ldh_elevated": "no",
        "brain_metastases": "unknown",
        "braf_status": "wildtype",
        "vital_status": "alive",
        "last_contact_date": "2015-03-01",
        "death_date": "",
        "cause_of_death": "",
    },
]
TREATMENTS = [
    {
        "treatment_id": "T1",
        "patient_id": "00123",
        "agent": "Proleukin",
        "start_date": "2012-06-01",
        "end_date": "2012-06-20",
        "doses": "12",
        "line": "1",
        "best_response": "PD",
    },
    {
        "treatment_id": "T2",
        "patient_id": "00123",
        "agent": "Keytruda",
        "start_date": "2013-01-10",
        "end_date": "",
        "doses": "",
        "line": "2",
        "best_response": "PR",
    },
    {
        "treatment_id": "T3",
        "patient_id": "P-2",
        "agent": "aldesleukin",
        "start_date": "2013-02-01",
        "end_date": "2013-02-10",
        "doses": "14",
        "line": "1",
        "best_response": "SD",
    },
]
ADVERSE_EVENTS = [
    {
        "ae_id": "A1",
        "patient_id": "00123",
        "onset_date": "2012-06-05",
        "term": "hypotension",
        "autoimmune": "no",
        "grade": "3",
        "relatedness": "related",
        "treatment_id": "T1",
        "outcome": "resolved",
    },
    {
        "ae_id": "A2",
        "patient_id": "00123",
        "onset_date": "2013-03-01",
        "term": "colitis",
        "autoimmune": "yes",
        "grade": "2",
        "relatedness": "possibly_related",
        "treatment_id": "",
        "outcome": "",
    },
]
ASSESSMENTS = [
    {"patient_id": "00123", "assessment_date": "2012-08-01", "response": "PD", "method": "RECIST"},
    {"patient_id": "P-2", "assessment_date": "2013-04-01", "response": "SD", "method": ""},
]
TABLES = {
    "patients.csv": PATIENTS,
    "treatments.csv": TREATMENTS,
    "adverse_events.csv": ADVERSE_EVENTS,
    "assessments.csv": ASSESSMENTS,
}


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_submission(
    folder: Path,
    changes: list[tuple[str, int, str, str]] = (),
    raw: dict[str, bytes | None] | None = None,
) -> Path:
    """The clean submission, with ``(file, row, column, value)`` edits (row as the site sees it:
    first data row = 2) and whole files replaced (``None`` removes the file)."""
    tables = {name: [dict(row) for row in rows] for name, rows in TABLES.items()}
    for file, row, column, value in changes:
        tables[file][row - 2][column] = value
    files = {"manifest.json": json.dumps(MANIFEST).encode()}
    files |= {name: csv_bytes(rows) for name, rows in tables.items()}
    files |= raw or {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if data is not None:
            (folder / name).write_bytes(data)
    return folder
