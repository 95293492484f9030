"""``toolkit survival`` on hostile or odd input: a correct answer or one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from toolkit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["survival", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_huge_finite_times_are_valid_and_give_a_finite_median(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "huge.csv"
    data.write_text("months,died,arm\n1e308,1,a\n5,0,b\n1e307,1,b\n3,1,a\n")
    code, out, err = run(
        capsys, data, "--time", "months", "--event", "died", "--group", "arm", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    (a,) = [g for g in doc["groups"] if g["group"] == "a"]
    # deaths at 3 and 1e308: S falls to 0.5 at 3 and stays there until 1e308, so the median
    # is the midpoint of the flat stretch, (3 + 1e308) / 2 = 5e307 (R's rule)
    assert a["median"] == pytest.approx(5e307, rel=1e-12)
    assert doc["logrank"]["df"] == 1


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999"])
def test_non_finite_time_is_an_error_naming_row_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(f"months,died\n{value},1\n2,0\n")
    code, _, err = run(capsys, data, "--time", "months", "--event", "died")
    assert code == 2
    line = one_error(err)
    assert "row 2" in line and "'months'" in line and "finite" in line


def test_a_group_column_of_lists_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "lists.parquet"
    pl.DataFrame({"t": [1.0, 2.0], "e": [1, 0], "g": [[1], [2]]}).write_parquet(data)
    code, _, err = run(capsys, data, "--time", "t", "--event", "e", "--group", "g")
    assert code == 2
    assert "not lists" in one_error(err)


def test_an_unknown_column_lists_the_columns_there_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("months,died\n1,1\n")
    code, _, err = run(capsys, data, "--time", "nope", "--event", "died")
    assert code == 2
    assert one_error(err) == f"error: {data}: no column 'nope'; the columns are months, died"


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02not a table", b"months,died\n"],
    ids=["empty", "binary", "header-only"],
)
def test_unusable_files_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    data = tmp_path / "d.csv"
    data.write_bytes(content)
    code, _, err = run(capsys, data, "--time", "months", "--event", "died")
    assert code == 2
    one_error(err)


def test_a_corrupt_parquet_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "d.parquet"
    data.write_bytes(b"PAR1 this is not parquet PAR1")
    code, _, err = run(capsys, data, "--time", "t", "--event", "e")
    assert code == 2
    one_error(err)


@pytest.mark.parametrize("at", ["-1", "x", "1,,2"])
def test_bad_at_times_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, at: str
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("months,died\n1,1\n2,0\n")
    code, _, err = run(capsys, data, "--time", "months", "--event", "died", "--at", at)
    assert code == 2
    one_error(err)
