"""RMST against R's print(survfit, rmean = tau) (stored references) and by hand."""

from __future__ import annotations

import json
import math

import pytest
from km_reference import analyses, close, data, fit, group_names

from toolkit.survival import rmst, rmst_by_group

CASES = [(name, group) for name in analyses() for group in [None, *group_names(name)]]


@pytest.mark.parametrize("name, group", CASES)
def test_rmst_matches_survfit_rmean(name: str, group: str | None) -> None:
    reference = fit(name, "log-log", group)["rmean"]
    time, event, groups = data(name)
    if group is not None:
        time, event = time[groups == group], event[groups == group]
    result = rmst(time, event, reference["tau"])
    assert close(result.rmst_, reference["rmean"])
    assert close(result.se_, reference["se"])
    z = 1.959963984540054
    assert result.ci_ == pytest.approx(
        (result.rmst_ - z * result.se_, result.rmst_ + z * result.se_)
    )


GROUPED = [name for name, analysis in analyses().items() if "rmst_differences" in analysis]


@pytest.mark.parametrize("name", GROUPED)
def test_differences_versus_reference_group(name: str) -> None:
    analysis = analyses()[name]
    time, event, groups = data(name)
    result = rmst_by_group(time, event, groups, analysis["tau"])
    assert result.reference == group_names(name)[0]
    ours = {d["group"]: d for d in result.differences_}
    for expected in analysis["rmst_differences"]:
        got = ours[expected["group"]]
        assert close(got["difference"], expected["difference"])
        assert close(got["se"], expected["se"])
        assert close(got["ci"][0], expected["lower"])
        assert close(got["ci"][1], expected["upper"])
        assert close(got["p"], expected["p"])
    json.dumps(result.to_dict(), allow_nan=False)


def test_rmst_by_hand() -> None:
    """n=4, deaths at 1 and 3, censored at 2 and 4; tau = 4.

    S = 1 on [0,1), 3/4 on [1,3), 3/8 on [3,4]: RMST = 1 + 1.5 + 0.375 = 2.875.
    Var = A(1)^2 · 1/(4·3) + A(3)^2 · 1/(2·1), with A(1) = 1.875, A(3) = 0.375.
    """
    result = rmst([1, 2, 3, 4], [1, 0, 1, 0], 4)
    assert result.rmst_ == pytest.approx(2.875)
    assert result.se_ == pytest.approx(math.sqrt(1.875**2 / 12 + 0.375**2 / 2))
    assert result.events == 2
    assert "area under the Kaplan–Meier curve" in result.method


def test_no_events_before_tau_is_tau_with_no_error() -> None:
    result = rmst([5, 6, 7], [0, 1, 1], 4)
    assert (result.rmst_, result.se_) == (4.0, 0.0)


def test_tau_beyond_a_groups_follow_up_is_refused() -> None:
    with pytest.raises(ValueError, match="beyond the last follow-up"):
        rmst_by_group([1, 2, 10, 11], [1, 0, 1, 0], ["a", "a", "b", "b"], 5)
    with pytest.raises(ValueError, match="positive"):
        rmst([1, 2], [1, 1], 0)


def test_reference_group_can_be_chosen() -> None:
    result = rmst_by_group(
        [1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 0], [1, 1, 1, 2, 2, 2], 3, reference="2"
    )
    assert result.reference == "2"
    (diff,) = result.differences_
    assert diff["group"] == "1"
    assert diff["difference"] == pytest.approx(result.groups_[0].rmst_ - result.groups_[1].rmst_)
