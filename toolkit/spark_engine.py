"""The cohort SQL on Apache Spark: the same ``queries/`` files, run for a cutoff on a Spark
session, giving the same :class:`~toolkit.cohort.Cohort` as DuckDB.

- **Session.** A master URL (``local[4]``, ``spark://host:7077``, ``yarn``) or a Spark Connect
  URL (``sc://host:15002``); without one, Spark's own settings decide (``SPARK_REMOTE``, or the
  ``spark.master`` of ``spark-defaults.conf``), else ``local[*]``.
- **Base tables.** The registry tables the analysis reads come from the DuckDB registry: staged
  as Parquet for a local session, sent as Arrow to any other (a cluster's executors and a Spark
  Connect server cannot read this machine's files). A mapping names lakehouse tables to read
  instead (``{"patients": "lake.proclaim.patients", …}``); the submissions and the cutoff
  freezes come from the same side, and a cutoff read from the lakehouse must be frozen there.
- **Relations.** Only those the analysis reads, and what they read. Each file is translated
  by :mod:`toolkit.portable_sql` with the run's variables bound; a file materialised as a table
  is checkpointed (computed once, its lineage cut), a view stays a view. Every read orders its
  rows: Spark keeps no order.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from toolkit.cohort import (
    READS,
    Cohort,
    Reader,
    materialization,
    ordered_sql_files,
    parameters,
    read_cohort,
    references,
    sources,
    strata_rows,
    variable_types,
)
from toolkit.errors import AnalysisError, UsageError
from toolkit.study import Study

__all__ = [
    "SparkTarget",
    "build_cohort_on_spark",
    "check_spark",
    "load_registry",
    "read_table_mapping",
    "run_queries_on_spark",
    "spark_reader",
    "spark_session",
]

_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
#: The registry tables that travel together: the freezes name submissions.
_FREEZE_TABLES = ("submissions", "cutoff_freezes")
#: The relation the report reads besides :data:`~toolkit.cohort.READS`: the changes' counts.
_CHANGES = ("change_counts",)


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

    @property
    def is_connect(self) -> bool:
        if self.url:
            return self.url.startswith("sc://")
        return bool(os.environ.get("SPARK_REMOTE"))

    @property
    def freezes_from_lakehouse(self) -> bool:
        return "cutoff_freezes" in self.tables


def read_table_mapping(path: Path) -> dict[str, str]:
    """The ``[tables]`` of a mapping file: registry table name → Spark table name."""
    import tomllib

    where = f"--spark-tables {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{where}: cannot read it ({error.strerror})") from None
    try:
        tables = tomllib.loads(text).get("tables")
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{where}: not TOML ({error})") from None
    if not isinstance(tables, dict) or not all(
        isinstance(v, str) and v.strip() for v in tables.values()
    ):
        raise UsageError(
            f"{where}: expected a [tables] section of names, "
            'e.g. patients = "lake.proclaim.patients"'
        )
    known = set(sources()["registry"])
    unknown = sorted(set(tables) - known)
    if unknown:
        raise UsageError(
            f"{where}: {', '.join(unknown)} is not a registry table ({', '.join(sorted(known))})"
        )
    if len(set(_FREEZE_TABLES) & set(tables)) == 1:
        raise UsageError(
            f"{where}: name submissions and cutoff_freezes together, or neither; the freezes "
            "name the submissions of their own side"
        )
    return dict(tables)


def check_spark(target: SparkTarget) -> None:
    """What ``--engine spark`` needs here, checked before anything is written: pyspark and
    sqlglot, and a Java runtime for a session started on this machine."""
    missing = [name for name in ("pyspark", "sqlglot") if not _importable(name)]
    if missing:
        raise UsageError(
            f"--engine spark needs {' and '.join(missing)}: pip install 'registry-toolkit[spark]'"
        )
    if not target.is_connect and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise UsageError(
            "Spark needs a Java 17 runtime, and none was found (no java on PATH, no JAVA_HOME): "
            "apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
        )


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def spark_session(target: SparkTarget):
    """The Spark session of ``target`` (an active one of the same kind is reused)."""
    check_spark(target)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("registry-toolkit")
    if target.is_connect:
        builder = builder.remote(target.url) if target.url else builder
    else:
        builder = _classic(builder, target.url)
    log = _jvm_log()
    try:
        with _stderr_to(log):  # a JVM started now inherits it: its lines go there, not to you
            session = builder.getOrCreate()
    except ImportError as error:
        raise UsageError(
            f"a Spark Connect URL needs pyspark's connect packages ({error}): "
            "pip install 'pyspark[connect]'"
        ) from None
    except Exception as error:  # pyspark's and py4j's errors share no base class
        _LOGS.clear()  # kept for the user: the error names it
        raise AnalysisError(
            f"Spark did not start ({_first_line(error)}); its output is in {log}"
        ) from None
    if not _is_connect(session):
        session.sparkContext.setLogLevel("ERROR")
    return session


def _classic(builder, master: str | None):
    """The builder of a classic session (a JVM here, local or driving a cluster); the local
    settings only for a local master."""
    if master:
        builder = builder.master(master)
    if not _is_local(master):
        return builder
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}",
        # few cores: a few shuffle partitions, not 200
        "spark.sql.shuffle.partitions": str(2 * (os.cpu_count() or 1)),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder


def _is_local(master: str | None) -> bool:
    """Whether the session runs here: a ``local`` master, given or the default one."""
    return (master or _configured_master() or "local").startswith("local")


def _configured_master() -> str | None:
    """``spark.master`` of ``spark-defaults.conf`` (``SPARK_CONF_DIR``, or ``SPARK_HOME/conf``)."""
    folders = [os.environ.get("SPARK_CONF_DIR")]
    folders += [str(Path(os.environ["SPARK_HOME"]) / "conf")] if "SPARK_HOME" in os.environ else []
    for folder in filter(None, folders):
        defaults = Path(folder) / "spark-defaults.conf"
        if defaults.is_file():
            for line in defaults.read_text(encoding="utf-8", errors="replace").splitlines():
                key, _, value = line.strip().partition(" ")
                if key == "spark.master" and value.strip():
                    return value.strip()
    return None


def _jvm_log() -> Path:
    """A new private file for the JVM's own output, removed at exit unless Spark failed."""
    handle, name = tempfile.mkstemp(prefix="toolkit-spark-", suffix=".log")
    os.close(handle)
    log = Path(name)
    _LOGS.append(log)
    return log


#: The JVM logs of this process's sessions, removed at exit; a failed start's is kept (the
#: error names it).
_LOGS: list[Path] = []


@atexit.register
def _remove_logs() -> None:
    for log in _LOGS:
        log.unlink(missing_ok=True)


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's standard error (file descriptor 2, which child processes inherit)
    to ``path`` for the duration."""
    target = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        saved = os.dup(2)
    except OSError:
        os.close(target)
        raise
    try:
        sys.stderr.flush()
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _is_connect(session) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def needed_relations() -> list[Path]:
    """The files of the relations the analysis reads and of all they read, in run order."""
    files = ordered_sql_files()
    texts = {path.stem: path.read_text(encoding="utf-8") for path in files}
    wanted = {relation for relation, _ in READS.values()} | set(_CHANGES)
    pending = list(wanted)
    while pending:
        for name in references(texts[pending.pop()], set(texts)) - wanted:
            wanted.add(name)
            pending.append(name)
    return [path for path in files if path.stem in wanted]


def _registry_tables(files: list[Path]) -> list[str]:
    """The registry tables those files read."""
    read: set[str] = set()
    for path in files:
        read |= references(path.read_text(encoding="utf-8"), set(sources()["registry"]))
    return [name for name in sources()["registry"] if name in read]


def load_registry(
    session, con: duckdb.DuckDBPyConnection, target: SparkTarget, staging: Path
) -> None:
    """Make each registry table the analysis reads a temporary view: the mapped lakehouse
    table, or the DuckDB registry's rows (Parquet in ``staging`` for a local session, else
    Arrow)."""
    local_files = not _is_connect(session) and _is_local(target.url)
    for name in _registry_tables(needed_relations()):
        try:
            if name in target.tables:
                frame = session.table(target.tables[name])
            elif local_files:
                frame = session.read.parquet(str(_staged(con, name, staging)))
            else:
                rows = con.cursor().sql(f"select * from {name}").to_arrow_table()
                frame = session.createDataFrame(rows, schema=_spark_schema(con, name))
            frame.createOrReplaceTempView(name)
        except duckdb.Error as error:
            raise AnalysisError(f"reading the registry's {name} failed: {error}") from None
        except Exception as error:
            source = target.tables.get(name) or f"the registry's {name}"
            raise AnalysisError(
                f"Spark could not read {source} (registry table {name}): {_first_line(error)}"
            ) from None


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
        try:
            session.createDataFrame(rows[name], schema).createOrReplaceTempView(name)
        except Exception as error:
            raise AnalysisError(f"Spark refused the table {name}: {_first_line(error)}") from None


def run_queries_on_spark(session, study: Study, cutoff: date, previous: date | None) -> None:
    """Create the relations the analysis reads (and what they read) as temporary views of
    ``session``, in run order; a file materialised as a table is computed once (checkpointed)."""
    from toolkit.portable_sql import to_spark

    values, types = parameters(study, cutoff, previous), variable_types()
    _runner_tables(session, study)
    for path in needed_relations():
        sql = path.read_text(encoding="utf-8")
        try:
            frame = session.sql(to_spark(sql, values, types))
            if materialization(sql) == "table":
                frame = frame.localCheckpoint()
            frame.createOrReplaceTempView(path.stem)
        except Exception as error:
            raise AnalysisError(
                f"{path.parent.name}/{path.name} failed on Spark: {_first_line(error)}"
            ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def spark_reader(session) -> Reader:
    """Reads from Spark, each relation ordered as asked (Spark keeps no order), the order
    written in Spark's SQL (an ascending key puts nulls last, as DuckDB does)."""
    from toolkit.portable_sql import to_spark

    def read(relation: str, order: str) -> pl.DataFrame:
        sql = to_spark(f"select * from {relation} order by {order}", {}, {})
        return pl.from_arrow(session.sql(sql).toArrow())

    return read


def _frozen_cutoffs(session, cutoff: date) -> tuple[bool, date | None]:
    """Whether ``cutoff`` is frozen in the session's ``cutoff_freezes``, and the latest cutoff
    frozen before it (the one the changes are counted from)."""
    ((frozen, previous),) = session.sql(
        "select count_if(cutoff_date = cast(:cutoff as date)), "
        "max(case when cutoff_date < cast(:cutoff as date) then cutoff_date end) "
        "from cutoff_freezes",
        args={"cutoff": cutoff.isoformat()},
    ).collect()
    return frozen > 0, previous


def build_cohort_on_spark(
    con: duckdb.DuckDBPyConnection, study: Study, cutoff: date, target: SparkTarget
) -> Cohort:
    """The cohort of a frozen ``cutoff`` computed on Spark: the registry's tables (from ``con``
    or the lakehouse tables ``target`` maps), the same SQL, the same frames as DuckDB gives."""
    session = spark_session(target)
    with tempfile.TemporaryDirectory(prefix="toolkit-spark-") as staging:
        load_registry(session, con, target, Path(staging))
        frozen, previous = _frozen_cutoffs(session, cutoff)
        if not frozen:
            where = target.tables.get("cutoff_freezes", "the registry")
            raise AnalysisError(
                f"the cutoff {cutoff} is not frozen in {where}: freeze it in the registry "
                "(toolkit report or cohort without --spark-tables) and export the "
                "registry's submissions and cutoff_freezes again"
            )
        run_queries_on_spark(session, study, cutoff, previous)
        cohort = _read(session, cutoff, previous)
    software = {"spark": session.version, "sqlglot": metadata.version("sqlglot")}
    return replace(cohort, software=software)


def _read(session, cutoff: date, previous: date | None) -> Cohort:
    try:
        return read_cohort(spark_reader(session), cutoff, previous)
    except AnalysisError:
        raise
    except Exception as error:
        raise AnalysisError(f"reading the cohort from Spark failed: {_first_line(error)}") from None
