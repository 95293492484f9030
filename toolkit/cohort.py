"""Build the analysis for a data cutoff by running the SQL files of ``queries/`` in layer order.

Each file defines one relation named after the file; it is materialised as a temporary table,
so the registry database itself is only read. A file whose header holds the line
``-- materialized: view`` becomes a temporary view instead: a relation read once, or read only
in part (a few columns, a filtered subset), then costs nothing until the reader runs, and the
reader's filters reach the tables underneath. Parameters reach the SQL as DuckDB variables.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from toolkit.errors import AnalysisError, Interrupted
from toolkit.resources import asset_dir, sql_files, standalone_sql
from toolkit.study import Study

__all__ = [
    "Cohort",
    "build_cohort",
    "freeze_cutoff",
    "is_frozen",
    "run_queries",
    "ordered_sql_files",
    "materialization",
]


@dataclass(frozen=True)
class Cohort:
    """The analysis relations for one cutoff, as frames.

    Attributes
    ----------
    cutoff : the data cutoff.
    submissions : the submission of each site the analysis used (frozen for the cutoff).
    adtte : one row per analysed patient (ADaM ADTTE shape) with stratum.
    risk_sets : overall survival aggregated for the estimators: per stratum, distinct time
        (``aval``) and event, the number of patients (``n_patients``).
    flow : the eligibility flow, one row per step.
    stratum_counts : per stratum, patients and the events the poster counts.
    episodes : the time-varying strata, (tstart, tstop] per patient.
    safety_times : per patient, the time from the safety window's start to the first
        treatment-related autoimmune adverse event, death (competing) or censoring.
    baseline_categorical, baseline_continuous : Table 1 rows.
    changes : since the previous frozen cutoff (``previous_cutoff`` and the number of each
        kind of change of ``queries/50_changes``), or None when there is none.
    software : the versions of what computed the relations besides DuckDB (Spark, sqlglot).
    """

    cutoff: date
    submissions: pl.DataFrame
    adtte: pl.DataFrame
    risk_sets: pl.DataFrame
    flow: pl.DataFrame
    stratum_counts: pl.DataFrame
    episodes: pl.DataFrame
    safety_times: pl.DataFrame
    baseline_categorical: pl.DataFrame
    baseline_continuous: pl.DataFrame
    changes: dict | None = None
    software: dict[str, str] = field(default_factory=dict)


@cache
def sources() -> dict:
    """``queries/00_sources/sources.toml``: what the SQL reads without creating it."""
    path = asset_dir("queries") / "00_sources" / "sources.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def parameters(study: Study, cutoff: date, previous: date | None = None) -> dict:
    """The values of the variables ``sources.toml`` declares, for one run."""
    values = {
        "cutoff_date": cutoff,
        "previous_cutoff_date": previous,
        "days_per_month": study.endpoint.days_per_month,
        "index_agent_classes": list(study.index.agent_classes),
        "index_min_doses": study.index.min_doses,
        "excluding_prior_classes": list(study.exclusions.prior_agent_classes),
        "treatment_related": list(study.adverse_events.treatment_related),
        "baseline_covariates": list(study.baseline.covariates),
    }
    declared = sources()["runner"]["variables"]
    if values.keys() != declared.keys():
        raise AnalysisError(
            f"queries/00_sources/sources.toml declares the variables {sorted(declared)}; "
            f"the runner sets {sorted(values)}"
        )
    return values


def variable_types() -> dict[str, str]:
    """Each declared variable's type, as DuckDB names it (``date``, ``varchar[]`` …)."""
    return {name: v["type"] for name, v in sources()["runner"]["variables"].items()}


def strata_rows(study: Study) -> list[list]:
    """The rows of the runner table ``study_strata``, in its declared column order."""
    return [
        [
            order,
            s.key,
            s.label,
            list(s.later_agent_classes),
            s.baseline.column if s.baseline else None,
            list(s.baseline.values) if s.baseline else [],
            s.is_default,
        ]
        for order, s in enumerate(study.strata)
    ]


def _set_parameters(
    con: duckdb.DuckDBPyConnection, study: Study, cutoff: date, previous: date | None = None
) -> None:
    """Set the variables and create the tables that sources.toml says the runner provides."""
    types = variable_types()
    for name, value in parameters(study, cutoff, previous).items():
        con.execute(f"set variable {name} = ?::{types[name]}", [value])
    tables = sources()["runner"]["tables"]
    # kept across runs: toolkit compare fills it between the earlier cutoff's run and the later's
    kept = _columns(tables, "previous_analysis")
    con.execute(f"create temp table if not exists previous_analysis ({kept})")
    columns = tables["study_strata"]["columns"]
    con.execute(f"create or replace temp table study_strata ({_columns(tables, 'study_strata')})")
    con.executemany(
        f"insert into study_strata values ({', '.join('?' * len(columns))})", strata_rows(study)
    )


def _columns(tables: dict, name: str) -> str:
    """A runner table's declared columns as SQL: ``name type, …``."""
    return ", ".join(f"{c['name']} {c['type']}" for c in tables[name]["columns"])


def references(sql: str, names: set[str]) -> set[str]:
    """Relation names of ``queries/`` that a SQL text mentions (outside ``--`` comments)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return {name for name in names if re.search(rf"\b{re.escape(name)}\b", code)}


def ordered_sql_files() -> list[Path]:
    """SQL files in run order: by layer, and within a layer after the relations they read.

    A file may read loaded tables and relations of its own or lower layers; reading a higher
    layer, or a cycle, is an error in the query files themselves.
    """
    files = sql_files()
    layer = {p.stem: p.parent.name for p in files}
    texts = {p.stem: p.read_text(encoding="utf-8") for p in files}
    done: list[Path] = []
    placed: set[str] = set()
    for current in sorted(set(layer.values())):
        pending = {p.stem: p for p in files if layer[p.stem] == current}
        deps = {name: references(texts[name], set(layer)) - {name} for name in pending}
        for name, needed in deps.items():
            higher = sorted(n for n in needed if layer[n] > current)
            if higher:
                raise AnalysisError(f"{current}/{name}.sql reads a later layer: {higher}")
        while pending:
            ready = sorted(n for n in pending if deps[n] <= placed | (deps[n] - set(pending)))
            if not ready:
                raise AnalysisError(f"circular references among {sorted(pending)} in {current}")
            for name in ready:
                done.append(pending.pop(name))
                placed.add(name)
    return done


_MATERIALIZED = re.compile(r"^--[ \t]*materialized:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def materialization(sql: str) -> str:
    """``table`` (the default) or ``view``: the file's ``-- materialized:`` line, if any."""
    found = _MATERIALIZED.search(sql)
    kind = found.group(1) if found else "table"
    if kind not in ("table", "view"):
        raise ValueError(f"materialized: {kind!r}; expected table or view")
    return kind


def run_queries(
    con: duckdb.DuckDBPyConnection, study: Study, cutoff: date, previous: date | None = None
) -> None:
    """Create every relation of ``queries/`` as a temporary table (or view), in run order;
    ``previous``: the cutoff the change relations (``50_changes``) compare with."""
    _set_parameters(con, study, cutoff, previous)
    for path in ordered_sql_files():
        sql = path.read_text(encoding="utf-8")
        try:
            kind = materialization(sql)
        except ValueError as error:
            raise AnalysisError(f"{path.parent.name}/{path.name}: {error}") from None
        try:
            con.execute(f"create or replace temp {kind} {path.stem} as {sql}")
        except duckdb.InterruptException:
            raise Interrupted(
                "interrupted while building the cohort; nothing was written"
            ) from None
        except duckdb.Error as error:
            raise AnalysisError(f"{path.parent.name}/{path.name} failed: {error}") from None


def is_frozen(con: duckdb.DuckDBPyConnection, cutoff: date) -> bool:
    """Whether the submissions of ``cutoff`` were frozen already (read-only is enough)."""
    found = con.execute(
        "select count(*) from cutoff_freezes where cutoff_date = ?", [cutoff]
    ).fetchone()[0]
    return found > 0


def freeze_cutoff(
    con: duckdb.DuckDBPyConnection, study: Study, cutoff: date, *, refreeze: bool = False
) -> bool:
    """Record, once, which submission of each site the cutoff uses; True when newly frozen.

    A frozen cutoff reproduces its numbers after newer submissions arrive; ``refreeze`` takes
    the submissions in force now instead. The one write of the analysis: ``con`` must be
    writable, and the freeze is one transaction (Ctrl-C or a failure rolls it back).
    """
    _set_parameters(con, study, cutoff)
    con.execute("begin transaction")
    try:
        if refreeze:
            con.execute("delete from cutoff_freezes where cutoff_date = ?", [cutoff])
        exists = is_frozen(con, cutoff)
        if not exists:
            in_force = standalone_sql("stg_submissions_in_force")
            con.execute(
                f"""
                insert into cutoff_freezes
                select ?, submission_id, site_id,
                       (select coalesce(max(ingest_seq), 0) from submissions)
                from ({in_force})
                """,
                [cutoff],
            )
        con.execute("commit")
    except (duckdb.InterruptException, KeyboardInterrupt):
        _rollback(con)
        raise Interrupted("interrupted: the cutoff freeze was rolled back") from None
    except duckdb.Error as error:
        _rollback(con)
        raise AnalysisError(
            f"freezing the cutoff {cutoff} failed and was rolled back: {error}"
        ) from None
    return not exists


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        con.execute("rollback")


#: What the analysis reads: each field of :class:`Cohort`, the relation it holds and the order
#: of its rows. The order is the relation file's own ``order by``: DuckDB stores a table's rows
#: in that order and keeps it (its default ``preserve_insertion_order``), so it reads tables
#: back as stored; an engine that keeps no order (Spark) orders each read by it.
READS = {
    "submissions": ("stg_submissions_in_force", "site_id"),
    "adtte": ("adtte", "stratum_order, patient_key"),
    "risk_sets": ("survival_risk_sets", "stratum_order, aval, is_event"),
    "flow": ("cohort_flow", "step"),
    "stratum_counts": ("stratum_counts", "stratum_order"),
    "episodes": ("treatment_episodes", "patient_key, tstart_days"),
    "safety_times": ("safety_time_to_event", "stratum_order, patient_key"),
    "baseline_categorical": ("baseline_categorical", "covariate, level, stratum_key nulls last"),
    "baseline_continuous": ("baseline_continuous", "stratum_key nulls last"),
}

#: Reads a relation's rows in an order (``(relation, order by) -> frame``): an engine's reader.
Reader = Callable[[str, str], pl.DataFrame]


def duckdb_reader(con: duckdb.DuckDBPyConnection) -> Reader:
    """Reads from DuckDB: a table as stored (in its file's order), a view in the order given."""
    views = {
        path.stem
        for path in ordered_sql_files()
        if materialization(path.read_text(encoding="utf-8")) == "view"
    }

    def read(relation: str, order: str) -> pl.DataFrame:
        ordering = f" order by {order}" if relation in views else ""
        return con.sql(f"select * from {relation}{ordering}").pl()

    return read


def read_cohort(read: Reader, cutoff: date, previous: date | None) -> Cohort:
    """The relations the analysis needs, built already for ``cutoff``, read by ``read``."""
    # one chunk each: a sum over a frame then runs in one order, whatever batches the engine
    # returned (DuckDB's of 122,880 rows, Spark's by partition)
    frames = {field: read(rel, order).rechunk() for field, (rel, order) in READS.items()}
    if frames["adtte"].height == 0:
        raise AnalysisError(f"no eligible patient at the cutoff {cutoff.isoformat()}")
    return Cohort(cutoff=cutoff, **frames, changes=_changes(read, previous))


def build_cohort(
    con: duckdb.DuckDBPyConnection, study: Study, cutoff: date, *, previous: date | None = None
) -> Cohort:
    """Run the SQL stage for ``cutoff`` in DuckDB and return the relations the analysis needs;
    ``previous``: the cutoff the changes are counted from (default: the latest frozen before)."""
    if previous is None:
        previous = previous_cutoff(con, cutoff)
    run_queries(con, study, cutoff, previous)
    try:
        return read_cohort(duckdb_reader(con), cutoff, previous)
    except duckdb.InterruptException:
        raise Interrupted("interrupted while reading the cohort; nothing was written") from None
    except duckdb.Error as error:
        raise AnalysisError(f"reading the cohort failed: {error}") from None


def previous_cutoff(con: duckdb.DuckDBPyConnection, cutoff: date) -> date | None:
    """The latest cutoff frozen before ``cutoff`` (``None``: there is none)."""
    ((found,),) = con.execute(
        "select max(cutoff_date) from cutoff_freezes where cutoff_date < ?", [cutoff]
    ).fetchall()
    return found


#: The kinds of patient change of ``patient_changes``, as the report counts them.
CHANGE_KINDS = {
    "new_patient": "new_patients",
    "patient_dropped": "patients_dropped",
    "death_added": "deaths_added",
    "date_changed": "dates_changed",
}


#: The kinds of change ``change_counts`` counts: the patients' and the treatment courses'.
COUNTED_CHANGES = CHANGE_KINDS | {"treatment_date_changed": "treatment_dates_changed"}


def _changes(read: Reader, previous: date | None) -> dict | None:
    """How many changes of each kind since the previous frozen cutoff (None: there is none),
    counted by the SQL (``change_counts``)."""
    if previous is None:
        return None
    counts = dict(read("change_counts", "change_kind").iter_rows())
    return {
        "previous_cutoff": previous.isoformat(),
        **{name: int(counts.get(kind, 0)) for kind, name in COUNTED_CHANGES.items()},
    }
