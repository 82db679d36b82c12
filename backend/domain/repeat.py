"""How a scheduled job repeats (`JobSettings.repeat`): `daily`, `weekdays`, `weekly` (on the
start's weekday) or `weekly on monday,thursday`, optionally followed by `until 2027-03-31` or
`10 times`. The rule is read here, once; `schedule` turns it into occurrences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from backend.domain.weekdays import Weekday

REPEAT_HELP = (
    "use daily, weekdays, weekly or weekly on monday,thursday, optionally followed by "
    "'until 2027-03-31' or '10 times'"
)

DAY_NAMES = {
    "mon": Weekday.MON,
    "monday": Weekday.MON,
    "tue": Weekday.TUE,
    "tues": Weekday.TUE,
    "tuesday": Weekday.TUE,
    "wed": Weekday.WED,
    "wednesday": Weekday.WED,
    "thu": Weekday.THU,
    "thur": Weekday.THU,
    "thurs": Weekday.THU,
    "thursday": Weekday.THU,
    "fri": Weekday.FRI,
    "friday": Weekday.FRI,
    "sat": Weekday.SAT,
    "saturday": Weekday.SAT,
    "sun": Weekday.SUN,
    "sunday": Weekday.SUN,
}
WEEK = list(Weekday)
DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_END = re.compile(r"\s+(?:until\s+(?P<until>\S+)|(?:for\s+)?(?P<count>\d+)\s+times?)$")


class ScheduleError(ValueError):
    """A start time or repeat rule that cannot be read; the message says what to write."""


@dataclass(frozen=True, slots=True)
class RepeatRule:
    """A parsed `repeat`: daily, or weekly on some days; ends by date or count (or neither)."""

    daily: bool
    days: tuple[Weekday, ...] = ()  # weekly: the days (empty: the start's weekday)
    until: date | None = None
    count: int | None = None

    @property
    def text(self) -> str:
        """The canonical form, stored in the job: reads back to the same rule."""
        if self.daily:
            base = "daily"
        elif self.days == tuple(WEEK[:5]):
            base = "weekdays"
        elif self.days:
            base = "weekly on " + ",".join(d.value.lower() for d in self.days)
        else:
            base = "weekly"
        if self.until is not None:
            return f"{base} until {self.until.isoformat()}"
        if self.count is not None:
            return f"{base} {self.count} times"
        return base


def parse_repeat(text: str) -> RepeatRule:
    """The rule `text` writes (see the module docstring); raises ScheduleError."""
    cleaned = " ".join(text.strip().lower().split())
    until: date | None = None
    count: int | None = None
    end = _END.search(cleaned)
    if end is not None:
        cleaned = cleaned[: end.start()]
        if end["until"]:
            match = DATE.match(end["until"])
            try:
                until = date(int(match[1]), int(match[2]), int(match[3])) if match else None
            except ValueError:
                until = None
            if until is None:
                raise ScheduleError(
                    f"repeat '{text.strip()}': 'until' needs a date such as 2027-03-31"
                )
        else:
            count = int(end["count"])
            if count < 1:
                raise ScheduleError(f"repeat '{text.strip()}': give at least 1 time")
    if cleaned in ("daily", "every day"):
        return RepeatRule(True, until=until, count=count)
    if cleaned in ("weekdays", "every weekday"):
        return RepeatRule(False, tuple(WEEK[:5]), until, count)
    if cleaned == "weekly":
        return RepeatRule(False, (), until, count)
    for lead in ("weekly on ", "every "):
        if cleaned.startswith(lead):
            days = _day_list(cleaned[len(lead) :])
            if days:
                return RepeatRule(False, days, until, count)
    raise ScheduleError(f"repeat '{text.strip()}' is not a rule Callouts can read: {REPEAT_HELP}")


def _day_list(text: str) -> tuple[Weekday, ...]:
    names = [n for n in re.split(r"\s*(?:,|&|\band\b|\s)\s*", text) if n]
    days = [DAY_NAMES.get(n.rstrip(".")) for n in names]
    if not days or any(d is None for d in days):
        return ()
    return tuple(d for d in WEEK if d in days)
