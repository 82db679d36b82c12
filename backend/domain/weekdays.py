"""The days of the week as settings write them (`Mon` ... `Sun`): calling days and repeat days."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Weekday(StrEnum):
    """A day calls may be made on, as written in settings (`Mon` ... `Sun`)."""

    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return list(cls)[day.weekday()]


ALL_DAYS: tuple[Weekday, ...] = tuple(Weekday)
DEFAULT_DAYS: tuple[Weekday, ...] = ALL_DAYS[:6]  # Monday to Saturday
