"""An independent oracle for calling hours, and hypothesis strategies over zones, windows, days.

The oracle recomputes "is the window open for this person at this moment" with zoneinfo alone,
so the property tests of both runners never judge the rules with the rules' own helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from backend.domain.calling_rules import zone_names
from backend.domain.models import CallingWindow, JobSettings, Receiver
from backend.domain.weekdays import Weekday

# Numbers of one zone and of many (US, Canada, Australia, Russia, Brazil; US toll-free has 40+).
NUMBERS = (
    "+85291234567",
    "+447700900123",
    "+81312345678",
    "+6421234567",
    "+12125550123",
    "+13105550123",
    "+18005550123",
    "+61412345678",
    "+61212345678",
    "+79161234567",
    "+5511912345678",
    "+551132345678",
    "+4915112345678",
    "+919812345678",
    "+12505550123",
)
# Receiver `timezone` overrides, including odd offsets (+05:30, +12:45, 30-minute DST).
ZONES = (
    "Asia/Hong_Kong",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/Berlin",
    "Pacific/Apia",
)


@st.composite
def windows(draw: st.DrawFn) -> CallingWindow:
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 24 * 60))
    days = draw(st.sets(st.sampled_from(list(Weekday)), min_size=1))
    return CallingWindow(
        start=f"{start // 60:02d}:{start % 60:02d}",
        end=f"{end // 60:02d}:{end % 60:02d}",
        days=tuple(days),
    )


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


def receivers(person_id: str = "p") -> st.SearchStrategy[Receiver]:
    return st.builds(
        lambda number, zone: Receiver(
            id=person_id, phone_number=number, fields={"timezone": zone} if zone else {}
        ),
        st.sampled_from(NUMBERS),
        st.none() | st.sampled_from(ZONES),
    )


def oracle_open(receiver: Receiver, settings: JobSettings, at: datetime) -> bool:
    """The window is open at `at` in every zone the person may be in."""
    names = zone_names(receiver, settings) or ("UTC",)
    window = settings.calling_window
    start = time.fromisoformat(window.start)
    for name in names:
        local = at.astimezone(ZoneInfo(name))
        if list(Weekday)[local.weekday()] not in window.days:
            return False
        now = local.time()
        if now < start or (window.end != "24:00" and now >= time.fromisoformat(window.end)):
            return False
    return True
