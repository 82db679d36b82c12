"""Buttons: Start / Cancel on the preview, Cancel / Retry unreached on the card, modal rows."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from backend.domain.models import CallJob, SlackOrigin
from backend.domain.retry import retry_job
from bot.commands import cancel as cancel_job
from bot.commands import team_card
from bot.modal import ModalMeta, job_modal
from bot.state import JobCard
from bot.views import card_blocks, card_text

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger(__name__)


def _context(body: dict[str, Any]) -> tuple[str, str, str, str]:
    """(team, channel, user, action value) of a block action."""
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get(
        "channel_id", ""
    )
    team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
    return str(team), str(channel), str(body["user"]["id"]), str(action.get("value") or "")


def resize_modal(deps: Deps, body: dict[str, Any], delta: int) -> None:
    view = body["view"]
    meta = ModalMeta.load(view.get("private_metadata"))
    meta = meta.added() if delta > 0 else meta.removed()
    deps.client.views_update(view_id=view["id"], hash=view.get("hash"), view=job_modal(meta))


def _load_job(deps: Deps, job_id: str) -> CallJob | None:
    from backend.domain.intake import job_from_json

    pending = deps.state.pending(job_id)
    if pending is None:
        return None
    result = job_from_json(pending.job)
    return result.job if result.ok else None


def start(deps: Deps, body: dict[str, Any]) -> None:
    team, channel, user, job_id = _context(body)
    pending = deps.state.pending(job_id) if job_id else None
    if pending is not None and (
        pending.channel_id != channel or (pending.team_id and pending.team_id != team)
    ):
        log.warning("start of %s refused: previewed in %s", job_id, pending.channel_id)
        pending = None  # a button of another channel or workspace: as if unknown
    job = _load_job(deps, job_id) if pending is not None else None
    if pending is None or job is None:
        deps.ephemeral(channel, user, "I no longer have this job: upload the workbook again.")
        return
    if not job.name and pending.filename:  # the card's title: the workbook's name
        job = job.model_copy(update={"name": pending.filename.rsplit(".", 1)[0]})
    start_job(deps, job, team=team, channel=channel, user=user, thread_ts=pending.thread_ts)
    message_ts = (body.get("message") or {}).get("ts")
    if message_ts:  # the preview loses its buttons: it cannot be started twice from there
        blocks = [b for b in body["message"].get("blocks", []) if b.get("type") != "actions"]
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Started by <@{user}>.")]).to_dict()
        )
        deps.client.chat_update(channel=channel, ts=message_ts, text="Job started", blocks=blocks)


def start_job(
    deps: Deps,
    job: CallJob,
    *,
    team: str,
    channel: str,
    user: str,
    thread_ts: str | None,
    retry_of: str | None = None,
) -> bool:
    """Check who may start, claim the job once, post its card, submit it with its Slack origin."""
    refusal = deps.may_start(channel, user)
    if refusal is not None:
        deps.ephemeral(channel, user, refusal)
        return False
    if not deps.state.claim_start(job.job_id, user):
        deps.ephemeral(channel, user, f"`{job.job_id}` has already been started: see its card.")
        return False
    origin = SlackOrigin(team_id=team, channel_id=channel, user_id=user, thread_ts=thread_ts)
    card = JobCard.for_job(job.model_copy(update={"origin": origin}))
    card.retry_of = retry_of
    try:
        posted = deps.client.chat_postMessage(
            channel=channel, text=card_text(card), blocks=card_blocks(card)
        )
        card.card_ts = str(posted["ts"])
        deps.state.save_card(card)
        started = job.model_copy(
            update={
                "origin": origin.model_copy(update={"card_ts": card.card_ts}),
                "created_by": job.created_by or user,
            }
        )
        deps.submitter.submit(started)
    except Exception:
        deps.state.release_start(job.job_id)
        log.exception("could not start job %s", job.job_id)
        deps.ephemeral(
            channel, user, f"`{job.job_id}` could not be started. Try again in a minute."
        )
        return False
    return True


def discard(deps: Deps, body: dict[str, Any]) -> None:
    _, channel, user, _job_id = _context(body)
    message_ts = (body.get("message") or {}).get("ts")
    if message_ts:
        blocks = [b for b in body["message"].get("blocks", []) if b.get("type") != "actions"]
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Discarded by <@{user}>: nobody was called.")]
            ).to_dict()
        )
        deps.client.chat_update(channel=channel, ts=message_ts, text="Job discarded", blocks=blocks)


def cancel(deps: Deps, body: dict[str, Any]) -> None:
    team, channel, user, job_id = _context(body)
    cancel_job(deps, channel, user, job_id, team=team)


def retry(deps: Deps, body: dict[str, Any]) -> None:
    """A new job with only the receivers not reached; same unreached set -> same job id."""
    team, channel, user, job_id = _context(body)
    card = team_card(deps, job_id, team)
    if card is not None and card.channel_id != channel:
        card = None
    job = _load_job(deps, job_id) if card is not None else None
    if card is None or job is None:
        deps.ephemeral(channel, user, f"I no longer have job `{job_id}`.")
        return
    unreached = set(card.unreached())
    if not unreached:
        deps.ephemeral(channel, user, "Everybody was reached: nothing to retry.")
        return
    again = retry_job(job, unreached)
    retry_id = again.job_id
    # Keep it findable like any previewed job (a retry of the retry needs it).
    from backend.domain.intake import job_to_json

    pending = deps.state.pending(job_id)
    if pending is not None:
        pending.job = job_to_json(again)
        deps.state.save_pending(retry_id, pending)
    start_job(
        deps, again, team=team, channel=channel, user=user, thread_ts=card.card_ts, retry_of=job_id
    )
