"""Options shared by the commands that analyse a data cutoff (``report``, ``cohort``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from toolkit.errors import UsageError

__all__ = [
    "cutoff_options",
    "cutoff_used",
    "edition_option",
    "engine_options",
    "parse_cutoff",
    "say_if_frozen_behind",
    "study_option",
]


def parse_cutoff(value: str | None) -> date | None:
    """The ``--cutoff`` text as a date (``None`` when not given)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--cutoff must be a date YYYY-MM-DD, not {value!r}") from None


def _study_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path:
    from toolkit.study import resolve_study

    return resolve_study(value)


#: ``--study``: the study definition a command analyses with, as a path (always given).
study_option = click.option(
    "--study",
    "study_path",
    default=None,
    callback=_study_path,
    metavar="NAME|FILE",
    help="A built-in study (proclaim, braf) or a study definition file (TOML); "
    "default: proclaim, the poster's analysis.",
)


def edition_option(help: str) -> Callable:
    """``--edition internal|sponsor``, said in the command's own words."""
    return click.option(
        "--edition",
        type=click.Choice(["internal", "sponsor"]),
        default="internal",
        show_default=True,
        help=help,
    )


def cutoff_options(command: Callable) -> Callable:
    """``--db``, ``--study``, ``--cutoff``, ``--out`` and ``--refreeze``."""
    options = [
        click.option(
            "--db",
            "db_path",
            type=click.Path(path_type=Path),
            required=True,
            help="The registry's DuckDB file (toolkit ingest makes it).",
        ),
        study_option,
        click.option(
            "--cutoff", default=None, help="Data cutoff YYYY-MM-DD (default: the study's)."
        ),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(path_type=Path),
            required=True,
            help="Folder for the files (created when missing; the files in it replaced).",
        ),
        click.option(
            "--refreeze",
            is_flag=True,
            help="Use the submissions in force now, not those frozen for this cutoff.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def engine_options(command: Callable) -> Callable:
    """``--engine``, ``--spark-url`` and ``--spark-tables``, given to the command as ``spark``:
    a :class:`toolkit.spark_engine.SparkTarget`, or ``None`` for DuckDB."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(["duckdb", "spark"]),
            default="duckdb",
            show_default=True,
            help="Where the cohort SQL runs: DuckDB, embedded; or Apache Spark (pyspark, Java 17).",
        ),
        click.option(
            "--spark-url",
            default=None,
            metavar="URL",
            help="Spark master (local[4], spark://host:7077, yarn) or Spark Connect URL "
            "(sc://host:15002); default: SPARK_REMOTE or spark.master, else local[*].",
        ),
        click.option(
            "--spark-tables",
            type=click.Path(path_type=Path),
            default=None,
            metavar="FILE",
            help="TOML file naming existing Spark tables to read instead of the registry's "
            '([tables] patients = "lake.proclaim.patients").',
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return _as_spark_target(command)


def _as_spark_target(command: Callable) -> Callable:
    import functools

    @functools.wraps(command)
    def wrapper(*args, engine: str, spark_url: str | None, spark_tables: Path | None, **kw):
        if engine != "spark":
            if spark_url or spark_tables:
                raise UsageError("--spark-url and --spark-tables need --engine spark")
            return command(*args, spark=None, **kw)
        from toolkit.spark_engine import SparkTarget, check_spark, read_table_mapping

        tables = read_table_mapping(spark_tables) if spark_tables else {}
        target = SparkTarget(url=spark_url, tables=tables)
        check_spark(target)  # before the cutoff's freeze writes anything
        return command(*args, spark=target, **kw)

    return wrapper


def cutoff_used(study_path: Path, cutoff: date | None) -> date:
    """The cutoff a command analyses: the one given, or the study's default."""
    from toolkit.study import load_study

    return cutoff or load_study(study_path).study.default_cutoff


def say_if_frozen_behind(db_path: Path, used: date) -> int:
    """Tell on stderr when the cutoff, frozen on its first use, leaves out newer extracts that
    are in force now, and how to take them; the number of sites that sent one."""
    from toolkit.commands._output import say
    from toolkit.documents import count_of
    from toolkit.ledger import newer_than_frozen

    newer = newer_than_frozen(db_path, used)
    if newer:
        say(
            f"note: the cutoff {used} was frozen on its first use; {count_of(newer, 'site')} "
            f"sent a newer accepted extract since (toolkit status lists them). Rerun with "
            f"--refreeze to use them.",
            err=True,
        )
    return newer
