"""The time / event / group input table: read from CSV or Parquet, missing rows counted.

A row whose time, event or group is missing is left out of the analysis and counted in
``missing_time``, ``missing_event`` or ``missing_group`` (each row in the first of these that
applies), never dropped silently. A value that is present but unusable — a time that is not a
non-negative number, an event other than 0/1/true/false — is an :class:`~toolkit.errors.InputError`
naming the file, the row and the column.

Rows are numbered as in the file: in a CSV file the header is row 1 and the first data row is
row 2 (a quoted value spanning lines shifts the count); in a Parquet file, which has no header
line, the first record is record 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.errors import InputError, UsageError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["SurvivalTable", "read_survival_table", "survival_table", "MISSING_TOKENS"]

MISSING_TOKENS = ("", "na", "nan", "null", "none", "n/a", ".")
"""Text read as a missing value (compared case-insensitively after trimming spaces)."""

TRUE_TOKENS, FALSE_TOKENS = ("1", "true"), ("0", "false")

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, eq=False)
class SurvivalTable:
    """Time, event and (optionally) group of the analysable rows of a table.

    Attributes
    ----------
    source : str
        Where the rows came from (the file path).
    time_column, event_column, group_column : str
        Column names (``group_column`` is ``None`` without groups).
    time : numpy.ndarray
        Follow-up times (float), non-negative.
    event : numpy.ndarray
        True for the event, False for censoring.
    group : numpy.ndarray or None
        Integer code of each row's group, indexing ``groups``.
    groups : tuple of str
        Group labels (the values as text), numerically sorted when every value is a number,
        else sorted as text.
    rows : int
        Rows read, analysable or not.
    missing_time, missing_event, missing_group : int
        Rows left out: time missing; else event missing; else group missing.
    """

    source: str
    time_column: str
    event_column: str
    group_column: str | None
    time: np.ndarray
    event: np.ndarray
    group: np.ndarray | None
    groups: tuple[str, ...]
    rows: int
    missing_time: int
    missing_event: int
    missing_group: int

    @property
    def n(self) -> int:
        """Analysable rows."""
        return int(self.time.size)

    def excluded(self) -> dict[str, int]:
        """Rows left out, by reason."""
        return {
            "missing_time": self.missing_time,
            "missing_event": self.missing_event,
            "missing_group": self.missing_group,
        }

    def group_labels(self) -> np.ndarray | None:
        """The group of each row as text (``None`` without groups)."""
        if self.group is None:
            return None
        return np.asarray(self.groups, dtype=object)[self.group]


def read_survival_table(
    path: str | Path, *, time: str, event: str, group: str | None = None
) -> SurvivalTable:
    """Read the time, event and group columns of a CSV or Parquet file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` (also ``.tsv``, ``.txt``) or ``.parquet`` file.
    time, event : str
        Names of the time column (non-negative numbers) and of the event column (0/1,
        true/false; 1 or true is the event).
    group : str, optional
        Name of the group column.

    Returns
    -------
    SurvivalTable

    Raises
    ------
    UsageError
        The file cannot be read, has an unknown suffix, or lacks a named column.
    InputError
        A value is present but unusable; the message names file, row and column.
    """
    path = Path(path)
    columns = [c for c in (time, event, group) if c is not None]
    frame, first_row, unit = _read(path, columns)
    return survival_table(
        frame, time=time, event=event, group=group, source=str(path), first_row=first_row, unit=unit
    )


def _read(path: Path, columns: list[str]) -> tuple[pl.DataFrame, int, str]:
    """The named columns (CSV as text), the number of the first data row, and its unit."""
    import polars as pl

    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES and suffix not in PARQUET_SUFFIXES:
        raise UsageError(f"{path}: not a CSV or Parquet file (suffix .csv, .tsv or .parquet)")
    try:
        if suffix in PARQUET_SUFFIXES:
            _check_columns(path, list(pl.read_parquet_schema(path)), columns)
            return pl.read_parquet(path, columns=columns), 1, "record"
        sep = CSV_SUFFIXES[suffix]
        header = pl.read_csv(path, separator=sep, n_rows=0, infer_schema=False).columns
        _check_columns(path, header, columns)
        frame = pl.read_csv(path, separator=sep, columns=columns, infer_schema=False)
        return frame, 2, "row"
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _check_columns(path: Path, present: list[str], wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UsageError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; "
            f"the columns are {', '.join(present)}"
        )


def survival_table(
    frame: pl.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    source: str = "data",
    first_row: int = 1,
    unit: str = "row",
) -> SurvivalTable:
    """Check and convert the columns of a polars DataFrame.

    Parameters
    ----------
    frame : polars.DataFrame
        The data; text columns are parsed, numeric and boolean columns taken as they are.
    time, event, group : str
        Column names (``group`` optional).
    source : str
        Name of the data in messages.
    first_row, unit : int, str
        Number and name of the first row in messages (CSV: 2, "row"; Parquet: 1, "record").

    Returns
    -------
    SurvivalTable
    """
    where = _Where(source, first_row, unit)
    t = _times(frame[time], where)
    e = _events(frame[event], where)
    g_missing, codes, labels = _groups(frame[group]) if group else (None, None, ())
    missing_time = np.isnan(t)
    missing_event = ~missing_time & (e < 0)
    keep = ~missing_time & ~missing_event
    missing_group = 0
    if g_missing is not None:
        missing_group = int((keep & g_missing).sum())
        keep &= ~g_missing
        codes, labels = _compact(codes[keep], labels)
    return SurvivalTable(
        source=source,
        time_column=time,
        event_column=event,
        group_column=group,
        time=t[keep],
        event=e[keep] == 1,
        group=codes,
        groups=tuple(labels),
        rows=frame.height,
        missing_time=int(missing_time.sum()),
        missing_event=int(missing_event.sum()),
        missing_group=missing_group,
    )


@dataclass(frozen=True)
class _Where:
    source: str
    first_row: int
    unit: str

    def error(self, column: str, bad: np.ndarray, values: list, problem: str) -> InputError:
        """An error naming the first bad row of ``column``."""
        index = np.flatnonzero(bad)
        first = int(index[0])
        more = f" ({index.size} {self.unit}s in all)" if index.size > 1 else ""
        return InputError(
            f"{self.source}: {self.unit} {first + self.first_row}, column {column!r}: "
            f"{problem}, got {values[first]!r}{more}"
        )


def _missing_text(series: pl.Series) -> pl.Series:
    """Text trimmed, with the missing tokens as null."""
    import polars as pl

    text = series.str.strip_chars()
    return pl.select(
        pl.when(text.str.to_lowercase().is_in(MISSING_TOKENS)).then(None).otherwise(text)
    ).to_series()


def _times(series: pl.Series, where: _Where) -> np.ndarray:
    """Times as float, missing as NaN; an unusable value raises ``InputError``."""
    import polars as pl

    name = series.name
    if series.dtype == pl.String:
        text = _missing_text(series)
        values = text.cast(pl.Float64, strict=False)
        bad = (values.is_null() & text.is_not_null()).to_numpy()
        if bad.any():
            raise where.error(name, bad, series.to_list(), "time is not a number")
    elif series.dtype.is_numeric():
        values = series.cast(pl.Float64)
    else:
        raise InputError(f"{where.source}: column {name!r} holds {series.dtype} values, not times")
    t = values.fill_null(np.nan).to_numpy().astype(float)
    bad = np.isinf(t) | (t < 0)
    if bad.any():
        raise where.error(name, bad, series.to_list(), "time must be a non-negative number")
    return t


def _events(series: pl.Series, where: _Where) -> np.ndarray:
    """Events as 1/0, missing as -1; a value other than 0/1/true/false raises ``InputError``."""
    import polars as pl

    name = series.name
    if series.dtype == pl.Boolean:
        return series.cast(pl.Int8).fill_null(-1).to_numpy().astype(np.int8)
    if series.dtype == pl.String:
        text = _missing_text(series).str.to_lowercase()
        as_word = text.replace_strict(
            TRUE_TOKENS + FALSE_TOKENS, [1.0, 1.0, 0.0, 0.0], default=None, return_dtype=pl.Float64
        )
        values = as_word.fill_null(text.cast(pl.Float64, strict=False))
        present = text.is_not_null().to_numpy()
    elif series.dtype.is_numeric():
        values = series.cast(pl.Float64)
        present = (series.is_not_null() & ~values.is_nan()).to_numpy()
    else:
        raise InputError(f"{where.source}: column {name!r} holds {series.dtype} values, not events")
    v = values.fill_null(np.nan).to_numpy().astype(float)
    bad = present & ~np.isin(v, (0.0, 1.0))
    if bad.any():
        raise where.error(name, bad, series.to_list(), "event must be 0/1 or true/false")
    return np.where(present, v, -1).astype(np.int8)


def _groups(series: pl.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Missing mask, integer codes and labels (numeric order if every value is a number)."""
    import polars as pl

    if not (series.dtype == pl.String or series.dtype.is_numeric()):
        series = series.cast(pl.String)
    if series.dtype == pl.String:
        text = _missing_text(series)
        numeric = text.cast(pl.Float64, strict=False)
        key = numeric if numeric.null_count() == text.null_count() else text
    elif series.dtype.is_float():
        key = series.fill_nan(None)
        text = key
    else:
        key = text = series
    missing = key.is_null().to_numpy()
    codes = (key.rank("dense") - 1).fill_null(0).to_numpy().astype(np.int64)
    labels = pl.DataFrame({"code": codes, "label": text, "missing": missing})
    labels = labels.filter(~pl.col("missing")).unique("code", keep="first").sort("code")
    return missing, codes, [_as_text(v) for v in labels["label"].to_list()]


def _compact(codes: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes renumbered over the groups that still have rows (others were all excluded)."""
    present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    renumber = np.zeros(len(labels), dtype=np.int64)
    renumber[present] = np.arange(present.size)
    return renumber[codes], [labels[i] for i in present.tolist()]


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
