"""Scheduling in Slack: the preview's Schedule button and its small form, and
`/callout schedule [list|cancel ID]`. The rules are the core's (bot/core/schedules.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from backend.domain.models import ChatOrigin
from bot.core.schedules import (
    REPEAT_FIELD,
    REPEAT_HINT,
    WHEN_FIELD,
    WHEN_HINT,
    ScheduleOutcome,
    listing_text,
)
from bot.slack.deps import Deps
from bot.slack.views import SCHEDULE_ACTION

__all__ = ["SCHEDULE_ACTION", "SCHEDULE_CALLBACK", "command", "open_form", "schedule_modal"]

log = logging.getLogger(__name__)

SCHEDULE_CALLBACK = "callout_schedule_modal"
VALUE = "value"  # action_id of both inputs


def schedule_modal(job_id: str, team: str, channel: str) -> View:
    """When (required) and repeat (optional): block ids are the core's field names."""
    return View(
        type="modal",
        callback_id=SCHEDULE_CALLBACK,
        title="Schedule the job",
        submit="Schedule",
        close="Cancel",
        private_metadata=json.dumps({"j": job_id, "t": team, "c": channel}),
        blocks=[
            InputBlock(
                block_id=WHEN_FIELD,
                label="When",
                hint=f"In the job's time zone ({WHEN_HINT}).",
                element=PlainTextInputElement(action_id=VALUE, placeholder="tomorrow 18:00"),
            ),
            InputBlock(
                block_id=REPEAT_FIELD,
                label="Repeat",
                optional=True,
                hint=REPEAT_HINT,
                element=PlainTextInputElement(action_id=VALUE, placeholder="weekly"),
            ),
        ],
    )


def open_form(deps: Deps, body: dict[str, Any]) -> None:
    """The preview's Schedule button: ask when (and how often) in a modal."""
    action = body["actions"][0]
    team = str((body.get("team") or {}).get("id") or body["user"].get("team_id", ""))
    channel = str((body.get("channel") or {}).get("id") or "")
    if deps.schedules is None:
        deps.ephemeral(channel, str(body["user"]["id"]), NOT_SET_UP)
        return
    view = schedule_modal(str(action.get("value") or ""), team, channel)
    deps.client.views_open(trigger_id=body["trigger_id"], view=view)


def _read(body: dict[str, Any]) -> tuple[str, ChatOrigin, str, str]:
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})

    def text(block: str) -> str:
        return str((values.get(block, {}).get(VALUE) or {}).get("value") or "")

    origin = ChatOrigin(
        platform="slack",
        team_id=str(meta.get("t") or ""),
        channel_id=str(meta.get("c") or ""),
        user_id=str(body["user"]["id"]),
    )
    return str(meta.get("j") or ""), origin, text(WHEN_FIELD), text(REPEAT_FIELD)


def checker(deps: Deps) -> Callable[..., None]:
    """The form's ack: field errors come back in the modal (synchronously, within 3 s)."""

    def check_schedule_form(ack: Callable[..., None], body: dict[str, Any]) -> None:
        try:
            job_id, _, when, repeat = _read(body)
            job = deps.jobs.load_job(job_id)
            if deps.schedules is None:
                errors = {WHEN_FIELD: NOT_SET_UP}
            elif job is None:
                errors = {WHEN_FIELD: "I no longer have this job: upload the workbook again."}
            else:
                errors = deps.schedules.with_schedule(job, when, repeat)[1]
        except Exception:  # a bug must still answer the modal, never leave it spinning
            log.exception("could not check the schedule form")
            errors = {WHEN_FIELD: "This form could not be checked: close it and try again."}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    return check_schedule_form


def schedule_from_form(deps: Deps, body: dict[str, Any]) -> None:
    job_id, origin, when, repeat = _read(body)
    if deps.schedules is not None:
        tell(deps, origin, deps.schedules.schedule_preview(job_id, origin, when, repeat))


def tell(deps: Deps, origin: ChatOrigin, outcome: ScheduleOutcome) -> None:
    deps.ephemeral(origin.channel_id, origin.user_id, outcome.text)
    if outcome.ok:
        deps.client.chat_postMessage(
            channel=origin.channel_id,
            text=f":calendar: <@{origin.user_id}>: {outcome.text}",
        )


NOT_SET_UP = "Scheduled jobs are not set up for this bot."


def command(
    deps: Deps, channel: str, user: str, action: str | None, schedule_id: str | None
) -> None:
    """`/callout schedule [list]` and `/callout schedule cancel ID`, answered privately."""
    if deps.schedules is None:
        deps.ephemeral(channel, user, NOT_SET_UP)
        return
    if action == "cancel" and schedule_id:
        outcome = deps.schedules.cancel(schedule_id, user)
        deps.ephemeral(channel, user, outcome.text)
        if outcome.ok:
            deps.client.chat_postMessage(
                channel=channel, text=f":calendar: <@{user}>: {outcome.text}"
            )
        return
    text = listing_text(deps.schedules.listing(), lambda who: f"<@{who}>")
    deps.ephemeral(channel, user, text)
