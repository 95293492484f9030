"""Tests of association for a baseline table (Table 1): chi-square, Fisher's exact (exact for
2 × 2, Monte Carlo for larger tables) and Kruskal–Wallis.

They take plain counts or arrays and know nothing of studies. The chi-square and Kruskal–Wallis
computations are scipy.stats' operations, written out so that the report does not import
``scipy.stats`` (seconds); the tests check them against scipy and R.
"""

from __future__ import annotations

__all__ = [
    "FISHER_RESAMPLES",
    "FISHER_SEED",
    "MIN_EXPECTED",
    "categorical_test",
    "chi_square",
    "fisher_monte_carlo",
    "kruskal_wallis",
]

#: Expected cell count below which Fisher's exact test replaces the chi-square test.
MIN_EXPECTED = 5
#: Monte Carlo tables for Fisher's exact test of tables larger than 2 × 2 (fixed seed).
FISHER_RESAMPLES = 10_000
FISHER_SEED = 20150316


def categorical_test(table: list[list[int]]) -> dict | None:
    """Chi-square test of a strata × levels table, or Fisher's exact when an expected count < 5.

    Levels with no patient and strata with no patient are dropped; ``None`` when fewer than two
    rows or columns remain. Fisher's exact test is exact for 2 × 2 tables; larger tables get a
    Monte Carlo p-value over tables with the same margins (fixed seed, so reproducible).
    """
    import numpy as np

    counts = np.array(table, dtype=np.int64)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or min(counts.shape) < 2:
        return None
    expected, statistic, df, p_value = chi_square(counts)
    if expected.min() >= MIN_EXPECTED:
        return {"name": "chi-square", "statistic": statistic, "df": df, "p_value": p_value}
    if counts.shape == (2, 2):
        from scipy import stats

        p_value = float(stats.fisher_exact(counts).pvalue)
        return {"name": "Fisher's exact", "statistic": None, "df": None, "p_value": p_value}
    return {
        "name": "Fisher's exact (Monte Carlo)",
        "statistic": None,
        "df": None,
        "resamples": FISHER_RESAMPLES,
        "seed": FISHER_SEED,
        "p_value": fisher_monte_carlo(counts),
    }


def chi_square(counts) -> tuple:
    """Pearson's chi-square test of independence, without continuity correction.

    The operations of ``scipy.stats.chi2_contingency(counts, correction=False)``, so the same
    numbers, without importing ``scipy.stats`` (seconds): expected counts from the margins,
    Σ (observed - expected)² / expected, and the upper tail of chi-square with
    (rows - 1)(columns - 1) degrees of freedom.

    Returns
    -------
    tuple
        The expected counts, the statistic, the degrees of freedom and the p-value.
    """
    import numpy as np
    from scipy.special import chdtrc

    observed = counts.astype(np.float64)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
    expected = expected / observed.sum()
    statistic = np.sum((observed - expected) ** 2 / expected)
    df = (counts.shape[0] - 1) * (counts.shape[1] - 1)
    return expected, float(statistic), df, float(chdtrc(float(df), statistic))


def kruskal_wallis(samples: list) -> tuple[float, float]:
    """Kruskal–Wallis H (corrected for ties) and its chi-square p-value.

    The operations of ``scipy.stats.kruskal(*samples)``, so the same numbers, without
    importing ``scipy.stats`` (seconds): mid-ranks of the pooled values, the rank sums per
    sample (sums of half-integers, exact in any order), the tie correction over the tie
    counts laid out as scipy lays them, and the upper tail of chi-square with k - 1 degrees
    of freedom.
    """
    import numpy as np
    from scipy.special import chdtrc

    sizes = [s.size for s in samples]
    pooled = np.concatenate(samples).astype(np.float64)
    values = np.sort(pooled)
    first = np.r_[True, values[1:] != values[:-1]]
    starts = np.flatnonzero(first)
    ties = np.diff(starts, append=values.size).astype(np.float64)
    rank = (starts + 1).astype(np.float64) + (ties - 1) / 2
    level = np.searchsorted(values[starts], pooled)
    sample = np.repeat(np.arange(len(samples)), sizes)
    rank_sums = np.bincount(sample, weights=rank[level], minlength=len(samples))
    t = np.zeros(values.size)
    t[first] = ties
    total = sum(sizes)
    correction = 1 - np.sum(t**3 - t) / (total**3 - total)
    ssbn = sum(rank_sums[i] ** 2 / sizes[i] for i in range(len(samples)))
    h = 12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)
    h /= correction
    return float(h), float(chdtrc(float(len(samples) - 1), h))


def fisher_monte_carlo(counts) -> float:
    """Share of random tables with the observed margins at most as probable as the observed one."""
    import numpy as np
    from scipy.special import gammaln

    rows = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1))
    cols = np.repeat(np.arange(counts.shape[1]), counts.sum(axis=0))

    def log_prob(table) -> float:
        """Log probability of a table with these margins, less the margins' constant term."""
        return float(-gammaln(table + 1).sum())

    observed = log_prob(counts)
    rng = np.random.default_rng(FISHER_SEED)
    shape = counts.shape
    as_extreme = 0
    for _ in range(FISHER_RESAMPLES):
        table = np.zeros(shape, dtype=np.int64)
        np.add.at(table, (rows, rng.permutation(cols)), 1)
        as_extreme += log_prob(table) <= observed + 1e-7
    return (as_extreme + 1) / (FISHER_RESAMPLES + 1)
