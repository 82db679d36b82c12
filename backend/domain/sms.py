"""Text the unreached: after a job, one SMS to each person the calls did not reach.

The rules, the same in both runners (docs/sms.md):
- only a job with an `sms_template`, and only when the job was not cancelled (a cancelled job's
  unreached were not all tried); a job that ran out of time (Expired) does text;
- only people whose final status is `CallStatus.textable` (NoAnswer, Busy, NoHuman, Expired):
  never someone who answered, opted out, could not be called, failed or was cancelled;
- never a number on the do-not-call list (which holds everyone who ever said "stop"), never
  outside the person's calling hours (skipped, with the reason);
- exactly one message per person and job: the intent is recorded in the runner's outbox before
  the message leaves (`SmsOutbox.claim`), so a retry or a resumed run never sends it again; a
  claim whose outcome was never written (a crash mid-send) is reported as such, never resent.
The SMS results are written before the report, which has a column for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from backend.domain.calling_rules import is_allowed
from backend.domain.dnc import DO_NOT_CALL, DoNotCallList, is_listed
from backend.domain.models import CallJob, CallResult, Receiver
from backend.domain.problems import Problem
from backend.domain.speech import SpeechError, TextTemplate, receiver_context

SMS_NAME = "SMS"  # the template's name in problems: "the SMS uses {{ x }} ..."
SMS_KEY = "sms_template"  # Configures key and JSON field
MAX_SMS_CHARS = 1_600  # AWS End User Messaging SMS: longest MessageBody
OUTSIDE_HOURS = "outside calling hours"
INTERRUPTED = "interrupted while sending: it may or may not have gone out"
NOT_SET_UP = "SMS is not set up for this deployment"
SMS_COLUMN = "sms"  # the report column (only in the reports of jobs with an sms_template)


class SmsStatus(StrEnum):
    SENT = "Sent"
    FAILED = "Failed"
    SKIPPED = "Skipped"


class SmsResult(BaseModel):
    """What became of one person's SMS; one per receiver and job at most."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    receiver_id: str
    status: SmsStatus
    reason: str | None = None  # why it failed or was skipped
    at: datetime | None = None
    message_id: str | None = None  # the provider's id of a sent message

    @property
    def label(self) -> str:
        """The report cell: `Sent`, `Failed: <reason>`, `Skipped: <reason>`."""
        return f"{self.status.value}: {self.reason}" if self.reason else self.status.value

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class SmsTally:
    """The SMS line of a finished job's card: how many were sent, failed, skipped."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, results: Iterable[SmsResult]) -> SmsTally:
        counts = dict.fromkeys(SmsStatus, 0)
        for result in results:
            counts[result.status] += 1
        return cls(counts[SmsStatus.SENT], counts[SmsStatus.FAILED], counts[SmsStatus.SKIPPED])

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.skipped

    def to_json(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped}

    @classmethod
    def from_json(cls, data: Any) -> SmsTally | None:
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(*(int(data.get(key, 0)) for key in ("sent", "failed", "skipped")))
        except (TypeError, ValueError):
            return None

    def sentence(self) -> str:
        """`Texted 12 people who were not reached; 1 failed, 2 skipped.`"""
        people = "person who was" if self.sent == 1 else "people who were"
        text = f"Texted {self.sent} {people} not reached"
        extra = [f"{n} {word}" for n, word in ((self.failed, "failed"), (self.skipped, "skipped"))]
        extra = [part for part in extra if not part.startswith("0 ")]
        return f"{text}; {', '.join(extra)}." if extra else f"{text}."


class SmsSendError(Exception):
    """The provider refused or could not take the message; the text is the report's reason."""


class SmsSender(Protocol):
    """Sends one text message (AWS End User Messaging SMS; the local simulated outbox)."""

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        """The provider's message id; raises SmsSendError with a reason when it is refused."""
        ...


class SmsOutbox(Protocol):
    """The runner's record of its SMS: intent first, outcome after (one row per receiver)."""

    def claim(self, job_id: str, receiver_id: str, body: str, at: datetime) -> bool:
        """Record the intent to text; False when it was recorded before (never send again)."""
        ...

    def finish(self, result: SmsResult) -> None:
        """Write the outcome of a claimed message."""
        ...

    def outcome(self, job_id: str, receiver_id: str) -> SmsResult | None:
        """The recorded outcome; None when there is none (no claim, or a claim without one)."""
        ...


def sms_off_warning(job: CallJob) -> Problem | None:
    """The preview's warning for a job with an SMS template where SMS is not set up (AWS
    without an origination identity): the job may start, its texts will be Skipped."""
    if not job.sms_template.strip():
        return None
    return Problem(
        "this job has an sms_template but SMS is not set up here (the stack parameter "
        "SmsOriginationIdentity is empty): nobody will be texted; set it up (docs/sms.md) or "
        "remove the sms_template",
        field=SMS_KEY,
    )


def sms_due(job: CallJob, *, cancelled: bool) -> bool:
    """Whether the job texts its unreached at all."""
    return bool(job.sms_template.strip()) and not cancelled


def sms_receivers(job: CallJob, results: Iterable[CallResult]) -> list[Receiver]:
    """The people to text, in job order: those whose final result is `textable`."""
    textable = {r.receiver_id for r in results if r.status.textable}
    return [receiver for receiver in job.receivers if receiver.id in textable]


def sms_template(job: CallJob) -> TextTemplate:
    """The job's SMS template, compiled (intake has checked it already)."""
    return TextTemplate(job.sms_template, SMS_NAME)


def sms_body(template: TextTemplate, receiver: Receiver) -> str:
    """The message for one receiver; raises SpeechError when it cannot be written or is over
    the 1,600-character limit (intake refuses such jobs, so only a changed job gets here)."""
    body = template.render(receiver_context(receiver), receiver.id)
    if len(body) > MAX_SMS_CHARS:
        raise SpeechError(
            length_problem(len(body)), template_name=SMS_NAME, receiver_id=receiver.id
        )
    if not body:
        raise SpeechError(
            f"the {SMS_NAME} is empty for receiver {receiver.id}",
            template_name=SMS_NAME,
            receiver_id=receiver.id,
        )
    return body


def length_problem(length: int) -> str:
    return (
        f"the {SMS_NAME} for this receiver is {length:,} characters long: an SMS can carry at "
        f"most {MAX_SMS_CHARS:,}; shorten the template or this receiver's values"
    )


@dataclass(frozen=True, slots=True)
class SmsContext:
    """Everything `text_one` needs besides the receiver."""

    job: CallJob
    template: TextTemplate
    outbox: SmsOutbox
    sender: SmsSender | None  # None: SMS is not set up (every message is skipped)
    dnc: DoNotCallList | None


def text_one(context: SmsContext, receiver: Receiver, now: datetime) -> SmsResult:
    """Text one unreached person at most once; the outcome is recorded in the outbox."""
    job = context.job
    body = ""
    try:
        body = sms_body(context.template, receiver)
    except SpeechError as error:
        verdict: tuple[SmsStatus, str] | None = (SmsStatus.FAILED, error.message)
    else:
        verdict = _not_sending(context, receiver, now)
    if not context.outbox.claim(job.job_id, receiver.id, body, now):
        earlier = context.outbox.outcome(job.job_id, receiver.id)
        return (
            earlier
            if earlier is not None
            else _result(job, receiver, now, (SmsStatus.FAILED, INTERRUPTED))
        )
    message_id = None
    if verdict is None:
        assert context.sender is not None  # _not_sending skips every message without one
        try:
            message_id = context.sender.send(job.job_id, receiver.id, receiver.phone_number, body)
            verdict = (SmsStatus.SENT, "")
        except SmsSendError as error:
            verdict = (SmsStatus.FAILED, str(error) or "refused")
        except Exception as error:  # any failure of the provider is this message's outcome
            verdict = (SmsStatus.FAILED, f"{type(error).__name__}: {str(error)[:200]}")
    outcome = _result(job, receiver, now, verdict, message_id)
    context.outbox.finish(outcome)
    return outcome


def _result(
    job: CallJob,
    receiver: Receiver,
    now: datetime,
    verdict: tuple[SmsStatus, str],
    message_id: str | None = None,
) -> SmsResult:
    status, reason = verdict
    return SmsResult(
        job_id=job.job_id,
        receiver_id=receiver.id,
        status=status,
        reason=reason or None,
        at=now,
        message_id=message_id,
    )


def _not_sending(
    context: SmsContext, receiver: Receiver, now: datetime
) -> tuple[SmsStatus, str] | None:
    """(Skipped, why) when the message must not go out, else None."""
    if context.dnc is not None and is_listed(context.dnc, receiver.phone_number):
        return SmsStatus.SKIPPED, DO_NOT_CALL
    if context.sender is None:
        return SmsStatus.SKIPPED, NOT_SET_UP
    if not is_allowed(receiver, context.job.settings, now):
        return SmsStatus.SKIPPED, OUTSIDE_HOURS
    return None


def text_the_unreached(
    job: CallJob,
    results: Sequence[CallResult],
    *,
    outbox: SmsOutbox,
    sender: SmsSender | None,
    dnc: DoNotCallList | None,
    now: datetime,
    cancelled: bool = False,
) -> dict[str, SmsResult]:
    """Text every unreached person of a finished job (once each); receiver id -> outcome."""
    if not sms_due(job, cancelled=cancelled):
        return {}
    context = SmsContext(job, sms_template(job), outbox, sender, dnc)
    return {r.id: text_one(context, r, now) for r in sms_receivers(job, results)}
