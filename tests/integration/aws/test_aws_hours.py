"""Calling hours and the deadline on AWS, with moto executing the state machine: the dialer asks
`calling_rules.next_call_time`; past the deadline (or when the window does not open before it) the
task ends as Expired, the state machine saves it, and the job ends without anyone being dialled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.aws import wiring
from backend.aws.wiring import jobs_table
from backend.domain.weekdays import Weekday

from .conftest import LambdaContext, Stack, example_job
from .test_aws_pipeline import Phones, _start

# moto runs each execution in background threads that a loaded machine can starve past the
# tests' waits; a genuine failure fails all three tries.


def _created_at(job_id: str) -> datetime:
    record = jobs_table().get(job_id)
    assert record is not None
    return datetime.fromtimestamp(int(record["created_at"]["N"]), UTC)


def test_past_the_deadline_every_receiver_expires_and_the_job_ends(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    stack = running_stack
    job = example_job(calling_window="any", deadline_hours=1)
    execution_arn = _start(stack, ctx, job)  # queued and started; nothing dialled yet
    at_deadline = _created_at(job.job_id) + timedelta(hours=1)
    wiring.dialer().clock = lambda: at_deadline

    assert Phones(stack, {}).run(execution_arn) == "SUCCEEDED"

    assert stack.connect.requests == []
    results = stack.results(job.job_id)
    assert {r: v["status"] for r, v in results.items()} == dict.fromkeys(
        (r.id for r in job.receivers), "Expired"
    )


def test_a_window_that_opens_after_the_deadline_expires_at_once_instead_of_waiting(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    stack = running_stack
    # Only a day three days from now (Hong Kong time) is open; the deadline is in 2 hours.
    day = list(Weekday)[(datetime.now(ZoneInfo("Asia/Hong_Kong")) + timedelta(days=3)).weekday()]
    job = example_job(calling_days=day.value, deadline_hours=2)
    wiring.dialer().clock = lambda: datetime.now(UTC)
    execution_arn = _start(stack, ctx, job)

    assert Phones(stack, {}).run(execution_arn) == "SUCCEEDED"

    assert stack.connect.requests == []
    statuses = {v["status"] for v in stack.results(job.job_id).values()}
    assert statuses == {"Expired"}
