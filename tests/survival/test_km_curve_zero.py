"""S(t) once a Kaplan–Meier curve has reached 0, against R (``summary(…, extend = TRUE)``).

The reference values and the R code that produced them: ``r/km_curve_zero.R`` →
``reference/km_curve_zero.json``. R gives S = 0 at and after the death that empties the risk
set, with no standard error and no confidence limits (NA, stored as null).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.survival import kaplan_meier

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "km_curve_zero.json").read_text(encoding="utf-8")
)
CASES = [
    (case, conf_type) for case in REFERENCE["cases"] for conf_type in ("log-log", "log", "plain")
]


@pytest.mark.parametrize(("case", "conf_type"), CASES, ids=[f"{c['name']}-{t}" for c, t in CASES])
def test_survival_at_times_matches_r_once_the_curve_reached_zero(
    case: dict, conf_type: str
) -> None:
    expected = case["at"][conf_type]
    fit = kaplan_meier(case["time"], case["event"], at_times=expected["time"], conf_type=conf_type)
    for i, got in enumerate(fit.survival_at_):
        assert got["time"] == expected["time"][i]
        assert got["estimate"] == pytest.approx(expected["surv"][i], rel=1e-12, abs=1e-15)
        assert got["at_risk"] == expected["n_risk"][i]
        for bound, name in zip(got["ci"], ("lower", "upper"), strict=True):
            want = expected[name][i]
            if want is None:
                assert bound is None
            else:
                assert bound == pytest.approx(want, rel=1e-10, abs=1e-15)


def test_veteran_adeno_survival_at_12_months_is_zero() -> None:
    """The reviewer's case: adeno cell type, S(365 days) was null; R gives 0."""
    case = next(c for c in REFERENCE["cases"] if c["name"] == "veteran_adeno")
    fit = kaplan_meier(case["time"], case["event"], at_times=[365])
    assert fit.survival_at_[0]["estimate"] == 0.0
    assert fit.survival_at_[0]["ci"] == [None, None]


def test_a_curve_ending_censored_stays_unknown_after_its_last_time() -> None:
    fit = kaplan_meier([1, 2, 3], [1, 0, 0], at_times=[10])
    assert fit.survival_at_[0]["estimate"] is None
