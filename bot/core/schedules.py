"""Scheduled and recurring jobs from a chat: schedule a previewed job, list and cancel schedules.

The same rules for Slack and Teams (docs/schedule.md): the time and repeat rule are read like the
`start_at` / `repeat` settings (backend/domain/schedule.py) in the job's zone, checked by the same
intake rules, and the job is handed to the platform's `ScheduleBook` (the local store, or the job
queue on AWS, where start-job makes the EventBridge Scheduler schedule). Who may schedule is who
may start; who may cancel a schedule is who may cancel a job (its creator or an admin). Each
occurrence is a job of its own, reported in the channel the job was previewed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from backend.domain.models import CallJob, ChatOrigin
from backend.domain.ports import ScheduleBook, ScheduledJob
from backend.domain.repeat import ScheduleError, parse_repeat
from backend.domain.schedule import check_schedule, job_zone, parse_start_at, schedule_of
from bot.core.access import AccessRules
from bot.core.jobs import ChatJobs

log = logging.getLogger(__name__)

WHEN_FIELD = "when"
REPEAT_FIELD = "repeat"
WHEN_HINT = "e.g. tomorrow 18:00, monday 08:30, 2026-12-07 18:00"
REPEAT_HINT = "e.g. weekly, weekdays, weekly on monday,thursday until 2027-03-31 (empty: once)"


@dataclass(frozen=True)
class ScheduleOutcome:
    ok: bool
    text: str  # what to tell the user
    errors: dict[str, str] = field(default_factory=dict)  # field -> problem (a form's fields)
    schedule_id: str | None = None


class ChatSchedules:
    """What the Schedule button and `schedule [list|cancel ID]` do."""

    def __init__(
        self,
        jobs: ChatJobs,
        book: ScheduleBook,
        access: AccessRules,
        clock: Callable[[], datetime],
    ) -> None:
        self.jobs = jobs
        self.book = book
        self.access = access
        self.clock = clock

    def with_schedule(
        self, job: CallJob, when: str | None, repeat: str | None
    ) -> tuple[CallJob, dict[str, str]]:
        """The job with the time and rule typed in the form (a field left empty keeps the
        job's own setting), and each field's problem."""
        errors: dict[str, str] = {}
        updates: dict[str, object] = {}
        now = self.clock()
        if when and when.strip():
            try:
                updates["start_at"] = parse_start_at(when, job_zone(job.settings), now)
            except ScheduleError as error:
                errors[WHEN_FIELD] = str(error).replace("start_at ", "", 1)
        if repeat and repeat.strip():
            try:
                updates["repeat"] = parse_repeat(repeat).text
            except ScheduleError as error:
                errors[REPEAT_FIELD] = str(error)
        job = job.model_copy(update={"settings": job.settings.model_copy(update=updates)})
        if errors:
            return job, errors
        if job.settings.start_at is None:
            return job, {WHEN_FIELD: f"When should it start? ({WHEN_HINT})"}
        for key, message in check_schedule(job.settings, job.receivers, now).problems:
            errors[WHEN_FIELD if key == "start_at" else REPEAT_FIELD] = message
        return job, errors

    def schedule_preview(
        self, job_id: str, origin: ChatOrigin, when: str | None, repeat: str | None
    ) -> ScheduleOutcome:
        """Schedule the job of a preview (instead of starting it now)."""
        refusal = self.access.may_start(origin.channel_id, origin.user_id)
        if refusal is not None:
            return ScheduleOutcome(False, refusal)
        pending = self.jobs.state.pending(job_id) if job_id else None
        job = self.jobs.load_job(job_id) if pending is not None else None
        if pending is None or job is None or pending.channel_id != origin.channel_id:
            return ScheduleOutcome(False, "I no longer have this job: upload the workbook again.")
        job, errors = self.with_schedule(job, when, repeat)
        if errors:
            return ScheduleOutcome(False, " ".join(errors.values()), errors)
        scheduled = job.model_copy(
            update={
                "origin": origin.model_copy(
                    update={"thread_ref": pending.thread_ref, "card_ref": None}
                ),
                "created_by": origin.user_id,
            }
        )
        schedule = schedule_of(scheduled)
        assert schedule is not None
        try:
            added = self.book.add(scheduled)
        except Exception:
            log.exception("could not schedule job %s", job_id)
            return ScheduleOutcome(False, f"`{job_id}` could not be scheduled. Try again.")
        count = len(schedule.occurrences())
        times = f"{count} occurrence{'s' if count != 1 else ''}"
        verb = "Scheduled" if added else "Already scheduled"
        return ScheduleOutcome(
            True,
            f"{verb} `{schedule.schedule_id}`: {schedule.describe()} ({times}). Each occurrence "
            "posts its own job card here.",
            schedule_id=schedule.schedule_id,
        )

    def listing(self) -> list[ScheduledJob]:
        return self.book.scheduled()

    def cancel(self, schedule_id: str, user_id: str) -> ScheduleOutcome:
        """Cancel a schedule (its creator or an admin): no occurrence starts after this."""
        found = self.book.find(schedule_id)
        if found is None or found.next_at is None:
            return ScheduleOutcome(False, f"No active schedule `{schedule_id}`.")
        if not self.access.may_cancel(user_id, found.created_by or ""):
            return ScheduleOutcome(
                False, f"Only who scheduled `{schedule_id}` or an admin can cancel it."
            )
        if not self.book.cancel(schedule_id, by=user_id):
            return ScheduleOutcome(False, f"No active schedule `{schedule_id}`.")
        return ScheduleOutcome(
            True,
            f"Schedule `{schedule_id}` cancelled: no further occurrence starts (a job already "
            "running goes on; cancel it on its card).",
            schedule_id=schedule_id,
        )


def listing_text(found: list[ScheduledJob], mention: Callable[[str], str], bold: str = "*") -> str:
    """The schedules in a few lines (markdown; `bold`: the platform's bold marker)."""
    if not found:
        return "No scheduled call jobs."
    lines = [f"{bold}Scheduled call jobs{bold}"]
    for view in found:
        upcoming = f"{view.next_at:%a %d %b %H:%M %Z}" if view.next_at else view.state
        by = f", by {mention(view.created_by)}" if view.created_by else ""
        lines.append(
            f"• `{view.schedule_id}` – next {upcoming} ({view.description}; "
            f"{view.receivers} receiver(s){by})"
        )
    return "\n".join(lines)
