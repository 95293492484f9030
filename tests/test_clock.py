"""The one clock: today, or the day pinned in TOOLKIT_TODAY."""

from __future__ import annotations

from datetime import date

import pytest

from toolkit import clock
from toolkit.errors import UsageError


def test_today_is_the_system_date_when_nothing_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.ENV_VAR, raising=False)
    assert clock.today() == date.today()


def test_today_is_the_pinned_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_VAR, "2015-03-20")
    assert clock.today() == date(2015, 3, 20)


@pytest.mark.parametrize(
    ("text", "reason"), [("20.03.2015", "YYYY-MM-DD"), ("2015-02-30", "no such day")]
)
def test_a_pinned_day_that_is_no_date_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    monkeypatch.setenv(clock.ENV_VAR, text)
    with pytest.raises(UsageError, match=reason):
        clock.today()
