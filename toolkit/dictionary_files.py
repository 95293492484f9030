"""The data dictionary as files sites fill in: ``dictionary.csv``, a REDCap data dictionary and
empty template CSVs, all generated from :func:`toolkit.dictionary.dictionary_context` (the
schemas validation enforces), so none can disagree with ``toolkit validate``.

``redcap_data_dictionary.csv`` follows REDCap's data dictionary layout (its 18 columns, in their
order and with their exact headers). Each contract CSV is an instrument (form) named after the
file; ``patients`` comes first and its ``patient_id`` is the record id, so the other forms (one
row per course, event or assessment: REDCap repeating instruments) leave it out and belong to
the record. REDCap variable names are unique in a project: a column name a form repeats from an
earlier one (``treatment_id`` in adverse events) takes the form's prefix (``ae_treatment_id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from schemas import codes as c

from .tabular import spreadsheet_csv

__all__ = ["REDCAP_COLUMNS", "dictionary_csv", "redcap_csv", "template_files"]

#: REDCap's data dictionary columns, in order, as REDCap writes and reads them.
REDCAP_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

#: ``dictionary.csv``'s columns: one row per file and column.
DICTIONARY_COLUMNS = (
    "file",
    "column",
    "type",
    "required",
    "allowed_values",
    "description",
    "rules",
)

#: The bounds of the whole-number columns (the RANGE rules'), for REDCap's validation limits.
_BOUNDS: dict[tuple[str, str], tuple[int | None, int | None]] = {
    ("patients.csv", "birth_year"): (c.BIRTH_YEAR_MIN, None),
    ("patients.csv", "ecog"): c.ECOG_RANGE,
    ("treatments.csv", "doses"): (c.DOSES_MIN, None),
    ("treatments.csv", "line"): c.LINE_RANGE,
    ("adverse_events.csv", "grade"): c.GRADE_RANGE,
}
_RECORD_ID = "patient_id"


def _allowed(column: Mapping[str, Any]) -> str:
    values = column["values"]
    return " | ".join(values["codes"]) if values["codes"] else "; ".join(values["notes"])


def dictionary_csv(context: Mapping[str, Any]) -> bytes:
    """``dictionary.csv``: per file and column its type, requirement, allowed values or range,
    description and the ids of the rules that check it."""
    rows = [
        {
            "file": file["name"],
            "column": column["name"],
            "type": column["type"],
            "required": column["requirement"]["text"],
            "allowed_values": _allowed(column),
            "description": column["description"],
            "rules": " ".join(rule["id"] for rule in column["rules"]),
        }
        for file in context["files"]
        for column in file["columns"]
    ]
    return spreadsheet_csv(DICTIONARY_COLUMNS, rows)


def _redcap_field(file: str, column: Mapping[str, Any], name: str) -> dict[str, str]:
    kind, values = column["kind"], column["values"]
    field = {
        "Variable / Field Name": name,
        "Form Name": file.removesuffix(".csv"),
        "Field Type": "text",
        "Field Label": column["description"] or column["name"],
        "Field Note": "; ".join(values["notes"]),
        "Identifier?": "y" if column["name"] == _RECORD_ID else "",
        "Required Field?": "y" if column["requirement"]["level"] == "required" else "",
        "Field Annotation": " ".join(rule["id"] for rule in column["rules"]),
    }
    if kind == "code" and values["codes"]:
        field["Field Type"] = "dropdown"
        field["Choices, Calculations, OR Slider Labels"] = " | ".join(
            f"{code}, {code}" for code in values["codes"]
        )
    elif kind == "date":
        field["Text Validation Type OR Show Slider Number"] = "date_ymd"
    elif kind == "integer":
        field["Text Validation Type OR Show Slider Number"] = "integer"
        low, high = _BOUNDS.get((file, column["name"]), (None, None))
        field["Text Validation Min"] = "" if low is None else str(low)
        field["Text Validation Max"] = "" if high is None else str(high)
    return field


def redcap_csv(context: Mapping[str, Any]) -> bytes:
    """``redcap_data_dictionary.csv``: the contract's CSV files as REDCap instruments."""
    rows, seen = [], set()
    for file in context["files"]:
        if file["name"] not in c.FILE_PREFIX:  # manifest.json is no instrument
            continue
        prefix = c.FILE_PREFIX[file["name"]].lower()
        for column in file["columns"]:
            if column["name"] == _RECORD_ID and _RECORD_ID in seen:
                continue  # the record itself
            name = column["name"] if column["name"] not in seen else f"{prefix}_{column['name']}"
            seen.add(column["name"])
            rows.append(_redcap_field(file["name"], column, name))
    return spreadsheet_csv(REDCAP_COLUMNS, rows)


def template_files(context: Mapping[str, Any]) -> dict[str, bytes]:
    """``templates/<file>``: each contract CSV with its header only, and a filled
    ``manifest.json`` example."""
    files = {}
    for file in context["files"]:
        names = [column["name"] for column in file["columns"]]
        if file["name"] == c.MANIFEST_FILE:
            example = {"site_id": "S01", "contract_version": c.CONTRACT_VERSION}
            example["extracted_on"] = c.DATE_EXAMPLE
            files[file["name"]] = (json.dumps(example, indent=2) + "\n").encode("utf-8")
        else:
            files[file["name"]] = (",".join(names) + "\r\n").encode("utf-8")
    return files
