"""TeamsSink: the core's ChatSink on the Bot Connector (Adaptive Cards from bot/teams/cards.py).

- In a channel the job card is a new top-level post (Bot Connector create-conversation with the
  channel id), so results, notes and the report are replies in its thread; in a chat (personal or
  group) the card is a message of the chat and the rest follow it there (chats have no threads).
- The card is updated in place (PUT of its activity id).
- The report: in a channel a reply card linking to a short-lived download (`ReportShelf.link`);
  in the personal chat a file consent card, answered by `on_file_consent` (registered by
  `register_report_consent`), which uploads the workbook into the teacher's OneDrive.

The cards and the file consent attachments are bot/teams/cards.py's and file_offer.py's. Every
call goes through the `TeamsSender` (per-conversation pacing, retries). The sink's methods are
synchronous, as the core calls them from engine or worker threads: they run the sender's
coroutines on the bot's loop (`LoopRunner`). Failures become the
core's `DeliveryError`, an update of a card that is gone (404) `CardGone`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from microsoft_teams.api.activities.message import MessageActivityInput

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from backend.domain.problems import Problem
from bot.core.card import summary_line
from bot.core.ports import CardGone, DeliveryError
from bot.core.state import JobCard
from bot.teams import cards, file_offer
from bot.teams.loop import LoopRunner
from bot.teams.reports import ReportShelf, report_name
from bot.teams.sender import TeamsSender, TeamsSendError, thread_id

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext, App

    from bot.core.state import BotState

log = logging.getLogger(__name__)

T = TypeVar("T")

REPORT_KIND = "report"  # file_offer context: {"callouts": "report", "job_id": ...}
CARD_GONE_STATUSES = frozenset({404})


def in_channel(card: JobCard) -> bool:
    """A card of a team channel (threads), not of a personal or group chat."""
    return bool(card.team_id)


def personal(card: JobCard) -> bool:
    """A card of the teacher's 1:1 chat with the bot (Teams ids of those start with `a:`)."""
    return not card.team_id and card.channel_id.startswith("a:")


class TeamsSink:
    platform = "teams"

    def __init__(self, sender: TeamsSender, runner: LoopRunner, reports: ReportShelf) -> None:
        self.sender = sender
        self.runner = runner
        self.reports = reports

    # -- ChatSink ------------------------------------------------------------------------------

    def post_card(self, card: JobCard, reason: str | None = None) -> str:
        activity = cards.job_card(card, reason)
        url = _service_url(card)
        if in_channel(card):
            _, card_ref = self._run(self.sender.start_thread(url, card.channel_id, activity))
            return card_ref
        return self._run(self.sender.send(url, card.channel_id, activity))

    def update_card(self, card: JobCard, reason: str | None = None) -> None:
        if card.card_ref is None:
            raise CardGone("the card was never posted")
        self._run(
            self.sender.update(
                _service_url(card),
                self._conversation(card),
                card.card_ref,
                cards.job_card(card, reason),
            )
        )

    def fitting_results(self, job: CallJob, results: Sequence[CallResult]) -> int:
        return cards.fitting_results(job, results)

    def post_results(self, card: JobCard, job: CallJob, results: Sequence[CallResult]) -> None:
        self._reply(card, cards.results_card(job, results))

    def post_stopped(self, card: JobCard, reason: str, problems: Sequence[Problem]) -> None:
        self._reply(card, cards.stopped_card(card, reason, problems))

    def post_report(self, card: JobCard, report: ReportFiles, content: bytes) -> None:
        name = report_name(card.job_id)
        if personal(card):
            offer = file_offer.consent_card(
                name,
                len(content),
                summary_line(card),
                {file_offer.KIND: REPORT_KIND, "job_id": card.job_id},
            )
            self._reply(card, MessageActivityInput().add_attachments(offer))
            return
        try:
            url = self.reports.link(card.job_id)
        except FileNotFoundError as error:
            raise DeliveryError(f"the report of {card.job_id} is not stored") from error
        hours = self.reports.link_seconds / 3600
        self._reply(card, cards.report_card(summary_line(card), url, name, hours))

    def post_text(self, card: JobCard, text: str) -> None:
        self._reply(card, text)

    def permalink(self, channel_id: str, ref: str) -> str | None:
        """A Teams deep link to a message of a channel or chat (no network call)."""
        if not channel_id or not ref:
            return None
        return f"https://teams.microsoft.com/l/message/{quote(channel_id, safe='')}/{quote(ref)}"

    def mention(self, user_id: str) -> str:
        # A Teams @mention needs the person's display name in an entity; cards keep no names.
        return "a member of this conversation"

    def send(self, service_url: str, conversation_id: str, activity: Any) -> str:
        """Post into any conversation the bot is in (e.g. a test call's outcome)."""
        return self._run(self.sender.send(service_url, conversation_id, activity))

    # -- helpers -------------------------------------------------------------------------------

    def _conversation(self, card: JobCard) -> str:
        if in_channel(card) and card.card_ref:
            return thread_id(card.channel_id, card.card_ref)
        return card.channel_id

    def _reply(self, card: JobCard, activity: Any) -> None:
        self._run(self.sender.send(_service_url(card), self._conversation(card), activity))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self.runner.run(coro)
        except TeamsSendError as error:
            if error.status in CARD_GONE_STATUSES:
                raise CardGone(str(error)) from error
            raise DeliveryError(str(error)) from error
        except TimeoutError as error:
            raise DeliveryError("Teams did not answer in time") from error


def _service_url(card: JobCard) -> str:
    if not card.service_url:
        raise DeliveryError(f"job {card.job_id} has no Teams service URL to post to")
    return card.service_url


def register_report_consent(app: App, state: BotState, reports: ReportShelf) -> None:
    """Answer the teacher's accept of a report's file consent card: upload the workbook to the
    URL Teams gives and post the file card. Only for the card's own conversation."""

    async def on_file_consent(ctx: ActivityContext[Any]) -> None:
        answer = ctx.activity.value
        context = answer.context if isinstance(answer.context, dict) else {}
        if context.get(file_offer.KIND) != REPORT_KIND:
            await ctx.next()
            return
        info = answer.upload_info
        if answer.action != "accept" or info is None or not info.upload_url:
            return
        job_id = str(context.get("job_id") or "")
        card = state.card(job_id)
        conversation = ctx.activity.conversation.id.partition(";messageid=")[0]
        if card is None or card.channel_id != conversation:
            log.warning("report consent for a job of another conversation: %s", job_id)
            return
        try:
            content = await asyncio.to_thread(reports.read, job_id)
            await file_offer.upload(info.upload_url, content)
        except (FileNotFoundError, file_offer.UploadError) as error:
            log.warning("report upload of %s failed: %s", job_id, error)
            await ctx.send("I could not put the report in your OneDrive: ask an admin for it.")
            return
        offer = file_offer.info_card(
            info.name or report_name(job_id), info.content_url or "", info.unique_id or "", "xlsx"
        )
        await ctx.send(MessageActivityInput().add_attachments(offer))

    app.on_file_consent(on_file_consent)
