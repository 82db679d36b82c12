"""Calling hours and the job deadline: may this receiver be called now, and if not, when next?

Both runners ask `next_call_time` before every attempt (the local engine in virtual time, the AWS
dialer in real time), so the rules are written once, here:

- The window (`settings.calling_window`, default 09:00-20:00 Monday to Saturday) is in the
  receiver's local time. Their zones are, first found: the receiver's own `timezone` column, every
  zone of the phone number (`phones.time_zones`), the job's `timezone` setting, UTC.
- A number spanning several zones (US, Canada, Australia...) is called only when the window is
  open in *all* of them; `never_open` finds the numbers for which that is never (intake reports
  them and asks for a `timezone` value).
- Nobody is called at or after the deadline (`settings.deadline_hours` after the job started):
  `next_call_time` answers `Expired` instead, so every job ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from backend.domain.models import CallingWindow, CallResult, CallStatus, JobSettings, Receiver
from backend.domain.phones import time_zones
from backend.domain.weekdays import Weekday
from backend.domain.zones import zone

TIMEZONE_COLUMN = "timezone"  # the receiver column that overrides the number's zones
_UTC = ZoneInfo("UTC")
_DAY = timedelta(days=1)
_WEEK = timedelta(days=8)  # every weekday at least once, whatever the zone offsets

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Expired:
    """The answer when the receiver cannot be called before the job's deadline."""

    deadline: datetime

    @property
    def error(self) -> str:
        when = self.deadline.astimezone(UTC)
        return f"not called before the job's deadline ({when:%Y-%m-%d %H:%M} UTC)"

    def result(self, job_id: str, receiver_id: str, attempts: int) -> CallResult:
        """The receiver's final result: `Expired`, after `attempts` calls made."""
        return CallResult(
            job_id=job_id,
            receiver_id=receiver_id,
            status=CallStatus.EXPIRED,
            error=self.error,
            attempts=attempts,
        )


@lru_cache(maxsize=4096)
def time_zones_for(phone_number: str) -> tuple[str, ...]:
    """IANA zones of an E.164 number; () when unknown or unparsable."""
    return time_zones(phone_number)


def zone_names(receiver: Receiver, settings: JobSettings) -> tuple[str, ...]:
    """The zones the window is checked in for this receiver (see the module docstring)."""
    own = receiver.fields.get(TIMEZONE_COLUMN, "").strip()
    if own:
        return (own,)
    return time_zones_for(receiver.phone_number) or (
        (settings.timezone,) if settings.timezone else ()
    )


def _zones(names: Sequence[str]) -> tuple[ZoneInfo, ...]:
    found = tuple(z for z in (zone(n) for n in names) if z is not None)
    return found or (_UTC,)


def _clock(text: str) -> tuple[time, int]:
    """`HH:MM` as a time of day plus whole days (`24:00` is midnight, one day on)."""
    hours, minutes = (int(part) for part in text.split(":"))
    return time(hours % 24, minutes), hours // 24


def _open_at(local: datetime, window: CallingWindow) -> bool:
    if Weekday.of(local.date()) not in window.days:
        return False
    start, _ = _clock(window.start)
    end, next_day = _clock(window.end)
    now = local.time()
    return start <= now and (next_day > 0 or now < end)


def is_open(names: Sequence[str], window: CallingWindow, at: datetime) -> bool:
    """Whether the window is open at `at` (aware) in every one of the zones `names`."""
    if window.always:
        return True
    return all(_open_at(at.astimezone(z), window) for z in _zones(names))


def is_allowed(receiver: Receiver, settings: JobSettings, at: datetime) -> bool:
    """True when a call to `receiver` may start at `at` (aware), deadline aside."""
    return is_open(zone_names(receiver, settings), settings.calling_window, at)


def _spans(tz: ZoneInfo, window: CallingWindow, begin: datetime, until: datetime) -> list[Span]:
    """The window's open spans in zone `tz`, in UTC, clipped to [begin, until)."""
    start, _ = _clock(window.start)
    end, next_day = _clock(window.end)
    spans: list[Span] = []
    day: date = begin.astimezone(tz).date() - _DAY
    last = until.astimezone(tz).date()
    while day <= last:
        if Weekday.of(day) in window.days:
            opens = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(day + next_day * _DAY, end, tzinfo=tz).astimezone(UTC)
            opens, closes = max(opens, begin), min(closes, until)
            if opens < closes:
                spans.append((opens, closes))
        day += _DAY
    return spans


def _intersect(left: list[Span], right: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        opens = max(left[i][0], right[j][0])
        closes = min(left[i][1], right[j][1])
        if opens < closes:
            out.append((opens, closes))
        if left[i][1] <= right[j][1]:
            i += 1
        else:
            j += 1
    return out


def first_opening(
    names: Sequence[str], window: CallingWindow, at: datetime, until: datetime
) -> datetime | None:
    """The earliest moment in [at, until) when the window is open in every zone, or None."""
    if at >= until:
        return None
    if is_open(names, window, at):
        return at
    common: list[Span] | None = None
    for tz in _zones(names):
        spans = _spans(tz, window, at, until)
        common = spans if common is None else _intersect(common, spans)
        if not common:
            return None
    return common[0][0] if common else None


def open_spans(
    names: Sequence[str], window: CallingWindow, begin: datetime, until: datetime
) -> list[Span]:
    """The spans of [begin, until) when the window is open in every zone of `names` (in UTC)."""
    if begin >= until:
        return []
    if window.always:
        return [(begin, until)]
    common: list[Span] | None = None
    for tz in _zones(names):
        spans = _spans(tz, window, begin, until)
        common = spans if common is None else _intersect(common, spans)
    return common or []


def deadline(settings: JobSettings, started_at: datetime) -> datetime:
    """When the job stops calling: `deadline_hours` after it started."""
    return started_at + timedelta(hours=settings.deadline_hours)


def next_call_time(
    receiver: Receiver, now: datetime, settings: JobSettings, started_at: datetime
) -> datetime | Expired:
    """When a call to `receiver` may start (`now` if it may start now), or Expired.

    Expired when the deadline has passed or the window does not open again before it: the runner
    ends the receiver as `CallStatus.EXPIRED` instead of waiting.
    """
    end = deadline(settings, started_at)
    found = first_opening(zone_names(receiver, settings), settings.calling_window, now, end)
    return Expired(end) if found is None else found


def never_open(names: Sequence[str], window: CallingWindow, around: datetime) -> bool:
    """True when the window is never open in all of `names` at once (checked over a week)."""
    return first_opening(names, window, around, around + _WEEK) is None


@dataclass(frozen=True, slots=True)
class HoursOutlook:
    """For a preview: who may be called now, and when the first waiting call may start."""

    outside_now: int
    first_call: datetime | None  # None: nobody can be called before the deadline
    expire: int  # receivers the window never opens for before the deadline


def outlook(receivers: Iterable[Receiver], settings: JobSettings, now: datetime) -> HoursOutlook:
    """How many receivers are outside their hours at `now`, and when calling starts."""
    answers: dict[tuple[str, ...], datetime | Expired] = {}
    outside = expire = 0
    first: datetime | None = None
    for receiver in receivers:
        names = zone_names(receiver, settings)
        if names not in answers:
            answers[names] = next_call_time(receiver, now, settings, now)
        answer = answers[names]
        if isinstance(answer, Expired):
            outside += 1
            expire += 1
            continue
        if answer > now:
            outside += 1
        first = answer if first is None else min(first, answer)
    return HoursOutlook(outside, first, expire)


def describe(window: CallingWindow) -> str:
    """`09:00-20:00 Mon-Sat`, `any time`: the window as people read it."""
    if window.always:
        return "any time"
    return f"{window.span} {describe_days(window.days)}"


def describe_days(days: Sequence[Weekday]) -> str:
    order = list(Weekday)
    indexes = [order.index(d) for d in days]
    if len(indexes) == 7:
        return "every day"
    if indexes == list(range(indexes[0], indexes[-1] + 1)) and len(indexes) > 2:
        return f"{days[0].value}-{days[-1].value}"
    return ", ".join(d.value for d in days)


def _after(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def deadline_text(settings: JobSettings) -> str:
    hours = settings.deadline_hours
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} h"


def hours_summary(receivers: Sequence[Receiver], settings: JobSettings, now: datetime) -> str:
    """One paragraph for previews: the hours, who is outside them now, when calling starts."""
    ends = f"People not reached within {deadline_text(settings)} of the start end as Expired."
    window = settings.calling_window
    if window.always:
        return f"Calling hours are off (calling_window: any): calls start at any hour. {ends}"
    seen = outlook(receivers, settings, now)
    total = len(receivers)
    text = (
        f"Calling hours: {describe(window)}, in each person's local time. "
        f"{seen.outside_now} of {total} {'person is' if total == 1 else 'people are'} "
        "outside their hours now"
    )
    if seen.first_call is None:
        text += "; nobody can be called before the deadline"
    elif seen.first_call <= now:
        text += "; calling starts now"
    else:
        first = seen.first_call.astimezone(UTC)
        text += f"; calling starts {first:%a %d %b %H:%M} UTC (in {_after(first - now)})"
    if seen.expire and seen.first_call is not None:
        text += f"; {seen.expire} cannot be called before the deadline"
    return f"{text}. {ends}"
