"""The cohort SQL on Apache Spark (local mode, one session for the module) against DuckDB:
every relation, the analysis frames and the report context of a 10,000-patient registry at two
sites with a newer extract since an earlier cutoff; ``toolkit report --engine spark`` on the
demo registry; the README's lakehouse export read through a mapping file; Spark Connect; the
engine's errors."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from toolkit.cli import main
from toolkit.cohort import READS, build_cohort, freeze_cutoff, read_cohort
from toolkit.errors import AnalysisError, UsageError
from toolkit.ingest import DDL, open_registry
from toolkit.pipeline import ingest_submission
from toolkit.report_context import build_context
from toolkit.spark_engine import (
    SparkTarget,
    build_cohort_on_spark,
    load_registry,
    needed_relations,
    read_table_mapping,
    run_queries_on_spark,
    spark_reader,
    spark_session,
)
from toolkit.study import builtin_study_path, load_study

LOCAL = SparkTarget(url="local[2]")
STUDY = load_study(builtin_study_path())
CUTOFF = STUDY.study.default_cutoff


@pytest.fixture(scope="module")
def connect_run(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """``toolkit cohort --engine spark`` through Spark Connect, started at the module's first
    test and run beside the others (its own process and JVM): SPARK_REMOTE=local[2] makes
    pyspark start a Connect server here and talk gRPC to it, the client side of an sc:// URL."""
    out = tmp_path_factory.mktemp("connect")
    db = str(demo_dir / "registry.duckdb")
    command = [sys.executable, "-m", "toolkit", "cohort", "--db", db, "--engine", "spark"]
    env = {**os.environ, "SPARK_REMOTE": "local[2]"}
    process = subprocess.Popen(
        [*command, "--out", str(out / "connect")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process, out
    if process.poll() is None:
        process.kill()


@pytest.fixture(scope="module")
def spark(connect_run):
    return spark_session(LOCAL)


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 synthetic patients at two sites; a cutoff 90 days before the study's frozen on
    them; then a newer extract of site S01 (another draw: patients new, gone and changed)."""
    from toolkit.synth import synthesise

    root = tmp_path_factory.mktemp("two-sites")
    synthesise(root / "first", patients=10_000, sites=2, seed=19)
    synthesise(root / "second", patients=10_000, sites=2, seed=23)
    db = root / "registry.duckdb"
    for site in sorted((root / "first").iterdir()):
        assert ingest_submission(site, db).status == "loaded"
    con = open_registry(db, read_only=False)
    try:
        freeze_cutoff(con, STUDY, CUTOFF - timedelta(days=90))
    finally:
        con.close()
    assert ingest_submission(root / "second" / "S01", db).status == "loaded"
    return db


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _same_numbers(a: object, b: object, path: str = "") -> list[str]:
    """Where two JSON values differ; numbers equal within 1e-9 (relative) count as equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _same_numbers(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} and {len(b)} items"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _same_numbers(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} {b}"]
    return [] if a == b else [f"{path}: {a!r} {b!r}"]


def test_both_engines_give_the_same_relations_frames_and_context(two_sites, spark, tmp_path):
    con = open_registry(two_sites, read_only=False)
    try:
        freeze_cutoff(con, STUDY, CUTOFF)
        duck = build_cohort(con, STUDY, CUTOFF)  # the changes since the cutoff 90 days before
        previous = CUTOFF - timedelta(days=90)
        load_registry(spark, con, LOCAL, tmp_path)
        run_queries_on_spark(spark, STUDY, CUTOFF, previous)
        for path in needed_relations():  # every relation, views included, as sets of rows
            ours = con.sql(f"select * from {path.stem}").pl()
            theirs = pl.from_arrow(spark.table(path.stem).toArrow())
            assert theirs.schema == ours.schema, path.stem
            assert _sorted(theirs).equals(_sorted(ours)), path.stem
        on_spark = read_cohort(spark_reader(spark), CUTOFF, previous)
    finally:
        con.close()
    assert duck.adtte.height > 9_000
    changed = {kind: n for kind, n in duck.changes.items() if n and kind != "previous_cutoff"}
    assert {"new_patients", "dates_changed", "treatment_dates_changed"} <= set(changed), changed
    assert on_spark.changes == duck.changes
    for field in READS:  # the frames the analysis reads, in the same order
        assert getattr(on_spark, field).equals(getattr(duck, field)), field
    assert _same_numbers(build_context(on_spark, STUDY), build_context(duck, STUDY)) == []


def test_the_spark_run_needs_every_relation_the_analysis_reads() -> None:
    needed = {path.stem for path in needed_relations()}
    assert {relation for relation, _ in READS.values()} <= needed
    assert {"adtte", "strata", "stg_patients", "patient_changes"} <= needed
    assert not {"stg_query_states", "stg_submission_ledger"} & needed  # the steward's, not ours


def test_report_engine_spark_writes_the_demo_report_of_duckdb(
    demo_dir: Path, spark, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "spark"
    args = ["report", "--db", str(demo_dir / "registry.duckdb"), "--engine", "spark"]
    code = main([*args, "--spark-url", "local[2]", "--out", str(out), "--format", "html"])
    assert code == 0, capsys.readouterr().err
    ours = json.loads((demo_dir / "results.json").read_text(encoding="utf-8"))
    theirs = json.loads((out / "results.json").read_text(encoding="utf-8"))
    software = theirs.pop("software")
    assert software.pop("spark") == spark.version and software.pop("sqlglot")
    assert software == ours.pop("software")
    assert theirs == ours  # the same numbers to the last bit, not only within 1e-9


def _readme_lake_export() -> str:
    """The README's Python block that exports the registry to a lakehouse folder."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Scale-out") :]
    (block,) = re.findall(r"```python\n(.*?)```", section[: section.index("\n## ", 1)], re.S)
    return block


def test_the_readme_lakehouse_export_is_read_through_a_mapping_file(demo_dir, spark, tmp_path):
    shutil.copy(demo_dir / "registry.duckdb", tmp_path / "registry.duckdb")
    done = subprocess.run(
        [sys.executable, "-c", _readme_lake_export()], cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = ["[tables]"]
    for path in sorted((tmp_path / "lake").iterdir()):  # partitioned by site and submission
        name = path.name.removesuffix(".parquet")
        spark.read.parquet(str(path)).createOrReplaceTempView(f"lake_{name}")
        lines.append(f'{name} = "lake_{name}"')
    assert any(p.name.startswith("site=") for p in (tmp_path / "lake" / "patients").iterdir())
    mapping = tmp_path / "lake.toml"
    mapping.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = SparkTarget(url="local[2]", tables=read_table_mapping(mapping))
    empty = duckdb.connect()  # a registry with no rows: nothing comes from here
    empty.execute(DDL)
    try:
        cohort = build_cohort_on_spark(empty, STUDY, CUTOFF, target)
        with pytest.raises(AnalysisError, match="2010-01-01 is not frozen in lake_cutoff_freezes"):
            build_cohort_on_spark(empty, STUDY, CUTOFF.replace(year=2010, month=1, day=1), target)
    finally:
        empty.close()
    con = open_registry(demo_dir / "registry.duckdb", read_only=True)
    try:
        duck = build_cohort(con, STUDY, CUTOFF)
    finally:
        con.close()
    for field in READS:
        assert getattr(cohort, field).equals(getattr(duck, field)), field


def test_a_table_spark_cannot_read_is_named(demo_dir, spark, tmp_path: Path):
    target = SparkTarget(url="local[2]", tables={"patients": "lake.nowhere.patients"})
    con = open_registry(demo_dir / "registry.duckdb", read_only=True)
    try:
        with pytest.raises(AnalysisError, match=r"Spark could not read lake\.nowhere\.patients"):
            load_registry(spark, con, target, tmp_path)
    finally:
        con.close()


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[tables]\nvisits = "lake.visits"\n', "visits is not a registry table"),
        ("[tables]\npatients = 3\n", "expected a [tables] section"),
        ("tables = [", "not TOML"),
        ('[tables]\nsubmissions = "lake.submissions"\n', "submissions and cutoff_freezes"),
    ],
)
def test_a_bad_mapping_file_is_refused_naming_it(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "tables.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match="--spark-tables .*tables.toml") as error:
        read_table_mapping(path)
    assert problem in str(error.value)


def test_spark_options_without_the_spark_engine_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["report", "--db", str(tmp_path / "r.duckdb"), "--out", str(tmp_path / "o")]
    assert main([*args, "--spark-url", "local[2]"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --spark-url and --spark-tables need --engine spark\n"
    assert not (tmp_path / "o").exists()


def test_spark_connect_exports_the_cohort_duckdb_exports(
    connect_run, demo_dir: Path, capsys: pytest.CaptureFixture[str]
):
    process, out = connect_run
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()
    assert err == b""  # Spark's start-up lines went to its log, not to the user
    db = str(demo_dir / "registry.duckdb")
    assert main(["cohort", "--db", db, "--out", str(out / "duckdb")]) == 0, capsys.readouterr()
    written = sorted(p.name for p in (out / "duckdb").iterdir())
    assert written == sorted(p.name for p in (out / "connect").iterdir())
    for name in written:
        assert (out / "connect" / name).read_bytes() == (out / "duckdb" / name).read_bytes()


@pytest.mark.parametrize("missing", ["pyspark", "sqlglot", "java"])
def test_what_spark_needs_is_checked_before_the_cutoff_is_frozen(
    missing: str, demo_dir: Path, tmp_path: Path, monkeypatch, capsys
):
    import toolkit.spark_engine as engine
    from toolkit.cohort import is_frozen

    if missing == "java":
        monkeypatch.setattr(engine.shutil, "which", lambda name: None)
        monkeypatch.delenv("JAVA_HOME", raising=False)
        monkeypatch.delenv("SPARK_REMOTE", raising=False)
    else:
        monkeypatch.setattr(engine, "_importable", lambda name: name != missing)
    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_dir / "registry.duckdb", db)
    args = ["report", "--db", str(db), "--engine", "spark", "--cutoff", "2014-12-31"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert {"java": "Java 17 runtime"}.get(missing, f"needs {missing}") in err
    con = open_registry(db, read_only=True)
    try:
        assert not is_frozen(con, CUTOFF.replace(year=2014, month=12, day=31))
    finally:
        con.close()
    assert not (tmp_path / "out").exists()
