"""``toolkit cohort`` exports the analysis dataset; a second study runs with no code change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from toolkit.study import builtin_study_path


def _toolkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True)


@pytest.fixture()
def db(demo_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(demo_dir / "registry.duckdb", tmp_path / "registry.duckdb"))


def test_cohort_export_for_r_or_sas(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    done = _toolkit("cohort", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    adtte = pl.read_parquet(out / "adtte.parquet")
    assert adtte.height == 236
    assert {"USUBJID", "PARAMCD", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC", "CNSDTDSC"} <= set(
        adtte.columns
    )
    assert set(adtte["CNSR"].unique()) <= {0, 1, 2, 3, 4}
    assert ((adtte["CNSR"] == 0) == (adtte["EVNTDESC"] == "DEATH").fill_null(False)).all()
    as_csv = pl.read_csv(out / "adtte.csv", infer_schema=False)
    assert as_csv["USUBJID"].to_list() == adtte["USUBJID"].to_list()
    assert as_csv["USUBJID"][0].split(":")[1].startswith("0")  # identifiers stay text
    flow = pl.read_csv(out / "flow.csv")
    assert flow["n_remaining"].to_list() == [249, 249, 244, 236]
    episodes = pl.read_parquet(out / "episodes.parquet")
    assert episodes["is_event"].sum() == (adtte["CNSR"] == 0).sum()


def test_second_study_runs_end_to_end_without_code_change(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "braf"
    study = builtin_study_path("braf")
    done = _toolkit("report", "--db", str(db), "--study", str(study), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for label in ("BRAF mutant", "BRAF wild-type", "BRAF unknown or missing"):
        assert label in text
    assert "6-month survival" in text
    assert "immortal" not in text  # baseline strata carry no immortal-time caution


def test_a_bad_study_definition_is_a_clear_error(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = builtin_study_path().read_text(encoding="utf-8")
    bad.write_text(text.replace("min_doses = 1", "min_doses = 1\nmax_doses = 3"), encoding="utf-8")
    done = _toolkit("report", "--db", str(db), "--study", str(bad), "--out", str(tmp_path / "x"))
    assert done.returncode == 2
    assert "index.max_doses: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
    bad.write_text(text.replace("days_per_month = 30.4375", "days_per_month = -1"), "utf-8")
    done = _toolkit("cohort", "--db", str(db), "--study", str(bad), "--out", str(tmp_path / "y"))
    assert done.returncode == 2 and "endpoint.days_per_month" in done.stderr
