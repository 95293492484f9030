"""The whole path on registries of every size: synthesise, ingest each site, report.

A registry early in its life, or a rare subgroup, has a handful of patients: every analysis
that cannot be estimated must say so in its place, and the rest of the report must render,
in both editions. The registries below include every size and seed that once broke the
report (a singular Cox model, a landmark or model left with one group, a coefficient running
off to infinity, a suppressed legend count).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from toolkit.analyses.comparisons import ANALYSIS_NAMES
from toolkit.pipeline import build_report, ingest_submission
from toolkit.study import builtin_study_path
from toolkit.synth import synthesise

REGISTRIES = [(10, 4), (10, 9), (12, 1), (12, 2), (12, 3), (12, 5), (15, 3), (20, 1), (20, 2),
              (30, 7), (60, 1), (60, 3), (100, 2), (300, 5)]  # fmt: skip


@pytest.fixture(scope="module", params=REGISTRIES, ids=lambda p: f"{p[0]}pts-seed{p[1]}")
def registry(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    patients, seed = request.param
    root = tmp_path_factory.mktemp(f"registry{patients}-{seed}")
    synthesise(root / "sites", patients=patients, seed=seed)
    db = root / "registry.duckdb"
    for site in sorted(p for p in (root / "sites").iterdir() if p.is_dir()):
        ingest_submission(site, db)
    return db


@pytest.mark.parametrize("edition", ["internal", "sponsor"])
def test_report_renders_for_a_registry_of_any_size(registry: Path, edition: str) -> None:
    out = registry.parent / f"report-{edition}"
    files = build_report(
        registry, builtin_study_path(), None, out, formats=("html",), edition=edition
    )
    context = json.loads(files.results.read_text(encoding="utf-8"))
    page = files.html.read_text(encoding="utf-8")
    assert "</html>" in page
    for note in context["comparison_notes"]:
        assert html.escape(note, quote=False) in page
    if edition == "internal":
        _every_missing_analysis_is_explained(context)


def _every_missing_analysis_is_explained(context: dict) -> None:
    result = context["comparisons"]
    notes = " ".join(context["comparison_notes"])
    if result["strata_compared"] < 2:
        assert "one stratum only" in notes
        return
    for name, title in ANALYSIS_NAMES.items():
        if result[name] is None and name in result["not_estimable"]:
            assert f"{title}: not estimable" in notes
    for landmark in result["landmarks"]:
        title = f"Landmark {landmark['landmark']:g} months, Cox model"
        if landmark["cox"] is None:
            assert f"{title}: not estimable" in notes
            continue
        for term in landmark["cox"]["terms"]:  # every "not estimable" cell has its reason
            if term["infinite"] or term["aliased"]:
                assert f"{title}: {term['label']} not estimable" in notes


def test_report_with_empty_strata_names_them_and_estimates_nothing_for_them(
    tmp_path: Path,
) -> None:
    # The corpus base submission: one eligible patient, in the anti-PD-1 stratum.
    db = tmp_path / "registry.duckdb"
    ingest_submission(Path(__file__).parent / "corpus" / "_base", db)
    for edition in ("internal", "sponsor"):
        out = tmp_path / edition
        files = build_report(
            db, builtin_study_path(), None, out, formats=("html",), edition=edition
        )
        context = json.loads(files.results.read_text(encoding="utf-8"))
        empty = [g for g in context["strata"] if g["n"] == 0]
        assert [g["key"] for g in empty] == ["il2_only", "il2_ipi"]
        assert all(g["median"] is None and g["curve"]["time"] == [] for g in empty)
        text = " ".join(files.html.read_text(encoding="utf-8").split())
        assert "No patient is in the HD IL-2 only and IL-2 → ipilimumab groups." in text
        assert "one stratum only" in " ".join(context["comparison_notes"])
