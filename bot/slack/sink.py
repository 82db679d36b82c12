"""SlackSink: the core's ChatSink on the Slack Web API (Block Kit from bot/slack/views.py).

Every call goes through the one `WebClient` of the bot (its base URL and 429 retry handler come
with it). Slack errors become the core's `DeliveryError`; `chat.update` of a deleted card
(`message_not_found`) becomes `CardGone`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from backend.domain.problems import Problem
from bot.core.card import card_text, summary_line
from bot.core.ports import CardGone, DeliveryError
from bot.core.state import JobCard
from bot.slack.views import batch_blocks, card_blocks, fitting_results, stopped_blocks

log = logging.getLogger(__name__)

CARD_GONE = frozenset({"message_not_found"})  # chat.update errors answered by a new card


def _error(error: SlackClientError) -> DeliveryError:
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "")
        if code in CARD_GONE:
            return CardGone(code)
        return DeliveryError(f"Slack answered {code}")
    return DeliveryError(f"Slack not reached: {error}")


class SlackSink:
    platform = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_card(self, card: JobCard, reason: str | None = None) -> str:
        try:
            response = self.client.chat_postMessage(
                channel=card.channel_id, text=card_text(card), blocks=card_blocks(card, reason)
            )
        except SlackClientError as error:
            raise _error(error) from error
        return str(response["ts"])

    def update_card(self, card: JobCard, reason: str | None = None) -> None:
        if card.card_ref is None:
            raise CardGone("the card was never posted")
        try:
            self.client.chat_update(
                channel=card.channel_id,
                ts=card.card_ref,
                text=card_text(card),
                blocks=card_blocks(card, reason),
            )
        except SlackClientError as error:
            raise _error(error) from error

    def fitting_results(self, job: CallJob, results: Sequence[CallResult]) -> int:
        return fitting_results(job, results)

    def post_results(self, card: JobCard, job: CallJob, results: Sequence[CallResult]) -> None:
        text, blocks = batch_blocks(job, results)
        self._post(card, text, blocks)

    def post_stopped(self, card: JobCard, reason: str, problems: Sequence[Problem]) -> None:
        text, blocks = stopped_blocks(card, reason, problems)
        self._post(card, text, blocks)

    def post_report(self, card: JobCard, report: ReportFiles, content: bytes) -> None:
        try:
            self.client.files_upload_v2(
                channel=card.channel_id,
                thread_ts=card.card_ref,
                content=content,
                filename=f"{card.job_id}.xlsx",
                title=f"Report – {card.name}",
                initial_comment=summary_line(card),
            )
        except SlackClientError as error:
            raise _error(error) from error

    def post_text(self, card: JobCard, text: str) -> None:
        self._post(card, text, None)

    def permalink(self, channel_id: str, ref: str) -> str | None:
        try:
            link = self.client.chat_getPermalink(channel=channel_id, message_ts=ref).get(
                "permalink"
            )
        except SlackClientError:
            log.warning("no permalink for %s in %s", ref, channel_id)
            return None
        return str(link) if link else None

    def mention(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def _post(self, card: JobCard, text: str, blocks: Sequence[Block] | None) -> None:
        try:
            self.client.chat_postMessage(
                channel=card.channel_id, thread_ts=card.card_ref, text=text, blocks=blocks
            )
        except SlackClientError as error:
            raise _error(error) from error
