"""Building blocks of the table models: text predicates, parsers and named pandera checks.

Every value arrives as text (``pl.String``; an empty cell is null). The predicates here say
whether a text is a valid date, whole number, code ...; the parsers turn valid text into typed
values. The models use the predicates through the check factories below, and the validator
uses the parsers to build typed tables, so "valid" has one definition.

Each factory returns a pandera column check named with its rule id (``name=``): the rule id is
what pandera's polars backend reports in the ``check`` column of its failure-cases table. The
factories leave pandera's ``error=`` unset on purpose, because that backend reports ``error``
instead of ``name`` when both are set; the plain-words message is the rule's ``message`` in
:data:`schemas.rules.RULES` and is also stored as the check's ``description``.

Null handling is explicit: every check passes an empty cell (null) except ``required``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas import codes as c
from schemas.rules import RULES

__all__ = [
    "Predicate",
    "is_iso_date",
    "parse_date",
    "is_integer",
    "parse_integer",
    "field",
    "rule_check",
    "model_check",
    "required",
    "one_of",
    "iso_date",
    "integer",
    "int_range",
    "in_range",
    "check_output",
    "matches",
    "unique",
    "is_repeat",
]

Predicate = Callable[[pl.Expr], pl.Expr]

_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INTEGER = rf"^-?[0-9]{{1,{c.INTEGER_DIGITS_MAX}}}$"


def is_iso_date(text: pl.Expr) -> pl.Expr:
    """True where ``text`` is ``YYYY-MM-DD`` and a real calendar day (null stays null)."""
    return text.str.contains(_ISO_DATE) & parse_date(text).is_not_null()


def parse_date(text: pl.Expr) -> pl.Expr:
    """``text`` as ``pl.Date``; null where it is not a real ``YYYY-MM-DD`` day."""
    return (
        pl.when(text.str.contains(_ISO_DATE))
        .then(text.str.to_date(c.DATE_FORMAT, strict=False))
        .otherwise(None)
    )


def is_integer(text: pl.Expr) -> pl.Expr:
    """True where ``text`` is a whole number written in at most ``INTEGER_DIGITS_MAX`` ASCII
    digits, with an optional ``-``: longer text is no number the registry can hold."""
    return text.str.contains(_INTEGER)


def parse_integer(text: pl.Expr) -> pl.Expr:
    """``text`` as ``pl.Int64``; null where it is not a whole number (see :func:`is_integer`)."""
    return pl.when(is_integer(text)).then(text.cast(pl.Int64, strict=False)).otherwise(None)


def field(description: str, kind: str, **metadata: Any) -> Any:
    """A text column of a contract table.

    Parameters
    ----------
    description : str
        What the column holds, for the data dictionary.
    kind : {"text", "code", "date", "integer"}
        The contract type; the validator parses the column by it.
    **metadata
        Further facts for the data dictionary (e.g. ``codes=``).

    Returns
    -------
    pandera FieldInfo
        A nullable field: a missing value is judged by the ``REQUIRED`` rule, not by pandera's
        ``nullable`` flag, so that it carries a rule id.
    """
    return pa.Field(nullable=True, description=description, metadata={"kind": kind, **metadata})


def rule_check(
    column: str,
    rule_id: str,
    passes: Predicate,
    *,
    allow_null: bool = True,
    per_value: bool = True,
) -> Any:
    """A pandera column check named ``rule_id``.

    Parameters
    ----------
    column : str
        The column checked.
    rule_id : str
        Id of a rule of :data:`schemas.rules.RULES`; an unknown id fails at import time.
    passes : callable
        Maps the column expression to a boolean expression, true where the value is valid.
    allow_null : bool, default True
        Whether an empty cell passes (every rule except ``REQUIRED``).
    per_value : bool, default True
        Whether ``passes`` judges a value on its own, so it may be evaluated once per distinct
        value (see :func:`check_output`); False for rules that compare rows.

    Returns
    -------
    classmethod
        To be assigned in a ``DataFrameModel`` body.
    """
    return model_check(
        column, rule_id, lambda model: passes, allow_null=allow_null, per_value=per_value
    )


def model_check(
    column: str,
    rule_id: str,
    predicate_for: Callable[[type], Predicate],
    *,
    allow_null: bool = True,
    per_value: bool = True,
) -> Any:
    """Like :func:`rule_check`, for a predicate that depends on the model class.

    ``predicate_for(model)`` is called at validation time with the (sub)class being validated,
    so a subclass can carry a bound (see ``PatientsModel.for_extract_year``).
    """

    def output(cls: type, data: PolarsData) -> pl.LazyFrame:
        return check_output(data, predicate_for(cls), allow_null=allow_null, per_value=per_value)

    return _named_check(column, rule_id, output)


def _named_check(
    column: str, rule_id: str, output: Callable[[type, PolarsData], pl.LazyFrame]
) -> Any:
    """A pandera column check named ``rule_id`` whose boolean column is ``output(cls, data)``."""
    rule = RULES[rule_id]

    def check(cls: type, data: PolarsData) -> pl.LazyFrame:
        return output(cls, data)

    # pandera consumes ``name`` the first time a model builds its schema (it pops it from the
    # check's keyword arguments) and falls back to the function's name for later builds, e.g.
    # of a subclass: the function carries the rule id as its name as well.
    check.__name__ = rule_id
    return pa.check(column, name=rule_id, ignore_na=False, description=rule.message)(check)


def check_output(
    data: PolarsData, passes: Predicate, *, allow_null: bool = True, per_value: bool = True
) -> pl.LazyFrame:
    """The one boolean column pandera expects from a column check.

    Parameters
    ----------
    data : PolarsData
        What pandera hands a check: the frame and the column name (``key``).
    passes : callable
        Maps the column expression to a boolean expression, true where the value is valid.
    allow_null : bool, default True
        Whether an empty cell passes.
    per_value : bool, default True
        Evaluate ``passes`` once per distinct value and look each row's value up in the valid
        ones. The same answer for a predicate of the value alone, and several times cheaper on
        a registry's columns, where millions of rows share a few thousand dates or codes.

    Returns
    -------
    polars.LazyFrame
        True where the row passes; never null.
    """
    value = pl.col(data.key)
    if per_value:
        distinct = data.lazyframe.select(value.unique()).collect()
        valid = distinct.filter(passes(value).fill_null(False)).get_column(data.key)
        ok = value.is_in(valid.implode()).fill_null(False)
    else:
        ok = passes(value).fill_null(False)
    if allow_null:
        ok = value.is_null() | ok
    return data.lazyframe.select(ok)


def required(column: str, rule_id: str) -> Any:
    """The cell must not be empty."""
    return rule_check(column, rule_id, lambda v: v.is_not_null(), allow_null=False, per_value=False)


def one_of(column: str, rule_id: str, allowed: Iterable[str]) -> Any:
    """The value must be one of ``allowed``, byte for byte."""
    values = list(allowed)
    return rule_check(column, rule_id, lambda v: v.is_in(values))


def iso_date(column: str, rule_id: str) -> Any:
    """The value must be a real day written ``YYYY-MM-DD``."""
    return rule_check(column, rule_id, is_iso_date)


def integer(column: str, rule_id: str) -> Any:
    """The value must be a whole number written in digits."""
    return rule_check(column, rule_id, is_integer)


def in_range(low: int | None, high: int | None) -> Predicate:
    """Predicate: a whole number lies in ``[low, high]``; text that is no whole number passes.

    A bound of ``None`` is open. Text that is no whole number, too long ones included, is the
    ``INTEGER`` rule's to report.
    """

    def within(value: pl.Expr) -> pl.Expr:
        number = value.cast(pl.Int64, strict=False)
        ok = number.is_not_null()
        if low is not None:
            ok = ok & (number >= low)
        if high is not None:
            ok = ok & (number <= high)
        return ~is_integer(value) | ok

    return within


def int_range(column: str, rule_id: str, low: int | None, high: int | None) -> Any:
    """A whole number must lie in ``[low, high]``; see :func:`in_range`."""
    return rule_check(column, rule_id, in_range(low, high))


def matches(column: str, rule_id: str, pattern: str) -> Any:
    """The value must match the regular expression ``pattern``."""
    return rule_check(column, rule_id, lambda v: v.str.contains(pattern))


def unique(column: str, rule_id: str) -> Any:
    """No two rows may hold the same value; the second and later rows fail."""
    return _named_check(column, rule_id, lambda cls, data: _first_occurrences(data))


def _first_occurrences(data: PolarsData) -> pl.LazyFrame:
    """True on the first row holding each value (and on empty cells)."""
    sent = data.lazyframe.select(pl.col(data.key)).collect().to_series()
    return pl.LazyFrame({data.key: ~is_repeat(sent)})


def is_repeat(values: pl.Series) -> np.ndarray:
    """True on every row that holds a value an earlier row holds (never on an empty cell).

    A value whose 64-bit hash occurs once occurs once: only the rows whose hash repeats (real
    duplicates, or a collision) take the exact, costlier pass, among themselves, where the
    first row of each value is the same as in the whole series. ``values`` may be a struct
    series (a key of several columns).
    """
    maybe = (values.hash().is_duplicated() & values.is_not_null()).to_numpy()
    repeat = np.zeros(values.len(), dtype=bool)
    repeat[maybe] = ~values.filter(pl.Series(maybe)).is_first_distinct().to_numpy()
    return repeat
