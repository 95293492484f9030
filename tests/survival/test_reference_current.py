"""The stored R references are what the R script writes now (needs Rscript; skipped without)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from km_reference import DATA, DATASETS, R_SCRIPT, REFERENCE, same

pytestmark = pytest.mark.skipif(
    shutil.which("Rscript") is None,
    reason="Rscript is not installed; the tests use the stored reference JSON instead",
)


def test_r_script_reproduces_the_stored_data_and_references(tmp_path: Path) -> None:
    data, reference = tmp_path / "data", tmp_path / "reference"
    done = subprocess.run(
        ["Rscript", str(R_SCRIPT), str(data), str(reference)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for dataset in DATASETS:
        assert (data / f"{dataset}.csv").read_bytes() == (DATA / f"{dataset}.csv").read_bytes()
        fresh = json.loads((reference / f"{dataset}.json").read_text(encoding="utf-8"))
        stored = json.loads((REFERENCE / f"{dataset}.json").read_text(encoding="utf-8"))
        assert fresh.pop("survival_version") == stored.pop("survival_version")
        fresh.pop("r_version"), stored.pop("r_version")
        assert same(fresh, stored), f"{dataset}.json is stale: rerun {R_SCRIPT.name}"
