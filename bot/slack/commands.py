"""`/callout` and its subcommands, the modal submission and @-mentions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.core.card import card_text
from bot.core.commands import Command, CommandKind, parse
from bot.core.forms import FormInput, form_errors, form_job
from bot.slack.actions import answer
from bot.slack.deps import Deps
from bot.slack.modal import ModalMeta, job_modal, read_modal
from bot.slack.preview import NOT_IN_CHANNEL, post_preview
from bot.slack.views import USAGE, card_blocks, status_list_blocks

if TYPE_CHECKING:
    from backend.domain.intake import IntakeResult

log = logging.getLogger(__name__)


def _command(body: dict[str, Any]) -> Command:
    return parse(str(body.get("text") or ""), "/callout")


def acknowledge(ack: Callable[..., None], body: dict[str, Any]) -> None:
    command = _command(body)
    if command.kind == CommandKind.HELP:
        ack(text=USAGE)  # help, and anything unknown: usage, only to the user
    elif command.kind == CommandKind.INCOMPLETE:
        ack(text=command.reply)
    else:
        ack()


NOT_IN_CHANNEL_TEXT = (
    "I am not in this channel, so I cannot answer here: invite me with `/invite @Callouts` "
    "(or use `/callout` in a direct message with me)."
)


def run(deps: Deps, body: dict[str, Any]) -> None:
    """The lazy part of `/callout`; a channel the bot is not in is answered via response_url."""
    try:
        _run(deps, body)
    except SlackApiError as error:
        response_url = body.get("response_url")
        if error.response.get("error") not in NOT_IN_CHANNEL or not response_url:
            raise
        from slack_sdk.webhook import WebhookClient

        WebhookClient(str(response_url)).send(text=NOT_IN_CHANNEL_TEXT, response_type="ephemeral")


def _run(deps: Deps, body: dict[str, Any]) -> None:
    command = _command(body)
    kind = command.kind
    channel, user, team = body["channel_id"], body["user_id"], str(body.get("team_id") or "")
    if kind == CommandKind.NEW:
        meta = ModalMeta(channel_id=channel)
        deps.client.views_open(trigger_id=body["trigger_id"], view=job_modal(meta))
    elif kind == CommandKind.TEMPLATE:
        from backend.domain.workbook_template import write_blank_template

        buffer = io.BytesIO()
        write_blank_template(buffer)
        deps.client.files_upload_v2(
            channel=channel,
            file=buffer.getvalue(),
            filename="callout_template.xlsx",
            title="Call job template",
            initial_comment="Fill in this workbook and drop it here: I will preview it before "
            "anyone is called.",
        )
    elif kind == CommandKind.STATUS:
        status(deps, channel, user, command.job_id, team=team)
    elif kind == CommandKind.CANCEL and command.job_id:
        outcome = deps.jobs.cancel(command.job_id, team=team, user_id=user, platform="slack")
        answer(deps, channel, user, outcome)
    elif kind == CommandKind.SCHEDULE:
        from bot.slack.schedule import command as schedule_command

        schedule_command(deps, channel, user, command.action, command.job_id)
    elif kind == CommandKind.DNC and command.action and command.number:
        do_not_call(deps, channel, user, command.action, command.number)
    elif kind in (CommandKind.TEST, CommandKind.TEST_NUMBER):  # Call me first
        from bot.slack import call_me_first

        call_me_first.command(deps, body, command)


def status(deps: Deps, channel: str, user: str, job_id: str | None, *, team: str = "") -> None:
    if job_id is None:
        cards = [c for c in deps.state.recent_cards(channel) if not team or c.team_id in (team, "")]
        deps.ephemeral(channel, user, "Latest call jobs", blocks=status_list_blocks(cards))
        return
    card = deps.jobs.team_card(job_id, team)
    if card is None:
        deps.ephemeral(channel, user, f"No call job `{job_id}` was started from Slack.")
        return
    deps.ephemeral(channel, user, card_text(card), blocks=card_blocks(card))


def do_not_call(deps: Deps, channel: str, user: str, action: str, raw: str) -> None:
    """`/callout dnc add|remove|check NUMBER`, answered privately (the core's rules)."""
    from bot.core.do_not_call import do_not_call as run_dnc

    text = run_dnc(
        deps.dnc,
        deps.access,
        action=action,
        raw=raw,
        channel_id=channel,
        user_id=user,
        source=f"slack:{user}",
    )
    deps.ephemeral(channel, user, text)


def modal_job(inp: FormInput, view_values: Any) -> IntakeResult:
    """The modal through the same intake as workbooks; same input -> same job id."""
    return form_job(inp, json.dumps(view_values, sort_keys=True).encode())


def check_modal(ack: Callable[..., None], body: dict[str, Any]) -> None:
    """Validate on submit (synchronously: errors must be in the ack)."""
    view = body.get("view") or {}
    try:
        inp = read_modal(view)
        result = modal_job(inp, view.get("state", {}).get("values", {}))
        meta = ModalMeta.load(view.get("private_metadata"))
        errors = {**form_errors(result.problems, meta.rows), **inp.problems}
    except Exception:  # a bug must still answer the modal, never leave it spinning
        log.exception("could not check the call job form")
        ack(
            response_action="errors",
            errors={"greeting": "This form could not be checked: close it and try again."},
        )
        return
    if errors or result.job is None:
        ack(response_action="errors", errors=errors or {"greeting": "This job cannot be built."})
    else:
        ack()


def preview_modal(deps: Deps, body: dict[str, Any]) -> None:
    view = body["view"]
    inp = read_modal(view)
    result = modal_job(inp, view.get("state", {}).get("values", {}))
    if inp.problems or not result.ok:
        return  # the ack already showed the errors in the modal, which stays open
    meta = ModalMeta.load(view.get("private_metadata"))
    user = body["user"]["id"]
    title = inp.config.get("name") or "call job"
    post_preview(
        deps,
        result,
        title=title,
        team_id=str(body.get("team", {}).get("id") or body["user"].get("team_id") or ""),
        channel_id=meta.channel_id,
        user_id=user,
        thread_ts=meta.thread_ts,
    )


def mention(deps: Deps, body: dict[str, Any]) -> None:
    event = body["event"]
    deps.client.chat_postMessage(
        channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=USAGE
    )
