"""The CSV dialect of submission contract v1, checked before any value is looked at.

UTF-8 (a leading BOM is removed), comma-separated, RFC 4180 quoting, one header row, the same
number of fields on every row, no blank lines. :func:`scan_csv` finds every breach of that in
one vectorised pass over the bytes (NumPy over the positions of quotes, commas and newlines; no
Python loop per row), :func:`read_text_table` then reads a well-formed file with every column as
text, an empty cell as null and nothing else as null (``NA``, ``null`` and ``-99`` stay text).
:func:`read_plain_csv` proves a file without quotes well-formed from byte counts and the
reader's own check of each row, so the common file is read once; any other file gets the scan,
whose messages say exactly what is wrong.

Rows are numbered as the site sees them in a spreadsheet: the header is row 1, and a quoted
value spanning several lines is still one row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["BOM", "CsvScan", "strip_bom", "scan_csv", "read_plain_csv", "read_text_table"]

BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR = 0x22, 0x2C, 0x0A, 0x0D
_MAX_VALUE_CHARS = 200
_SAVE_AS = "save the file as CSV UTF-8"

_PROBLEM_SCHEMA = {"rule": pl.String, "row": pl.Int64, "value": pl.String, "message": pl.String}


@dataclass(frozen=True)
class CsvScan:
    """What :func:`scan_csv` learnt about one file.

    Attributes
    ----------
    header : list of str or None
        The names in the header row, as sent; ``None`` when there is no readable header.
    rows : int
        Number of data rows (header excluded); 0 when the file cannot be read.
    problems : polars.DataFrame
        One row per problem: ``rule`` (``FILE-ENCODING`` or ``FILE-CSV-MALFORMED``), ``row``
        (Int64, null when it concerns the whole file), ``value`` (the row's text, cut to 200
        characters, when useful) and ``message``.
    """

    header: list[str] | None
    rows: int
    problems: pl.DataFrame

    @property
    def ok(self) -> bool:
        """Whether the file is well-formed CSV and its values can be read."""
        return self.header is not None and self.problems.is_empty()


def strip_bom(raw: bytes) -> bytes:
    """``raw`` without a leading UTF-8 byte-order mark."""
    return raw.removeprefix(BOM)


def scan_csv(raw: bytes) -> CsvScan:
    """Check encoding and CSV structure of one file.

    Parameters
    ----------
    raw : bytes
        The file as sent.

    Returns
    -------
    CsvScan
        Header names, number of data rows and every structural problem found.
    """
    data = strip_bom(raw)
    encoding = _encoding_problem(data)
    if encoding is not None:
        return CsvScan(None, 0, encoding)
    if not data:
        return _fail(None, None, "the file is empty; it must start with the header row")
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = _positions(data, buf, _QUOTE)
    if quotes.size % 2:
        row = data.count(b"\n", 0, int(quotes[-1])) + 1
        return _fail(
            row,
            None,
            'a double quote (") opens a quoted value that is never closed; quote whole '
            'values and write a quote inside one as ""',
        )
    starts, ends, counts = _records(buf, quotes)
    bare_cr = _bare_carriage_returns(data, buf, quotes)
    if bare_cr.size:
        row = int(np.searchsorted(starts, bare_cr[0], side="right"))
        return _fail(
            row,
            None,
            "a line ends with a bare carriage return (CR, old Mac line endings) or a value "
            "holds one unquoted; save the file as CSV UTF-8 with CRLF or LF line endings",
        )
    blank = _blank(buf, starts, ends)
    if blank[0]:
        return _fail(1, None, "the first row is blank; it must be the header row")
    header = next(csv.reader([data[starts[0] : ends[0]].decode("utf-8").rstrip("\r")]))
    problems = pl.concat(
        [
            _quote_problems(data, buf, quotes, starts, ends),
            _row_problems(data, starts, ends, counts, blank),
        ]
    )
    return CsvScan(header, int(starts.size) - 1, problems)


def read_text_table(raw: bytes, width: int) -> pl.DataFrame:
    """Read a well-formed file (see :func:`scan_csv`) with every column as text.

    Parameters
    ----------
    raw : bytes
        The file as sent.
    width : int
        Number of header fields; the columns are named ``0``, ``1`` ... by position, so that
        duplicated or unknown header names cannot clash.

    Returns
    -------
    polars.DataFrame
        One ``pl.String`` column per field; an empty cell is null, every other text is kept
        byte for byte (no trimming, no ``NA`` tokens, leading zeros kept).
    """
    table = pl.read_csv(
        strip_bom(raw),
        has_header=True,
        new_columns=[str(i) for i in range(width)],
        infer_schema=False,
        quote_char='"',
        raise_if_empty=False,
    )
    # A quoted empty value ("") is an empty cell too.
    return table.with_columns(pl.when(pl.all() != "").then(pl.all()))


def read_plain_csv(raw: bytes, max_width: int) -> tuple[CsvScan, pl.DataFrame] | None:
    """Read a file without double quotes that is well-formed, in one pass; else ``None``.

    Such a file's records are its lines, so byte counts decide what :func:`scan_csv` would
    find: no quote, no carriage return outside a CRLF, and as many commas as
    ``records × (header fields - 1)``. The reader refuses a row with more fields than the
    header (the last row is counted here: without a final newline the reader lets it end in
    one empty field more), so with the total right no row has fewer, and none is blank (a blank
    row has no comma; a header of one field is left to the scan).

    Parameters
    ----------
    raw : bytes
        The file as sent.
    max_width : int
        A header with more fields is left to the caller's refusal, unread.

    Returns
    -------
    tuple of (CsvScan, polars.DataFrame) or None
        The scan :func:`scan_csv` would return and the table of :func:`read_text_table`;
        ``None`` when the file has quotes or is not well-formed (:func:`scan_csv` says why).
    """
    data = strip_bom(raw)
    if not data or _encoding_problem(data) is not None or b'"' in data:
        return None
    header_end = data.find(b"\n")
    header = data[: None if header_end < 0 else header_end].decode("utf-8")
    header = header.removesuffix("\r").split(",")
    if not 2 <= len(header) <= max_width:  # a one-field row may be blank, which has no comma
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    carriage_returns = np.count_nonzero(buf == _CR)
    if carriage_returns and carriage_returns != data.count(b"\r\n"):
        return None  # a carriage return outside a CRLF
    records = int(np.count_nonzero(buf == _LF)) + (not data.endswith(b"\n"))
    if np.count_nonzero(buf == _COMMA) != records * (len(header) - 1):
        return None  # a row with too few fields, or a blank one
    last = data[data.rfind(b"\n", 0, len(data) - 1) + 1 :]
    if last.count(b",") != len(header) - 1:
        return None  # the reader lets a last row without a newline end in one empty field more
    try:
        table = read_text_table(raw, len(header))
    except pl.exceptions.ComputeError:  # a row with more fields than the header
        return None
    if table.height != records - 1:
        return None
    return CsvScan(header, records - 1, pl.DataFrame(schema=_PROBLEM_SCHEMA)), table


def _encoding_problem(data: bytes) -> pl.DataFrame | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); " + _SAVE_AS
        return _problem_frame("FILE-ENCODING", [1], [None], [message])
    nul = data.find(b"\x00")
    if nul >= 0:  # valid UTF-8, but never text: UTF-16 without a byte-order mark, or binary
        row = data.count(b"\n", 0, nul) + 1
        message = (
            f"the file holds NUL bytes (the first on row {row}), as UTF-16 text or a binary "
            f"file does; {_SAVE_AS}"
        )
        return _problem_frame("FILE-ENCODING", [row], [None], [message])
    if data.isascii():  # fast path: ASCII is UTF-8
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        message = (
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02X} on row {row} is not valid "
            f"UTF-8; {_SAVE_AS}"
        )
        return _problem_frame("FILE-ENCODING", [row], [None], [message])
    return None


def _records(buf: np.ndarray, quotes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start, end (exclusive, before the newline) and field count of every record."""
    newlines = _outside_quotes(np.flatnonzero(buf == _LF), quotes)
    commas = _outside_quotes(np.flatnonzero(buf == _COMMA), quotes)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [buf.size]))
    if starts[-1] == buf.size:  # the file ends with a newline: no record after it
        starts, ends = starts[:-1], ends[:-1]
    # commas before each record's end; a record's own commas are the difference to the
    # previous record's (its newline is no comma)
    before_end = np.searchsorted(commas, ends)
    counts = np.diff(before_end, prepend=0) + 1
    return starts, ends, counts


def _positions(data: bytes, buf: np.ndarray, byte: int) -> np.ndarray:
    """Positions of ``byte`` in the file; a quick byte search skips the array pass when absent."""
    if byte not in data:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(buf == byte)


def _outside_quotes(positions: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """The positions preceded by an even number of double quotes (outside any quoted value)."""
    if not quotes.size:
        return positions
    return positions[np.searchsorted(quotes, positions) % 2 == 0]


def _bare_carriage_returns(data: bytes, buf: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Positions of CRs outside quoted values that are not part of a CRLF (nor the last byte)."""
    cr = _positions(data, buf, _CR)
    cr = cr[cr < buf.size - 1]
    bare = cr[buf[cr + 1] != _LF]
    return _outside_quotes(bare, quotes)


def _blank(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    length = ends - starts
    first = buf[np.minimum(starts, buf.size - 1)]
    return (length == 0) | ((length == 1) & (first == _CR))


def _quote_problems(
    data: bytes, buf: np.ndarray, quotes: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> pl.DataFrame:
    """Rows where a quote opens inside an unquoted value or text follows a closing quote."""
    if not quotes.size:
        return _problem_frame("FILE-CSV-MALFORMED", [], [], [])
    openers, closers = quotes[0::2], quotes[1::2]
    last = buf.size - 1
    before = np.where(openers > 0, buf[np.maximum(openers - 1, 0)], _LF)
    after = np.where(closers < last, buf[np.minimum(closers + 1, last)], _LF)
    bad_open = openers[~np.isin(before, (_COMMA, _LF, _QUOTE))]
    bad_close = closers[~np.isin(after, (_COMMA, _LF, _CR, _QUOTE))]
    bad = np.union1d(bad_open, bad_close)
    records = np.unique(np.searchsorted(starts, bad, side="right") - 1)
    message = (
        'a double quote (") sits inside an unquoted value or text follows a closing quote; '
        'quote the whole value and write a quote inside it as ""'
    )
    return _problem_frame(
        "FILE-CSV-MALFORMED",
        (records + 1).tolist(),
        _texts(data, starts, ends, records),
        [message] * records.size,
    )


def _row_problems(
    data: bytes, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray, blank: np.ndarray
) -> pl.DataFrame:
    """Blank rows and rows whose number of fields differs from the header's."""
    width = int(counts[0])
    records = np.flatnonzero(blank | (counts != width))
    frame = pl.DataFrame(
        {
            "row": (records + 1).astype(np.int64),
            "blank": blank[records],
            "fields": counts[records].astype(np.int64),
        }
    )
    message = (
        pl.when(pl.col("blank"))
        .then(pl.lit("the row is blank; remove blank rows"))
        .otherwise(
            pl.format(
                "the row has {} fields but the header has {}; quote values that contain a comma",
                pl.col("fields"),
                pl.lit(width),
            )
        )
    )
    return frame.select(
        rule=pl.lit("FILE-CSV-MALFORMED"),
        row=pl.col("row"),
        value=pl.Series(_texts(data, starts, ends, records), dtype=pl.String),
        message=message,
    )


def _texts(data: bytes, starts: np.ndarray, ends: np.ndarray, records: np.ndarray) -> list:
    """The text of the given records (only rows with a problem), cut for display."""
    texts = []
    for record in records.tolist():
        text = data[starts[record] : ends[record]].decode("utf-8").rstrip("\r")
        texts.append(text[:_MAX_VALUE_CHARS] if text else None)
    return texts


def _problem_frame(rule: str, rows: list, values: list, messages: list) -> pl.DataFrame:
    return pl.DataFrame(
        {"rule": [rule] * len(rows), "row": rows, "value": values, "message": messages},
        schema=_PROBLEM_SCHEMA,
    )


def _fail(row: int | None, value: str | None, message: str) -> CsvScan:
    return CsvScan(None, 0, _problem_frame("FILE-CSV-MALFORMED", [row], [value], [message]))
