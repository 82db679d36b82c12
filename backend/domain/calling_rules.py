"""Calling window: may this receiver be called now, and if not, when next?

The window is in the receiver's local time: `CallingWindow.timezone` if set, else every time zone
of the phone number (`phones.time_zones`). A number spanning several zones (US, Australia) is
called only when the window is open in *all* of them; a number with no known zone uses UTC.
A window whose end is before its start wraps midnight (`20:00`-`06:00`); equal ends mean all day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.domain.models import CallingWindow, Receiver
from backend.domain.phones import time_zones


@lru_cache(maxsize=4096)
def time_zones_for(phone_number: str) -> tuple[str, ...]:
    """IANA zones of an E.164 number; () when unknown or unparsable."""
    return time_zones(phone_number)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zones(receiver: Receiver, window: CallingWindow) -> list[ZoneInfo]:
    names = (window.timezone,) if window.timezone else time_zones_for(receiver.phone_number)
    zones = [z for z in (_zone(n) for n in names) if z is not None]
    return zones or [ZoneInfo("UTC")]


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours) % 24, int(minutes) % 60)


def _open_in(local: datetime, start: time, end: time) -> bool:
    now = local.time()
    if start == end:
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end


def is_allowed(receiver: Receiver, window: CallingWindow | None, at: datetime) -> bool:
    """True when a call to `receiver` may start at `at` (an aware datetime)."""
    if window is None:
        return True
    start, end = _hm(window.start), _hm(window.end)
    return all(_open_in(at.astimezone(zone), start, end) for zone in _zones(receiver, window))


def next_allowed(receiver: Receiver, window: CallingWindow | None, at: datetime) -> datetime:
    """The earliest moment >= `at` when a call to `receiver` may start."""
    if is_allowed(receiver, window, at):
        return at
    assert window is not None
    start = _hm(window.start)
    candidates: list[datetime] = []
    for zone in _zones(receiver, window):
        local = at.astimezone(zone)
        for days in range(3):
            day = local.date() + timedelta(days=days)
            opening = datetime.combine(day, start, tzinfo=zone)
            if opening > at:
                candidates.append(opening.astimezone(UTC))
    for candidate in sorted(candidates):
        if is_allowed(receiver, window, candidate):
            return candidate
    # The zones' windows never overlap: call at the first zone's opening rather than never.
    return min(candidates)
