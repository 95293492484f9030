"""The SQL stage on the demo database: exact poster counts, cutoff semantics, run order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from toolkit.cohort import build_cohort, materialization, ordered_sql_files
from toolkit.ingest import connect
from toolkit.pipeline import analysis_cohort
from toolkit.study import builtin_study_path, load_study

POSTER_STRATA = {"il2_only": 123, "il2_ipi": 78, "il2_pd1": 35}


@pytest.fixture(scope="module")
def cohort(demo_dir: Path):
    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        yield build_cohort(con, load_study(builtin_study_path()), date(2015, 3, 16))
    finally:
        con.close()


def test_poster_counts_are_exact(cohort) -> None:
    sizes = dict(cohort.adtte.group_by("stratum_key").len().iter_rows())
    assert sizes == POSTER_STRATA
    counts = {r["stratum_key"]: r for r in cohort.stratum_counts.iter_rows(named=True)}
    assert counts["il2_pd1"]["n_progressed_before_later_therapy"] == 22
    assert counts["il2_ipi"]["n_related_autoimmune_post_therapy"] == 10
    assert counts["il2_pd1"]["n_related_autoimmune_post_therapy"] == 2
    assert sum(r["n_treatment_related_deaths"] for r in counts.values()) == 0


def test_exclusions_are_real_and_counted(cohort) -> None:
    flow = cohort.flow
    assert flow["n_remaining"].to_list() == [249, 249, 244, 236]
    assert flow["n_excluded"].to_list() == [0, 0, 5, 8]


def test_adtte_follows_the_cutoff(cohort) -> None:
    adtte = cohort.adtte
    assert (adtte["adt"] <= date(2015, 3, 16)).all()
    assert (adtte["aval"] >= 0).all()
    events = adtte.filter(pl.col("cnsr") == 0)
    assert (events["evntdesc"] == "DEATH").all()
    assert set(adtte["cnsr"].unique()) <= {0, 1, 2, 3, 4}
    # deaths recorded after the cutoff exist in the demo and are censored at it
    after = adtte.filter(pl.col("cnsr") == 4)
    assert after.height > 0 and (after["adt"] == date(2015, 3, 16)).all()


def test_later_therapy_after_the_cutoff_does_not_move_a_patient(demo_dir: Path) -> None:
    """The demo holds HD IL-2-only patients whose anti-PD-1 started after the cutoff."""
    study = load_study(builtin_study_path())
    con = connect(demo_dir / "registry.duckdb", read_only=True)
    try:
        at_cutoff = build_cohort(con, study, date(2015, 3, 16))
        later = build_cohort(con, study, date(2015, 4, 15))
    finally:
        con.close()
    size = dict(later.adtte.group_by("stratum_key").len().iter_rows())
    assert size["il2_pd1"] > 35
    moved = set(later.adtte.filter(pl.col("stratum_key") == "il2_pd1")["patient_key"])
    before = at_cutoff.adtte.filter(pl.col("patient_key").is_in(list(moved)))
    assert set(before["stratum_key"]) == {"il2_pd1", "il2_only"}


def test_sql_files_run_in_dependency_order() -> None:
    names = [p.stem for p in ordered_sql_files()]
    assert names.index("stg_submissions_in_force") < names.index("stg_patients")
    assert (
        names.index("cohort_index") < names.index("cohort_eligibility") < names.index("cohort_flow")
    )
    assert names.index("strata_rule_matches") < names.index("strata") < names.index("adtte")
    for path in ordered_sql_files():
        assert path.parent.name[:2].isdigit(), path


def test_frames_come_back_in_their_documented_order(cohort) -> None:
    """adtte and the episodes are read back in stored order; it must be the sorted one."""
    assert cohort.adtte.equals(cohort.adtte.sort("stratum_order", "patient_key"))
    assert cohort.episodes.equals(cohort.episodes.sort("patient_key", "tstart_days"))
    categorical = cohort.baseline_categorical
    assert categorical.equals(
        categorical.sort("covariate", "level", "stratum_key", nulls_last=True)
    )


def test_materialization_comes_from_the_file_header() -> None:
    assert materialization("select 1") == "table"
    assert materialization("-- Some relation.\n-- materialized: view\nselect 1") == "view"
    assert materialization("-- materialized: table\nselect 1") == "table"
    with pytest.raises(ValueError, match="expected table or view"):
        materialization("-- materialized: index\nselect 1")
    kinds = {p.stem: materialization(p.read_text()) for p in ordered_sql_files()}
    # what the analysis reads back, and what several files read in full, stay tables
    for name in ("stg_submissions_in_force", "adtte", "treatment_episodes", "strata"):
        assert kinds[name] == "table", name
    assert kinds["stg_assessments"] == "view"


def test_frozen_cutoff_reproduces_after_a_newer_submission(demo_dir: Path, tmp_path: Path) -> None:
    """A newer extract of a site arrives; the frozen cutoff still gives identical numbers."""
    import json
    import shutil

    from toolkit.pipeline import ingest_submission

    db = Path(shutil.copy(demo_dir / "registry.duckdb", tmp_path / "registry.duckdb"))
    study = load_study(builtin_study_path())
    cutoff = date(2015, 3, 16)
    before = analysis_cohort(db, study, cutoff).adtte

    newer = Path(shutil.copytree(demo_dir / "submissions" / "S01", tmp_path / "S01"))
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["extracted_on"] = "2015-03-31"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    lines = (newer / "patients.csv").read_text().splitlines()
    alive = next(i for i, line in enumerate(lines) if ",alive," in line)
    fields = lines[alive].split(",")
    fields[11], fields[13], fields[14] = "dead", fields[12], "melanoma"  # now reported dead
    lines[alive] = ",".join(fields)
    (newer / "patients.csv").write_text("\n".join(lines) + "\n")
    assert ingest_submission(newer, db).status == "loaded"

    assert analysis_cohort(db, study, cutoff).adtte.equals(before)
    refrozen = analysis_cohort(db, study, cutoff, refreeze=True).adtte
    assert not refrozen.equals(before)
    assert refrozen["is_event"].sum() == before["is_event"].sum() + 1
