"""A finding of the submission contract, in one place: its fields, in order, and its severities.

Every stage that produces or reads findings (the table checks, the cross-file checks, the
steward's report, the ingest log) takes them from here, as pandera keeps its errors in one
module.
"""

from __future__ import annotations

from typing import Literal, get_args

import polars as pl

__all__ = ["FINDING_FIELDS", "FINDING_SCHEMA", "RECORD_ID_COLUMNS", "SEVERITIES", "Severity"]

#: An error rejects the whole submission; a warning becomes a query to the site.
Severity = Literal["error", "warning"]
#: The severities, the most serious first (the steward's report lists them in this order).
SEVERITIES: tuple[str, ...] = get_args(Severity)

#: The columns of a findings frame, in order, with their types. ``query_id`` is stable across
#: extracts (site, record, rule and column, not the row); ``patient_id`` and ``record_id``
#: (the row's own identifier, :data:`RECORD_ID_COLUMNS`) name the record as the site knows it;
#: ``compared`` holds the other values the rule compared ``value`` with, named.
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "query_id": pl.String(),
    "file": pl.String(),
    "row": pl.Int64(),
    "patient_id": pl.String(),
    "record_id": pl.String(),
    "column": pl.String(),
    "value": pl.String(),
    "compared": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
}
#: The fields of a finding, in order.
FINDING_FIELDS: tuple[str, ...] = tuple(FINDING_SCHEMA)
#: The column that identifies a row of each file besides its patient (none in patients.csv,
#: whose record is the patient, or in assessments.csv, which has no identifier of its own).
RECORD_ID_COLUMNS: dict[str, str] = {
    "treatments.csv": "treatment_id",
    "adverse_events.csv": "ae_id",
}
