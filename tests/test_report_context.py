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


# --- the context of the hand-written registry (tests/hand_registry.py), worked out by hand ------

MONTH = 30.4375


@pytest.fixture
def hand_context() -> dict:
    """Built afresh for each test (not once per module), so that mutation testing, which runs
    only the tests that call a function, finds every test that reads what it builds."""
    from hand_registry import CUTOFF, hand_registry

    from toolkit.cohort import build_cohort
    from toolkit.report_context import build_context
    from toolkit.study import builtin_study_path, load_study

    con = hand_registry()
    try:
        study = load_study(builtin_study_path())
        return build_context(build_cohort(con, study, CUTOFF), study, edition="internal")
    finally:
        con.close()


def test_the_flow_counts_each_exclusion_once(hand_context: dict) -> None:
    # 13 patients: P09 has no IL-2, P07 only a 0-dose course, P06 ipilimumab before IL-2.
    cohort = hand_context["cohort"]
    assert cohort["n_analysed"] == 10
    assert [(s["n"], s["excluded"], s["reason"]) for s in cohort["flow"]] == [
        (13, 0, None),
        (12, 1, "no index therapy course on or before the cutoff"),
        (11, 1, "index therapy course with no dose given"),
        (10, 1, "excluding therapy before the index date"),
    ]
    assert cohort["excluded"] == [{"reason": s["reason"], "n": 1} for s in cohort["flow"][1:]]


def test_groups_count_patients_events_and_medians_by_hand(hand_context: dict) -> None:
    # Deaths by the cutoff: P01 on day 0 and P14 on day 439 (IL-2 only), P05 on day 457
    # (anti-PD-1). Day 0: 10 at risk, 1 death, S = 9/10; day 439: P02, P03, P14, P05, P12 at
    # risk, 1 death, S = 0.72; day 457: P05 and P12, 1 death, S = 0.36: the median is day 457.
    # IL-2 only: 6/7, then 3 at risk at day 439 and 1 death: S = 4/7, no median. Anti-PD-1:
    # P02 censored at 439, P05 dies at 457: S falls to 0.
    groups = [hand_context["overall"], *hand_context["strata"]]
    assert [(g["key"], g["n"], g["events"], g["censored"]) for g in groups] == [
        ("overall", 10, 3, 7),
        ("il2_only", 7, 2, 5),
        ("il2_ipi", 1, 0, 1),
        ("il2_pd1", 2, 1, 1),
    ]
    medians = [g["median"] for g in groups]
    assert medians[0] == pytest.approx(457 / MONTH) and medians[3] == pytest.approx(457 / MONTH)
    assert medians[1:3] == [None, None]
    assert [g["later_therapy"] for g in groups[1:]] == [False, True, True]
    # the longest follow-up is P12's 739 days = 24.3 months: ticks every 6 months to 24
    assert hand_context["at_risk_times"] == [0.0, 6.0, 12.0, 18.0, 24.0]
    assert hand_context["landmarks"] == [12.0, 24.0]
    at_12 = hand_context["overall"]["survival_at"][0]
    # at 12 months (365.25 days) P01 has died and P11 was censored at day 365: 8 at risk,
    # S still 9/10
    assert (at_12["time"], at_12["at_risk"]) == (12.0, 8)
    assert at_12["estimate"] == pytest.approx(9 / 10)


def test_table1_ages_by_hand(hand_context: dict) -> None:
    from scipy import stats

    # born 1960: index in 2014 → 54 (P01 P02 P03 P04 P08 P11 P14), 2013 → 53 (P05 P10 P12)
    ages = {"il2_only": [54, 54, 54, 53, 54, 53, 54], "il2_ipi": [54], "il2_pd1": [53, 54]}
    age = hand_context["table1"]["age"]
    # quartiles by linear interpolation (R's type 7): [53 53 54 54 54 54 54] → q1 at 1.5 =
    # 53.5; all ten: three 53s, q1 at 2.25 → 53.25
    assert [(c["median"], c["q1"], c["q3"], c["minimum"], c["maximum"]) for c in age["cells"]] == [
        (54.0, 53.5, 54.0, 53.0, 54.0),
        (54.0, 54.0, 54.0, 54.0, 54.0),
        (53.5, 53.25, 53.75, 53.0, 54.0),
        (54.0, 53.25, 54.0, 53.0, 54.0),
    ]
    assert [c["n_missing"] for c in age["cells"]] == [0, 0, 0, 0]
    h, p = stats.kruskal(*ages.values())
    assert (age["test"]["name"], age["test"]["df"]) == ("Kruskal–Wallis", 2)
    assert age["test"]["statistic"] == pytest.approx(h, rel=1e-12)
    assert age["test"]["p_value"] == pytest.approx(p, rel=1e-12)
    assert age["label"] == "Age at index, years"


def test_table1_levels_by_hand(hand_context: dict) -> None:
    table1 = hand_context["table1"]
    assert [(g["key"], g["label"], g["n"]) for g in table1["groups"]] == [
        ("il2_only", "HD IL-2 only", 7),
        ("il2_ipi", "IL-2 → ipilimumab", 1),
        ("il2_pd1", "IL-2 → anti-PD-1", 2),
        ("overall", "All patients", 10),
    ]
    by_key = {c["key"]: c for c in table1["covariates"]}
    assert list(by_key) == [
        "sex",
        "m_stage",
        "ecog",
        "ldh_elevated",
        "brain_metastases",
        "braf_status",
    ]
    assert [c["label"] for c in by_key.values()] == [
        "Sex",
        "M stage",
        "ECOG performance status",
        "LDH elevated",
        "Brain metastases",
        "BRAF status",
    ]
    sex = by_key["sex"]
    assert [(lv["key"], lv["label"], [c["n"] for c in lv["cells"]]) for lv in sex["levels"]] == [
        ("F", "Female", [7, 1, 2, 10]),
        ("missing", "Missing", [0, 0, 0, 0]),
    ]
    assert [c["pct"] for c in sex["levels"][0]["cells"]] == [100.0] * 4
    assert sex["test"] is None  # one level: nothing to test
    braf = by_key["braf_status"]
    # BRAF: P01 P05 P12 mutant; P02 P03 P08 P11 P14 wild type; P10 unknown; P04 not given
    assert [(lv["key"], lv["label"], [c["n"] for c in lv["cells"]]) for lv in braf["levels"]] == [
        ("mutant", "Mutant", [2, 0, 1, 3]),
        ("wildtype", "Wild type", [4, 0, 1, 5]),
        ("unknown", "Unknown", [1, 0, 0, 1]),
        ("missing", "Missing", [0, 1, 0, 1]),
    ]
    assert [c["pct"] for c in braf["levels"][0]["cells"]] == [28.6, 0.0, 50.0, 30.0]
    # tested without the missing level and the empty ipilimumab row: [[2, 4, 1], [1, 1, 0]]
    assert braf["test"]["name"] == "Fisher's exact (Monte Carlo)"
    assert braf["test"]["p_value"] == pytest.approx(_exact_fisher([[2, 4, 1], [1, 1, 0]]), abs=0.02)
    assert table1["missing_excluded_from_tests"] is True


def test_safety_counts_by_hand(hand_context: dict) -> None:
    safety = hand_context["safety"]
    assert [(c["key"], c["n"]) for c in safety["columns"]] == [
        ("il2_only", 7),
        ("il2_ipi", 1),
        ("il2_pd1", 2),
    ]
    rows = {r["key"]: r for r in safety["rows"]}
    assert list(rows) == [
        "related_autoimmune_post_therapy",
        "progressed_before_later_therapy",
        "treatment_related_deaths",
    ]
    # P02 (PD on IL-2) and P05 (PD on ipilimumab) progressed before anti-PD-1; the row applies
    # to the later-therapy groups only, so its total is 2 of 1 + 2 patients
    progressed = rows["progressed_before_later_therapy"]
    assert progressed["later_only"] is True
    assert progressed["cells"] == [
        {"n": None, "N": 7, "pct": None},
        {"n": 0, "N": 1, "pct": 0.0},
        {"n": 2, "N": 2, "pct": 100.0},
    ]
    assert progressed["total"] == {"n": 2, "N": 3, "pct": 66.7}
    # treatment-related deaths: P01 and P14 (IL-2 only), P05 (anti-PD-1); autoimmune related
    # events on or after the start: P01 (IL-2 only, from the index date), P05 (anti-PD-1)
    deaths = rows["treatment_related_deaths"]
    assert deaths["later_only"] is False
    assert [c["n"] for c in deaths["cells"]] == [2, 0, 1]
    assert deaths["total"] == {"n": 3, "N": 10, "pct": 30.0}
    autoimmune = rows["related_autoimmune_post_therapy"]
    assert [(c["n"], c["pct"]) for c in autoimmune["cells"]] == [(1, 14.3), (0, 0.0), (1, 50.0)]
    assert autoimmune["total"] == {"n": 2, "N": 10, "pct": 20.0}
    assert [g["counts"] for g in hand_context["strata"]][2] == {
        "progressed_before_later_therapy": 2,
        "related_autoimmune_post_therapy": 1,
        "treatment_related_deaths": 1,
    }


def test_provenance_of_the_one_submission(hand_context: dict) -> None:
    import hashlib

    provenance = hand_context["provenance"]
    assert provenance == {
        "n_submissions": 1,
        "n_sites": 1,
        "set_sha256": hashlib.sha256(b"sub1").hexdigest(),
        "set_sha256_method": "SHA-256 of the sorted submission SHA-256s, one per line",
        "extracted_from": "2015-05-15",
        "extracted_to": "2015-05-15",
        "rows_total": {},
        "n_warnings_total": 0,
        "submissions": [
            {
                "site_id": "S01",
                "extracted_on": "2015-05-15",
                "sha256": "sub1",
                "rows": {},
                "n_warnings": 0,
            }
        ],
    }


def test_methods_and_cautions_say_the_study_in_words(hand_context: dict) -> None:
    methods = hand_context["methods"]
    index = "first course of high-dose interleukin-2 (aldesleukin) with at least one dose"
    assert methods["eligibility"] == f"Patients whose {index} started on or before the cutoff."
    assert methods["index_date"] == f"Time zero is the start of the {index}."
    assert methods["strata"] == [
        "IL-2 → anti-PD-1: anti-PD-1 or anti-PD-L1 course started on or after the index date",
        "IL-2 → ipilimumab: otherwise, anti-CTLA-4 course started on or after the index date",
        "HD IL-2 only: all other patients",
    ]
    assert methods["endpoint"] == "Overall survival: death from any cause."
    assert methods["time_unit"] == "months (days / 30.4375)"
    assert methods["exclusions"].startswith("Excluded: any CTLA-4, PD-1 or PD-L1")
    (caution,) = hand_context["texts"]["cautions"]
    assert caution.startswith("The groups are defined by therapy received after the index date")
    assert hand_context["edition"] == "internal" and hand_context["cutoff"] == "2015-03-16"
    assert hand_context["min_at_risk_shown"] == 0
    assert hand_context["disclosure"] == {"suppressed": False, "threshold": None, "rules": []}
    assert set(hand_context["software"]) == {
        "toolkit",
        "python",
        "duckdb",
        "lifelines",
        "pandera",
        "polars",
        "weasyprint",
        "matplotlib",
    }
