"""Fisher's exact test by enumeration, written here from its definition: the tests' oracle for
the toolkit's Monte Carlo p-values (independent of the code under test)."""

from __future__ import annotations

import itertools
from math import factorial, prod


def exact_fisher(table: list[list[int]]) -> float:
    """Fisher's exact p of an r × c table: every table with the same margins, enumerated."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    n = sum(rows)

    def probability(t: list[list[int]]) -> float:
        top = prod(factorial(x) for x in rows) * prod(factorial(x) for x in cols)
        return top / (factorial(n) * prod(factorial(x) for row in t for x in row))

    observed = probability(table)
    total = 0.0
    for first in itertools.product(*(range(min(rows[0], c) + 1) for c in cols)):
        if sum(first) != rows[0]:
            continue
        second = [c - f for c, f in zip(cols, first, strict=True)]
        if min(second) < 0:
            continue
        p = probability([list(first), second])
        if p <= observed * (1 + 1e-7):
            total += p
    return total


def exact_fisher_rows(table: list[list[int]]) -> float:
    """Fisher's exact p of an r × 2 table (the transpose of :func:`exact_fisher`'s 2 × c)."""
    return exact_fisher([list(column) for column in zip(*table, strict=True)])
