"""Log-rank tests against R's survdiff (stored references) and hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from km_reference import analyses, close, data

from toolkit.survival import logrank_test, pairwise_logrank
from toolkit.survival.logrank import holm

GROUPED = [name for name, analysis in analyses().items() if "logrank" in analysis]


@pytest.mark.parametrize("name", GROUPED)
def test_logrank_matches_survdiff(name: str) -> None:
    reference = analyses()[name]["logrank"]
    time, event, group = data(name)
    result = logrank_test(time, event, group)
    order = [result.groups.index(g) for g in reference["groups"]]
    assert [result.n[i] for i in order] == reference["n"]
    for i, g in zip(order, reference["groups"], strict=True):
        assert close(result.observed_[i], reference["observed"][reference["groups"].index(g)])
        assert close(result.expected_[i], reference["expected"][reference["groups"].index(g)])
    assert close(result.statistic_, reference["chisq"])
    assert result.df_ == reference["df"]
    assert close(result.p_, reference["p"])


@pytest.mark.parametrize("name", GROUPED)
def test_pairwise_matches_survdiff_on_subsets_with_holm(name: str) -> None:
    reference = {tuple(p["groups"]): p for p in analyses()[name]["pairwise"]}
    time, event, group = data(name)
    result = pairwise_logrank(time, event, group)
    assert len(result.pairs_) == len(reference)
    for pair in result.pairs_:
        expected = reference.get(tuple(pair["groups"])) or reference[tuple(pair["groups"][::-1])]
        assert close(pair["statistic"], expected["chisq"])
        assert close(pair["p"], expected["p"])
        assert close(pair["p_adjusted"], expected["p_holm"])
        assert pair["df"] == 1


def test_holm_as_p_adjust() -> None:
    # p.adjust(c(0.01, 0.04, 0.03, 0.5), "holm") = 0.04 0.09 0.09 0.50
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.2, None]) == [0.2, None]


def test_two_groups_by_hand() -> None:
    """Deaths at 1, 2 (group a) and 3 (group b); all at risk until their time.

    t=1: n=(3,3), d=1 → E_a = 0.5, V = 3·3·1·5/(36·5) = 0.25
    t=2: n=(2,3), d=1 → E_a = 0.4, V = 2·3·1·4/(25·4) = 0.24
    t=3: n=(1,3), d=1 → E_a = 0.25, V = 1·3·1·3/(16·3) = 0.1875
    """
    time = [1, 2, 4, 3, 5, 6]
    event = [1, 1, 0, 1, 0, 0]
    result = logrank_test(time, event, ["a", "a", "a", "b", "b", "b"])
    o_minus_e = 2 - (0.5 + 0.4 + 0.25)
    assert result.expected_[0] == pytest.approx(1.15)
    assert result.statistic_ == pytest.approx(o_minus_e**2 / (0.25 + 0.24 + 0.1875))
    assert result.df_ == 1
    json.dumps(result.to_dict(), allow_nan=False)
    assert "Mantel–Haenszel" in result.method


def test_one_group_has_nothing_to_test() -> None:
    result = logrank_test([1, 2, 3], [1, 0, 1], [1, 1, 1])
    assert (result.statistic_, result.df_, result.p_) == (0.0, 0, None)


def test_group_entirely_before_the_first_death_has_no_expected_events() -> None:
    """Group c leaves (censored) before any death: E_c = 0, so df = 1 as in survdiff."""
    time = [0.5, 0.6, 1, 2, 3, 4]
    event = [0, 0, 1, 0, 1, 1]
    result = logrank_test(time, event, ["c", "c", "a", "a", "b", "b"])
    assert result.expected_[result.groups.index("c")] == 0
    assert result.df_ == 1


def test_pairwise_reads_one_table_for_all_pairs() -> None:
    """The pairwise statistic equals the test on the two groups' patients alone."""
    rng = np.random.default_rng(3)
    n = 3000
    time = np.round(rng.exponential(10, n), 0)
    event = rng.random(n) < 0.6
    group = rng.integers(0, 3, n)
    pairs = pairwise_logrank(time, event, group).pairs_
    for pair in pairs:
        keep = np.isin(group, [int(g) for g in pair["groups"]])
        alone = logrank_test(time[keep], event[keep], group[keep])
        assert pair["statistic"] == pytest.approx(alone.statistic_, rel=1e-12)
