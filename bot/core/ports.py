"""What the chat-ops core needs from a chat platform: `ChatSink`, implemented by `bot.slack.sink`
(Slack Web API) and the Teams adapter (Bot Connector).

A sink renders the core's values (a `JobCard`, results, a report) in its platform's format and
sends them. It raises `DeliveryError` when the platform could not be reached or refused the call
(the core logs it, retries at the next flush, or, on AWS, lets the event be delivered again) and
`CardGone` when the card message to update no longer exists (the core posts the card anew and
keeps the thread on the new card). It never raises anything else for a platform failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from backend.domain.problems import Problem

if TYPE_CHECKING:
    from bot.core.state import JobCard


class DeliveryError(RuntimeError):
    """The chat platform could not be reached or refused a call (AWS: the event is retried)."""


class CardGone(DeliveryError):
    """The card message to update was deleted (or never existed): post the card again."""


class ChatSink(Protocol):
    """Where one platform's job cards, result lines and reports go. Every message names the
    card (`card.channel_id`, `card.card_ref`, `card.thread_ref`, `card.service_url`...)."""

    def post_card(self, card: JobCard, reason: str | None = None) -> str:
        """Post the card as a new top-level message of `card.channel_id`; its message ref.
        `reason`: why a rejected or stopped job ended (shown on the card)."""
        ...

    def update_card(self, card: JobCard, reason: str | None = None) -> None:
        """Redraw the card message `card.card_ref` in place; CardGone when it was deleted."""
        ...

    def fitting_results(self, job: CallJob, results: Sequence[CallResult]) -> int:
        """How many of `results` (from the first, at least 1) fit one thread message."""
        ...

    def post_results(self, card: JobCard, job: CallJob, results: Sequence[CallResult]) -> None:
        """One message in the card's thread with a line per result (numbers masked; see
        `bot.core.results.result_line`)."""
        ...

    def post_stopped(self, card: JobCard, reason: str, problems: Sequence[Problem]) -> None:
        """The card's thread message of a job that could not start or stopped (see
        `bot.core.card.stopped_text`)."""
        ...

    def post_report(self, card: JobCard, report: ReportFiles, content: bytes) -> None:
        """Deliver the Excel report (`content`, stored at `report.xlsx`) in the card's thread,
        with `bot.core.card.summary_line(card)` as its comment."""
        ...

    def post_text(self, card: JobCard, text: str) -> None:
        """A short note in the card's thread (e.g. who cancelled the job), written by the core:
        plain words, `code` in backticks, people as `mention(user_id)` gave them."""
        ...

    def permalink(self, channel_id: str, ref: str) -> str | None:
        """A link to message `ref` of `channel_id` (the card <-> its preview); None when the
        platform would not give one (a link is a courtesy: never raises)."""
        ...

    def mention(self, user_id: str) -> str:
        """How a message of this platform names a user (Slack `<@U123>`)."""
        ...
