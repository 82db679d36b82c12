"""Start, cancel and retry call jobs from a chat: the same rules for Slack and Teams.

Each action returns an `Outcome` the adapter renders (a private reply with `outcome.text`, a
redrawn preview...). Starting claims the job id once (`BotState.claim_start`), so a double click,
a redelivered request or a re-uploaded identical workbook starts it once; the card is posted
through the platform's `ChatSink` before the job is submitted, with the job's `ChatOrigin`
pointing at it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto

from backend.domain.models import CallJob, ChatOrigin
from backend.domain.ports import JobSubmitter
from bot.core.access import AccessRules
from bot.core.ports import ChatSink, DeliveryError
from bot.core.state import CANCELLING, ENDED, BotState, JobCard, current_run

log = logging.getLogger(__name__)

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}


class OutcomeKind(Enum):
    STARTED = auto()
    CANCELLED = auto()
    UNKNOWN = auto()  # no such preview or job here (or of another channel or team)
    REFUSED = auto()  # the allow-list or admin rule says no
    ALREADY_STARTED = auto()
    FAILED = auto()  # the card could not be posted or the job not submitted: try again
    ENDED = auto()  # the job has ended: nothing to cancel
    CANCELLING = auto()  # already being cancelled
    NOT_RUNNING = auto()  # the engine no longer runs it
    NOTHING_TO_RETRY = auto()
    WITHDRAWN = auto()  # a preview was cancelled: its job can no longer be started
    NOT_ENDED = auto()  # Run again on a job still running


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    job_id: str
    text: str = ""  # what to tell the user who acted (empty when the card says it all)
    card: JobCard | None = None

    @property
    def ok(self) -> bool:
        return self.kind in (OutcomeKind.STARTED, OutcomeKind.CANCELLED, OutcomeKind.WITHDRAWN)


class ChatJobs:
    """What the Start / Cancel / Retry buttons and the `cancel` command do."""

    def __init__(
        self,
        state: BotState,
        submitter: JobSubmitter,
        access: AccessRules,
        sinks: Mapping[str, ChatSink],
    ) -> None:
        self.state = state
        self.submitter = submitter
        self.access = access
        self.sinks = dict(sinks)

    def load_job(self, job_id: str) -> CallJob | None:
        """The previewed job stored for Start (None when unknown or unreadable)."""
        from backend.domain.intake import job_from_json

        pending = self.state.pending(job_id)
        if pending is None:
            return None
        result = job_from_json(pending.job)
        return result.job if result.ok else None

    def team_card(self, job_id: str, team: str) -> JobCard | None:
        """The card of a job started in this team/workspace (another team's stay invisible)."""
        card = self.state.card(job_id)
        if card is None or (team and card.team_id and card.team_id != team):
            return None
        return card

    def start_preview(
        self, job_id: str, origin: ChatOrigin, *, report_to: ChatOrigin | None = None
    ) -> Outcome:
        """Start on a preview: the job stored for it, pressed in the channel it was previewed
        in. The job reports there, or in `report_to` when the adapter let the user choose another
        conversation (Teams: a channel, from a preview in the personal chat); the allow-lists
        apply to where it reports."""
        pending = self.state.pending(job_id) if job_id else None
        if pending is not None and (
            pending.channel_id != origin.channel_id
            or (pending.team_id and pending.team_id != origin.team_id)
        ):
            log.warning("start of %s refused: previewed in %s", job_id, pending.channel_id)
            pending = None  # a button of another channel or team: as if unknown
        job = self.load_job(job_id) if pending is not None else None
        if pending is None or job is None:
            return Outcome(
                OutcomeKind.UNKNOWN, job_id, "I no longer have this job: upload the workbook again."
            )
        if not job.name and pending.filename:  # the card's title: the workbook's name
            job = job.model_copy(update={"name": pending.filename.rsplit(".", 1)[0]})
        if report_to is not None and report_to.channel_id != origin.channel_id:
            return self.start(
                job,
                report_to.model_copy(update={"thread_ref": None}),
                preview_ref=pending.preview_ref,
            )
        return self.start(
            job,
            origin.model_copy(update={"thread_ref": pending.thread_ref}),
            preview_ref=pending.preview_ref,
        )

    def withdraw_preview(self, job_id: str, origin: ChatOrigin) -> Outcome:
        """Cancel on a preview: its job is forgotten, so Start on any copy of it is refused.
        A job already started is not touched (its card has its own Cancel)."""
        pending = self.state.pending(job_id) if job_id else None
        if pending is None or pending.channel_id != origin.channel_id:
            return Outcome(OutcomeKind.UNKNOWN, job_id, "I no longer have this job.")
        if self.state.card(job_id) is not None:
            return Outcome(
                OutcomeKind.ALREADY_STARTED,
                job_id,
                f"`{job_id}` has already been started: cancel it on its card.",
            )
        self.state.withdraw_pending(job_id)
        return Outcome(OutcomeKind.WITHDRAWN, job_id)

    def start(
        self,
        job: CallJob,
        origin: ChatOrigin,
        *,
        retry_of: str | None = None,
        preview_ref: str | None = None,
    ) -> Outcome:
        """Check who may start, claim the job once, post its card (linking to the preview it
        was started from), submit it with its origin."""
        job_id = job.job_id
        refusal = self.access.may_start(origin.channel_id, origin.user_id)
        if refusal is not None:
            return Outcome(OutcomeKind.REFUSED, job_id, refusal)
        if not self.state.claim_start(job_id, origin.user_id):
            return Outcome(
                OutcomeKind.ALREADY_STARTED,
                job_id,
                f"`{job_id}` has already been started: see its card.",
            )
        card = JobCard.for_job(job.model_copy(update={"origin": origin}))
        card.retry_of = retry_of
        sink = self.sinks[origin.platform]
        if preview_ref:
            card.preview_ref = preview_ref
            card.preview_link = sink.permalink(origin.channel_id, preview_ref)
        try:
            card.card_ref = sink.post_card(card)
            self.state.save_card(card)
            started = job.model_copy(
                update={
                    "origin": origin.model_copy(update={"card_ref": card.card_ref}),
                    "created_by": job.created_by or origin.user_id,
                }
            )
            self.submitter.submit(started)
        except Exception:  # DeliveryError, or the queue: the claim is released for a retry
            self.state.release_start(job_id)
            log.exception("could not start job %s", job_id)
            return Outcome(
                OutcomeKind.FAILED,
                job_id,
                f"`{job_id}` could not be started. Try again in a minute.",
            )
        return Outcome(OutcomeKind.STARTED, job_id, card=card)

    def cancel(self, job_id: str, *, team: str, user_id: str, platform: str) -> Outcome:
        """Cancel a running job (its starter or an admin); the card loses its Cancel button and
        the card's thread says who cancelled it."""
        card = self.team_card(job_id, team)
        if card is None:
            where = PLATFORM_NAMES.get(platform, platform)
            return Outcome(
                OutcomeKind.UNKNOWN, job_id, f"No call job `{job_id}` was started from {where}."
            )
        sink = self.sinks.get(card.platform)
        if not self.access.may_cancel(user_id, card.user_id):
            starter = sink.mention(card.user_id) if sink else "who started it"
            return Outcome(
                OutcomeKind.REFUSED,
                job_id,
                f"Only {starter} (who started it) or an admin can cancel `{job_id}`.",
                card,
            )
        if card.state in ENDED:
            return Outcome(
                OutcomeKind.ENDED,
                job_id,
                f"`{job_id}` has already ended: there is nothing to cancel.",
                card,
            )
        if card.state == CANCELLING:
            return Outcome(
                OutcomeKind.CANCELLING, job_id, f"`{job_id}` is already being cancelled.", card
            )
        if not self.submitter.cancel(job_id, requested_by=user_id):
            return Outcome(
                OutcomeKind.NOT_RUNNING, job_id, f"`{job_id}` is not running any more.", card
            )
        card.state = CANCELLING
        self.state.save_card(card)
        if sink is not None:
            self._announce_cancel(sink, card, user_id)
        return Outcome(OutcomeKind.CANCELLED, job_id, card=card)

    @staticmethod
    def _announce_cancel(sink: ChatSink, card: JobCard, user_id: str) -> None:
        if card.card_ref:
            try:  # the Cancel button goes away now; the notifier keeps the state
                sink.update_card(card)
            except DeliveryError:
                log.exception("could not update the card of %s", card.job_id)
        # Said in the card's thread, for everyone following the job; the card itself shows the
        # remaining people as Cancelled as their results arrive.
        sink.post_text(
            card,
            f"🛑 {sink.mention(user_id)} cancelled `{card.job_id}`: calls in progress finish, "
            "nobody else is called.",
        )

    def run_again(self, job_id: str, origin: ChatOrigin) -> Outcome:
        """ "Run again" on an ended job's card: the same job for everyone, as its next run (a
        new job id), reporting in the thread the job came from."""
        from backend.domain.intake import job_to_json

        card = self.team_card(job_id, origin.team_id)
        if card is not None and card.channel_id != origin.channel_id:
            card = None
        job = self.load_job(job_id) if card is not None else None
        if card is None or job is None:
            return Outcome(OutcomeKind.UNKNOWN, job_id, f"I no longer have job `{job_id}`.")
        if card.state not in ENDED:
            return Outcome(
                OutcomeKind.NOT_ENDED, job_id, f"`{job_id}` is still running: see its card.", card
            )
        run_id, running = current_run(self.state, job_id)
        if running is not None:
            return Outcome(
                OutcomeKind.ALREADY_STARTED,
                run_id,
                f"`{run_id}` has already been started: see its card.",
            )
        again = job.model_copy(update={"job_id": run_id, "name": job.name or card.name})
        pending = self.state.pending(job_id)
        if pending is not None:  # findable like any previewed job (its own Run again needs it)
            pending.job = job_to_json(again)
            self.state.save_pending(run_id, pending)
        return self.start(again, origin.model_copy(update={"thread_ref": card.thread_ref}))

    def retry(self, job_id: str, origin: ChatOrigin) -> Outcome:
        """A new job with only the receivers not reached; same unreached set -> same job id."""
        from backend.domain.intake import job_to_json
        from backend.domain.retry import retry_job

        card = self.team_card(job_id, origin.team_id)
        if card is not None and card.channel_id != origin.channel_id:
            card = None
        job = self.load_job(job_id) if card is not None else None
        if card is None or job is None:
            return Outcome(OutcomeKind.UNKNOWN, job_id, f"I no longer have job `{job_id}`.")
        unreached = set(card.unreached())
        if not unreached:
            return Outcome(
                OutcomeKind.NOTHING_TO_RETRY, job_id, "Everybody was reached: nothing to retry."
            )
        # The card's title is the job's name (or the workbook's): the retry card keeps it.
        again = retry_job(job.model_copy(update={"name": job.name or card.name}), unreached)
        # Keep it findable like any previewed job (a retry of the retry needs it).
        pending = self.state.pending(job_id)
        if pending is not None:
            pending.job = job_to_json(again)
            self.state.save_pending(again.job_id, pending)
        return self.start(
            again,
            origin.model_copy(update={"thread_ref": card.card_ref, "card_ref": None}),
            retry_of=job_id,
        )
