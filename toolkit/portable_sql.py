"""The SQL of ``queries/`` beyond DuckDB: the runner's variables bound as typed literals in the
syntax tree, the translation to Spark SQL, and the lint of the portable subset (sqlglot).

The files are written in DuckDB's SQL and run there as they are, with the variables the runner
sets (``getvariable('cutoff_date')``). For Spark, each file is parsed once, every
``getvariable('name')`` is replaced by the value as a typed literal (a ``cast`` of it to the
type ``sources.toml`` declares), and the tree is written in Spark's dialect. The lint refuses
what sqlglot writes for Spark wrongly or not at all (:data:`RULES`), so that the one copy of
the SQL stays in the subset both engines run alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["RULES", "bind", "lint", "parse", "to_spark"]

#: The constructs the portable subset refuses, by name, with why.
RULES = {
    "star-exclude": "* exclude (…) and columns(…) are DuckDB's: list the columns",
    "pivot": "DuckDB's PIVOT/UNPIVOT does not translate: one select per column, union all",
    "quantile": (
        "quantile_cont/percentile_cont are mistranslated (percentile_cont … within group becomes "
        "Spark's approximate percentile_approx): compute the order statistics by hand"
    ),
    "join-subquery": "a subquery in a join condition fails on Spark: join a CTE instead",
    "group-by-all": "group by all is not Spark SQL: name the columns",
    "getvariable": "getvariable takes one declared variable's name, as a string literal",
    "unknown-function": "a function sqlglot does not know is passed to Spark as written",
    "window-order": "row_number/lead/lag/first_value/last_value need an order by",
    "date-diff-unit": (
        "date_diff counts unit boundaries on DuckDB and whole units on Spark: days only"
    ),
}

_ORDERED_WINDOWS = (exp.RowNumber, exp.Lead, exp.Lag, exp.FirstValue, exp.LastValue)


def parse(sql: str) -> exp.Expression:
    """One file's SQL as DuckDB reads it."""
    return sqlglot.parse_one(sql, read="duckdb")


def _variable_name(node: exp.Expression) -> str | None:
    """The name ``getvariable('name')`` reads; ``None`` for any other node."""
    if not (isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable"):
        return None
    (argument,) = node.expressions or [None]
    if not (isinstance(argument, exp.Literal) and argument.is_string):
        raise ValueError(f"getvariable takes a string literal, not {node.sql('duckdb')}")
    return argument.this


def literal(value: Any, type_name: str) -> exp.Expression:
    """``value`` as a literal cast to the declared DuckDB type (``date``, ``double``,
    ``integer``, ``varchar[]``); ``None`` as a typed null."""
    target = exp.DataType.build(type_name, dialect="duckdb")
    if value is None:
        return exp.cast(exp.null(), target)
    if type_name == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), target)
    if type_name == "double":
        return exp.cast(exp.Literal.number(repr(float(value))), target)
    if type_name == "integer":
        return exp.cast(exp.Literal.number(int(value)), target)
    if type_name == "varchar[]":
        items = [exp.Literal.string(str(item)) for item in value]
        return exp.cast(exp.Array(expressions=items), target)
    raise ValueError(f"no literal for a value of the declared type {type_name!r}: {value!r}")


def bind(
    tree: exp.Expression, values: Mapping[str, Any], types: Mapping[str, str]
) -> exp.Expression:
    """The tree with each ``getvariable('name')`` replaced by ``values[name]`` as a literal of
    the declared type ``types[name]``."""

    def replace(node: exp.Expression) -> exp.Expression:
        name = _variable_name(node)
        if name is None:
            return node
        if name not in values:
            raise ValueError(f"getvariable('{name}') reads a variable the runner does not set")
        return literal(values[name], types[name])

    return tree.transform(replace)


def to_spark(sql: str, values: Mapping[str, Any], types: Mapping[str, str]) -> str:
    """One file's SQL, its variables bound, in Spark's dialect."""
    return bind(parse(sql), values, types).sql(dialect="spark", pretty=True)


def lint(sql: str, declared: Mapping[str, str]) -> list[tuple[str, str]]:
    """What in ``sql`` is outside the portable subset: ``(rule, the construct as written)``
    for each finding, the rules of :data:`RULES`; ``declared``: the variables' types."""
    tree = parse(sql)
    found: list[tuple[str, str]] = []

    def add(rule: str, node: exp.Expression) -> None:
        found.append((rule, node.sql(dialect="duckdb")[:80]))

    for node in tree.walk():
        if isinstance(node, exp.Columns) or (
            isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("replace"))
        ):
            add("star-exclude", node)
        elif isinstance(node, exp.Pivot):
            add("pivot", node)
        elif isinstance(node, exp.PercentileCont | exp.PercentileDisc | exp.WithinGroup):
            add("quantile", node)
        elif (
            isinstance(node, exp.Join) and node.args.get("on") and node.args["on"].find(exp.Select)
        ):
            add("join-subquery", node)
        elif isinstance(node, exp.Group) and node.args.get("all"):
            add("group-by-all", node)
        elif isinstance(node, exp.Anonymous):
            _lint_function(node, declared, add)
        elif isinstance(node, exp.DateDiff) and (node.text("unit") or "DAY").upper() != "DAY":
            add("date-diff-unit", node)
        elif (
            isinstance(node, exp.Window)
            and isinstance(node.this, _ORDERED_WINDOWS)
            and not node.args.get("order")
        ):
            add("window-order", node)
    return found


def _lint_function(node: exp.Anonymous, declared: Mapping[str, str], add) -> None:
    try:
        name = _variable_name(node)
    except ValueError:
        add("getvariable", node)
        return
    if name is None:
        add("unknown-function", node)
    elif name not in declared:
        add("getvariable", node)
