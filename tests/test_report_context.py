"""Table 1's tests of association against hand-computed values, R's fisher.test and an exact
enumeration written in the test (independent of the report context's code)."""

from __future__ import annotations

import itertools
from math import factorial, prod

import pytest

from toolkit.report_context import _categorical_test


def test_chi_square_by_hand() -> None:
    # expected 25 in every cell: (5² / 25) × 4 = 4 on 1 df; R chisq.test(correct = FALSE)
    test = _categorical_test([[20, 30], [30, 20]])
    assert test["name"] == "chi-square"
    assert (test["statistic"], test["df"]) == (pytest.approx(4.0), 1)
    assert test["p_value"] == pytest.approx(0.04550026389635842, rel=1e-9)


def test_fisher_two_by_two_by_hand() -> None:
    # margins 4, 4 / 4, 4: P(X = k) = C(4, k) C(4, 4 - k) / 70 = 1, 16, 36, 16, 1 (/70); the
    # two-sided p of X = 3 sums the tables no more likely: (1 + 16 + 16 + 1) / 70
    test = _categorical_test([[3, 1], [1, 3]])
    assert (test["name"], test["statistic"], test["df"]) == ("Fisher's exact", None, None)
    assert test["p_value"] == pytest.approx(34 / 70, rel=1e-12)


def _exact_fisher(table: list[list[int]]) -> float:
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


# R 4.2.2: fisher.test(matrix(c(3, 0, 0, 3, 1, 1), nrow = 2))$p.value = 0.05714286 and
# fisher.test(matrix(c(4, 1, 1, 2, 0, 4), nrow = 2))$p.value = 0.06565657
FISHER_R = [([[3, 0, 1], [0, 3, 1]], 0.05714286), ([[4, 1, 0], [1, 2, 4]], 0.06565657)]


@pytest.mark.parametrize(("table", "r_value"), FISHER_R)
def test_fisher_monte_carlo_agrees_with_the_exact_p(table: list[list[int]], r_value: float) -> None:
    test = _categorical_test(table)
    assert test["name"] == "Fisher's exact (Monte Carlo)" and test["resamples"] == 10_000
    exact = _exact_fisher(table)
    assert exact == pytest.approx(r_value, rel=1e-6)
    # 10,000 resamples: a standard error of at most 0.005
    assert test["p_value"] == pytest.approx(exact, abs=0.02)
    assert _categorical_test(table) == test  # a fixed seed: the same p every time


def test_empty_levels_and_strata_are_dropped_and_one_left_is_no_test() -> None:
    assert _categorical_test([[20, 0, 30], [30, 0, 20], [0, 0, 0]]) == _categorical_test(
        [[20, 30], [30, 20]]
    )
    assert _categorical_test([[5, 7], [0, 0]]) is None
    assert _categorical_test([[5, 0], [7, 0]]) is None
