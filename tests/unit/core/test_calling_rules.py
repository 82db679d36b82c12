"""Calling hours and the deadline (calling_rules): examples, then properties over zones and times.

The properties check `next_call_time` against an independent oracle: the local time and weekday
of the call in every zone of the person, computed here with zoneinfo, never with the rules' own
helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.calling_rules import (
    Expired,
    hours_summary,
    is_allowed,
    never_open,
    next_call_time,
    outlook,
    zone_names,
)
from backend.domain.models import CallingWindow, CallStatus, JobSettings, Receiver
from backend.domain.weekdays import ALL_DAYS
from tests.fakes.hours import NUMBERS, moments, oracle_open, receivers, windows

HK = Receiver(id="1", phone_number="+85291234567")  # Asia/Hong_Kong, UTC+8
US_TOLL_FREE = Receiver(id="2", phone_number="+18005550123")  # every US zone
AU_MOBILE = Receiver(id="3", phone_number="+61412345678")  # every Australian zone
SAT_LATE = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # Saturday 22:00 in Hong Kong


def test_default_hours_are_nine_to_eight_monday_to_saturday() -> None:
    window = JobSettings().calling_window
    assert (window.start, window.end) == ("09:00", "20:00")
    assert window.days == ALL_DAYS[:6]
    assert JobSettings().deadline_hours == 7 * 24


def test_outside_hours_waits_for_the_next_opening_skipping_sunday() -> None:
    settings = JobSettings()
    assert not is_allowed(HK, settings, SAT_LATE)
    # Saturday 22:00 HK -> Sunday is closed -> Monday 09:00 HK = Monday 01:00 UTC
    assert next_call_time(HK, SAT_LATE, settings, SAT_LATE) == datetime(
        2026, 11, 30, 1, 0, tzinfo=UTC
    )
    noon = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)  # Saturday 12:00 HK
    assert next_call_time(HK, noon, settings, noon) == noon


def test_any_turns_hours_off_explicitly() -> None:
    settings = JobSettings.model_validate({"calling_window": "any"})
    assert settings.calling_window.always
    assert next_call_time(HK, SAT_LATE, settings, SAT_LATE) == SAT_LATE
    # null is not "off": it is the default window
    assert JobSettings.model_validate({"calling_window": None}).calling_window == CallingWindow()


def test_receiver_timezone_column_overrides_the_number() -> None:
    in_london = Receiver(id="4", phone_number="+85291234567", fields={"timezone": "Europe/London"})
    assert zone_names(in_london, JobSettings()) == ("Europe/London",)
    assert is_allowed(in_london, JobSettings(), SAT_LATE)  # 14:00 in London


def test_job_timezone_is_the_last_resort() -> None:
    unknown = Receiver(id="5", phone_number="+8823456789")  # international networks: no zone
    assert zone_names(unknown, JobSettings(timezone="Asia/Tokyo")) == ("Asia/Tokyo",)
    assert zone_names(HK, JobSettings(timezone="Asia/Tokyo")) == ("Asia/Hong_Kong",)
    assert zone_names(unknown, JobSettings()) == ()  # -> UTC


def test_deadline_expires_instead_of_waiting() -> None:
    settings = JobSettings(deadline_hours=2)
    answer = next_call_time(HK, SAT_LATE, settings, SAT_LATE)
    assert isinstance(answer, Expired)
    assert answer.deadline == SAT_LATE + timedelta(hours=2)
    result = answer.result("job", "1", 0)
    assert result.status is CallStatus.EXPIRED
    assert result.attempts == 0
    assert "deadline" in (result.error or "")


def test_never_open_across_zones() -> None:
    short = CallingWindow(start="09:00", end="10:00")
    names = zone_names(US_TOLL_FREE, JobSettings())
    assert len(names) > 3
    assert never_open(names, short, SAT_LATE)
    assert not never_open(names, CallingWindow(), SAT_LATE)
    morning = CallingWindow(start="09:00", end="13:00")
    assert len(zone_names(AU_MOBILE, JobSettings())) > 1
    assert never_open(zone_names(AU_MOBILE, JobSettings()), morning, SAT_LATE)


def test_a_number_whose_zones_never_share_the_window_expires_without_spinning() -> None:
    settings = JobSettings(calling_window=CallingWindow(start="09:00", end="10:00"))
    answer = next_call_time(US_TOLL_FREE, SAT_LATE, settings, SAT_LATE)
    assert isinstance(answer, Expired)


def test_outlook_and_summary_for_a_preview() -> None:
    in_london = Receiver(id="4", phone_number="+85291234568", fields={"timezone": "Europe/London"})
    seen = outlook([HK, in_london], JobSettings(), SAT_LATE)
    assert seen.outside_now == 1
    assert seen.first_call == SAT_LATE
    text = hours_summary([HK], JobSettings(), SAT_LATE)
    assert "1 of 1 person is outside their hours now" in text
    assert "calling starts Mon 30 Nov 01:00 UTC (in 35 h)" in text
    assert "Expired" in text


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receivers(), windows(), moments, st.integers(1, 720), st.integers(0, 2000))
def test_next_call_time_is_open_and_before_the_deadline(
    receiver: Receiver, window: CallingWindow, started: datetime, hours: int, later: int
) -> None:
    settings = JobSettings(calling_window=window, deadline_hours=hours)
    now = started + timedelta(minutes=later)
    deadline = started + timedelta(hours=hours)
    answer = next_call_time(receiver, now, settings, started)
    if isinstance(answer, Expired):
        assert answer.deadline == deadline
        # nothing was open from now to the deadline (checked on a 5-minute grid)
        probe = now
        while probe < deadline and probe < now + timedelta(days=9):
            assert not oracle_open(receiver, settings, probe), probe
            probe += timedelta(minutes=5)
        return
    assert now <= answer < deadline
    assert oracle_open(receiver, settings, answer)
    assert is_allowed(receiver, settings, answer)


@settings(max_examples=100, deadline=None)
@given(receivers(), windows(), moments)
def test_is_allowed_agrees_with_the_oracle(
    receiver: Receiver, window: CallingWindow, at: datetime
) -> None:
    settings = JobSettings(calling_window=window)
    assert is_allowed(receiver, settings, at) == oracle_open(receiver, settings, at)


@pytest.mark.parametrize("number", NUMBERS)
def test_default_hours_open_for_every_number_within_a_week(number: str) -> None:
    receiver = Receiver(id="p", phone_number=number)
    answer = next_call_time(receiver, SAT_LATE, JobSettings(), SAT_LATE)
    assert not isinstance(answer, Expired), zone_names(receiver, JobSettings())
