"""Scheduled and recurring jobs: when a job starts (`start_at`) and how it repeats (`repeat`).

Pure rules shared by every runner (the local scheduler, `callouts run --at`, EventBridge
Scheduler on AWS), so each is written once:

- `start_at` is an ISO time, or a natural form read in the job's zone (`JobSettings.timezone`,
  else UTC): `tomorrow 18:00`, `today 7pm`, `monday 08:30` (the next Monday), `2026-12-07 18:00`.
- `repeat` is `daily`, `weekdays`, `weekly` (on the start's weekday) or `weekly on monday,
  thursday`, optionally followed by `until 2027-03-31` or `10 times`. Occurrences come from
  python-dateutil's rrule on the start's local wall-clock time, so 18:00 stays 18:00 across a
  daylight-saving change (as EventBridge Scheduler's cron with a time zone does).
- A repeat ends at its `until` date, after its `N times`, or one year after its start, whichever
  comes first; at most `MAX_OCCURRENCES` occurrences.
- Each occurrence is its own job: `occurrence_job_id(schedule id, time)` is deterministic, so a
  second delivery of one occurrence names the job that already exists and starts nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil import rrule

from backend.domain.calling_rules import describe, outlook
from backend.domain.models import CallJob, JobSettings, Receiver
from backend.domain.repeat import (
    DATE,
    DAY_NAMES,
    WEEK,
    RepeatRule,
    ScheduleError,
    parse_repeat,
)
from backend.domain.weekdays import Weekday
from backend.domain.zones import zone

MAX_OCCURRENCES = 366  # a daily job for a year
MAX_SPAN = timedelta(days=366)  # a repeat ends at most this long after its start
SCHEDULE_ID_CHARS = 64  # EventBridge Scheduler's schedule names: 1-64 of [0-9A-Za-z_.-]
_STAMP = "%Y%m%dT%H%MZ"  # the occurrence's UTC time in its job id

START_AT_HELP = (
    "give a time such as 2026-12-07 18:00, tomorrow 18:00 or monday 08:30 "
    "(in the job's timezone), or an ISO time with an offset"
)
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


class ScheduleState(StrEnum):
    """Where a schedule is (a job's own state is `job_state.JobState`)."""

    ACTIVE = "active"  # occurrences still to come
    ENDED = "ended"  # its last occurrence has come
    CANCELLED = "cancelled"  # someone cancelled it: no occurrence starts any more


def job_zone(settings: JobSettings) -> ZoneInfo:
    """The zone a schedule's wall-clock times are read in: the job's `timezone`, else UTC."""
    return (zone(settings.timezone) if settings.timezone else None) or ZoneInfo("UTC")


# --- start_at ---------------------------------------------------------------------------------


def _clock(text: str) -> time | None:
    match = _CLOCK.match(text.strip().lower())
    if match is None:
        return None
    hours, minutes, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if half == "pm" else 0)
    if hours > 23 or minutes > 59 or (match[2] is None and half is None):
        return None
    return time(hours, minutes)


def _day(word: str, today: date) -> date | None:
    """`today`, `tomorrow`, a weekday name (the next one, today included) or `YYYY-MM-DD`."""
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in DAY_NAMES:
        ahead = (WEEK.index(DAY_NAMES[word]) - today.weekday()) % 7
        return today + timedelta(days=ahead)
    match = DATE.match(word)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_start_at(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The aware moment `text` names (see the module docstring); raises ScheduleError.

    A weekday name means the next such day whose time is still ahead (`monday 08:30` said on a
    Monday at 09:00 is next week's); a bare time (`18:00`) the next time the clock shows it.
    """
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise ScheduleError(f"start_at is empty: {START_AT_HELP}")
    moment = _iso(cleaned, tz)
    if moment is not None:
        return moment
    words = cleaned.lower().replace(" at ", " ").split(" ")
    local_now = now.astimezone(tz)
    if len(words) == 1 and (clock := _clock(words[0])) is not None:
        found = datetime.combine(local_now.date(), clock, tzinfo=tz)
        return found if found > now else _wall(local_now.date() + timedelta(days=1), clock, tz)
    if len(words) == 2:
        day, clock = _day(words[0], local_now.date()), _clock(words[1])
        if day is not None and clock is not None:
            found = _wall(day, clock, tz)
            if words[0] in DAY_NAMES and found <= now:
                found = _wall(day + timedelta(days=7), clock, tz)
            return found
    raise ScheduleError(
        f"start_at '{text.strip()}' is not a time Callouts can read: {START_AT_HELP}"
    )


def _wall(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def _iso(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if "T" not in text.upper() and " " not in text:
        return None  # a bare date has no time of day: ask for one
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def start_text(moment: datetime, tz: ZoneInfo) -> str:
    """`Mon 07 Dec 2026 18:00 Asia/Hong_Kong`: a start time as people read it."""
    return f"{moment.astimezone(tz):%a %d %b %Y %H:%M} {tz.key}"


# --- repeat -----------------------------------------------------------------------------------


# --- occurrences ------------------------------------------------------------------------------


def occurrences(start: datetime, rule: RepeatRule | None, tz: ZoneInfo) -> list[datetime]:
    """Every occurrence (aware, in `tz`), at most MAX_OCCURRENCES + 1 (one over: "too many")."""
    if rule is None:
        return [start.astimezone(tz)]
    local = start.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    limit = local + MAX_SPAN
    if rule.until is not None:
        limit = min(limit, datetime.combine(rule.until, time(23, 59, 59)))
    days = rule.days or (Weekday.of(local.date()),)
    recurrence = rrule.rrule(
        rrule.DAILY if rule.daily else rrule.WEEKLY,
        dtstart=local,
        # rrule takes either an end or a count; the year's limit is applied below to both.
        until=None if rule.count else limit,
        count=min(rule.count, MAX_OCCURRENCES + 1) if rule.count else None,
        byweekday=None if rule.daily else [WEEK.index(d) for d in days],
    )
    found: list[datetime] = []
    for moment in recurrence:
        if moment > limit:
            break
        found.append(moment.replace(tzinfo=tz))
        if len(found) > MAX_OCCURRENCES:
            break
    return found


@dataclass(frozen=True, slots=True)
class Schedule:
    """A job's schedule: its first start, its rule (None: once) and the zone it is read in."""

    schedule_id: str
    start: datetime
    rule: RepeatRule | None
    tz: ZoneInfo

    @property
    def repeats(self) -> bool:
        return self.rule is not None

    def occurrences(self) -> list[datetime]:
        return occurrences(self.start, self.rule, self.tz)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence after `moment`, or None when the schedule is over."""
        return next((at for at in self.occurrences() if at > moment), None)

    def state(self, now: datetime, cancelled: bool = False) -> ScheduleState:
        if cancelled:
            return ScheduleState.CANCELLED
        return ScheduleState.ENDED if self.next_after(now) is None else ScheduleState.ACTIVE

    def describe(self) -> str:
        """`Mon 07 Dec 2026 18:00 Asia/Hong_Kong, weekly on mon,thu until 2027-03-31`."""
        first = start_text(self.start, self.tz)
        return f"{first}, {self.rule.text}" if self.rule else f"once, {first}"


def schedule_id_for(job_id: str) -> str:
    """The schedule's id: the job id, shortened with a hash when over SCHEDULE_ID_CHARS."""
    if len(job_id) <= SCHEDULE_ID_CHARS:
        return job_id
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:8]
    return f"{job_id[: SCHEDULE_ID_CHARS - 9]}-{digest}"


def schedule_of(job: CallJob) -> Schedule | None:
    """The job's schedule, or None when it starts at once and does not repeat."""
    settings = job.settings
    if settings.start_at is None:
        return None
    rule = parse_repeat(settings.repeat) if settings.repeat else None
    return Schedule(schedule_id_for(job.job_id), settings.start_at, rule, job_zone(settings))


def occurrence_job_id(schedule_id: str, at: datetime) -> str:
    """The job id of the occurrence at `at`: the same for every delivery of that occurrence."""
    return f"{schedule_id}-{at.astimezone(UTC):{_STAMP}}"


def occurrence_job(job: CallJob, schedule_id: str, at: datetime) -> CallJob:
    """The job one occurrence runs: its own id, no schedule of its own."""
    settings = job.settings.model_copy(update={"start_at": None, "repeat": None})
    return job.model_copy(
        update={"job_id": occurrence_job_id(schedule_id, at), "settings": settings}
    )


def template_job(job: CallJob) -> CallJob:
    """The job a schedule keeps: under the schedule's id, its settings saying when (each
    occurrence copies it with `occurrence_job`)."""
    return job.model_copy(update={"job_id": schedule_id_for(job.job_id)})


def parse_occurrence_time(text: str) -> datetime:
    """The scheduled time a scheduler delivered (`2026-12-07T10:00:00Z`); raises ScheduleError."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"occurrence '{text}' is not an ISO time") from None
    if moment.tzinfo is None:
        raise ScheduleError(f"occurrence '{text}' has no time zone")
    return moment.astimezone(UTC)


# --- checks at intake -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleCheck:
    """What intake says about a schedule: problems stop the job, warnings do not."""

    problems: tuple[tuple[str, str], ...] = ()  # (setting key, message)
    warnings: tuple[tuple[str, str], ...] = ()


def check_schedule(
    settings: JobSettings, receivers: Sequence[Receiver], now: datetime
) -> ScheduleCheck:
    """A start in the past, a repeat without a start, a rule that never fires or fires too often,
    and (a warning) occurrences when nobody's calling hours are open."""
    if settings.start_at is None:
        if settings.repeat:
            return ScheduleCheck(
                (("repeat", "repeat needs a start_at: the first time and the time of day"),)
            )
        return ScheduleCheck()
    tz = job_zone(settings)
    if settings.start_at <= now:
        when = start_text(settings.start_at, tz)
        return ScheduleCheck((("start_at", f"start_at {when} is in the past: {START_AT_HELP}"),))
    rule = parse_repeat(settings.repeat) if settings.repeat else None
    found = occurrences(settings.start_at, rule, tz)
    if not found:
        return ScheduleCheck(
            (
                (
                    "repeat",
                    f"repeat '{settings.repeat}' never fires after the start: "
                    "give an 'until' date after start_at",
                ),
            )
        )
    if len(found) > MAX_OCCURRENCES:
        return ScheduleCheck(
            (
                (
                    "repeat",
                    f"repeat '{settings.repeat}' gives more than {MAX_OCCURRENCES} "
                    "occurrences: give a smaller count or an earlier 'until'",
                ),
            )
        )
    if rule is not None and rule.until is not None and rule.until > (found[0] + MAX_SPAN).date():
        return ScheduleCheck(
            (
                (
                    "repeat",
                    f"repeat '{settings.repeat}' runs longer than a year: give an 'until' "
                    "date within a year of start_at",
                ),
            )
        )
    return ScheduleCheck(warnings=_outside_hours(found, receivers, settings, tz))


def _outside_hours(
    found: Sequence[datetime], receivers: Sequence[Receiver], settings: JobSettings, tz: ZoneInfo
) -> tuple[tuple[str, str], ...]:
    """A warning when an occurrence starts outside everybody's calling hours (calls then wait
    for the window; they are never made outside it)."""
    if settings.calling_window.always or not receivers:
        return ()
    closed = [
        at
        for at in found[:14]  # two weeks show every weekday and time a rule uses
        if outlook(receivers, settings, at.astimezone(UTC)).outside_now == len(receivers)
    ]
    if not closed:
        return ()
    key = "start_at" if closed[0] == found[0] else "repeat"
    return (
        (
            key,
            f"{key}: the job starts {start_text(closed[0], tz)}, outside everybody's calling hours "
            f"({describe(settings.calling_window)}, local time): calls wait until the hours open",
        ),
    )
