"""The SQL of ``queries/`` stays in the subset that DuckDB and Spark run alike: the lint of
:mod:`toolkit.portable_sql` on every file (and on each construct it refuses), the binding of the
runner's variables, and snapshots of the Spark translation of every file.

Snapshots live in ``tests/queries/spark/``; after a deliberate change (a file edited, sqlglot
upgraded), rewrite them with ``UPDATE_SPARK_SNAPSHOTS=1 pytest tests/queries/test_portable.py``
and read the diff: a changed translation is a change to what Spark runs.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot

from toolkit.cohort import READS, ordered_sql_files, variable_types
from toolkit.portable_sql import RULES, bind, lint, literal, parse, to_spark

SNAPSHOTS = Path(__file__).with_name("spark")
FILES = {path.stem: path for path in ordered_sql_files()}

#: The variables every snapshot is translated with (a fixed study and cutoff).
VALUES = {
    "cutoff_date": date(2015, 3, 16),
    "previous_cutoff_date": None,
    "days_per_month": 30.4375,
    "index_agent_classes": ["il2"],
    "index_min_doses": 1,
    "excluding_prior_classes": ["ctla4", "pd1", "pdl1"],
    "treatment_related": ["definite", "probable", "possible"],
    "baseline_covariates": ["age", "sex"],
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_file_is_in_the_portable_subset(name: str) -> None:
    assert lint(FILES[name].read_text(encoding="utf-8"), variable_types()) == []


REFUSED = [
    ("star-exclude", "select * exclude (patient_key) from stg_patients"),
    ("star-exclude", "select columns('x_.*') from stg_patients"),
    ("star-exclude", "select * replace (upper(sex) as sex) from stg_patients"),
    ("pivot", "unpivot stg_patient_baseline on sex, ecog into name covariate value level"),
    ("quantile", "select quantile_cont(age_years, 0.5) from adtte"),
    ("quantile", "select percentile_cont(0.5) within group (order by age_years) from adtte"),
    ("join-subquery", "select 1 from a join b on a.k = (select min(k) from c)"),
    ("group-by-all", "select stratum_key, count(*) from adtte group by all"),
    ("getvariable", "select getvariable('nobody_sets_this')"),
    ("getvariable", "select getvariable(name) from t"),
    ("unknown-function", "select bar_chart_of(x) from t"),
    ("window-order", "select row_number() over (partition by site_id) from submissions"),
    ("date-diff-unit", "select date_diff('month', startdt, adt) from adtte"),
]


@pytest.mark.parametrize("rule, sql", REFUSED, ids=[f"{r}-{i}" for i, (r, _) in enumerate(REFUSED)])
def test_the_lint_refuses_what_does_not_translate(rule: str, sql: str) -> None:
    assert rule in RULES
    assert rule in [found for found, _ in lint(sql, variable_types())]


def test_the_lint_accepts_what_translates() -> None:
    sql = (
        "select stratum_key, count(*) filter (where is_event) as n, min_by(aval, patient_key) "
        "from adtte where list_contains(getvariable('baseline_covariates'), 'age') "
        "group by grouping sets ((stratum_key), ()) order by stratum_key nulls last"
    )
    assert lint(sql, variable_types()) == []


def test_variables_become_literals_of_the_declared_type() -> None:
    sql = (
        "select getvariable('cutoff_date') as c, getvariable('previous_cutoff_date') as p, "
        "getvariable('days_per_month') as d, getvariable('index_min_doses') as m, "
        "getvariable('index_agent_classes') as a"
    )
    spark = bind(parse(sql), VALUES, variable_types()).sql(dialect="spark")
    assert "GETVARIABLE" not in spark.upper()
    assert "CAST('2015-03-16' AS DATE) AS c" in spark
    assert "CAST(NULL AS DATE) AS p" in spark
    assert "CAST(30.4375 AS DOUBLE) AS d" in spark  # not a decimal literal: division stays double
    assert "CAST(1 AS INT) AS m" in spark
    assert "CAST(ARRAY('il2') AS ARRAY<STRING>) AS a" in spark
    # bound for DuckDB too, the values are the runner's
    rows = duckdb.sql(bind(parse(sql), VALUES, variable_types()).sql(dialect="duckdb")).fetchall()
    assert rows[0] == (date(2015, 3, 16), None, 30.4375, 1, ["il2"])


@pytest.mark.parametrize(
    "value, type_name",
    [("2015-03-16", "date"), (datetime(2015, 3, 16, 12), "date"), (1.5, "timestamp")],
)
def test_a_value_that_is_not_of_its_declared_type_is_refused(value, type_name: str) -> None:
    with pytest.raises(
        ValueError, match=f"no literal for a value of the declared type '{type_name}'"
    ):
        literal(value, type_name)


def test_an_unknown_or_computed_variable_is_refused_by_the_binder() -> None:
    with pytest.raises(ValueError, match="does not set"):
        bind(parse("select getvariable('nobody_sets_this')"), VALUES, variable_types())
    for computed in ("name", "1"):
        with pytest.raises(ValueError, match="string literal"):
            bind(parse(f"select getvariable({computed}) from t"), VALUES, variable_types())


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_spark_translation_is_the_snapshot(name: str) -> None:
    translated = to_spark(FILES[name].read_text(encoding="utf-8"), VALUES, variable_types())
    snapshot = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("UPDATE_SPARK_SNAPSHOTS"):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(translated + "\n", encoding="utf-8")
    assert snapshot.is_file(), f"no snapshot {snapshot.name}: run with UPDATE_SPARK_SNAPSHOTS=1"
    assert translated + "\n" == snapshot.read_text(encoding="utf-8"), (
        f"the Spark translation of {name}.sql changed (sqlglot {sqlglot.__version__}); "
        "check the new one runs alike and rewrite the snapshot with UPDATE_SPARK_SNAPSHOTS=1"
    )


def test_every_snapshot_has_its_file() -> None:
    assert {p.stem for p in SNAPSHOTS.glob("*.sql")} == set(FILES)


def _final_order(sql: str) -> str:
    """The top-level ``order by`` of a file, as DuckDB SQL."""
    order = parse(sql).args.get("order")
    return order.sql(dialect="duckdb") if order else ""


@pytest.mark.parametrize("field", sorted(READS))
def test_each_read_orders_as_its_file_stores(field: str) -> None:
    # DuckDB reads a table back in its file's order; Spark orders the read: the same rows then
    relation, order = READS[field]
    stored = _final_order(FILES[relation].read_text(encoding="utf-8"))
    asked = parse(f"select * from {relation} order by {order}").args["order"].sql("duckdb")
    normalised = re.sub(r"\b[a-z]\.", "", stored)  # the file may qualify its columns
    assert normalised == asked, (stored, asked)


def test_the_long_forms_list_every_baseline_column() -> None:
    # stg_patient_covariates and baseline_categorical unpivot by hand: one select per column
    con = duckdb.connect()
    con.execute(
        "create table stg_patients (patient_key varchar, sex varchar, primary_site varchar, "
        "m_stage varchar, ecog integer, ldh_elevated varchar, brain_metastases varchar, "
        "braf_status varchar)"
    )
    con.execute("create view stg_patient_baseline as " + FILES["stg_patient_baseline"].read_text())
    columns = {row[0] for row in con.execute("describe stg_patient_baseline").fetchall()}
    columns.discard("patient_key")
    for name in ("stg_patient_covariates", "baseline_categorical"):
        text = FILES[name].read_text(encoding="utf-8")
        # each select of the long form pairs a covariate's name with its own column
        pairs = re.findall(r"'([a-z_]+)'(?: as covariate)?, ([a-z_]+)(?: as level)?", text)
        assert [covariate for covariate, _ in pairs] == [column for _, column in pairs], name
        assert {covariate for covariate, _ in pairs} == columns, name
    # and baseline_categorical counts the patients per combination of every one of them
    combinations = FILES["baseline_categorical"].read_text(encoding="utf-8").split("),")[0]
    assert set(re.findall(r"\bb\.([a-z_]+)", combinations)) - {"patient_key"} == columns
