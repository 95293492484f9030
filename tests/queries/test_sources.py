"""``queries/00_sources/sources.toml`` against what it declares: the registry's DDL, the runner's
variables and tables, and what the SQL files read."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from toolkit.cohort import _set_parameters, sources
from toolkit.ingest import DDL
from toolkit.resources import sql_files
from toolkit.study import builtin_study_path, load_study


def _code(sql: str) -> str:
    """The SQL without ``--`` comments and string literals (words there are not reads)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return re.sub(r"'(?:[^']|'')*'", "''", code)


def _reads(names: set[str]) -> dict[str, set[str]]:
    """File (layer/relation) → the names of ``names`` its SQL reads."""
    found = {}
    for path in sql_files():
        words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", _code(path.read_text(encoding="utf-8"))))
        found[f"{path.parent.name}/{path.stem}"] = words & names
    return found


def _ddl_tables() -> set[str]:
    con = duckdb.connect()
    try:
        con.execute(DDL)
        rows = con.execute("select table_name from information_schema.tables").fetchall()
    finally:
        con.close()
    return {name for (name,) in rows}


def test_every_declared_registry_table_is_in_the_ddl() -> None:
    assert set(sources()["registry"]) <= _ddl_tables()


def test_only_staging_reads_the_registry_and_every_table_read_is_declared() -> None:
    reads = _reads(_ddl_tables())
    assert {name for names in reads.values() for name in names} == set(sources()["registry"])
    assert {f for f, names in reads.items() if names and not f.startswith("10_staging/")} == set()


def test_every_variable_read_is_declared_and_every_declared_one_is_read() -> None:
    used = set()
    for path in sql_files():
        used |= set(re.findall(r"getvariable\('([a-z_]+)'\)", path.read_text(encoding="utf-8")))
    assert used == set(sources()["runner"]["variables"])


def test_the_runner_provides_what_is_declared() -> None:
    study = load_study(builtin_study_path())
    con = duckdb.connect()
    try:
        _set_parameters(con, study, date(2015, 3, 16))
        names = [name for (name,) in con.execute("select name from duckdb_variables()").fetchall()]
        variables = {
            name: con.execute(
                f"select getvariable('{name}'), typeof(getvariable('{name}'))"
            ).fetchone()
            for name in names
        }
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'study_strata' order by ordinal_position"
        ).fetchall()
        strata = con.execute("select stratum_key from study_strata order by rule_order").fetchall()
    finally:
        con.close()
    declared = sources()["runner"]
    assert {n: t for n, (_, t) in variables.items()} == {
        n: v["type"].upper() for n, v in declared["variables"].items()
    }
    assert variables["cutoff_date"][0] == date(2015, 3, 16)
    assert variables["index_agent_classes"][0] == ["il2"]
    assert variables["days_per_month"][0] == 30.4375
    expected = [
        (c["name"], c["type"].upper()) for c in declared["tables"]["study_strata"]["columns"]
    ]
    assert columns == expected
    assert [key for (key,) in strata] == [s.key for s in study.strata]


def test_a_variable_the_runner_sets_but_sources_does_not_declare_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolkit.errors import AnalysisError

    declared = {k: dict(v) for k, v in sources().items()}
    declared["runner"] = dict(declared["runner"])
    declared["runner"]["variables"] = {
        k: v for k, v in sources()["runner"]["variables"].items() if k != "index_min_doses"
    }
    monkeypatch.setattr("toolkit.cohort.sources", lambda: declared)
    con = duckdb.connect()
    try:
        with pytest.raises(AnalysisError, match=r"declares the variables .* the runner sets"):
            _set_parameters(con, load_study(builtin_study_path()), date(2015, 3, 16))
    finally:
        con.close()


def test_every_source_has_a_description() -> None:
    declared = sources()
    described = [
        *declared["registry"].values(),
        *declared["runner"]["variables"].values(),
        *declared["runner"]["tables"].values(),
    ]
    assert all(item["description"].strip() for item in described)
