"""The dialer: one calls-queue message = one attempt to call one receiver, dialled at most once."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from backend.aws.clients import ClientError, error_code
from backend.aws.completion import DEPLOYMENT_FAULT, StepFunctionsCallbacks
from backend.aws.connect import ConnectDialer, DialError, DialFault
from backend.aws.dials import DialLog
from backend.aws.dnc import DynamoDoNotCall
from backend.aws.jobs import ENDED, ClaimState, JobsTable, JobStore
from backend.aws.lines import LineLeases
from backend.aws.sessions import DynamoSessionStore
from backend.aws.test_calls import TestCaller, TestCallPlaced, is_test_call_message
from backend.domain.calling_rules import Expired, next_call_time
from backend.domain.dnc import DO_NOT_CALL, DialVerdict, check_dial
from backend.domain.models import CallJob, CallResult, CallStatus, Receiver
from backend.domain.session import CallSession, StaleSession, call_id_for
from backend.domain.speech import Speech, SpeechError

log = logging.getLogger(__name__)

BAD_TASK = "Callouts.BadCallTask"


class CallTask(BaseModel):
    """The calls-queue message body the state machine sends."""

    task_token: str = Field(min_length=1)
    job_id: str = Field(min_length=1)
    receiver_id: str = Field(min_length=1)
    attempt: int = Field(ge=1)
    # The Dial task's HeartbeatSeconds: a deferred message comes back well within it.
    heartbeat_seconds: int = Field(default=300, ge=1)


class DialOutcome(StrEnum):
    DIALLED = "dialled"
    DUPLICATE = "duplicate"  # claimed and dialled before: nothing done
    NOT_CALLABLE = "not_callable"
    CANCELLED = "cancelled"
    WAITING = "waiting"  # outside the calling window
    EXPIRED = "expired"  # the job's deadline passed before this person could be called
    FAILED = "failed"
    DEPLOYMENT_FAULT = "deployment_fault"
    DROPPED = "dropped"  # unreadable message without a task token
    STALE = "stale"  # its task already ended (timed out, stopped): nobody is rung for it
    # Call me first (backend/aws/test_calls.py): a test call, no task behind it.
    TEST_DIALLED = "test_dialled"
    TEST_DUPLICATE = "test_duplicate"
    TEST_REFUSED = "test_refused"
    TEST_FAILED = "test_failed"


class RetryLater(Exception):
    """Leave the message for a later delivery (same ClientToken): Connect is throttling or busy,
    or every line is taken. `seconds` is the jittered visibility delay for the message."""

    def __init__(self, reason: str, seconds: int) -> None:
        super().__init__(reason)
        self.seconds = seconds


# No free line: look again soon (a line frees every call length / budget seconds on average);
# the jitter spreads the waiting messages so they do not all ask at the same moment.
NO_LINE_DELAY = (5, 20)
THROTTLE_BASE_SECONDS = 2


def no_line_delay(cap: int) -> int:
    return max(1, min(cap, random.randint(*NO_LINE_DELAY)))


def throttle_delay(receive_count: int, cap: int) -> int:
    """Exponential back-off with full jitter, at least 1 s and at most `cap`."""
    ceiling = min(cap, THROTTLE_BASE_SECONDS * 2 ** min(receive_count, 16))
    return max(1, int(random.uniform(0, ceiling)))


@dataclass
class Dialer:
    jobs: JobsTable
    store: JobStore
    sessions: DynamoSessionStore
    callbacks: StepFunctionsCallbacks
    connect: ConnectDialer
    dials: DialLog
    lines: LineLeases
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    dnc: DynamoDoNotCall | None = None  # do-not-call list + daily cap (None: not checked)
    tests: TestCaller | None = None  # Call me first: test-call messages (None: not taken)

    def __post_init__(self) -> None:
        self._jobs: dict[str, tuple[CallJob, Speech]] = {}  # warm containers reuse both

    def _job(self, job_id: str) -> tuple[CallJob, Speech]:
        if job_id not in self._jobs:
            job = self.store.load(job_id)
            self._jobs[job_id] = (job, Speech(job))
        return self._jobs[job_id]

    def handle(self, body: str, receive_count: int = 1) -> DialOutcome:
        if self.tests is not None and is_test_call_message(body):
            placed = self.tests.place(body)
            if placed is TestCallPlaced.LINE_BUSY:
                raise RetryLater("no line for the test call", no_line_delay(60))
            return DialOutcome(placed.value)
        try:
            task = CallTask.model_validate_json(body)
        except ValidationError as error:
            token = _token_of(body)
            if token:
                self.callbacks.fail(token, BAD_TASK, f"unreadable call task: {error}")
                return DialOutcome.FAILED
            log.error("calls-queue message without a task token dropped: %s", error)
            return DialOutcome.DROPPED
        # The heartbeat both proves the task is still open and keeps it open while the message
        # waits for a line or for Connect: a message for a task that ended rings nobody.
        if not self.callbacks.heartbeat(task.task_token):
            log.warning(
                "stale call task dropped (its task ended): job %s receiver %s attempt %d",
                task.job_id,
                task.receiver_id,
                task.attempt,
            )
            return DialOutcome.STALE
        return self.dial(task, receive_count)

    def _result(self, task: CallTask, status: CallStatus, error: str | None) -> CallResult:
        return CallResult(
            job_id=task.job_id,
            receiver_id=task.receiver_id,
            status=status,
            error=error,
            call_at=self.clock(),
            attempts=task.attempt,
        )

    def dial(self, task: CallTask, receive_count: int = 1) -> DialOutcome:
        record = self.jobs.get(task.job_id)
        if record and record.get("cancel_requested", {}).get("BOOL"):
            by = record.get("cancelled_by", {}).get("S") or "a user"
            self.callbacks.result(
                task.task_token, self._result(task, CallStatus.CANCELLED, f"cancelled by {by}")
            )
            return DialOutcome.CANCELLED
        status = record.get("status", {}).get("S") if record else None
        if status in ENDED:  # e.g. its execution was stopped: a late task must not ring anyone
            error = f"the job is over ({str(status).lower()})"
            self.callbacks.result(task.task_token, self._result(task, CallStatus.CANCELLED, error))
            return DialOutcome.CANCELLED
        try:
            job, speech = self._job(task.job_id)
        except ClientError as missing:
            # Without s3:ListBucket a missing object reads as AccessDenied.
            if error_code(missing) not in ("NoSuchKey", "404", "AccessDenied", "403"):
                raise
            cause = f"job {task.job_id} is not known (its document cannot be read)"
            self.callbacks.fail(task.task_token, BAD_TASK, cause)
            return DialOutcome.FAILED
        try:
            receiver = job.receiver(task.receiver_id)
        except KeyError:
            error = f"receiver {task.receiver_id} is not in job {task.job_id}"
            self.callbacks.result(task.task_token, self._result(task, CallStatus.FAILED, error))
            return DialOutcome.FAILED
        now = self.clock()
        when = next_call_time(receiver, now, job.settings, _started_at(record, now))
        if isinstance(when, Expired):
            result = when.result(task.job_id, task.receiver_id, task.attempt - 1)
            self.callbacks.result(task.task_token, result)
            return DialOutcome.EXPIRED
        if when > now:
            self.callbacks.wait(task.task_token, int((when - now).total_seconds()) + 1)
            return DialOutcome.WAITING

        claim = self.jobs.claim(task.job_id, task.receiver_id, task.attempt, task.task_token)
        if claim.state is ClaimState.DIALLED:
            return DialOutcome.DUPLICATE
        dialable = self._dialable(task, job, receiver, now)
        if isinstance(dialable, DialOutcome):
            return dialable
        try:
            prompts = speech.prompts(receiver)
        except SpeechError as error:
            self.callbacks.result(
                task.task_token, self._result(task, CallStatus.FAILED, f"prompt: {error}")
            )
            return DialOutcome.FAILED
        session = CallSession.new(
            job, receiver, task.attempt, prompts, now=now, task_token=task.task_token
        )
        session.number_key = dialable  # an opt-out in the call goes on the list by this key
        try:
            self.sessions.create(session)
        except StaleSession:  # a PENDING claim: the session exists from the earlier delivery
            stored = self.sessions.get(session.call_id)
            if stored is not None and stored.result is not None:
                # Ended without a contact (NotCallable): repeat the result, never the dial.
                self.callbacks.result(task.task_token, stored.result)
                self.sessions.mark_sent(stored.call_id)
                return DialOutcome.DUPLICATE
            session = stored or session
        cap = task.heartbeat_seconds // 3
        if not self.lines.acquire(session.call_id, task.job_id, job.settings.concurrency):
            raise RetryLater("every line is taken", no_line_delay(cap))
        self.dials.record(task.job_id, task.receiver_id, task.attempt, session.call_id)
        if not self.lines.fence(session.call_id):  # reclaimed: this dialer was taken for dead
            raise RetryLater("its line was reclaimed", no_line_delay(cap))
        try:
            contact_id = self.connect.dial(session.call_id, receiver.phone_number)
        except DialError as error:
            self.lines.release(session.call_id)  # no call: its line is free again
            if error.fault is DialFault.RETRY_LATER:
                raise RetryLater(str(error), throttle_delay(receive_count, cap)) from error
            return self._dial_failed(task, session, error)
        self.sessions.link_contact(contact_id, session.call_id)
        self.lines.set_contact(session.call_id, contact_id)
        self.jobs.mark_dialled(task.job_id, task.receiver_id, task.attempt, contact_id)
        return DialOutcome.DIALLED

    def _dialable(
        self, task: CallTask, job: CallJob, receiver: Receiver, now: datetime
    ) -> DialOutcome | str | None:
        """The do-not-call list and daily cap (`dnc.check_dial`): the number's key if it may
        be dialled, else what was done instead (a NotCallable result, or wait for tomorrow)."""
        if self.dnc is None:
            return None
        call_id = call_id_for(task.job_id, task.receiver_id, task.attempt)
        check = check_dial(job, receiver, call_id, now, self.dnc, self.dnc)
        if check.verdict is DialVerdict.DO_NOT_CALL:
            result = self._result(task, CallStatus.NOT_CALLABLE, DO_NOT_CALL)
            self.callbacks.result(task.task_token, replace(result, attempts=task.attempt - 1))
            return DialOutcome.NOT_CALLABLE
        if check.verdict is DialVerdict.CAPPED and check.wait_until is not None:
            self.callbacks.wait(task.task_token, int((check.wait_until - now).total_seconds()) + 1)
            return DialOutcome.WAITING
        return check.number_key

    def _dial_failed(self, task: CallTask, session: CallSession, error: DialError) -> DialOutcome:
        if error.fault is DialFault.NOT_CALLABLE:
            result = session.end_with(CallStatus.NOT_CALLABLE, str(error), self.clock())
            try:
                self.sessions.save(session)
            except StaleSession:
                log.warning("call %s changed while ending it as NotCallable", session.call_id)
            self.callbacks.result(task.task_token, result)
            self.sessions.mark_sent(session.call_id)
            return DialOutcome.NOT_CALLABLE
        # Our deployment is wrong (flow, instance, permissions): stop the job instead of
        # failing every receiver one by one, and say why in the task error.
        # Logged as an error and counted (Dial_deployment_fault): DialerDeploymentFaultAlarm.
        log.error("deployment fault, job %s stopped: %s", task.job_id, error)
        self.jobs.request_cancel(task.job_id, f"deployment fault ({error.code})")
        self.callbacks.fail(
            task.task_token,
            DEPLOYMENT_FAULT,
            f"Amazon Connect refused the call: {error}. Check the instance, contact flow and "
            "source phone number of the stack; the job was stopped.",
        )
        return DialOutcome.DEPLOYMENT_FAULT


def _started_at(record: dict[str, Any] | None, now: datetime) -> datetime:
    """When the job was accepted (its jobs-table `created_at`): the deadline counts from there."""
    try:
        return datetime.fromtimestamp(int((record or {})["created_at"]["N"]), UTC)
    except (KeyError, TypeError, ValueError):
        return now


@dataclass(frozen=True, slots=True)
class CallsQueue:
    """The calls queue as the dialer sees it: a message left for later comes back after a delay."""

    sqs: Any
    url: str

    def defer(self, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


def _token_of(body: str) -> str | None:
    try:
        data: Any = json.loads(body)
    except json.JSONDecodeError:
        return None
    token = data.get("task_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None
