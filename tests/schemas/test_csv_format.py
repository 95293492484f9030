"""The CSV dialect: encoding, quoting, field counts, blank rows, and reading values as text."""

from __future__ import annotations

import random

import pytest

from schemas.csv_format import read_plain_csv, read_text_table, scan_csv


def _problems(raw: bytes) -> list[tuple]:
    return scan_csv(raw).problems.select("rule", "row").rows()


def test_well_formed_file() -> None:
    raw = b'a,b,c\r\n1,,"x, ""y"""\r\n"multi\nline",2,3\r\n'
    scan = scan_csv(raw)
    assert scan.ok and scan.header == ["a", "b", "c"] and scan.rows == 2
    table = read_text_table(raw, 3)
    assert table.rows() == [("1", None, 'x, "y"'), ("multi\nline", "2", "3")]


def test_values_stay_text() -> None:
    raw = b'id,v,w\n007,NA,-99\n"",null,.\n'
    assert scan_csv(raw).ok
    assert read_text_table(raw, 3).rows() == [("007", "NA", "-99"), (None, "null", ".")]


def test_bom_is_removed() -> None:
    raw = b"\xef\xbb\xbfa,b\n1,2\n"
    assert scan_csv(raw).header == ["a", "b"]
    assert read_text_table(raw, 2).columns == ["0", "1"]


MALFORMED = [
    b"a,b,c\n1,2\n4,5,6\n",
    b"a,b,c\n1,2,3,4\n4,5,6\n1\n",
    b"a,b,c\n1,2,3,\n4,5\n",  # the comma total is right, one row too long and one too short
    b"a,b,c\n1,2,3,,\n4\n4,5,6\n4,5,6\n",
    b"a,b\n1,2\n\n3,4\n",
    b"a,b\r\n1,2\r\n\r\n",
    b"a,b\n1,2\n\n",
    b"\na,b\n",
    b"\r\na,b\n",
    b"a,b\n1,2\r3,4\n",
    b"a,b\n1,x\ry\n",  # a bare carriage return inside a value: the commas add up
    # a last row without a newline, one empty field too long, makes up for a short row
    b"id,sex\nP1\nP2,F,",
    b"id,sex\n\nP2,F,",
    b"a,b,c\nx,y\ny,z,w,",
    b"a,b,c\nx,y\r\ny,z,w,",
    b"a\n1\n\n2\n",  # a blank row of a one-column file has no comma to miss
    b"",
    b"a,b\n1,caf\xe9\n",
    b"\xff\xfea\x00,\x00b\x00",
    b"a,b\n1\x00,2\n",
]

WELL_FORMED = [
    b"a,b,c\n1,2,3\n4,5,6\n",
    b"a,b,c\r\n1,,3\r\n,,\r\n",
    b"\xef\xbb\xbfa,b\n1,2",
    b"a,b",  # a header without a newline, and no rows
    b"a,b\n",
    b"a,b\n1,caf\xc3\xa9\n",
    b"id,v,w\n007,NA,-99\n",
]


@pytest.mark.parametrize("raw", WELL_FORMED)
def test_plain_files_are_read_in_one_pass_as_the_scan_and_reader_would(raw: bytes) -> None:
    scan, table = read_plain_csv(raw, 256)
    full = scan_csv(raw)
    assert full.ok and scan.ok
    assert (scan.header, scan.rows) == (full.header, full.rows)
    assert scan.problems.schema == full.problems.schema and scan.problems.is_empty()
    assert table.equals(read_text_table(raw, len(full.header)))


@pytest.mark.parametrize("raw", MALFORMED)
def test_a_malformed_file_is_left_to_the_scan(raw: bytes) -> None:
    assert not scan_csv(raw).ok
    assert read_plain_csv(raw, 256) is None


def test_a_plain_read_never_disagrees_with_the_scan() -> None:
    """Short files of ragged, blank and empty rows, CRLF or LF, with or without a final newline:
    whatever the one-pass read accepts, the scan accepts with the same header, rows and table."""
    rng = random.Random(18)
    accepted = 0
    for _ in range(3000):
        width, eol = rng.randint(1, 4), rng.choice([b"\n", b"\r\n"])
        lines = [b",".join(b"h%d" % j for j in range(width))]
        for _ in range(rng.randint(0, 5)):
            fields = width if rng.random() < 0.7 else rng.randint(0, width + 2)
            lines.append(b",".join(rng.choice([b"", b"x", b"12"]) for _ in range(fields)))
        raw = eol.join(lines) + (eol if rng.random() < 0.5 else b"")
        plain = read_plain_csv(raw, 256)
        if plain is None:
            continue
        accepted += 1
        full = scan_csv(raw)
        assert full.ok and (plain[0].header, plain[0].rows) == (full.header, full.rows), raw
        assert plain[1].equals(read_text_table(raw, len(full.header))), raw
    assert accepted > 500  # the fast path is taken, not just refused


def test_quotes_and_wide_headers_are_left_to_the_scan() -> None:
    assert read_plain_csv(b'a,b\n1,"2"\n', 256) is None
    assert read_plain_csv(b"a,b,c\n1,2,3\n", 2) is None
    assert read_plain_csv(b"a,b,c\n1,2,3\n", 3) is not None
    assert read_plain_csv(b"a\n1\n2\n", 256) is None  # a blank row of one field has no comma


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a,b,c\n1,2\n4,5,6\n", [("FILE-CSV-MALFORMED", 2)]),
        (b"a,b,c\n1,2,3,4\n4,5,6\n1\n", [("FILE-CSV-MALFORMED", 2), ("FILE-CSV-MALFORMED", 4)]),
        (b"a,b\n1,2\n\n3,4\n", [("FILE-CSV-MALFORMED", 3)]),
        (b"a,b\r\n1,2\r\n\r\n", [("FILE-CSV-MALFORMED", 3)]),
        (b'a,b\n1,"2\n3,4\n', [("FILE-CSV-MALFORMED", 2)]),
        (b'a,b\n1,"2"x\n3,4\n', [("FILE-CSV-MALFORMED", 2)]),
        (b'a,b\n1,x"2"\n3,4\n', [("FILE-CSV-MALFORMED", 2)]),
        (b"", [("FILE-CSV-MALFORMED", None)]),
        (b"\na,b\n", [("FILE-CSV-MALFORMED", 1)]),
        (b"a,b\n1,caf\xe9\n", [("FILE-ENCODING", 2)]),
    ],
)
def test_structural_problems(raw: bytes, expected: list[tuple]) -> None:
    assert _problems(raw) == expected
    assert not scan_csv(raw).ok


def test_header_only_and_no_final_newline() -> None:
    assert scan_csv(b"a,b\n").ok and scan_csv(b"a,b\n").rows == 0
    assert scan_csv(b"a,b\n1,2").rows == 1
    assert read_text_table(b"a,b\n", 2).height == 0
