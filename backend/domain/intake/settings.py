"""JobSettings from Configures text values, and the one calling-window check."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

import phonenumbers
from pydantic import ValidationError

from backend.domain.intake.config_keys import INT_SETTINGS
from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import JobSettings
from backend.domain.problems import Problem

_WINDOW = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:-|–|to)\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_settings(config: Mapping[str, str], where: Where, problems: ProblemLog) -> JobSettings:
    """The settings in `config`; each bad value is a problem and falls back to its default."""
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
    window: dict[str, str] = {}
    text = config.get("calling_window", "").strip()
    if text:
        match = _WINDOW.match(text)
        if match is None:
            problems.add(
                where.config(
                    "calling_window",
                    f"calling_window '{text}' should be two times like 09:00-20:00, "
                    "the first before the second",
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
    zone = config.get("timezone", "").strip()
    if zone and _check_zone(zone, where, problems):
        window["timezone"] = zone
    if window:
        values["calling_window"] = window
    for key in ("voice", "language"):
        text = config.get(key, "").strip()
        if text:
            values[key] = text
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


def check_settings(settings: JobSettings, where: Where, problems: ProblemLog) -> None:
    """Ready-made settings (JSON intake) pass the checks parse_settings makes on text values."""
    _check_countries(list(settings.allowed_countries), where, problems)
    window = settings.calling_window
    if window is not None and window.timezone is not None:
        _check_zone(window.timezone, where, problems)
    check_window(settings, where, problems)


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


def _check_zone(zone: str, where: Where, problems: ProblemLog) -> bool:
    if _known_zone(zone):
        return True
    message = f"timezone '{zone}' is not a time zone name such as Asia/Hong_Kong"
    if where.sheets is None:  # JSON: the zone is part of the calling window
        problems.add(Problem(message, field="settings.calling_window.timezone"))
    else:
        problems.add(where.config("timezone", message))
    return False


def check_window(settings: JobSettings, where: Where, problems: ProblemLog) -> None:
    """The calling window of ready-made settings (JSON intake) passes the same check."""
    if settings.calling_window is None:
        return
    why = window_problem(settings.calling_window.start, settings.calling_window.end)
    if why:
        shown = f"{settings.calling_window.start}-{settings.calling_window.end}"
        problems.add(where.config("calling_window", f"calling_window '{shown}' {why}"))


def window_problem(start: str, end: str) -> str | None:
    """Why `start`-`end` ("HH:MM") cannot be a calling window, or None.

    Overnight windows (`20:00-08:00`) are refused on purpose: a reversed window is far more
    often a typo than a wish to phone people at 3 a.m. `24:00` is allowed as an end.
    """
    try:
        (h1, m1), (h2, m2) = ((int(p) for p in t.split(":")) for t in (start, end))
    except ValueError:
        return "should be two times like 09:00-20:00"
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 > 0):
        return "is not a time of day: use hours 00-23 (an end of 24:00 is allowed), minutes 00-59"
    if (h1, m1) == (h2, m2):
        return "starts and ends at the same time: give a later end, such as 09:00-20:00"
    if (h1, m1) > (h2, m2):
        return (
            "runs overnight (its end is before its start): calls start only within one day, "
            "so write the first time before the second, such as 09:00-20:00"
        )
    return None


def int_setting_message(key: str, shown: object) -> str:
    bounds = JobSettings.model_fields[key].metadata
    low = next((getattr(b, "ge", None) for b in bounds if getattr(b, "ge", None) is not None), None)
    high = next(
        (getattr(b, "le", None) for b in bounds if getattr(b, "le", None) is not None), None
    )
    if low is not None and high is not None:
        return f"{key} '{shown}' must be a whole number from {low:,} to {high:,}"
    return f"{key} '{shown}' must be a whole number"


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # No time-zone database at all (some minimal images): nothing to check against.
        return not zoneinfo.available_timezones()
    return True
