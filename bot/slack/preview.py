"""Posting the preview of a job (from a workbook or the modal) and remembering the job for Start."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from backend.domain.models import ChatOrigin
from bot.core.preview import preview_of, remember
from bot.slack.deps import Deps
from bot.slack.views import preview_blocks

if TYPE_CHECKING:
    from backend.domain.intake import IntakeResult

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def post_preview(
    deps: Deps,
    result: IntakeResult,
    *,
    title: str,
    team_id: str,
    channel_id: str,
    user_id: str,
    thread_ts: str | None,
    filename: str | None = None,
) -> str | None:
    """Post the preview (in `thread_ts` when given); store the job so Start can find it."""
    preview = preview_of(
        result,
        title=title,
        state=deps.state,
        dnc=deps.dnc,
        sms_enabled=deps.settings.sms_enabled,
        max_lines=deps.settings.max_lines,
    )
    started = preview.started
    card_link = (
        deps.sink.permalink(started.channel_id, started.card_ref)
        if started is not None and started.card_ref
        else None
    )
    blocks = preview_blocks(preview, card_link, test_call=deps.test_calls is not None)
    summary = preview.summary()
    try:
        response = deps.client.chat_postMessage(
            channel=channel_id, thread_ts=thread_ts, text=summary, blocks=blocks
        )
    except SlackApiError as error:
        if error.response.get("error") not in NOT_IN_CHANNEL or thread_ts is not None:
            log.exception("could not post the preview of %s", title)
            return None
        # A form sent from a channel the bot is not in: preview (and start) it in a DM instead.
        note = SectionBlock(
            text=MarkdownTextObject(
                text=f"I am not in <#{channel_id}>, so here is your preview. To run jobs "
                "there, invite me with `/invite @Callouts`."
            )
        )
        try:
            response = deps.client.chat_postMessage(
                channel=user_id, text=summary, blocks=[note, *blocks]
            )
        except SlackApiError:
            log.exception("could not post the preview of %s", title)
            return None
        channel_id = str(response.get("channel") or user_id)
    preview_ts = str(response.get("ts"))
    origin = ChatOrigin(
        team_id=team_id, channel_id=channel_id, user_id=user_id, thread_ref=thread_ts
    )
    remember(deps.state, preview, origin, preview_ref=preview_ts, filename=filename)
    if deps.numbers is not None and preview.startable and preview.job is not None:
        from bot.core.call_me_first import user_key  # `/callout test` without a job id

        deps.numbers.remember_preview(user_key("slack", team_id, user_id), preview.job.job_id)
    return preview_ts
