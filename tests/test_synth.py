"""The synthetic registry: deterministic, contract-shaped, and the poster's cohort exactly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from toolkit.synth import contract_columns, synthesise
from toolkit.synth_errors import INJECTIONS


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path, proclaim_dir: Path) -> None:
    synthesise(tmp_path / "again", preset="proclaim")
    assert _digest(tmp_path / "again") == _digest(proclaim_dir)


def test_another_seed_gives_another_registry(tmp_path: Path, proclaim_dir: Path) -> None:
    synthesise(tmp_path / "other", preset="proclaim", seed=3)
    assert _digest(tmp_path / "other") != _digest(proclaim_dir)


def test_scaled_registry_is_deterministic(tmp_path: Path) -> None:
    synthesise(tmp_path / "a", patients=3000, error_rate=0.01)
    synthesise(tmp_path / "b", patients=3000, error_rate=0.01)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_each_site_folder_follows_the_contract_layout(proclaim_dir: Path) -> None:
    sites = sorted(p for p in proclaim_dir.iterdir() if p.is_dir())
    assert [s.name for s in sites] == [f"S{i:02d}" for i in range(1, 7)]
    for site in sites:
        manifest = json.loads((site / "manifest.json").read_text())
        assert manifest["site_id"] == site.name
        assert manifest["contract_version"] == "1"
        for name, columns in contract_columns().items():
            header = (site / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
            assert header.split(",") == columns


def test_identifiers_are_zero_padded_text(proclaim_dir: Path) -> None:
    ids = (proclaim_dir / "S01" / "patients.csv").read_text().splitlines()[1].split(",")[0]
    assert ids.startswith("0") and len(ids) == 6


def test_missing_values_are_empty_cells_not_tokens(proclaim_dir: Path) -> None:
    text = (proclaim_dir / "S01" / "patients.csv").read_text()
    assert '""' not in text and ",NA," not in text and "null" not in text


def test_registry_holds_all_patients_with_exclusions(proclaim_dir: Path) -> None:
    patients = pl.concat(
        pl.read_csv(p, infer_schema=False) for p in sorted(proclaim_dir.glob("S*/patients.csv"))
    )
    assert patients.height == 236 + 8 + 5


@pytest.mark.parametrize("rate", [0.01, 0.05])
def test_error_injection_lists_every_kind_once_at_least(tmp_path: Path, rate: float) -> None:
    synthesise(tmp_path, patients=5000, error_rate=rate)
    injected = pl.read_csv(tmp_path / "injected.csv", infer_schema=False)
    assert set(injected["rule"]) >= {k.rule for k in INJECTIONS}
    assert set(injected["severity"]) == {"error", "warning"}
    # each injected value is really in the file, at the row and column listed
    for row in injected.sample(40, seed=1).iter_rows(named=True):
        frame = pl.read_csv(tmp_path / row["site_id"] / row["file"], infer_schema=False)
        assert frame[int(row["row"]) - 2, row["column"]] == row["value"]
