"""Slack's "Call me first": the preview button, `/callout test [JOB]`, the number form.

The logic is the core's (bot/core/call_me_first.py); this renders it: replies are ephemeral to
the requester (their number masked), the number form is a small modal opened once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backend.domain.models import CallJob, ChatOrigin
from backend.domain.phones import mask_phone
from bot.core.call_me_first import (
    TestCallReply,
    number_problem,
    outcome_text,
    request_test_call,
    user_key,
)
from bot.slack.views import TEST_NUMBER_BLOCK, call_me_first_blocks, number_modal

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.core.commands import Command
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

NO_JOB = "I no longer have this job here: upload the workbook (or send the form) again."
PLATFORM = "slack"


def _previewed(
    deps: Deps, job_id: str, team: str, channel: str
) -> tuple[CallJob | None, str | None]:
    """The previewed job (only from the channel and workspace it was previewed in)."""
    from backend.domain.intake import job_from_json

    pending = deps.state.pending(job_id) if job_id else None
    if pending is None or pending.channel_id != channel:
        return None, None
    if pending.team_id and team and pending.team_id != team:
        return None, None
    result = job_from_json(pending.job)
    return (result.job if result.ok else None), pending.thread_ref


def _place(
    deps: Deps,
    job: CallJob,
    *,
    team: str,
    channel: str,
    user: str,
    thread_ts: str | None,
    number: str | None = None,
) -> TestCallReply:
    assert deps.test_calls is not None
    assert deps.numbers is not None
    origin = ChatOrigin(
        platform=PLATFORM, team_id=team, channel_id=channel, user_id=user, thread_ref=thread_ts
    ).model_dump(mode="json")
    return request_test_call(
        job,
        key=user_key(PLATFORM, team, user),
        book=deps.numbers,
        placer=deps.test_calls,
        dnc=deps.dnc,
        origin=origin,
        requested_by=user,
        number=number,
    )


def _say(deps: Deps, channel: str, user: str, reply: TestCallReply) -> None:
    blocks = [b.to_dict() for b in call_me_first_blocks(reply.text, reply.transcript)]
    deps.ephemeral(channel, user, reply.text, blocks=blocks)


def offer(
    deps: Deps, *, job_id: str, team: str, channel: str, user: str, trigger_id: str | None
) -> None:
    """The button or `/callout test`: call the remembered number, or ask for it first."""
    if deps.test_calls is None or deps.numbers is None:
        deps.ephemeral(channel, user, "Test calls are not set up for this bot.")
        return
    refusal = deps.may_start(channel, user)  # a test call costs like a job's call
    if refusal is not None:
        deps.ephemeral(channel, user, refusal)
        return
    job, thread_ts = _previewed(deps, job_id, team, channel)
    if job is None:
        deps.ephemeral(channel, user, NO_JOB)
        return
    reply = _place(deps, job, team=team, channel=channel, user=user, thread_ts=thread_ts)
    if reply.ask_number and trigger_id:
        deps.client.views_open(trigger_id=trigger_id, view=number_modal(job_id, channel, thread_ts))
        return
    _say(deps, channel, user, reply)


def button(deps: Deps, body: dict[str, Any]) -> None:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get(
        "channel_id", ""
    )
    team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
    offer(
        deps,
        job_id=str(action.get("value") or ""),
        team=str(team),
        channel=str(channel),
        user=str(body["user"]["id"]),
        trigger_id=body.get("trigger_id"),
    )


def command(deps: Deps, body: dict[str, Any], command: Command) -> None:
    """`/callout test [JOB]` and `/callout test number NUMBER` (change the remembered one)."""
    from bot.core.commands import CommandKind

    channel, user, team = body["channel_id"], body["user_id"], str(body.get("team_id") or "")
    if deps.numbers is None or deps.test_calls is None:
        deps.ephemeral(channel, user, "Test calls are not set up for this bot.")
        return
    key = user_key(PLATFORM, team, user)
    if command.kind == CommandKind.TEST_NUMBER:
        _change_number(deps, channel, user, key, command.number or "")
        return
    job_id = command.job_id or deps.numbers.last_preview(key)
    if not job_id:
        deps.ephemeral(channel, user, "Which job? Preview one first, or `/callout test JOB_ID`.")
        return
    offer(
        deps,
        job_id=job_id,
        team=team,
        channel=channel,
        user=user,
        trigger_id=body.get("trigger_id"),
    )


def _change_number(deps: Deps, channel: str, user: str, key: str, raw: str) -> None:
    from backend.domain.phones import PhoneError, to_e164

    assert deps.numbers is not None
    try:
        number = to_e164(raw.strip())
    except PhoneError as error:
        deps.ephemeral(
            channel,
            user,
            f"Not changed: {error}. Write it with its country code, like `+852 5123 4567`.",
        )
        return
    deps.numbers.remember_test_number(key, number)
    deps.ephemeral(channel, user, f"Test calls now go to {mask_phone(number)}.")


def _form(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    view = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    values = (view.get("state") or {}).get("values") or {}
    raw = ((values.get(TEST_NUMBER_BLOCK) or {}).get("number") or {}).get("value") or ""
    return (meta if isinstance(meta, dict) else {}), str(raw)


def check_number(deps: Deps, ack: Callable[..., None], body: dict[str, Any]) -> None:
    """The number form's submit: errors next to the field (synchronously, in the ack)."""
    meta, raw = _form(body)
    team = str((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")
    try:
        job, _ = _previewed(deps, str(meta.get("job_id") or ""), team, str(meta.get("channel")))
        why = NO_JOB if job is None else number_problem(job, raw)
    except Exception:  # never leave the form spinning
        log.exception("could not check the test-call number")
        why = "This number could not be checked: try again."
    if why:
        ack(response_action="errors", errors={TEST_NUMBER_BLOCK: why[:150]})
    else:
        ack()


def number_given(deps: Deps, body: dict[str, Any]) -> None:
    """After the form closed: remember the number and place the call."""
    meta, raw = _form(body)
    user = str(body["user"]["id"])
    team = str((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")
    channel = str(meta.get("channel") or "")
    job, thread_ts = _previewed(deps, str(meta.get("job_id") or ""), team, channel)
    if job is None:
        deps.ephemeral(channel, user, NO_JOB)
        return
    if number_problem(job, raw):
        return  # the ack showed it next to the field; the form stays open
    reply = _place(
        deps, job, team=team, channel=channel, user=user, thread_ts=thread_ts, number=raw
    )
    _say(deps, channel, user, reply)


def tell_outcome(client: WebClient, detail: dict[str, Any] | Any) -> None:
    """A "Callout Test Call Finished" event (AWS), told to its requester only (ephemeral)."""
    origin = detail.get("origin") or {}
    channel, user = origin.get("channel_id"), origin.get("user_id")
    if not channel or not user:
        return
    text = outcome_text(detail)
    client.chat_postEphemeral(
        channel=str(channel),
        user=str(user),
        text=text,
        blocks=[b.to_dict() for b in call_me_first_blocks(text, ())],
    )
