"""Median follow-up: reverse Kaplan–Meier against R, and the median potential follow-up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from km_reference import CONF_TYPES, analyses, close, data

from toolkit.survival import median_followup

CASES = [(name, conf_type) for name in analyses() for conf_type in CONF_TYPES]


@pytest.mark.parametrize("name, conf_type", CASES)
def test_reverse_km_median_matches_r(name: str, conf_type: str) -> None:
    reference = analyses()[name]["followup"][conf_type]
    time, event, _ = data(name)
    result = median_followup(time, event, conf_type=conf_type)
    assert close(result.median_, reference["median"])
    assert close(result.ci_[0], reference["lower"])
    assert close(result.ci_[1], reference["upper"])


def test_censoring_is_the_event() -> None:
    """Censored at 2, 4, 6, 8 (deaths at 1, 3, 5, 7 censor the reverse curve): S_c halves at 4."""
    time = [1, 2, 3, 4, 5, 6, 7, 8]
    event = [1, 0, 1, 0, 1, 0, 1, 0]
    result = median_followup(time, event)
    # reverse KM: at 2, 7 at risk → 6/7; at 4, 5 → 6/7·4/5 = 0.686; at 6, 3 → 0.457 ≤ 0.5
    assert result.median_ == 6.0


def test_potential_follow_up_is_the_median_time_to_cutoff() -> None:
    result = median_followup([1, 2, 3], [1, 0, 0], potential=np.array([10.0, 20.0, 40.0, 50.0]))
    assert result.potential_median_ == 30.0
    assert median_followup([1, 2, 3], [1, 0, 0]).potential_median_ is None
    with pytest.raises(ValueError, match="non-negative"):
        median_followup([1, 2], [1, 0], potential=[1.0, -2.0])


def test_dict_keeps_the_report_keys() -> None:
    out = median_followup([1, 2, 3, 4], [1, 0, 0, 1], potential=[5, 5, 5, 5]).to_dict()
    assert {"median", "ci", "method", "potential_median", "potential_method"} <= set(out)
    assert "reverse Kaplan–Meier" in out["method"]
    json.dumps(out, allow_nan=False)
