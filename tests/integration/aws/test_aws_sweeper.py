"""The sweeper and the time-out step: results re-sent, lost lines reclaimed, answers kept."""

from __future__ import annotations

import json
import time
from typing import Any

from backend.aws.jobs import JobStore
from backend.aws.wiring import call_sweeper, call_timeouts, jobs_table, line_leases, session_store
from backend.domain.models import CallJob
from backend.handlers import connect_flow, dialer, sweeper

from .conftest import LambdaContext, RecordingSfn, Stack, example_job, flow_event, sqs_event


def _dialled(stack: Stack, ctx: LambdaContext, receiver: str = "1") -> tuple[CallJob, str]:
    job: CallJob = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    body = {"task_token": "token-1", "job_id": job.job_id, "receiver_id": receiver, "attempt": 1}
    dialer.handler(sqs_event([{"Body": json.dumps(body)}]), ctx)
    return job, f"{job.job_id}:{receiver}:1"


def _later(seconds: int) -> Any:
    return lambda: time.time() + seconds


def test_the_sweeper_sends_an_undelivered_result_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    _, call_id = _dialled(stack, ctx)
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    recording_sfn.errors = ["ServiceUnavailable"]  # the flow's SendTaskSuccess fails
    answers = [("OkIntent", ""), ("YesIntent", ""), ("ChoiceIntent", "B"), ("NumberIntent", "3")]
    answers += [("DateIntent", "2026-12-01"), ("TimeIntent", "15:30")]
    for intent, answer in answers:
        connect_flow.handler(
            flow_event(call_id, {"event": "answer", "intent": intent, "answer": answer}), ctx
        )
    # ... and the DISCONNECTED event never comes. Too early for the sweeper:
    assert sweeper.handler({}, ctx) == {"resent": 0, "released": 0, "tests_ended": 0}
    assert recording_sfn.successes == []

    call_sweeper().now = _later(600)
    assert sweeper.handler({}, ctx)["resent"] == 1
    assert sweeper.handler({}, ctx)["resent"] == 0  # sent and marked: never again
    assert len(recording_sfn.successes) == 1
    assert session_store().load(call_id)[1] is True


def test_the_sweeper_reclaims_a_line_whose_disconnect_was_lost(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    _, _call_id = _dialled(stack, ctx)
    [contact] = stack.connect.dialled
    assert line_leases().live() == 1
    call_sweeper().now = _later(600)
    assert sweeper.handler({}, ctx)["released"] == 0  # Connect says the call is still on

    stack.connect.disconnects[contact] = ("CUSTOMER_DISCONNECT", True)  # event lost
    assert sweeper.handler({}, ctx)["released"] == 1
    assert sweeper.handler({}, ctx)["released"] == 0
    assert line_leases().live() == 0


def test_a_call_that_outlives_its_task_keeps_its_answers(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job, call_id = _dialled(stack, ctx)
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    event = {"job_id": job.job_id, "receiver_id": "1", "attempt": 1, "call_timeout_seconds": 300}

    resolved = call_timeouts().resolve(event)

    assert resolved["result"]["status"] == "DropCall"
    assert resolved["result"]["answers"] == ["OK", None, None, None, None, None]
    assert "timed out" in resolved["result"]["error"]
    assert call_timeouts().resolve(event) == resolved  # a retried step: the same result
    late = connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "Yes"}), ctx)
    assert late["action"] == "end"  # the person hears the ending
    never = call_timeouts().resolve({**event, "receiver_id": "2"})
    assert never["result"]["status"] == "Failed"
    assert recording_sfn.successes == []
