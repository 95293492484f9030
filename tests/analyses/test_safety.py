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
