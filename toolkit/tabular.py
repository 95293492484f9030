"""Writing tables for people: CSV that a spreadsheet cannot execute, and Parquet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be evaluated
as a formula when the CSV is opened in a spreadsheet (CSV injection). Such text cells get a
leading single quote, as OWASP advises; numbers and dates are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "FORMULA_PREFIXES",
    "SPREADSHEET_BOM",
    "spreadsheet_csv",
    "spreadsheet_safe",
    "spreadsheet_safe_frame",
    "write_safe_csv",
    "write_parquet",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: What a CSV for spreadsheets starts with, so that they read its text as UTF-8.
SPREADSHEET_BOM = "\ufeff"


def spreadsheet_safe(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A few rows as CSV for a spreadsheet: RFC 4180 (CRLF, fields quoted when needed), a
    UTF-8 byte-order mark, every cell formula-safe, a missing value empty."""
    buffer = io.StringIO(newline="")
    buffer.write(SPREADSHEET_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = ("" if row.get(name) is None else str(row[name]) for name in header)
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def spreadsheet_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell that a spreadsheet would evaluate prefixed by ``'``."""
    pattern = "^[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def write_safe_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV (``\\n`` line ends), formula-safe, atomically."""
    partial = path.with_name(path.name + ".partial")
    spreadsheet_safe_frame(frame).write_csv(partial, line_terminator="\n")
    partial.replace(path)
    return path


def write_parquet(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as Parquet (values exactly as computed), atomically."""
    partial = path.with_name(path.name + ".partial")
    frame.write_parquet(partial, statistics=False)
    partial.replace(path)
    return path
