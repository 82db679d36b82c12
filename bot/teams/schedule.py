"""Scheduling in Teams: the preview's Schedule button and its dialog, `schedule [list]` and
`schedule cancel ID`. The rules are the core's (bot/core/schedules.py), as in Slack: the same
reading of the time and the repeat rule, the same checks, each problem shown under its field.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from microsoft_teams.api.models.task_module import (
    TaskModuleResponse,
)
from microsoft_teams.cards import (
    AdaptiveCard,
    OpenDialogData,
    SubmitAction,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards.core import CardElement

from bot.core.schedules import (
    REPEAT_FIELD,
    REPEAT_HINT,
    WHEN_FIELD,
    WHEN_HINT,
    ChatSchedules,
    ScheduleOutcome,
    listing_text,
)
from bot.teams.dialog import closed, opened, submit_card
from bot.teams.where import Where

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext

SCHEDULE = "callouts.schedule"  # dialog id: the preview's Schedule button
SCHEDULE_SUBMIT = "callouts.schedule.submit"
NOT_SET_UP = "Scheduled jobs are not set up for this bot."


def button(job_id: str) -> SubmitAction:
    """The preview's Schedule button: opens the dialog for this job."""
    return SubmitAction(title="Schedule").with_data(OpenDialogData(SCHEDULE, {"job_id": job_id}))


def _field(
    field_id: str,
    label: str,
    hint: str,
    placeholder: str,
    values: dict[str, str],
    errors: dict[str, str],
) -> list[CardElement]:
    elements: list[CardElement] = [
        TextInput(
            id=field_id, label=label, value=values.get(field_id) or None, placeholder=placeholder
        )
    ]
    if errors.get(field_id):
        elements.append(
            TextBlock(
                text=errors[field_id], wrap=True, color="Attention", size="Small", spacing="None"
            )
        )
    elements.append(TextBlock(text=hint, wrap=True, is_subtle=True, size="Small"))
    return elements


def schedule_card(
    job_id: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> AdaptiveCard:
    """When (required) and repeat (optional); input ids are the core's field names."""
    values, errors = values or {}, errors or {}
    body = [
        *_field(
            WHEN_FIELD,
            "When",
            f"In the job's time zone ({WHEN_HINT}).",
            "tomorrow 18:00",
            values,
            errors,
        ),
        *_field(REPEAT_FIELD, "Repeat (optional)", REPEAT_HINT, "weekly", values, errors),
    ]
    return submit_card(body, "Schedule", SCHEDULE_SUBMIT, job_id)


def schedule_dialog(
    job_id: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> TaskModuleResponse:
    return opened("Schedule the job", schedule_card(job_id, values, errors), size="medium")


def mention(where: Where) -> Any:
    """Who scheduled, in a listing: Teams cards cannot @mention without the person's name."""
    return lambda who: "you" if who == where.user_id else "a colleague"


class TeamsSchedules:
    """The handlers (None `schedules`: this deployment has no scheduler)."""

    def __init__(self, schedules: ChatSchedules | None) -> None:
        self.schedules = schedules

    async def on_open(self, ctx: ActivityContext[Any]) -> Any:
        if self.schedules is None:
            return closed(NOT_SET_UP)
        job_id = str((ctx.activity.value.data or {}).get("job_id") or "")
        return schedule_dialog(job_id)

    async def on_submit(self, ctx: ActivityContext[Any]) -> Any:
        """Schedule the previewed job, or show each problem under its field (dialog kept)."""
        if self.schedules is None:
            return closed(NOT_SET_UP)
        where = Where.of(ctx.activity)
        data = ctx.activity.value.data or {}
        job_id = str(data.get("job_id") or "")
        values = {key: str(data.get(key) or "") for key in (WHEN_FIELD, REPEAT_FIELD)}
        outcome = await asyncio.to_thread(
            self.schedules.schedule_preview,
            job_id,
            where.origin(),
            values[WHEN_FIELD],
            values[REPEAT_FIELD],
        )
        if outcome.errors:
            return schedule_dialog(job_id, values, outcome.errors)
        if outcome.ok:  # said in the conversation: each occurrence posts its card here
            await ctx.send(f"📅 {where.user_name or 'Someone'}: {outcome.text}")
        return closed(outcome.text)

    async def start(
        self, ctx: ActivityContext[Any], where: Where, job_id: str
    ) -> ScheduleOutcome | None:
        """Start on a job that says when it starts (its own `start_at`) schedules it, as in
        Slack; None for a job to start now (or without a scheduler)."""
        if self.schedules is None:
            return None
        job = await asyncio.to_thread(self.schedules.jobs.load_job, job_id)
        if job is None or job.settings.start_at is None:
            return None
        outcome = await asyncio.to_thread(
            self.schedules.schedule_preview, job_id, where.origin(), None, None
        )
        if outcome.ok:
            await ctx.send(f"📅 {where.user_name or 'Someone'}: {outcome.text}")
        return outcome

    async def command(
        self, ctx: ActivityContext[Any], where: Where, action: str | None, schedule_id: str | None
    ) -> None:
        """`schedule [list]` and `schedule cancel ID`."""
        if self.schedules is None:
            await ctx.send(NOT_SET_UP)
            return
        if action == "cancel" and schedule_id:
            outcome = await asyncio.to_thread(self.schedules.cancel, schedule_id, where.user_id)
            await ctx.send(outcome.text)
            return
        found = await asyncio.to_thread(self.schedules.listing)
        text = listing_text(found, mention(where), bold="**")
        await ctx.send(text.replace("\n", "\n\n"))
