"""IANA time-zone names: the one check of a zone name, and the cached ZoneInfo behind it."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache


@lru_cache(maxsize=1024)
def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone called `name` (`Asia/Hong_Kong`), or None when there is no such zone."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone name."""
    if zone(name) is not None:
        return True
    # No time-zone database at all (some minimal images): nothing to check against.
    return not zoneinfo.available_timezones()


ZONE_PROBLEM = "is not a time zone name such as Asia/Hong_Kong or Europe/London"
