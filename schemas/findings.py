"""A finding of the submission contract, in one place: its fields, in order, and its severities.

Every stage that produces or reads findings (the table checks, the cross-file checks, the
steward's report, the ingest log) takes them from here, as pandera keeps its errors in one
module.
"""

from __future__ import annotations

from typing import Literal, get_args

import polars as pl

__all__ = ["FINDING_FIELDS", "FINDING_SCHEMA", "SEVERITIES", "Severity"]

#: An error rejects the whole submission; a warning becomes a query to the site.
Severity = Literal["error", "warning"]
#: The severities, the most serious first (the steward's report lists them in this order).
SEVERITIES: tuple[str, ...] = get_args(Severity)

#: The columns of a findings frame, in order, with their types.
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
}
#: The fields of a finding, in order.
FINDING_FIELDS: tuple[str, ...] = tuple(FINDING_SCHEMA)
