"""``toolkit survival``: the JSON document against R, Parquet, missing rows, input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from km_reference import DATA, analyses, close, fit

from toolkit.cli import main

LUNG = DATA / "lung.csv"
TIMES = "90,180,365,730"


def run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(["survival", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def survival_json(args: list[str], capsys: pytest.CaptureFixture) -> dict:
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_json_matches_r_for_lung_by_sex(conf_type: str, capsys: pytest.CaptureFixture) -> None:
    args = [LUNG, "--time", "time", "--event", "event", "--group", "sex", "--at", TIMES]
    doc = survival_json([*args, "--conf-type", conf_type], capsys)
    assert (doc["conf_type"], doc["conf_level"]) == (conf_type, 0.95)
    assert [g["group"] for g in doc["groups"]] == ["1", "2"]
    for entry in [*doc["groups"], doc["overall"]]:
        reference = fit("lung_sex", conf_type, entry.get("group"))
        assert (entry["n"], entry["events"]) == (reference["n"], reference["events"])
        assert close(entry["median"], reference["print"]["median"])
        assert close(entry["median_ci"][0], reference["print"]["lower"])
        assert close(entry["median_ci"][1], reference["print"]["upper"])
        assert [s["time"] for s in entry["survival"]] == [90, 180, 365, 730]
        for s, i in zip(entry["survival"], range(len(reference["at"]["time"])), strict=False):
            assert close(s["estimate"], reference["at"]["surv"][i])
            assert close(s["ci"][0], reference["at"]["lower"][i])
            assert close(s["ci"][1], reference["at"]["upper"][i])
            assert s["at_risk"] == reference["at"]["n_risk"][i]
    logrank = analyses()["lung_sex"]["logrank"]
    assert close(doc["logrank"]["statistic"], logrank["chisq"])
    assert doc["logrank"]["df"] == 1
    assert close(doc["logrank"]["p"], logrank["p"])
    followup = analyses()["lung_sex"]["followup"][conf_type]
    assert close(doc["overall"]["followup_median"], followup["median"])
    assert doc["excluded"] == {"missing_time": 0, "missing_event": 0, "missing_group": 0}


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture) -> None:
    doc = survival_json([LUNG, "--time", "time", "--event", "event", "--at", "180"], capsys)
    assert set(doc) == {
        "conf_type",
        "conf_level",
        "groups",
        "overall",
        "logrank",
        "excluded",
        "methods",
    }
    assert doc["groups"] == [] and doc["logrank"] is None
    assert doc["excluded"] == {"missing_time": 0, "missing_event": 0}
    assert set(doc["overall"]) == {
        "n",
        "events",
        "median",
        "median_ci",
        "survival",
        "followup_median",
    }
    (s,) = doc["overall"]["survival"]
    assert set(s) == {"time", "estimate", "ci", "at_risk"}
    assert "log(-log)" in doc["methods"]["ci"]


def test_parquet_gives_the_same_document(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    parquet = tmp_path / "lung.parquet"
    frame = pl.read_csv(LUNG, null_values="NA")
    frame.with_columns(pl.col("event").cast(pl.Boolean)).write_parquet(parquet)
    args = ["--time", "time", "--event", "event", "--group", "sex", "--at", TIMES]
    assert survival_json([parquet, *args], capsys) == survival_json([LUNG, *args], capsys)


def test_missing_values_are_counted_not_dropped_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    csv = tmp_path / "cohort.csv"
    csv.write_text(
        "months,died,arm\n"
        "1.5,1,A\n"
        "NA,1,A\n"  # missing time
        ",0,B\n"  # missing time
        "2.5,,B\n"  # missing event
        "3,true,\n"  # missing group
        "4,FALSE,B\n"
        "5,1,B\n",
        encoding="utf-8",
    )
    doc = survival_json([csv, "--time", "months", "--event", "died", "--group", "arm"], capsys)
    assert doc["excluded"] == {"missing_time": 2, "missing_event": 1, "missing_group": 1}
    assert doc["overall"]["n"] == 3
    assert [(g["group"], g["n"], g["events"]) for g in doc["groups"]] == [("A", 1, 1), ("B", 2, 1)]


def test_groups_in_numeric_order(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv = tmp_path / "g.csv"
    csv.write_text("t,e,g\n1,1,10\n2,0,2\n3,1,2\n4,1,10\n", encoding="utf-8")
    doc = survival_json([csv, "--time", "t", "--event", "e", "--group", "g"], capsys)
    assert [g["group"] for g in doc["groups"]] == ["2", "10"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("t,e\n1,1\n-2,0\n", "row 3, column 't': time must be a non-negative number, got '-2'"),
        ("t,e\n1,1\n2,0\nabc,1\n", "row 4, column 't': time is not a number, got 'abc'"),
        ("t,e\n1,1\n2,2\n3,2\n", "row 3, column 'e': event must be 0/1 or true/false, got '2'"),
        ("t,e\n1,yes\n", "row 2, column 'e': event must be 0/1 or true/false, got 'yes'"),
    ],
)
def test_unusable_value_names_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str, expected: str
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(content, encoding="utf-8")
    code, out, err = run([csv, "--time", "t", "--event", "e", "--json"], capsys)
    assert code == 2
    assert out == ""
    assert f"{csv}: {expected}" in err


def test_lung_status_coded_1_2_is_refused_with_its_row(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run([LUNG, "--time", "time", "--event", "status"], capsys)
    assert code == 2
    assert "row 2, column 'status': event must be 0/1 or true/false, got '2'" in err
    assert "rows in all" in err


def test_negative_time_in_parquet_names_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    parquet = tmp_path / "bad.parquet"
    pl.DataFrame({"t": [1.0, 2.0, -1.0], "e": [1, 0, 1]}).write_parquet(parquet)
    code, _, err = run([parquet, "--time", "t", "--event", "e"], capsys)
    assert code == 2
    assert "record 3, column 't'" in err


def test_unknown_column_lists_the_columns(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run([LUNG, "--time", "days", "--event", "event"], capsys)
    assert code == 2
    assert "no column 'days'" in err and "inst, time, status" in err


@pytest.mark.parametrize("at", ["6,x", "-1", "inf"])
def test_bad_at_is_a_usage_error(at: str, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run([LUNG, "--time", "time", "--event", "event", "--at", at], capsys)
    assert code == 2
    assert "--at" in err


def test_no_analysable_row_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv = tmp_path / "empty.csv"
    csv.write_text("t,e\nNA,1\n3,\n", encoding="utf-8")
    code, _, err = run([csv, "--time", "t", "--event", "e"], capsys)
    assert code == 2
    assert "1 missing time, 1 missing event" in err


def test_readable_summary(capsys: pytest.CaptureFixture) -> None:
    args = [LUNG, "--time", "time", "--event", "event", "--group", "sex", "--at", "365"]
    code, out, _ = run(args, capsys)
    assert code == 0
    assert "Log-rank test: chi-square 10.327 on 1 df" in out
    assert "S(365)" in out and "270.00" in out and "Median follow-up" in out


def test_errors_reach_the_user_without_a_traceback(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("t,e\n1,1\n-2,0\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "survival", str(csv), "--time", "t", "--event", "e"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
