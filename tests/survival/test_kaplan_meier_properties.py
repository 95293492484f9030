"""Laws every Kaplan–Meier estimate obeys, checked on generated samples (hypothesis, with a
fixed derandomised search so the suite stays deterministic)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.survival import kaplan_meier

times = st.lists(st.tuples(st.integers(0, 60).map(float), st.booleans()), min_size=1, max_size=40)
CHECKS = settings(max_examples=200, derandomize=True, deadline=None)


@CHECKS
@given(times)
def test_survival_is_non_increasing_and_within_zero_and_one(sample) -> None:
    time, event = zip(*sample, strict=True)
    km = kaplan_meier(time, event, at_times=(0.0, 12.0, 30.0, 61.0))
    survival = km.curve_["survival"]
    assert ((survival >= 0) & (survival <= 1)).all()
    assert (np.diff(survival) <= 1e-15).all()
    for lower, upper, s in zip(km.curve_["ci_lower"], km.curve_["ci_upper"], survival, strict=True):
        if not np.isnan(lower):
            assert 0 <= lower <= s + 1e-12 and s - 1e-12 <= upper <= 1
    estimates = [a["estimate"] for a in km.survival_at_ if a["estimate"] is not None]
    assert estimates == sorted(estimates, reverse=True)


@CHECKS
@given(times)
def test_the_number_at_risk_falls_by_the_events_and_censorings(sample) -> None:
    time, event = zip(*sample, strict=True)
    ticks = (0.0, 6.0, 12.0, 24.0, 48.0, 72.0)
    km = kaplan_meier(time, event, ticks=ticks)
    rows = km.at_risk_
    assert rows[0]["at_risk"] == sum(t >= 0 for t in time)
    for before, after in zip(rows, rows[1:], strict=False):
        # at risk at a tick: time >= tick; events and censorings in (previous tick, tick]
        left = before["at_risk"] - after["events"] - after["censored"]
        on_ticks = sum(t == after["time"] for t in time) - sum(t == before["time"] for t in time)
        assert after["at_risk"] == left + on_ticks
    # every time is at most 60, before the last tick: each event and censoring is counted once
    assert sum(r["events"] for r in rows) == km.events == sum(event)
    assert sum(r["censored"] for r in rows) == km.censored == len(time) - sum(event)
    assert rows[-1]["at_risk"] == 0
