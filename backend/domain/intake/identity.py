"""Caller identification at intake: the callback number in E.164, warnings when either is unset.

A missing `organisation` or `callback_number` is a warning, not a problem: workbooks written
before these settings existed still run (docs/respect.md).
"""

from __future__ import annotations

from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.models import JobSettings
from backend.domain.phones import PhoneError, callback_e164
from backend.domain.problems import Problem

ORGANISATION_WARNING = (
    "organisation is not set: people will not hear who is calling unless the greeting says it. "
    "Add an 'organisation' row, e.g. Sunshine Primary School"
)
CALLBACK_WARNING = (
    "callback_number is not set: people will not hear a number to call back. "
    "Add a 'callback_number' row with your office number"
)


def check_identity(
    settings: JobSettings,
    prefix: str | None,
    where: Where,
    problems: ProblemLog,
    warnings: list[Problem],
) -> JobSettings:
    """`settings` with the callback number in E.164; a bad number is a problem on its cell."""
    if not settings.organisation.strip():
        warnings.append(where.config("organisation", ORGANISATION_WARNING))
    raw = settings.callback_number.strip()
    if not raw:
        warnings.append(where.config("callback_number", CALLBACK_WARNING))
        return settings
    try:
        number = callback_e164(raw, prefix or "")
    except PhoneError as error:
        problems.add(where.config("callback_number", f"callback_number: {error}"))
        return settings
    return settings.model_copy(update={"callback_number": number})
