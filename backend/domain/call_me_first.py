"""Call me first: one call to the requester's own number with person #1's prompts, as a test.

A test call goes through the real contact flow and the same call session as a job's call, but
it is marked (`CallSession.test`, call id `test#<id>`), so neither runner turns it into a job
result: it is no attempt of any receiver, no daily-cap count, no change of the job's state. Its
outcome is reported to the requester alone (docs/test-call.md).

Rules (the same in both runners):
- the number is checked like a receiver's (`phones.to_e164` with the job's prefix and allowed
  countries); a number on the do-not-call list is never dialled, a test neither;
- calling hours do not apply: the requester asked for the call now, on their own phone;
- saying "stop" in a test call puts the number on the do-not-call list, as in any call.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from backend.domain.answers import NO_ANSWER
from backend.domain.results import CallResult
from backend.domain.session import CallSession

if TYPE_CHECKING:  # imported where used: the flow Lambda reads only the outcome's summary
    from backend.domain.dnc import DoNotCallList
    from backend.domain.models import CallJob, Receiver

TEST_CALL_PREFIX = "test#"
_TEST_ID = re.compile(r"^[a-z0-9]{6,32}$")


class RefusedTestCall(ValueError):
    """The test call cannot be placed; the message says why and what to do. Nobody is dialled."""


def new_test_id() -> str:
    return uuid.uuid4().hex[:16]


def call_id_for_test(test_id: str) -> str:
    """The call id (and Connect ClientToken) of a test call: `test#<test id>`."""
    if not _TEST_ID.match(test_id):
        raise ValueError(f"test id {test_id!r}: use 6-32 lower-case letters and digits")
    return TEST_CALL_PREFIX + test_id


def is_test_call(call_id: str) -> bool:
    return call_id.startswith(TEST_CALL_PREFIX)


def requester_number(job: CallJob, raw: str) -> str:
    """The requester's number in E.164, read like a receiver's number; RefusedTestCall if not."""
    from backend.domain.phones import PhoneError, to_e164

    text = (raw or "").strip()
    if not text:
        raise RefusedTestCall("give the number to call, such as +852 5123 4567")
    try:
        return to_e164(text, job.phone_prefix, job.settings.allowed_countries)
    except PhoneError as error:
        raise RefusedTestCall(f"cannot call {text!r}: {error}") from None


def number_key_for_test(dnc: DoNotCallList | None, to: str) -> str | None:
    """The number's do-not-call key, or RefusedTestCall when it is on the list (never dialled).

    No daily-cap count is taken: a test call is nobody's attempt (module docstring)."""
    from backend.domain.phones import mask_phone

    if dnc is None:
        return None
    key = dnc.key(to)
    if key in dnc.listed_keys([key]):
        raise RefusedTestCall(
            f"{mask_phone(to)} is on the do-not-call list: it is never called, a test call "
            "neither. Remove it from the list first if it is yours and you want the call"
        )
    return key


def first_receiver(job: CallJob) -> Receiver:
    if not job.receivers:
        raise RefusedTestCall("the job has no receivers: person #1's prompts are what a test plays")
    return job.receivers[0]


def session_for_test(
    job: CallJob, to: str, test_id: str, now: datetime, *, number_key: str | None = None
) -> CallSession:
    """The session of a test call: person #1's rendered prompts, dialled at `to`."""
    from backend.domain.speech import Speech, SpeechError

    person = first_receiver(job)
    try:
        prompts = Speech(job).prompts(person)
    except SpeechError as error:
        raise RefusedTestCall(f"cannot speak person #1's prompts: {error.message}") from None
    session = CallSession.new(
        job, person.model_copy(update={"phone_number": to}), 1, prompts, now=now
    )
    session.call_id = call_id_for_test(test_id)
    session.test = True
    session.number_key = number_key  # a "stop" puts the requester's number on the list
    return session


@dataclass(frozen=True, slots=True)
class CallTestOutcome:
    """What the requester is told after a test call (masked number, never the full one)."""

    job_id: str
    test_id: str
    masked_to: str
    result: CallResult
    questions: tuple[str, ...] = ()

    @classmethod
    def of(cls, session: CallSession, result: CallResult, to: str) -> CallTestOutcome:
        from backend.domain.phones import mask_phone

        return cls(
            job_id=session.job_id,
            test_id=session.call_id.removeprefix(TEST_CALL_PREFIX),
            masked_to=mask_phone(to),
            result=result,
        )

    def summary(self) -> str:
        """`Test call to +852****4567 (job picnic): CallCompleted in 48 s; answers: Yes | A`."""
        result = self.result
        text = f"Test call to {self.masked_to} (job {self.job_id}): {result.status.value}"
        if result.duration_seconds:
            text += f" in {result.duration_seconds:.0f} s"
        if result.answers:
            shown = " | ".join(a if a is not None else NO_ANSWER for a in result.answers)
            text += f"; answers: {shown}"
        if result.error:
            text += f" ({result.error})"
        return text + ". Not part of the job's results."
