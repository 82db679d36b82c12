"""`/callout` and its subcommands, the modal submission and @-mentions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.modal import ModalInput, ModalMeta, job_modal, modal_errors, read_modal
from bot.preview import NOT_IN_CHANNEL, post_preview
from bot.state import CANCELLING, ENDED, JobCard
from bot.views import USAGE, card_blocks, card_text, mask_numbers, status_list_blocks

if TYPE_CHECKING:
    from backend.domain.intake import IntakeResult
    from bot.app import Deps

log = logging.getLogger(__name__)

SUBCOMMANDS = ("", "new", "template", "status", "cancel", "dnc", "test")
DNC_USAGE = (
    "`/callout dnc add NUMBER` – never call this number again (any job)\n"
    "`/callout dnc remove NUMBER` – take it off the do-not-call list (admins)\n"
    "`/callout dnc check NUMBER` – is it on the list? (admins)\n"
    "Write numbers with their country code, like `+852 9123 4567`."
)


def _words(body: dict[str, Any]) -> list[str]:
    return str(body.get("text") or "").split()


def acknowledge(ack: Callable[..., None], body: dict[str, Any]) -> None:
    words = _words(body)
    sub = words[0].lower() if words else ""
    if sub not in SUBCOMMANDS:
        ack(text=USAGE)  # help, and anything unknown: usage, only to the user
    elif sub == "cancel" and len(words) < 2:
        ack(text="Which job? `/callout cancel JOB_ID` (see `/callout status`).")
    elif sub == "dnc" and (len(words) < 3 or words[1].lower() not in ("add", "remove", "check")):
        ack(text=DNC_USAGE)
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
    words = _words(body)
    sub = words[0].lower() if words else ""
    channel, user, team = body["channel_id"], body["user_id"], str(body.get("team_id") or "")
    if sub in ("", "new"):
        meta = ModalMeta(channel_id=channel)
        deps.client.views_open(trigger_id=body["trigger_id"], view=job_modal(meta))
    elif sub == "template":
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
    elif sub == "status":
        status(deps, channel, user, words[1] if len(words) > 1 else None, team=team)
    elif sub == "cancel" and len(words) > 1:
        cancel(deps, channel, user, words[1], team=team)
    elif sub == "dnc" and len(words) > 2:
        do_not_call(deps, channel, user, words[1].lower(), " ".join(words[2:]))
    elif sub == "test":  # Call me first (bot/call_me_first.py)
        from bot import call_me_first

        call_me_first.command(deps, body, words)


def team_card(deps: Deps, job_id: str, team: str) -> JobCard | None:
    """The card of a job started in this workspace (another team's jobs stay invisible)."""
    card = deps.state.card(job_id)
    if card is None or (team and card.team_id and card.team_id != team):
        return None
    return card


def status(deps: Deps, channel: str, user: str, job_id: str | None, *, team: str = "") -> None:
    if job_id is None:
        cards = [c for c in deps.state.recent_cards(channel) if not team or c.team_id in (team, "")]
        deps.ephemeral(channel, user, "Latest call jobs", blocks=status_list_blocks(cards))
        return
    card = team_card(deps, job_id, team)
    if card is None:
        deps.ephemeral(channel, user, f"No call job `{job_id}` was started from Slack.")
        return
    deps.ephemeral(channel, user, card_text(card), blocks=card_blocks(card))


def cancel(deps: Deps, channel: str, user: str, job_id: str, *, team: str = "") -> None:
    card = team_card(deps, job_id, team)
    if card is None:
        deps.ephemeral(channel, user, f"No call job `{job_id}` was started from Slack.")
    elif not deps.may_cancel(user, card.user_id):
        deps.ephemeral(
            channel,
            user,
            f"Only <@{card.user_id}> (who started it) or an admin can cancel `{job_id}`.",
        )
    elif card.state in ENDED:
        deps.ephemeral(channel, user, f"`{job_id}` has already ended: there is nothing to cancel.")
    elif card.state == CANCELLING:
        deps.ephemeral(channel, user, f"`{job_id}` is already being cancelled.")
    elif deps.submitter.cancel(job_id, requested_by=user):
        card.state = CANCELLING
        deps.state.save_card(card)
        if card.card_ts:
            try:  # the Cancel button goes away now; the notifier keeps the state
                deps.client.chat_update(
                    channel=card.channel_id,
                    ts=card.card_ts,
                    text=card_text(card),
                    blocks=card_blocks(card),
                )
            except SlackApiError:
                log.exception("could not update the card of %s", job_id)
        # Said in the card's thread, for everyone following the job; the card itself shows the
        # remaining people as Cancelled as their results arrive.
        deps.client.chat_postMessage(
            channel=card.channel_id,
            thread_ts=card.card_ts,
            text=f":octagonal_sign: <@{user}> cancelled `{job_id}`: calls in progress finish, "
            "nobody else is called.",
        )
    else:
        deps.ephemeral(channel, user, f"`{job_id}` is not running any more.")


def do_not_call(deps: Deps, channel: str, user: str, action: str, raw: str) -> None:
    """`/callout dnc add|remove|check NUMBER`, answered privately with the number masked.

    Adding protects someone, so anyone who may start jobs may add; removing a number or checking
    one (which tells whether a person asked not to be called) is for admins only.
    """
    from backend.domain.dnc import add_number, is_listed, remove_number
    from backend.domain.phones import PhoneError, mask_phone, to_e164

    if deps.dnc is None:
        deps.ephemeral(channel, user, "The do-not-call list is not set up for this bot.")
        return
    admin = user in deps.settings.admin_users
    refusal = deps.may_start(channel, user) if action == "add" else None
    if not admin and (action != "add" or refusal):
        deps.ephemeral(
            channel,
            user,
            refusal or f"Only admins can {action} numbers on the do-not-call list.",
        )
        return
    try:
        number = to_e164(raw)
    except PhoneError as error:
        deps.ephemeral(
            channel,
            user,
            f"{mask_numbers(str(error))}. Write it with its country code, like `+852 9123 4567`.",
        )
        return
    shown = mask_phone(number)
    if action == "add":
        added = add_number(deps.dnc, number, f"slack:{user}")
        text = (
            f":no_bell: {shown} is on the do-not-call list: no job will call it."
            if added
            else f"{shown} was already on the do-not-call list."
        )
    elif action == "remove":
        removed = remove_number(deps.dnc, number)
        text = (
            f"{shown} is off the do-not-call list: jobs may call it again."
            if removed
            else f"{shown} was not on the do-not-call list."
        )
    else:
        listed = is_listed(deps.dnc, number)
        text = f"{shown} is {'on' if listed else 'not on'} the do-not-call list."
    log.info("dnc %s by %s", action, user)
    deps.ephemeral(channel, user, text)


def modal_job(inp: ModalInput, view_values: Any) -> IntakeResult:
    """The modal through the same intake as workbooks; same input -> same job id."""
    # Intake (and openpyxl) load here, not at import: slash commands ack on a light cold start.
    from backend.domain.intake import (
        QuestionRow,
        ReceiverRow,
        SheetNames,
        assemble_job,
        default_job_id,
    )

    content = json.dumps(view_values, sort_keys=True).encode()
    job_id = default_job_id(f"{inp.config.get('name') or 'form'}.form", content)
    return assemble_job(
        inp.config,
        [QuestionRow(template, type_text, row) for template, type_text, row in inp.questions],
        [ReceiverRow(rid, phone, fields, row) for rid, phone, fields, row in inp.receivers],
        job_id=job_id,
        extra_columns=inp.extra_columns,
        sheet_names=SheetNames(configures="Settings", questions="Questions", receivers="Receivers"),
    )


def check_modal(ack: Callable[..., None], body: dict[str, Any]) -> None:
    """Validate on submit (synchronously: errors must be in the ack)."""
    view = body.get("view") or {}
    try:
        inp = read_modal(view)
        result = modal_job(inp, view.get("state", {}).get("values", {}))
        meta = ModalMeta.load(view.get("private_metadata"))
        errors = {**modal_errors(result.problems, meta.rows), **inp.problems}
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
