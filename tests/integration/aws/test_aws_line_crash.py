"""A dialer that dies between taking a line and dialling: the line comes back within minutes,
live calls never exceed the budget, and a redelivered message never rings anyone twice.

Dials are counted from the fake Connect's own record (`requests`, `contacts`), not from ours.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from backend.aws import wiring
from backend.aws.dials import DialLog
from backend.aws.jobs import JobStore
from backend.aws.lines import DIAL_GRACE_SECONDS
from backend.aws.wiring import call_sweeper, jobs_table, line_leases
from backend.domain.models import CallJob
from backend.handlers import dialer, sweeper

from .conftest import LambdaContext, RecordingSfn, Stack, example_job, sqs_event
from .test_aws_template import template as template


class Crash(Exception):
    """The dialer's container dies (timeout, out of memory) with the message not deleted."""


@pytest.fixture
def crash_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first dial fact of the listed receivers crashes the dialer: the line is taken, the
    Connect request never leaves."""
    receivers: list[str] = []
    real = DialLog.record

    def record(self: DialLog, job_id: str, receiver_id: str, attempt: int, call_id: str) -> None:
        if receiver_id in receivers:
            receivers.remove(receiver_id)
            raise Crash(receiver_id)
        real(self, job_id, receiver_id, attempt, call_id)

    monkeypatch.setattr(DialLog, "record", record)
    return receivers


def _job(stack: Stack) -> CallJob:
    job: CallJob = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    return job


def _body(job: CallJob, receiver: str) -> str:
    token = f"token-{receiver}"
    return json.dumps(
        {"task_token": token, "job_id": job.job_id, "receiver_id": receiver, "attempt": 1}
    )


def _deliver(ctx: LambdaContext, body: str) -> dict[str, Any]:
    """One delivery; a crash leaves the message on the queue (SQS delivers it again)."""
    return dict(dialer.handler(sqs_event([{"Body": body}]), ctx))


def _crashed(outcome: dict[str, Any]) -> bool:
    return bool(outcome["batchItemFailures"])


def _sweep_at(ctx: LambdaContext, seconds_later: int) -> int:
    call_sweeper().now = lambda: time.time() + seconds_later
    released: int = sweeper.handler({}, ctx)["released"]
    return released


def _rung(stack: Stack) -> Counter[str]:
    """Connect's own record: distinct contacts per ClientToken's receiver."""
    return Counter(token.split(":")[1] for token in stack.connect.contacts)


def test_a_redelivered_message_reuses_the_line_and_rings_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, crash_once: list[str]
) -> None:
    job = _job(stack)
    crash_once.append("1")
    assert _crashed(_deliver(ctx, _body(job, "1")))
    assert line_leases().live() == 1
    assert stack.connect.requests == []

    assert _deliver(ctx, _body(job, "1")) == {"batchItemFailures": []}  # SQS delivers it again
    assert _deliver(ctx, _body(job, "1")) == {"batchItemFailures": []}  # ... and once more

    assert _rung(stack) == {"1": 1}
    assert line_leases().live() == 1  # one call, one line
    assert _sweep_at(ctx, DIAL_GRACE_SECONDS + 60) == 0  # the call is on: its line stays


def test_a_reclaimed_line_is_taken_afresh_by_a_late_redelivery_and_rings_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, crash_once: list[str]
) -> None:
    job = _job(stack)
    crash_once.append("1")
    _deliver(ctx, _body(job, "1"))
    assert _sweep_at(ctx, DIAL_GRACE_SECONDS + 60) == 1
    assert line_leases().live() == 0

    _deliver(ctx, _body(job, "1"))  # the message comes back after the line was reclaimed

    assert _rung(stack) == {"1": 1}
    assert line_leases().live() == 1  # counted again, exactly once


def test_a_dialer_that_lost_its_line_mid_delivery_dials_nothing(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweeper reclaims between this dialer's lease and its Connect request (it was slow,
    not dead): the fence refuses, nobody is rung, the message comes back."""
    job = _job(stack)
    real = DialLog.record

    def slow(self: DialLog, *args: Any) -> None:
        assert _sweep_at(ctx, DIAL_GRACE_SECONDS + 60) == 1
        real(self, *args)

    monkeypatch.setattr(DialLog, "record", slow)
    assert _crashed(_deliver(ctx, _body(job, "1")))  # left for a later delivery
    assert stack.connect.requests == []
    assert line_leases().live() == 0


def test_a_line_whose_dialer_died_comes_back_within_minutes_and_never_over_budget(
    stack: Stack,
    recording_sfn: RecordingSfn,
    ctx: LambdaContext,
    crash_once: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLOUTS_MAX_CONCURRENT_CALLS", "1")
    wiring.reset()
    job = _job(stack)
    crash_once.append("1")
    assert _crashed(_deliver(ctx, _body(job, "1")))
    recording_sfn.ended.add("token-1")  # its task ended meanwhile: the redelivery rings nobody
    assert not _crashed(_deliver(ctx, _body(job, "1")))

    assert _crashed(_deliver(ctx, _body(job, "2")))  # the only line is held: deferred
    assert _sweep_at(ctx, 30) == 0  # its dialer might still be running
    assert stack.connect.requests == []
    assert _sweep_at(ctx, DIAL_GRACE_SECONDS + 60) == 1  # three minutes, not two hours
    assert _sweep_at(ctx, DIAL_GRACE_SECONDS + 120) == 0
    assert line_leases().live() == 0
    assert line_leases().live(job.job_id) == 0
    assert _deliver(ctx, _body(job, "2")) == {"batchItemFailures": []}
    assert _deliver(ctx, _body(job, "3"))["batchItemFailures"]  # 2 is on the line

    assert _rung(stack) == {"2": 1}
    assert line_leases().live() == 1


def test_the_grace_outlasts_any_dialer_invocation(template: dict[str, Any]) -> None:
    """A lease's `until` must outlive the invocation that renewed it, or a live dialer's
    lease could be reclaimed (its fence would then refuse the dial: safe, but slower)."""
    timeout = template["Resources"]["DialerFunction"]["Properties"]["Timeout"]
    assert timeout < DIAL_GRACE_SECONDS
