"""The safety analysis: cumulative incidence with death competing, rates and Gray's test, by
stratum and window, worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from toolkit.analyses.safety import safety_incidence
from toolkit.study import builtin_study_path, load_study
from toolkit.survival.competing_risks import gray_test


def frame(rows: list[tuple[str, bool, float, int]]) -> pl.DataFrame:
    """(stratum, window starts at the later therapy, months, status) → safety_time_to_event."""
    return pl.DataFrame(
        {
            "stratum_key": [r[0] for r in rows],
            "is_window_later_therapy": [r[1] for r in rows],
            "time_months": [r[2] for r in rows],
            "time_days": [int(r[2] * 30) for r in rows],
            "status": [r[3] for r in rows],
        }
    )


ROWS = [
    ("il2_only", False, 1.0, 0),
    ("il2_only", False, 2.0, 2),
    # ipilimumab: the event at 1 (5 at risk), death at 2, censored at 3, the event at 4 (2 at
    # risk), censored at 5
    *[("il2_ipi", True, t, s) for t, s in [(1.0, 1), (2.0, 2), (3.0, 0), (4.0, 1), (5.0, 0)]],
    ("il2_pd1", True, 2.0, 1),
    ("il2_pd1", True, 3.0, 1),
]


def test_incidence_by_hand() -> None:
    study = load_study(builtin_study_path())
    result = safety_incidence(frame(ROWS), study, times=[3.0, 6.0], min_at_risk=0)
    assert result["times"] == [3.0, 6.0]
    only, ipi, pd1 = result["groups"]
    assert (only["window"], ipi["window"]) == ("index date", "later-therapy start")
    assert (ipi["n"], ipi["events"], ipi["deaths_before"]) == (5, 2, 1)
    # F(1) = 1/5; S = 4/5, then 3/5 after the death at 2; F(4) = 1/5 + 3/5 × 1/2 = 1/2
    at3, at6 = ipi["at"]
    assert at3["estimate"] == pytest.approx(0.2, abs=1e-12)
    assert (at3["at_risk"], at3["events"]) == (3, 1)
    # after the last follow-up (5), with patients still event-free, F is unknown
    assert (at6["estimate"], at6["ci"], at6["at_risk"], at6["events"]) == (None, [None, None], 0, 2)
    assert 0 < at3["ci"][0] < 0.2 < at3["ci"][1] < 1
    # 2 events over 450 days
    assert ipi["person_years"] == pytest.approx(450 / 365.25)
    assert ipi["rate"] == pytest.approx(200 / (450 / 365.25))
    # its exact Poisson (Garwood) limits, from the chi-square quantiles
    from scipy.stats import chi2

    years = 450 / 365.25
    assert ipi["rate_ci"] == pytest.approx(
        [100 * chi2.ppf(0.025, 4) / 2 / years, 100 * chi2.ppf(0.975, 6) / 2 / years]
    )
    assert only["events"] == 0 and only["rate"] == 0.0
    assert pd1["at"][0]["estimate"] == pytest.approx(1.0)
    assert set(result["methods"]) == {"estimator", "variance", "ci", "rate", "test"}


def test_gray_compares_only_strata_with_the_same_window() -> None:
    study = load_study(builtin_study_path())
    result = safety_incidence(frame(ROWS), study, times=[3.0])
    gray = result["gray"]
    assert (gray["keys"], gray["groups"]) == (
        ["il2_ipi", "il2_pd1"],
        ["IL-2 → ipilimumab", "IL-2 → anti-PD-1"],
    )
    later = frame(ROWS).filter(pl.col("is_window_later_therapy"))
    direct = gray_test(later["time_months"], later["status"], later["stratum_key"])
    assert (gray["statistic"], gray["df"], gray["p"]) == (direct.statistic_, 1, direct.p_)
    assert gray["window"] == "later-therapy start"
    # one later-therapy stratum with patients: nothing to compare
    alone = frame(ROWS).filter(pl.col("stratum_key") != "il2_pd1")
    assert safety_incidence(alone, study, times=[3.0])["gray"] is None


def test_without_later_therapy_every_stratum_is_compared_from_the_index_date() -> None:
    braf = load_study(builtin_study_path("braf"))
    rows = [("braf_mutant", False, t, s) for t, s in [(1.0, 1), (2.0, 0), (3.0, 2)]]
    rows += [("braf_wildtype", False, t, s) for t, s in [(1.5, 1), (2.5, 1)]]
    result = safety_incidence(frame(rows), braf, times=[2.0])
    assert result["gray"]["keys"] == ["braf_mutant", "braf_wildtype"]
    assert result["gray"]["window"] == "index date"
    unknown = result["groups"][2]
    assert (unknown["n"], unknown["rate"], unknown["at"][0]["estimate"]) == (0, None, None)


def test_an_incidence_on_too_few_at_risk_is_not_shown() -> None:
    study = load_study(builtin_study_path())
    result = safety_incidence(frame(ROWS), study, times=[3.0, 4.0], min_at_risk=3)
    ipi = result["groups"][1]
    # 3 at risk at 3 months (times ≥ 3), 2 at 4
    assert ipi["at"][0]["estimate"] == pytest.approx(0.2)
    assert ipi["at"][1] == {
        "time": 4.0,
        "estimate": "NE (<3 at risk)",
        "ci": [None, None],
        "at_risk": 2,
        "events": 2,
    }


def test_every_field_of_a_group_and_the_methods_by_hand() -> None:
    from toolkit.survival.competing_risks import COMPETING_RISKS_METHODS as M

    braf = load_study(builtin_study_path("braf"))
    result = safety_incidence(frame([("braf_mutant", False, 2.0, 1)]), braf, times=[1.0, 3.0])
    # a stratum without patients: nothing estimated, nothing at risk, no event
    assert result["groups"][2] == {
        "key": "braf_unknown",
        "label": "BRAF unknown or missing",
        "window": "index date",
        "n": 0,
        "events": 0,
        "deaths_before": 0,
        "person_years": 0.0,
        "rate": None,
        "rate_ci": [None, None],
        "at": [
            {"time": 1.0, "estimate": None, "ci": [None, None], "at_risk": 0, "events": 0},
            {"time": 3.0, "estimate": None, "ci": [None, None], "at_risk": 0, "events": 0},
        ],
    }
    assert result["methods"] == {
        "estimator": M["estimator"],
        "variance": M["ij"],
        "ci": "95% pointwise CI, " + M["log-log"],
        "rate": M["incidence_rate"] + "; patient-years of 365.25 days",
        "test": M["gray"],
    }
    assert result["gray"] is None  # one stratum with patients


def test_no_rate_without_patient_time_and_no_limit_without_a_minimum() -> None:
    study = load_study(builtin_study_path())
    # two patients whose window closes the day it opens: no patient-time, no rate
    rows = [("il2_pd1", True, 0.0, 0), ("il2_pd1", True, 0.0, 1)]
    result = safety_incidence(frame(rows), study, times=[1.0])
    pd1 = result["groups"][2]
    assert (pd1["person_years"], pd1["rate"], pd1["rate_ci"]) == (0.0, None, [None, None])
    # with no minimum, an incidence after the last follow-up is unknown (None), not "NE"
    assert result["groups"][1]["at"][0]["estimate"] is None
    ipi = safety_incidence(frame(ROWS), study, times=[6.0])["groups"][1]
    assert (ipi["at"][0]["estimate"], ipi["at"][0]["at_risk"]) == (None, 0)


def test_every_time_after_the_risk_set_falls_is_counted_and_not_shown() -> None:
    study = load_study(builtin_study_path())
    ipi = safety_incidence(frame(ROWS), study, times=[4.0, 5.0], min_at_risk=3)["groups"][1]
    assert [(a["estimate"], a["at_risk"], a["events"]) for a in ipi["at"]] == [
        ("NE (<3 at risk)", 2, 2),
        ("NE (<3 at risk)", 1, 2),
    ]
