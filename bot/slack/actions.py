"""Buttons: Start / Cancel on the preview, Cancel / Retry unreached on the card, modal rows.
The rules are the core's (bot/core/jobs.py); here they are read from Slack and answered."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from backend.domain.models import ChatOrigin
from bot.core.jobs import Outcome, OutcomeKind
from bot.slack.deps import Deps
from bot.slack.modal import ModalMeta, job_modal

log = logging.getLogger(__name__)


def _context(body: dict[str, Any]) -> tuple[str, str, str, str]:
    """(team, channel, user, action value) of a block action."""
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get(
        "channel_id", ""
    )
    team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
    return str(team), str(channel), str(body["user"]["id"]), str(action.get("value") or "")


def _origin(team: str, channel: str, user: str) -> ChatOrigin:
    return ChatOrigin(platform="slack", team_id=team, channel_id=channel, user_id=user)


def answer(deps: Deps, channel: str, user: str, outcome: Outcome) -> None:
    """Tell the user who pressed the button why nothing happened (nothing when it worked)."""
    if outcome.text:
        deps.ephemeral(channel, user, outcome.text)


def resize_modal(deps: Deps, body: dict[str, Any], delta: int) -> None:
    view = body["view"]
    meta = ModalMeta.load(view.get("private_metadata"))
    meta = meta.added() if delta > 0 else meta.removed()
    deps.client.views_update(view_id=view["id"], hash=view.get("hash"), view=job_modal(meta))


def _close_preview(deps: Deps, body: dict[str, Any], channel: str, text: str, note: str) -> None:
    """The preview loses its buttons (it cannot be used twice) and says what happened."""
    message_ts = (body.get("message") or {}).get("ts")
    if not message_ts:
        return
    blocks = [b for b in body["message"].get("blocks", []) if b.get("type") != "actions"]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
    deps.client.chat_update(channel=channel, ts=message_ts, text=text, blocks=blocks)


def start(deps: Deps, body: dict[str, Any]) -> None:
    team, channel, user, job_id = _context(body)
    job = deps.jobs.load_job(job_id) if deps.schedules is not None else None
    if deps.schedules is not None and job is not None and job.settings.start_at is not None:
        # The job says when it starts (start_at): Start schedules it (docs/schedule.md).
        from bot.slack.schedule import tell

        origin = _origin(team, channel, user)
        scheduled = deps.schedules.schedule_preview(job_id, origin, None, None)
        tell(deps, origin, scheduled)
        if scheduled.ok:
            _close_preview(deps, body, channel, "Job scheduled", f"Scheduled by <@{user}>.")
        return
    outcome = deps.jobs.start_preview(job_id, _origin(team, channel, user))
    answer(deps, channel, user, outcome)
    if outcome.ok and outcome.card is not None:  # refused or failed: the preview stays as it was
        card = outcome.card
        link = deps.sink.permalink(card.channel_id, card.card_ref) if card.card_ref else None
        see = f": <{link}|see its card>" if link else ""
        _close_preview(deps, body, channel, "Job started", f"Started by <@{user}>{see}.")


def discard(deps: Deps, body: dict[str, Any]) -> None:
    """Cancel on a preview: the job is withdrawn (a Start from a stale copy is refused)."""
    team, channel, user, job_id = _context(body)
    outcome = deps.jobs.withdraw_preview(job_id, _origin(team, channel, user))
    if outcome.kind is OutcomeKind.ALREADY_STARTED:
        answer(deps, channel, user, outcome)
    else:  # withdrawn, or a preview that had nothing to start
        _close_preview(
            deps, body, channel, "Job discarded", f"Discarded by <@{user}>: nobody was called."
        )


def cancel(deps: Deps, body: dict[str, Any]) -> None:
    team, channel, user, job_id = _context(body)
    outcome = deps.jobs.cancel(job_id, team=team, user_id=user, platform="slack")
    answer(deps, channel, user, outcome)


def run_again(deps: Deps, body: dict[str, Any]) -> None:
    """The whole job again, as a new job (its next run)."""
    team, channel, user, job_id = _context(body)
    outcome = deps.jobs.run_again(job_id, _origin(team, channel, user))
    answer(deps, channel, user, outcome)


def retry(deps: Deps, body: dict[str, Any]) -> None:
    """A new job with only the receivers not reached; same unreached set -> same job id."""
    team, channel, user, job_id = _context(body)
    outcome = deps.jobs.retry(job_id, _origin(team, channel, user))
    answer(deps, channel, user, outcome)
