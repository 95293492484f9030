"""The time / event / group input table: read from CSV or Parquet, missing rows counted.

A row whose time, event or group is missing is left out of the analysis and counted in
``missing_time``, ``missing_event`` or ``missing_group`` (each row in the first of these that
applies), never dropped silently. A value that is present but unusable — a time that is not a
finite non-negative number (NaN and infinity included), an event other than 0/1/true/false, a
group that is a list or a struct — is an :class:`~toolkit.errors.InputError` naming the file,
the row, the column and the rule; so is a group column with more than :data:`MAX_GROUPS`
distinct values. A file that cannot be read (empty, binary, not UTF-8, a corrupt Parquet file)
or lacks a named column is a :class:`~toolkit.errors.UsageError` that says so in one line.

Rows are numbered as in the file: in a CSV file the header is row 1 and the first data row is
row 2 (a quoted value spanning lines shifts the count); in a Parquet file, which has no header
line, the first record is record 1.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from toolkit.errors import InputError, UsageError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "SurvivalTable",
    "read_survival_table",
    "survival_table",
    "MISSING_TOKENS",
    "MAX_GROUPS",
]

MISSING_TOKENS = ("", "na", "nan", "null", "none", "n/a", ".")
"""Text read as a missing value (compared case-insensitively after trimming spaces)."""

TRUE_TOKENS, FALSE_TOKENS = ("1", "true"), ("0", "false")

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SAMPLE_BYTES = 8192
"""Bytes read to tell an empty or binary file from a CSV file."""

MAX_GROUPS = 100
"""Most distinct groups compared: more is almost surely an identifier column, and the log-rank
matrix (event times × groups) would not fit in memory."""


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
    path: str | Path,
    *,
    time: str,
    event: str,
    group: str | None = None,
    max_groups: int = MAX_GROUPS,
    event_from_cnsr: bool = False,
) -> SurvivalTable:
    """Read the time, event and group columns of a CSV or Parquet file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` (also ``.tsv``, ``.txt``; UTF-8, a byte-order mark allowed) or ``.parquet``
        file.
    time, event : str
        Names of the time column (non-negative numbers) and of the event column (0/1,
        true/false; 1 or true is the event).
    group : str, optional
        Name of the group column (text, numbers, true/false, categories or dates).
    max_groups : int
        Most distinct groups accepted (:data:`MAX_GROUPS`).
    event_from_cnsr : bool
        The event column is a CDISC ADaM censoring code (``CNSR``: 0 the event, a positive
        integer censored), as ``toolkit cohort``'s adtte holds it.

    Returns
    -------
    SurvivalTable

    Raises
    ------
    UsageError
        The file cannot be read (empty, binary, not UTF-8, a row with too many fields, a
        corrupt Parquet file), has an unknown suffix, lacks a named column or names one twice,
        or the same column is named for two roles.
    InputError
        A value is present but unusable; the message names file, row and column.
    """
    path = Path(path)
    columns = _distinct_columns(time=time, event=event, group=group)
    frame, first_row, unit = _read(path, columns)
    return survival_table(
        frame,
        time=time,
        event=event,
        group=group,
        source=str(path),
        first_row=first_row,
        unit=unit,
        max_groups=max_groups,
        event_from_cnsr=event_from_cnsr,
    )


def _distinct_columns(**roles: str | None) -> list[str]:
    """The named columns; one column named for two roles (``--time t --event t``) is refused."""
    named = {role: column for role, column in roles.items() if column is not None}
    for role, column in named.items():
        others = [r for r, c in named.items() if c == column and r != role]
        if others:
            raise UsageError(
                f"--{role} and --{others[0]} both name column {column!r}; "
                "each must be a different column"
            )
    return list(named.values())


def _read(path: Path, columns: list[str]) -> tuple[pl.DataFrame, int, str]:
    """The named columns (CSV as text), the number of the first data row, and its unit."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, columns), 1, "record"
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, CSV_SUFFIXES[suffix], columns), 2, "row"
    raise UsageError(f"{path}: not a CSV or Parquet file (suffix .csv, .tsv or .parquet)")


def _read_parquet(path: Path, columns: list[str]) -> pl.DataFrame:
    import polars as pl

    try:
        _check_columns(path, list(pl.read_parquet_schema(path)), columns)
        return pl.read_parquet(path, columns=columns)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UsageError(
            f"{path}: not a readable Parquet file, corrupt or truncated ({_first_line(exc)})"
        ) from None


def _read_csv(path: Path, separator: str, columns: list[str]) -> pl.DataFrame:
    import polars as pl

    header = _csv_header(path, separator)
    _check_columns(path, header, columns)
    try:
        return pl.read_csv(path, separator=separator, columns=columns, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        problem = _csv_problem(path, separator, len(header)) or "cannot read it as CSV"
        raise UsageError(f"{path}: {problem} ({_first_line(exc)})") from None


def _csv_header(path: Path, separator: str) -> list[str]:
    """Column names of the first record, read by Python's ``csv`` (which polars agrees with).

    An empty file, binary data (a NUL byte in the first 8 KiB) and a header that is not UTF-8
    are refused here, with messages that say so, rather than as polars errors.
    """
    try:
        with path.open("rb") as file:
            sample = file.read(CSV_SAMPLE_BYTES)
            file.seek(0)
            raw = _first_record(file)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not sample.strip():
        raise UsageError(f"{path}: the file is empty (no header row)")
    if b"\x00" in sample:
        raise UsageError(f"{path}: not a CSV file (it holds binary data)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: row 1 (the header) is not UTF-8 text") from None
    return next(csv.reader([text.rstrip("\r\n")], delimiter=separator), [])


def _first_record(file: BinaryIO) -> bytes:
    """The first line, continued while a quoted field is open (a header name spanning lines)."""
    raw = file.readline()
    while raw.count(b'"') % 2 and (more := file.readline()):
        raw += more
    return raw


def _csv_problem(path: Path, separator: str, width: int) -> str | None:
    """The first line that is not UTF-8, or the first row with more fields than the header."""
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number} is not UTF-8 text"
    with path.open(encoding="utf-8-sig", newline="") as file:
        for number, fields in enumerate(csv.reader(file, delimiter=separator), start=1):
            if len(fields) > width:
                return f"row {number} has {len(fields)} fields, the header has {width}"
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _check_columns(path: Path, present: list[str], wanted: list[str]) -> None:
    """Every wanted column is present, once; else a message listing the columns there are."""
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UsageError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; "
            f"the columns are {_column_list(present)}"
        )
    for column in wanted:
        if present.count(column) > 1:
            raise UsageError(
                f"{path}: {present.count(column)} columns are named {column!r}; "
                "rename them so that each name is used once"
            )


def _column_list(names: list[str], limit: int = 20) -> str:
    """The names, each as it is if plain text, else quoted; at most ``limit`` of them."""
    shown = [n if n.isprintable() and n.strip() == n and n else repr(n) for n in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (", ".join(shown) or "none") + more


def survival_table(
    frame: pl.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    source: str = "data",
    first_row: int = 1,
    unit: str = "row",
    max_groups: int = MAX_GROUPS,
    event_from_cnsr: bool = False,
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
    max_groups : int
        Most distinct groups accepted (among the analysable rows).
    event_from_cnsr : bool
        The event column is a censoring code, 0 the event (:func:`read_survival_table`).

    Returns
    -------
    SurvivalTable

    Raises
    ------
    UsageError
        A named column is not in ``frame``.
    InputError
        A value is present but unusable (the message names source, row and column), or the
        group column holds more than ``max_groups`` distinct values.
    """
    columns = [c for c in (time, event, group) if c is not None]
    _check_columns(Path(source), frame.columns, columns)
    where = _Where(source, first_row, unit)
    t = _times(frame[time], where)
    e = _cnsr_events(frame[event], where) if event_from_cnsr else _events(frame[event], where)
    g_missing, codes, labels = _groups(frame[group], where) if group else (None, None, ())
    missing_time = np.isnan(t)
    missing_event = ~missing_time & (e < 0)
    keep = ~missing_time & ~missing_event
    missing_group = 0
    if g_missing is not None:
        missing_group = int((keep & g_missing).sum())
        keep &= ~g_missing
        codes, labels = _compact(codes[keep], labels)
        _check_group_count(codes, np.flatnonzero(keep), frame[group], where, max_groups)
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

    def error(self, column: str, bad: object, series: pl.Series, problem: str) -> InputError:
        """An error naming the first bad row of ``column`` (``bad``: a boolean mask)."""
        index = np.flatnonzero(_as_mask(bad))
        first = int(index[0])
        more = f" ({index.size} {self.unit}s in all)" if index.size > 1 else ""
        return InputError(
            f"{self.source}: {self.unit} {first + self.first_row}, column {column!r}: "
            f"{problem}, got {_shown(series, first)}{more}"
        )


def _as_mask(bad: object) -> np.ndarray:
    """A polars or NumPy boolean mask as a NumPy array (null as False)."""
    if hasattr(bad, "fill_null"):
        bad = bad.fill_null(False).to_numpy()
    return np.asarray(bad, dtype=bool)


def _shown(series: pl.Series, i: int, limit: int = 60) -> str:
    """The value at ``i`` as Python writes it, cut to ``limit`` characters."""
    text = repr(series.slice(i, 1).to_list()[0])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _missing_text(series: pl.Series) -> pl.Series:
    """Text trimmed, with the missing tokens as null."""
    import polars as pl

    text = series.str.strip_chars()
    return pl.select(
        pl.when(text.str.to_lowercase().is_in(MISSING_TOKENS)).then(None).otherwise(text)
    ).to_series()


def _kind(dtype: pl.DataType) -> str:
    """A column type in words: ``"lists"``, ``"dates"`` …"""
    import polars as pl

    names = {
        pl.Boolean: "true/false values",
        pl.Date: "dates",
        pl.Datetime: "date-times",
        pl.Time: "times of day",
        pl.Duration: "durations (convert them to a number of days or months)",
        pl.List: "lists",
        pl.Array: "lists",
        pl.Struct: "structs",
        pl.Binary: "binary data",
        pl.Object: "objects",
    }
    for base, name in names.items():
        if dtype == base:
            return name
    return f"{dtype} values"


def _as_text_if_categorical(series: pl.Series) -> pl.Series:
    """Categorical and enum columns as their text (Parquet from R factors, pandas categories)."""
    import polars as pl

    if series.dtype in (pl.Categorical, pl.Enum):
        return series.cast(pl.String)
    return series


def _times(series: pl.Series, where: _Where) -> np.ndarray:
    """Times as float, missing as NaN; an unusable value raises ``InputError``.

    Missing is empty text, a missing token or a null; a NaN or infinite number, text that is
    not a number, a negative number and a column of another type (dates, true/false, lists)
    are errors. ``-0`` is 0.
    """
    import polars as pl

    name = series.name
    series = _as_text_if_categorical(series)
    if series.dtype == pl.String:
        text = _missing_text(series)
        values = text.cast(pl.Float64, strict=False)
        bad = values.is_null() & text.is_not_null()
        if bad.any():
            raise where.error(name, bad, series, "time is not a number")
    elif series.dtype.is_numeric() or series.dtype == pl.Null:
        values = series.cast(pl.Float64)
    else:
        raise where.error(
            name, series.is_not_null(), series, f"time must be a number, not {_kind(series.dtype)}"
        )
    present = values.is_not_null().to_numpy()
    t = values.fill_null(0.0).to_numpy().astype(float)
    if (bad := present & ~np.isfinite(t)).any():
        raise where.error(name, bad, series, "time must be a finite number")
    if (bad := t < 0).any():
        raise where.error(name, bad, series, "time must be a non-negative number")
    return np.where(present, t + 0.0, np.nan)


def _events(series: pl.Series, where: _Where) -> np.ndarray:
    """Events as 1/0, missing as -1; a value other than 0/1/true/false raises ``InputError``."""
    import polars as pl

    name = series.name
    series = _as_text_if_categorical(series)
    if series.dtype in (pl.Boolean, pl.Null):
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
        problem = f"event must be 0/1 or true/false, not {_kind(series.dtype)}"
        raise where.error(name, series.is_not_null(), series, problem)
    v = values.fill_null(np.nan).to_numpy().astype(float)
    bad = present & ~np.isin(v, (0.0, 1.0))
    if bad.any():
        raise where.error(name, bad, series, "event must be 0/1 or true/false")
    return np.where(present, v, -1).astype(np.int8)


def _cnsr_events(series: pl.Series, where: _Where) -> np.ndarray:
    """A censoring code (ADaM ``CNSR``) as events: 0 → 1, a positive integer → 0, missing -1;
    anything else raises ``InputError``."""
    import polars as pl

    series = _as_text_if_categorical(series)
    if series.dtype == pl.String:
        values = _missing_text(series).cast(pl.Float64, strict=False)
        present = _missing_text(series).is_not_null().to_numpy()
    elif series.dtype.is_numeric():
        values = series.cast(pl.Float64)
        present = (series.is_not_null() & ~values.is_nan()).to_numpy()
    else:
        problem = f"a censoring code must be a whole number, not {_kind(series.dtype)}"
        raise where.error(series.name, series.is_not_null(), series, problem)
    v = values.fill_null(np.nan).to_numpy().astype(float)
    bad = present & ~((v >= 0) & (v == np.floor(v)))
    if bad.any():
        problem = "a censoring code must be 0 (the event) or a positive whole number (censored)"
        raise where.error(series.name, bad, series, problem)
    return np.where(present, (v == 0).astype(np.int8), -1).astype(np.int8)


def _groups(series: pl.Series, where: _Where) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Missing mask, integer codes and labels (numeric order if every value is a number).

    Text, numbers, true/false, categories and dates are groups (the last three as text);
    lists, structs, binary data and objects are refused with the first such row.
    """
    import polars as pl

    dtype = series.dtype
    if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
        problem = f"the group column must hold text or numbers, not {_kind(dtype)}"
        raise where.error(series.name, series.is_not_null(), series, problem)
    if not (dtype == pl.String or dtype.is_numeric()):
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


def _check_group_count(
    codes: np.ndarray, rows: np.ndarray, series: pl.Series, where: _Where, limit: int
) -> None:
    """At most ``limit`` groups; else an error naming the row where group ``limit + 1``
    first appears (``rows``: the row index of each code)."""
    count = int(codes.max()) + 1 if codes.size else 0
    if count <= limit:
        return
    _, first = np.unique(codes, return_index=True)
    bad = np.zeros(series.len(), dtype=bool)
    bad[rows[np.sort(first)[limit]]] = True
    problem = (
        f"the group column holds {count} distinct values, at most {limit} can be compared "
        f"(is it an identifier?); this {where.unit} holds group number {limit + 1}"
    )
    raise where.error(series.name, bad, series, problem)


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
