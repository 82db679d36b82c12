"""JobSettings from Configures text values: numbers, countries, calling hours and days, zone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from pydantic import ValidationError

from backend.domain.intake.config_keys import INT_SETTINGS
from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import ANY_TIME, JobSettings, window_problem
from backend.domain.repeat import ScheduleError, parse_repeat
from backend.domain.schedule import parse_start_at
from backend.domain.weekdays import ALL_DAYS, Weekday
from backend.domain.zones import ZONE_PROBLEM, known_zone, zone

_WINDOW = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:-|–|to)\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_settings(
    config: Mapping[str, str], where: Where, problems: ProblemLog, now: datetime | None = None
) -> JobSettings:
    """The settings in `config`; each bad value is a problem and falls back to its default.

    `now` is when a relative start_at (`tomorrow 18:00`) is read from (default: the clock).
    """
    values: dict[str, Any] = {}
    for key in INT_SETTINGS:
        text = config.get(key, "").strip()
        if not text:
            continue
        try:
            values[key] = int(float(text)) if float(text).is_integer() else text
        except ValueError:
            values[key] = text
    countries = config.get("allowed_countries", "").strip()
    if countries:
        codes = [c.upper() for c in re.split(r"[\s,;]+", countries) if c]
        unknown = _check_countries(codes, where, problems)
        values["allowed_countries"] = tuple(c for c in codes if c not in unknown)
    window = _window(config, where, problems)
    if window is not None:
        values["calling_window"] = window
    zone = config.get("timezone", "").strip()
    if zone:
        if known_zone(zone):
            values["timezone"] = zone
        else:
            problems.add(where.config("timezone", f"timezone '{zone}' {ZONE_PROBLEM}"))
    for key in ("voice", "language", "organisation", "callback_number"):
        text = config.get(key, "").strip()
        if text:
            values[key] = text
    values.update(_schedule(config, values.get("timezone"), where, problems, now))
    try:
        return JobSettings.model_validate(values)
    except ValidationError as error:
        bad_keys: set[str] = set()
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else "settings"
            if key in bad_keys:
                continue
            bad_keys.add(key)
            shown = config.get(key, "")
            if key in INT_SETTINGS:
                message = int_setting_message(key, shown)
            else:
                message = f"{key} '{shown}': {item['msg']}"
            problems.add(where.config(key, message))
        values = {k: v for k, v in values.items() if k not in bad_keys}
        try:
            return JobSettings.model_validate(values)
        except ValidationError:
            return JobSettings()


def _schedule(
    config: Mapping[str, str],
    zone_name: str | None,
    where: Where,
    problems: ProblemLog,
    now: datetime | None,
) -> dict[str, Any]:
    """start_at read in the job's zone, repeat in its canonical form (backend/domain/schedule)."""
    values: dict[str, Any] = {}
    start = config.get("start_at", "").strip()
    if start:
        tz = (zone(zone_name) if zone_name else None) or zone("UTC")
        assert tz is not None
        try:
            values["start_at"] = parse_start_at(start, tz, now or datetime.now(UTC))
        except ScheduleError as error:
            problems.add(where.config("start_at", str(error)))
    repeat = config.get("repeat", "").strip()
    if repeat:
        try:
            values["repeat"] = parse_repeat(repeat).text
        except ScheduleError as error:
            problems.add(where.config("repeat", str(error)))
    return values


def check_settings(settings: JobSettings, where: Where, problems: ProblemLog) -> None:
    """Ready-made settings (JSON intake) pass the checks parse_settings makes on text values.

    The calling window and the zone need no check here: the JobSettings model validates them
    (`models.window_problem`, `zones.known_zone`), so a bad one never gets this far.
    """
    _check_countries(list(settings.allowed_countries), where, problems)


def _check_countries(codes: list[str], where: Where, problems: ProblemLog) -> list[str]:
    """The codes that are not countries phone numbers can be checked against (each a problem)."""
    unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        problems.add(
            where.config(
                "allowed_countries",
                f"allowed_countries: {', '.join(unknown)} is not a two-letter country code "
                "such as HK, GB, US",
            )
        )
    return unknown


def int_setting_message(key: str, shown: object) -> str:
    bounds = JobSettings.model_fields[key].metadata
    low = next((getattr(b, "ge", None) for b in bounds if getattr(b, "ge", None) is not None), None)
    high = next(
        (getattr(b, "le", None) for b in bounds if getattr(b, "le", None) is not None), None
    )
    if low is not None and high is not None:
        return f"{key} '{shown}' must be a whole number from {low:,} to {high:,}"
    return f"{key} '{shown}' must be a whole number"


_ANY = frozenset({ANY_TIME, "any time", "anytime", "always", "all day", "off", "none"})
_EVERY_DAY = frozenset({"any", "all", "every day", "everyday", "daily", "all days"})
_DAY_NAMES = {day.value.lower(): day for day in Weekday}
_DAY_NAMES.update(
    {
        name: day
        for day, names in zip(
            Weekday,
            (
                ("monday",),
                ("tuesday", "tues"),
                ("wednesday",),
                ("thursday", "thur", "thurs"),
                ("friday",),
                ("saturday",),
                ("sunday",),
            ),
            strict=True,
        )
        for name in names
    }
)
_DAYS_HELP = "use day names such as Mon-Sat, Mon-Fri or Mon, Wed, Fri (or 'every day')"


def _window(config: Mapping[str, str], where: Where, problems: ProblemLog) -> dict[str, Any] | None:
    """The calling_window and calling_days cells as CallingWindow fields (None: defaults)."""
    window: dict[str, Any] = {}
    text = config.get("calling_window", "").strip()
    if text.lower() in _ANY:
        window.update(start="00:00", end="24:00", days=ALL_DAYS)
    elif text:
        match = _WINDOW.match(text)
        if match is None:
            problems.add(
                where.config(
                    "calling_window",
                    f"calling_window '{text}' should be two times like 09:00-20:00, "
                    "the first before the second (or 'any' to call at any hour)",
                )
            )
        else:
            h1, m1, h2, m2 = (int(part) for part in match.groups())
            start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
            why = window_problem(start, end)
            if why:
                problems.add(where.config("calling_window", f"calling_window '{text}' {why}"))
            else:
                window.update(start=start, end=end)
    days_text = config.get("calling_days", "").strip()
    if days_text:
        days = parse_days(days_text)
        if days is None:
            problems.add(where.config("calling_days", f"calling_days '{days_text}': {_DAYS_HELP}"))
        else:
            window["days"] = days
    return window or None


def parse_days(text: str) -> tuple[Weekday, ...] | None:
    """`Mon-Sat`, `Monday to Friday`, `Mon, Wed, Fri`, `every day` -> days; None if unreadable."""
    wanted = " ".join(text.lower().split())
    if wanted in _EVERY_DAY:
        return ALL_DAYS
    order = list(Weekday)
    days: set[Weekday] = set()
    for part in re.split(r"\s*[,;/&]\s*|\s+and\s+", wanted):
        if not part:
            continue
        ends = [p.strip().rstrip(".") for p in re.split(r"\s*(?:-|–|\bto\b)\s*", part)]
        named = [_DAY_NAMES.get(p) for p in ends]
        if len(named) not in (1, 2) or any(d is None for d in named):
            return None
        first, last = order.index(named[0]), order.index(named[-1])  # type: ignore[arg-type]
        if last < first:  # Sat-Mon: over the weekend
            last += 7
        days.update(order[i % 7] for i in range(first, last + 1))
    return tuple(d for d in order if d in days) or None
