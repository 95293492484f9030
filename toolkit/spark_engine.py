"""The cohort SQL on Apache Spark: the same ``queries/`` files, run for a cutoff on a Spark
session, giving the same :class:`~toolkit.cohort.Cohort` as DuckDB.

- **Session.** A master URL (``local[4]``, ``spark://host:7077``, ``yarn``) or a Spark Connect
  URL (``sc://host:15002``); without one, Spark's own settings decide (``SPARK_REMOTE``, or the
  ``spark.master`` that ``spark-submit`` or ``spark-defaults.conf`` sets), else ``local[*]``.
- **Base tables.** The registry's tables come from the DuckDB registry, staged as Parquet (sent
  as Arrow to a Spark Connect server, which cannot read this machine's files), except those a
  mapping names: ``{"patients": "lake.proclaim.patients", …}`` reads a lakehouse's own tables.
  The cutoff's freeze is always written in the DuckDB registry first.
- **Relations.** Each file is translated by :mod:`toolkit.portable_sql` with the run's
  variables bound; a file materialised as a table is checkpointed (computed once, its lineage
  cut), a view stays a view. Every read orders its rows: Spark keeps no order.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from toolkit.cohort import (
    Cohort,
    Reader,
    materialization,
    ordered_sql_files,
    parameters,
    read_cohort,
    sources,
    strata_rows,
    variable_types,
)
from toolkit.errors import AnalysisError, UsageError
from toolkit.study import Study

__all__ = [
    "SparkTarget",
    "build_cohort_on_spark",
    "load_registry",
    "read_table_mapping",
    "run_queries_on_spark",
    "spark_reader",
    "spark_session",
]

_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


@dataclass(frozen=True)
class SparkTarget:
    """Where the cohort SQL runs on Spark.

    Attributes
    ----------
    url : a master URL or a Spark Connect URL (``sc://…``); ``None``: Spark's own settings,
        else ``local[*]``.
    tables : registry table name → an existing Spark table to read instead of the registry's.
    """

    url: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)


def read_table_mapping(path: Path) -> dict[str, str]:
    """The ``[tables]`` of a mapping file: registry table name → Spark table name."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--spark-tables {path}: cannot read it ({error.strerror})") from None
    try:
        tables = tomllib.loads(text).get("tables")
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"--spark-tables {path}: not TOML ({error})") from None
    if not isinstance(tables, dict) or not all(
        isinstance(v, str) and v.strip() for v in tables.values()
    ):
        raise UsageError(
            f"--spark-tables {path}: expected a [tables] section of names, e.g. "
            f'patients = "lake.proclaim.patients"'
        )
    known = set(sources()["registry"])
    unknown = sorted(set(tables) - known)
    if unknown:
        raise UsageError(
            f"--spark-tables {path}: {', '.join(unknown)} is not a registry table "
            f"({', '.join(sorted(known))})"
        )
    return dict(tables)


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError(
            "--engine spark needs pyspark: pip install 'registry-toolkit[spark]' "
            "(and a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless)"
        ) from None


def spark_session(target: SparkTarget):
    """The Spark session of ``target`` (an active one of the same kind is reused)."""
    _require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("registry-toolkit")
    url = target.url
    connect = url.startswith("sc://") if url else bool(os.environ.get("SPARK_REMOTE"))
    if connect and url:
        builder = builder.remote(url)
    elif not connect:
        builder = _classic(builder, url)
    log = Path(tempfile.gettempdir()) / f"toolkit-spark-{os.getpid()}.log"
    try:
        with _stderr_to(log):  # a JVM started now inherits it: its start-up lines go there
            session = builder.getOrCreate()
    except ImportError as error:
        raise UsageError(
            f"a Spark Connect URL needs pyspark's connect packages ({error}): "
            "pip install 'pyspark[connect]'"
        ) from None
    except Exception as error:
        raise AnalysisError(
            f"Spark did not start ({_first_line(error)}); its output is in {log}"
        ) from None
    log.unlink(missing_ok=True)  # kept only when Spark failed to start
    if not _is_connect(session):
        session.sparkContext.setLogLevel("ERROR")
    return session


def _classic(builder, master: str | None):
    """The builder of a classic session (a JVM here, local or driving a cluster)."""
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise UsageError(
            "Spark needs a Java 17 runtime, and none was found (no java on PATH, no JAVA_HOME): "
            "apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
        )
    if master:
        builder = builder.master(master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}",
    }
    if (master or "local").startswith("local"):  # few cores: a few shuffle partitions, not 200
        settings["spark.sql.shuffle.partitions"] = str(2 * (os.cpu_count() or 1))
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's standard error (file descriptor 2, which child processes inherit)
    to ``path`` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _is_connect(session) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def load_registry(session, con: duckdb.DuckDBPyConnection, target: SparkTarget, staging: Path):
    """Make each registry table a temporary view: the mapped lakehouse table, or the DuckDB
    registry's rows (as Parquet in ``staging``, or as Arrow through Spark Connect)."""
    for name in sources()["registry"]:
        if name in target.tables:
            frame = session.table(target.tables[name])
        elif _is_connect(session):
            rows = con.cursor().sql(f"select * from {name}").to_arrow_table()
            frame = session.createDataFrame(rows, schema=_spark_schema(con, name))
        else:
            frame = session.read.parquet(str(_staged(con, name, staging)))
        frame.createOrReplaceTempView(name)


def _staged(con: duckdb.DuckDBPyConnection, table: str, staging: Path) -> Path:
    """A registry table written as Parquet in ``staging``, streamed in Arrow batches (the
    registry's connection may not touch files itself)."""
    import pyarrow.parquet as pq

    path = staging / f"{table}.parquet"
    batches = con.cursor().sql(f"select * from {table}").to_arrow_reader()
    with pq.ParquetWriter(path, batches.schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return path


def _spark_schema(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A registry table's columns as Spark DDL (``name type, …``)."""
    columns = con.cursor().sql(f"describe {table}").fetchall()
    return ", ".join(f"`{name}` {_spark_type(kind)}" for name, kind, *_ in columns)


def _spark_type(duckdb_type: str) -> str:
    from sqlglot import exp

    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")


def _runner_tables(session, study: Study) -> None:
    """The runner's tables of ``sources.toml``: the study's strata, and an empty
    ``previous_analysis`` (toolkit compare runs on DuckDB)."""
    tables = sources()["runner"]["tables"]
    rows = {"study_strata": strata_rows(study), "previous_analysis": []}
    for name, columns in tables.items():
        schema = ", ".join(f"{c['name']} {_spark_type(c['type'])}" for c in columns["columns"])
        session.createDataFrame(rows[name], schema).createOrReplaceTempView(name)


def run_queries_on_spark(session, study: Study, cutoff: date, previous: date | None) -> None:
    """Create every relation of ``queries/`` as a temporary view of ``session``, in run order;
    a file materialised as a table is computed once (checkpointed)."""
    from toolkit.portable_sql import to_spark

    values, types = parameters(study, cutoff, previous), variable_types()
    _runner_tables(session, study)
    for path in ordered_sql_files():
        sql = path.read_text(encoding="utf-8")
        try:
            frame = session.sql(to_spark(sql, values, types))
            if materialization(sql) == "table":
                frame = frame.localCheckpoint()
            frame.createOrReplaceTempView(path.stem)
        except Exception as error:  # pyspark's and py4j's errors share no base class
            raise AnalysisError(
                f"{path.parent.name}/{path.name} failed on Spark: {_first_line(error)}"
            ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def spark_reader(session) -> Reader:
    """Reads from Spark, each relation ordered as asked (Spark keeps no order)."""

    def read(relation: str, order: str) -> pl.DataFrame:
        arrow = session.sql(f"select * from {relation} order by {order}").toArrow()
        return pl.from_arrow(arrow)

    return read


@contextmanager
def _staging() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="toolkit-spark-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_cohort_on_spark(
    con: duckdb.DuckDBPyConnection,
    study: Study,
    cutoff: date,
    previous: date | None,
    target: SparkTarget,
) -> Cohort:
    """The cohort of a frozen ``cutoff`` computed on Spark: the registry's tables (from ``con``
    or the lakehouse tables ``target`` maps), the same SQL, the same frames as DuckDB gives."""
    session = spark_session(target)
    with _staging() as staging:
        load_registry(session, con, target, staging)
        run_queries_on_spark(session, study, cutoff, previous)
        try:
            cohort = read_cohort(spark_reader(session), cutoff, previous)
        except AnalysisError:
            raise
        except Exception as error:
            raise AnalysisError(
                f"reading the cohort from Spark failed: {_first_line(error)}"
            ) from None
    return _with_engine(cohort, session)


def _with_engine(cohort: Cohort, session) -> Cohort:
    from dataclasses import replace

    return replace(
        cohort,
        software={"spark": session.version, "sqlglot": metadata.version("sqlglot")},
    )
