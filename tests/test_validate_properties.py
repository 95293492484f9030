"""Laws of validation on generated registries (hypothesis, derandomised): a clean synthetic
extract has no finding, and one injected violation of any kind gives exactly its finding."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit.synth_errors as synth_errors
from schemas.cross import cross_rule_ids
from toolkit.submission import open_submission
from toolkit.synth import synthesise
from toolkit.validate import validate

KEY = ["site_id", "file", "row", "column", "value", "rule", "severity"]


def _findings(root: Path) -> pl.DataFrame:
    return pl.concat(
        validate(open_submission(folder)).findings.with_columns(site_id=pl.lit(folder.name))
        for folder in sorted(root.glob("S*"))
    )


@settings(max_examples=12, derandomize=True, deadline=None)
@given(patients=st.integers(10, 80), seed=st.integers(1, 10**6))
def test_a_clean_synthetic_extract_has_no_finding(patients: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        synthesise(Path(folder), patients=patients, seed=seed)
        assert _findings(Path(folder)).is_empty()


@pytest.mark.parametrize("kind", synth_errors.INJECTIONS, ids=lambda k: f"{k.rule}-{k.column}")
def test_one_injected_violation_gives_exactly_that_finding(
    kind: synth_errors.Injection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(synth_errors, "INJECTIONS", (kind,))
    synthesise(tmp_path, patients=60, seed=7, error_rate=1e-9)
    injected = pl.read_csv(tmp_path / "injected.csv", infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )
    # inject_errors always adds a repeated patient_id, a patient without treatment and a repeated
    # course; besides those, exactly one violation of this kind
    fixed = {"PAT-PATIENT-ID-UNIQUE", "PAT-NO-TREATMENT", "TRT-DUPLICATE-COURSE"}
    assert injected.filter(~pl.col("rule").is_in(list(fixed - {kind.rule}))).height == 1
    assert injected.filter(pl.col("rule") == kind.rule).height == 1 + (kind.rule in fixed)
    found = _findings(tmp_path)
    findings = found.select(KEY)
    assert findings.sort(KEY).rows() == injected.select(KEY).sort(KEY).rows()
    # each names its record and, where the rule compares values, the values it compared
    mine = found.filter(pl.col("rule") == kind.rule)
    if "PATIENT-ID" not in kind.rule:
        assert mine["patient_id"].null_count() == 0, mine
    if kind.rule in set(cross_rule_ids()) - NOTHING_COMPARED:
        assert mine["compared"].null_count() == 0, mine
    assert mine["query_id"].str.contains(r"^Q-[0-9A-F]{12}$").all()


#: Cross rules that compare no second value: a missing reference, a patient without treatment.
NOTHING_COMPARED = {
    "PAT-NO-TREATMENT",
    "TRT-PATIENT-REF",
    "AE-PATIENT-REF",
    "ASM-PATIENT-REF",
    "AE-TREATMENT-REF",
}
