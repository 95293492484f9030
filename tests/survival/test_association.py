"""Table 1's tests of association against hand-computed values, R's fisher.test, scipy.stats
and an exact enumeration written in the test (independent of the code under test)."""

from __future__ import annotations

import pytest
from exact_fisher import exact_fisher, exact_fisher_rows

from toolkit.survival.association import categorical_test, chi_square, kruskal_wallis


def test_chi_square_by_hand() -> None:
    # expected 25 in every cell: (5² / 25) × 4 = 4 on 1 df; R chisq.test(correct = FALSE)
    test = categorical_test([[20, 30], [30, 20]])
    assert test["name"] == "chi-square"
    assert (test["statistic"], test["df"]) == (pytest.approx(4.0), 1)
    assert test["p_value"] == pytest.approx(0.04550026389635842, rel=1e-9)


def test_fisher_two_by_two_by_hand() -> None:
    # margins 4, 4 / 4, 4: P(X = k) = C(4, k) C(4, 4 - k) / 70 = 1, 16, 36, 16, 1 (/70); the
    # two-sided p of X = 3 sums the tables no more likely: (1 + 16 + 16 + 1) / 70
    test = categorical_test([[3, 1], [1, 3]])
    assert (test["name"], test["statistic"], test["df"]) == ("Fisher's exact", None, None)
    assert test["p_value"] == pytest.approx(34 / 70, rel=1e-12)


# R 4.2.2: fisher.test(matrix(c(3, 0, 0, 3, 1, 1), nrow = 2))$p.value = 0.05714286 and
# fisher.test(matrix(c(4, 1, 1, 2, 0, 4), nrow = 2))$p.value = 0.06565657
FISHER_R = [([[3, 0, 1], [0, 3, 1]], 0.05714286), ([[4, 1, 0], [1, 2, 4]], 0.06565657)]


@pytest.mark.parametrize(("table", "r_value"), FISHER_R)
def test_fisher_monte_carlo_agrees_with_the_exact_p(table: list[list[int]], r_value: float) -> None:
    test = categorical_test(table)
    assert test["name"] == "Fisher's exact (Monte Carlo)" and test["resamples"] == 10_000
    exact = exact_fisher(table)
    assert exact == pytest.approx(r_value, rel=1e-6)
    # 10,000 resamples: a standard error of at most 0.005
    assert test["p_value"] == pytest.approx(exact, abs=0.02)
    assert categorical_test(table) == test  # a fixed seed: the same p every time


def test_fisher_monte_carlo_orders_tables_by_their_probability() -> None:
    # exactly 41/66 = 0.621 by enumeration; ordering the tables by the product of (x + 1)!
    # instead of x! would give 0.318
    table = [[5, 4, 1], [0, 1, 1]]
    exact = exact_fisher(table)
    assert exact == pytest.approx(41 / 66, rel=1e-9)
    test = categorical_test(table)
    assert test["name"] == "Fisher's exact (Monte Carlo)"
    assert test["p_value"] == pytest.approx(exact, abs=0.02)


def test_empty_levels_and_strata_are_dropped_and_one_left_is_no_test() -> None:
    assert categorical_test([[20, 0, 30], [30, 0, 20], [0, 0, 0]]) == categorical_test(
        [[20, 30], [30, 20]]
    )
    assert categorical_test([[5, 7], [0, 0]]) is None
    assert categorical_test([[5, 0], [7, 0]]) is None


def test_chi_square_of_a_two_by_three_table_equals_scipy() -> None:
    from scipy import stats

    table = [[12, 20, 18], [25, 9, 16]]
    expected = stats.chi2_contingency(table, correction=False)
    test = categorical_test(table)
    assert test == {
        "name": "chi-square",
        "statistic": pytest.approx(expected.statistic, rel=1e-12),
        "df": 2,
        "p_value": pytest.approx(expected.pvalue, rel=1e-10),
    }
    three = [[12, 20, 18, 7], [25, 9, 16, 8], [10, 10, 10, 10]]
    assert categorical_test(three)["df"] == 6
    assert categorical_test(three)["statistic"] == pytest.approx(
        stats.chi2_contingency(three, correction=False).statistic, rel=1e-12
    )


def test_an_expected_count_of_exactly_five_keeps_the_chi_square() -> None:
    assert categorical_test([[5, 5], [5, 5]])["name"] == "chi-square"
    assert categorical_test([[6, 4], [4, 5]])["name"] == "Fisher's exact"


def test_a_stratum_with_one_patient_stays_in_the_test() -> None:
    table = [[1, 0], [12, 30], [30, 12]]
    test = categorical_test(table)
    # an expected count of 0.5; without the one patient's row it would be 2 × 2 (exact test)
    assert test["name"] == "Fisher's exact (Monte Carlo)"
    assert test["p_value"] == pytest.approx(exact_fisher_rows(table), abs=0.02)


def test_monte_carlo_p_counts_the_observed_table_and_every_as_likely_one() -> None:
    # the least likely table of its margins: no random table is as extreme, p = 1 / 10001;
    # the most likely one: every random table is at most as likely, p = 1
    least = categorical_test([[5, 0, 0], [0, 5, 0], [0, 0, 5]])
    assert least == {
        "name": "Fisher's exact (Monte Carlo)",
        "statistic": None,
        "df": None,
        "resamples": 10_000,
        "seed": 20150316,  # stated, so the p-value can be reproduced
        "p_value": 1 / 10_001,
    }
    assert categorical_test([[1, 1, 1], [1, 1, 1]])["p_value"] == 1.0


def test_kruskal_wallis_with_ties_equals_scipy() -> None:
    import numpy as np
    from scipy import stats

    samples = [np.array([3, 5, 5, 7, 9, 9, 9]), np.array([1, 5, 6, 6]), np.array([9, 2, 2])]
    h, p = stats.kruskal(*samples)
    assert kruskal_wallis(samples) == (pytest.approx(h, rel=1e-12), pytest.approx(p, rel=1e-12))
    assert kruskal_wallis(samples[:2])[0] == pytest.approx(stats.kruskal(*samples[:2])[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chi_square_and_kruskal_wallis_equal_scipy_stats(seed: int) -> None:
    """Written out to avoid importing scipy.stats (seconds), they give its exact numbers."""
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(seed)
    ages = [rng.integers(20, 90, size) for size in (5000, 1200, 37, 800)]
    reference = stats.kruskal(*ages)
    assert kruskal_wallis(ages) == (float(reference.statistic), float(reference.pvalue))
    table = rng.integers(1, 5000, (4, 3))
    expected, statistic, df, p_value = chi_square(table)
    reference = stats.chi2_contingency(table, correction=False)
    assert (statistic, df, p_value) == (
        float(reference.statistic),
        int(reference.dof),
        float(reference.pvalue),
    )
    np.testing.assert_array_equal(expected, reference.expected_freq)
