"""Calling hours at intake: each receiver's `timezone` cell, and numbers the window never opens for.

A number spanning several zones is called only when the window is open in all of them
(calling_rules.py). When that is never, the row is a problem asking for the person's zone,
instead of a job that waits for a window that never comes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from backend.domain.calling_rules import TIMEZONE_COLUMN, describe, never_open, zone_names
from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import JobSettings, Receiver
from backend.domain.zones import ZONE_PROBLEM, known_zone


def check_hours(
    valid: Sequence[tuple[Receiver, int]],
    settings: JobSettings,
    where: Where,
    problems: ProblemLog,
    now: datetime | None = None,
) -> list[tuple[Receiver, int]]:
    """The receivers that can be called within the window; every other row gets a row problem."""
    around = now or datetime.now(UTC)
    window = settings.calling_window
    verdicts: dict[tuple[str, ...], bool] = {}  # zones -> never open (one check per zone set)
    kept: list[tuple[Receiver, int]] = []
    for receiver, row in valid:
        own = receiver.fields.get(TIMEZONE_COLUMN, "").strip()
        if own and not known_zone(own):
            message = f"timezone '{own}' {ZONE_PROBLEM}, or leave the cell empty"
            problems.add(where.receiver(row, TIMEZONE_COLUMN, message), job_level=False)
            continue
        names = zone_names(receiver, settings)
        if len(names) > 1:
            if names not in verdicts:
                verdicts[names] = never_open(names, window, around)
            if verdicts[names]:
                message = (
                    f"this number may be in any of {len(names)} time zones "
                    f"({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}) and the calling "
                    f"window {describe(window)} is never open in all of them at once: add a "
                    f"'{TIMEZONE_COLUMN}' column with this person's zone, e.g. {names[0]}"
                )
                problems.add(where.receiver(row, TIMEZONE_COLUMN, message), job_level=False)
                continue
        kept.append((receiver, row))
    return kept
