"""Call me first on AWS: one real call through the same flow, sessions and lines, as a test.

Path (docs/test-call.md):
1. a job-queue message `{"kind": "test_call", "test_id", "to", "job" | "job_ref", "origin",
   "requested_by"}` (the bot sends it; any system may) -> start-job checks the job and the number
   (`TestCallForwarder`) and puts the call on the calls queue with the job cut to person #1;
2. the dialer (`TestCaller`): do-not-call check, a line lease, the dial fact, the session
   (`CallSession.test`, call id `test#<id>`) and StartOutboundVoiceContact, with the call id as
   the ClientToken, so a redelivery never rings twice; no claim, no daily-cap count, no task;
3. the flow and the DISCONNECTED handler end the session as for any call; their completion
   (`RoutedCompletion`) sends a test's result to `TestCallCompletion` instead of Step Functions:
   the outcome is written on the test's record (`test-info#<id>` in the sessions table, TTL) and
   announced as the EventBridge event "Callout Test Call Finished", which the chat notifier
   posts to the requester. Nothing is written to any job's results, claims or state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backend.aws.connect import ConnectDialer, DialError, DialFault
from backend.aws.dials import DialLog
from backend.aws.dnc import DynamoDoNotCall
from backend.aws.lines import LineLeases
from backend.aws.sessions import DynamoSessionStore
from backend.aws.test_call_outcomes import TestCallAnnouncer, TestCallRecords
from backend.domain.call_me_first import (
    RefusedTestCall,
    first_receiver,
    number_key_for_test,
    requester_number,
    session_for_test,
)
from backend.domain.call_time import call_timeout
from backend.domain.models import CallJob, CallStatus
from backend.domain.phones import mask_phone
from backend.domain.session import CallCompletion, CallSession, StaleSession

log = logging.getLogger(__name__)

TEST_CALL_KIND = "test_call"
TEST_LINE_LIMIT = 1  # one test call of a job at a time, on a line of the stack's budget
# The backstop (there is no task timeout behind a test call): the dialer stops waiting for a
# line after LINE_WAIT_SECONDS, and the sweeper ends a test not finished by its deadline.
LINE_WAIT_SECONDS = 600
DEADLINE_MARGIN_SECONDS = 120  # a dialer invocation (60 s) and the DISCONNECTED event's latency


def backstop_deadline_seconds(job: CallJob) -> int:
    """From the dialer's first take to the latest end of the test call: the wait for a line,
    then the job's own call timeout (the longest call it allows), then a margin."""
    return LINE_WAIT_SECONDS + call_timeout(job) + DEADLINE_MARGIN_SECONDS


def is_test_call_message(body: str | Mapping[str, Any]) -> bool:
    """Whether a queue message asks for a test call (cheap: only its `kind` is looked at)."""
    if isinstance(body, str):
        if '"test_call"' not in body:
            return False
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            return False
    return isinstance(body, Mapping) and body.get("kind") == TEST_CALL_KIND


class TestCallMessage(BaseModel):
    """The job-queue message that asks for a test call; the calls-queue one carries `job`."""

    __test__ = False
    model_config = ConfigDict(extra="forbid")

    kind: Literal["test_call"]
    test_id: str = Field(pattern=r"^[a-z0-9]{6,32}$")
    to: str = Field(min_length=1, max_length=40)
    job: dict[str, Any] | None = None
    job_ref: dict[str, Any] | None = None
    origin: dict[str, Any] | None = None  # where the requester asked (chat): the answer goes there
    requested_by: str | None = Field(default=None, max_length=200)


@dataclass
class TestCallForwarder:
    """Start-job's part: the job and the number are checked, then the call is queued."""

    __test__ = False
    parse_job: Callable[[str], CallJob]  # JobStarter.parse: job JSON or job_ref -> job
    sqs: Any
    calls_queue_url: str
    announcer: TestCallAnnouncer

    def handle(self, body: str) -> bool:
        """True when the call was queued; False when it was refused (and the requester told).

        Refusals are consumed, never retried; an infrastructure error raises (the job queue
        delivers the message again)."""
        try:
            self.forward(body)
        except ValueError as refused:  # RefusedTestCall, or the job's BadJobMessage
            message = _loose(body)
            test_id = str(message.get("test_id") or "unknown")
            origin = message.get("origin") if isinstance(message.get("origin"), dict) else None
            by = message.get("requested_by")
            job_id = (message.get("job") or {}).get("job_id") if message.get("job") else None
            self.announcer.refuse(
                test_id, job_id, origin, by if isinstance(by, str) else None, str(refused)
            )
            log.warning("test call %s refused: %s", test_id, refused)
            return False
        return True

    def forward(self, body: str) -> CallJob:
        """Queue the test call; raises `RefusedTestCall` (nothing queued) when it cannot be."""
        try:
            message = TestCallMessage.model_validate_json(body)
        except ValidationError as error:
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
            )
            raise RefusedTestCall(f"the test-call message cannot be used: {where}") from None
        if (message.job is None) == (message.job_ref is None):
            raise RefusedTestCall("a test-call message needs one of job or job_ref")
        job_part = message.job if message.job is not None else {"job_ref": message.job_ref}
        job = self.parse_job(json.dumps(job_part))
        requester_number(job, message.to)  # refused here, before anything is queued
        person_one = job.model_copy(update={"receivers": (first_receiver(job),)})
        trimmed = person_one.model_dump(mode="json")
        queued = message.model_copy(update={"job": trimmed, "job_ref": None})
        self.sqs.send_message(
            QueueUrl=self.calls_queue_url, MessageBody=queued.model_dump_json(exclude_none=True)
        )
        return job


def _loose(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


class TestCallPlaced(StrEnum):
    """What the dialer did with a test-call message (its log and metric value)."""

    __test__ = False

    DIALLED = "test_dialled"
    DUPLICATE = "test_duplicate"  # dialled before: nothing done
    REFUSED = "test_refused"  # the number cannot be called (do-not-call list): announced
    FAILED = "test_failed"  # Connect refused the call: announced
    DROPPED = "dropped"  # an unreadable message
    LINE_BUSY = "test_line_busy"  # no free line now: the message comes back later


@dataclass
class TestCaller:
    """The dialer's part: place the one call, as the dialer places a job's call."""

    __test__ = False
    sessions: DynamoSessionStore
    connect: ConnectDialer
    dials: DialLog
    lines: LineLeases
    records: TestCallRecords
    completion: CallCompletion
    announcer: TestCallAnnouncer
    dnc: DynamoDoNotCall | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def place(self, body: str) -> TestCallPlaced:
        """What was done; LINE_BUSY: leave the message for a later delivery."""
        try:
            message = TestCallMessage.model_validate_json(body)
            job = CallJob.model_validate(message.job or {})  # checked by start-job's intake
        except ValidationError as error:
            log.error("test-call message dropped: %s", error)
            return TestCallPlaced.DROPPED
        if not job.receivers:
            log.error("test-call message %s without a usable job dropped", message.test_id)
            return TestCallPlaced.DROPPED
        now = self.clock()
        try:
            to = requester_number(job, message.to)
            key = number_key_for_test(self.dnc, to)
            session = session_for_test(job, to, message.test_id, now, number_key=key)
        except RefusedTestCall as refused:
            self._refused(message, job, str(refused))
            return TestCallPlaced.REFUSED
        epoch = int(now.timestamp())
        requested_at = self.records.open(
            message.test_id,
            job.job_id,
            mask_phone(to),
            message.origin,
            message.requested_by,
            now=epoch,
            deadline=epoch + backstop_deadline_seconds(job),
        )
        try:
            self.sessions.create(session)
        except StaleSession:  # a redelivery: the same ClientToken never rings twice
            stored = self.sessions.get(session.call_id)
            if stored is not None and stored.result is not None:
                return TestCallPlaced.DUPLICATE
            session = stored or session
        waited = epoch - requested_at
        if waited > LINE_WAIT_SECONDS and self.lines.lease(session.call_id) is None:
            return self._no_line(session)  # never dialled: no call of ours can exist
        if not self.lines.acquire(session.call_id, f"test#{job.job_id}", TEST_LINE_LIMIT):
            return TestCallPlaced.LINE_BUSY
        self.dials.record(session.call_id, job.receivers[0].id, 1, session.call_id)
        if not self.lines.fence(session.call_id):  # reclaimed meanwhile: take a line again
            return TestCallPlaced.LINE_BUSY
        try:
            contact_id = self.connect.dial(session.call_id, to)
        except DialError as error:
            self.lines.release(session.call_id)
            if error.fault is DialFault.RETRY_LATER:
                return TestCallPlaced.LINE_BUSY
            status = (
                CallStatus.NOT_CALLABLE
                if error.fault is DialFault.NOT_CALLABLE
                else CallStatus.FAILED
            )
            result = session.end_with(status, str(error), self.clock())
            self.sessions.save(session)
            self.completion.complete(session, result)
            return TestCallPlaced.FAILED
        self.sessions.link_contact(contact_id, session.call_id)
        self.lines.set_contact(session.call_id, contact_id)
        return TestCallPlaced.DIALLED

    def _no_line(self, session: CallSession) -> TestCallPlaced:
        """Every line stayed busy: the requester hears so instead of waiting on."""
        minutes = LINE_WAIT_SECONDS // 60
        why = f"no line was free within {minutes} minutes (the jobs' calls hold them); try again"
        result = session.end_with(CallStatus.FAILED, why, self.clock())
        try:
            self.sessions.save(session)
        except StaleSession:
            return TestCallPlaced.DUPLICATE  # ended meanwhile (the sweeper's backstop)
        self.completion.complete(session, result)
        return TestCallPlaced.FAILED

    def _refused(self, message: TestCallMessage, job: CallJob, why: str) -> None:
        self.announcer.refuse(
            message.test_id, job.job_id, message.origin, message.requested_by, why
        )
