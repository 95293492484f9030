"""The cohort SQL on Apache Spark (local mode, one session for the module) against DuckDB:
every relation, the analysis frames and the report context of a 10,000-patient registry at two
sites; ``toolkit report --engine spark`` on the demo registry; lakehouse tables named in a
mapping file; the engine's errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from toolkit.cli import main
from toolkit.cohort import READS, build_cohort, freeze_cutoff, ordered_sql_files, read_cohort
from toolkit.errors import UsageError
from toolkit.ingest import open_registry
from toolkit.pipeline import ingest_submission
from toolkit.report_context import build_context
from toolkit.spark_engine import (
    SparkTarget,
    load_registry,
    read_table_mapping,
    run_queries_on_spark,
    spark_reader,
    spark_session,
)
from toolkit.study import builtin_study_path, load_study

LOCAL = SparkTarget(url="local[2]")


@pytest.fixture(scope="module")
def spark():
    return spark_session(LOCAL)


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 synthetic patients at two sites, each site's extract ingested."""
    from toolkit.synth import synthesise

    root = tmp_path_factory.mktemp("two-sites")
    synthesise(root / "submissions", patients=10_000, sites=2, seed=19)
    db = root / "registry.duckdb"
    for site in sorted((root / "submissions").iterdir()):
        assert ingest_submission(site, db).status == "loaded"
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
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _same_numbers(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} {b}"]
    return [] if a == b else [f"{path}: {a!r} {b!r}"]


def test_both_engines_give_the_same_relations_frames_and_context(two_sites, spark, tmp_path):
    study = load_study(builtin_study_path())
    cutoff = study.study.default_cutoff
    con = open_registry(two_sites, read_only=False)
    try:
        freeze_cutoff(con, study, cutoff)
        duck = build_cohort(con, study, cutoff)
        load_registry(spark, con, LOCAL, tmp_path)
        run_queries_on_spark(spark, study, cutoff, None)
        for path in ordered_sql_files():  # every relation, views included, as sets of rows
            ours = con.sql(f"select * from {path.stem}").pl()
            theirs = pl.from_arrow(spark.table(path.stem).toArrow())
            assert theirs.schema == ours.schema, path.stem
            assert _sorted(theirs).equals(_sorted(ours)), path.stem
        on_spark = read_cohort(spark_reader(spark), cutoff, None)
    finally:
        con.close()
    assert duck.adtte.height > 9_000
    for field in READS:  # the frames the analysis reads, in the same order
        assert getattr(on_spark, field).equals(getattr(duck, field)), field
    assert _same_numbers(build_context(on_spark, study), build_context(duck, study)) == []


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
    assert software.pop("spark") == spark_version() and software.pop("sqlglot")
    assert software == ours.pop("software")
    assert theirs == ours  # the same numbers to the last bit, not only within 1e-9


def spark_version() -> str:
    from importlib.metadata import version

    return version("pyspark")


def test_lakehouse_tables_named_in_a_mapping_file_are_read(demo_dir, spark, tmp_path):
    from toolkit.spark_engine import build_cohort_on_spark

    study = load_study(builtin_study_path())
    cutoff = study.study.default_cutoff
    con = open_registry(demo_dir / "registry.duckdb", read_only=True)
    try:
        lake = tmp_path / "lake_patients.parquet"
        import pyarrow.parquet as pq

        pq.write_table(
            con.sql("select * from patients where site_id <> 'S06'").to_arrow_table(), lake
        )
        spark.read.parquet(str(lake)).createOrReplaceTempView("lake_patients")
        mapping = tmp_path / "tables.toml"
        mapping.write_text('[tables]\npatients = "lake_patients"\n', encoding="utf-8")
        target = SparkTarget(url="local[2]", tables=read_table_mapping(mapping))
        cohort = build_cohort_on_spark(con, study, cutoff, None, target)
        duck = build_cohort(con, study, cutoff)
    finally:
        con.close()
    # the lakehouse's patients table (without site S06) is the one read
    assert set(cohort.adtte["site_id"]) == set(duck.adtte["site_id"]) - {"S06"}
    assert cohort.adtte.equals(duck.adtte.filter(pl.col("site_id") != "S06"))


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[tables]\nvisits = "lake.visits"\n', "visits is not a registry table"),
        ("[tables]\npatients = 3\n", "expected a [tables] section"),
        ("tables = [", "not TOML"),
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
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    # SPARK_REMOTE=local[2]: pyspark starts a Spark Connect server here and talks gRPC to it,
    # the client side of an sc:// URL; in its own process, which has no classic session
    db = str(demo_dir / "registry.duckdb")
    env = {**os.environ, "SPARK_REMOTE": "local[2]"}
    command = [sys.executable, "-m", "toolkit", "cohort", "--db", db, "--engine", "spark"]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "connect")], env=env, capture_output=True, timeout=600
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""  # Spark's start-up lines went to its log, not to the user
    assert main(["cohort", "--db", db, "--out", str(tmp_path / "duckdb")]) == 0, capsys.readouterr()
    written = sorted(p.name for p in (tmp_path / "duckdb").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "connect").iterdir())
    for name in written:
        assert (tmp_path / "connect" / name).read_bytes() == (
            tmp_path / "duckdb" / name
        ).read_bytes()
