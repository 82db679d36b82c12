"""Call me first on AWS (moto + the fake Connect): one call, marked as a test, never a result."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.aws import wiring
from backend.aws.submitter import SqsJobSubmitter
from backend.aws.test_call_outcomes import FINISHED
from backend.aws.test_calls import LINE_WAIT_SECONDS, backstop_deadline_seconds
from backend.aws.wiring import call_sweeper, do_not_call, line_leases, session_store
from backend.domain.dnc import add_number
from backend.domain.models import CallJob
from backend.handlers import connect_flow, contact_events, dialer, start_job, sweeper

from .conftest import (
    LambdaContext,
    RecordingSfn,
    Stack,
    disconnected_event,
    example_job,
    flow_event,
    sqs_event,
)

ME = "+85291234567"
ORIGIN = {"platform": "slack", "channel_id": "C1", "user_id": "U1", "thread_ts": "1.2"}


def _request(stack: Stack, job: CallJob, to: str = ME, test_id: str = "abc123def456") -> None:
    """The bot's side: a test-call message on the job queue, through start-job."""
    SqsJobSubmitter.from_settings().request_test_call(
        job, to, test_id, origin=ORIGIN, requested_by="U1"
    )
    [message] = stack.queue_messages(stack.job_queue_url)
    assert json.loads(message["Body"])["kind"] == "test_call"
    start_job.handler(sqs_event([message], queue="callouts-jobs.fifo"), LambdaContext())
    # Lambda deletes a handled message: the FIFO group would stay blocked otherwise.
    stack.sqs.delete_message(QueueUrl=stack.job_queue_url, ReceiptHandle=message["ReceiptHandle"])


def _test_events(stack: Stack) -> list[dict[str, Any]]:
    return [e["detail"] for e in stack.events() if e.get("detail-type") == FINISHED]


def _nothing_of_the_job(stack: Stack, job: CallJob) -> None:
    """No job record, claim, dial of the job, result or execution: the test is nobody's attempt."""
    items = stack.ddb.query(
        TableName=stack.jobs_table,
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": job.job_id}},
    )["Items"]
    assert items == []
    assert stack.results(job.job_id) == {}
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


def test_a_test_call_rings_once_runs_the_flow_and_is_announced(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    _request(stack, job)
    [call] = stack.queue_messages(stack.calls_queue_url)
    queued = json.loads(call["Body"])
    assert [r["id"] for r in queued["job"]["receivers"]] == [job.receivers[0].id]  # person #1

    assert dialer.handler(sqs_event([call, call]), ctx) == {"batchItemFailures": []}
    assert len(stack.connect.dialled) == 1  # a redelivery reuses the ClientToken
    request = stack.connect.requests[0]
    assert request["DestinationPhoneNumber"] == ME
    call_id = request["ClientToken"]
    assert call_id == "test#abc123def456"
    assert request["Attributes"] == {"call_id": call_id}

    first = connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    assert "Chan Tai Man" in first["prompt"]  # person #1's prompts
    for intent, answer in [
        ("OkIntent", ""),
        ("YesIntent", ""),
        ("ChoiceIntent", "B"),
        ("NumberIntent", "2"),
        ("DateIntent", "2026-12-05"),
        ("TimeIntent", "15:30"),
    ]:
        reply = connect_flow.handler(
            flow_event(call_id, {"event": "answer", "intent": intent, "answer": answer}), ctx
        )
    assert reply["action"] == "end"

    [announced] = _test_events(stack)
    assert announced["status"] == "CallCompleted"
    assert announced["answers"] == ["OK", "Yes", "B", "2", "2026-12-05", "15:30"]
    assert announced["origin"] == ORIGIN
    assert announced["masked_to"] == "+852****4567"
    assert ME not in json.dumps(announced)
    assert recording_sfn.successes == []  # no task of any job
    _nothing_of_the_job(stack, job)
    session, sent = session_store().load(call_id)
    assert session is not None
    assert session.test
    assert sent

    [contact] = stack.connect.dialled  # the DISCONNECTED after the flow's end announces nothing
    stack.connect.disconnects[contact] = ("CONTACT_FLOW_DISCONNECT", True)
    contact_events.handler(disconnected_event(contact), ctx)
    assert _test_events(stack) == []


def test_a_hang_up_is_announced_from_the_disconnect(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    _request(stack, job)
    dialer.handler(sqs_event(stack.queue_messages(stack.calls_queue_url)), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("TELECOM_UNANSWERED", False)

    assert contact_events.handler(disconnected_event(contact), ctx)["status"] == "NoAnswer"

    [announced] = _test_events(stack)
    assert announced["status"] == "NoAnswer"
    assert "Not part of the job's results" in announced["summary"]
    assert recording_sfn.successes == []
    _nothing_of_the_job(stack, job)


def test_a_listed_number_is_refused_without_a_dial(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    dnc = do_not_call()
    assert dnc is not None
    add_number(dnc, ME, "cli")
    _request(stack, job)
    dialer.handler(sqs_event(stack.queue_messages(stack.calls_queue_url)), ctx)

    assert stack.connect.requests == []
    [announced] = _test_events(stack)
    assert announced["status"] == "Refused"
    assert "do-not-call" in announced["summary"]
    assert announced["origin"] == ORIGIN


def test_an_unreadable_number_is_refused_at_start_job(stack: Stack) -> None:
    job = example_job()
    _request(stack, job, to="call me")

    assert stack.queue_messages(stack.calls_queue_url) == []
    [announced] = _test_events(stack)
    assert announced["status"] == "Refused"
    assert "letters" in announced["refused"]
    _nothing_of_the_job(stack, job)


def test_a_test_call_takes_no_daily_cap_count(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    for test_id in ("aaaaaa111111", "bbbbbb222222", "cccccc333333", "dddddd444444"):
        _request(stack, job, test_id=test_id)
        dialer.handler(sqs_event(stack.queue_messages(stack.calls_queue_url)), ctx)
        [contact] = stack.connect.dialled[-1:]
        stack.connect.disconnects[contact] = ("CUSTOMER_DISCONNECT", True)
        contact_events.handler(disconnected_event(contact), ctx)  # frees the line
    assert len(stack.connect.dialled) == 4  # over max_calls_per_day (3): not counted
    counts = stack.ddb.scan(TableName=stack.dnc_table)["Items"]
    assert not [item for item in counts if item["pk"]["S"].startswith("dials#")]


def test_the_bots_number_book_keeps_one_item_per_user(stack: Stack) -> None:
    from bot.aws_numbers import DynamoNumberBook

    book = DynamoNumberBook(lambda: stack.ddb, stack.jobs_table)
    assert book.test_number("slack#T1#U1") is None
    book.remember_test_number("slack#T1#U1", ME)
    book.remember_preview("slack#T1#U1", "job-1")
    assert book.test_number("slack#T1#U1") == ME
    assert book.last_preview("slack#T1#U1") == "job-1"
    assert book.test_number("slack#T1#U2") is None


# ------------------------------------------------------------------ the backstop (no task timeout)


def _sweep_at(ctx: LambdaContext, seconds_later: float) -> dict[str, int]:
    call_sweeper().now = lambda: time.time() + seconds_later
    return dict(sweeper.handler({}, ctx))


def _deadline(job: CallJob) -> int:
    return backstop_deadline_seconds(job)


def test_a_test_call_whose_end_never_comes_is_told_after_its_deadline(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    _request(stack, job)
    dialer.handler(sqs_event(stack.queue_messages(stack.calls_queue_url)), ctx)
    call_id = stack.connect.requests[0]["ClientToken"]
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    # ... then Connect reports nothing more: no flow turn, no DISCONNECTED.

    assert _sweep_at(ctx, _deadline(job) - 60)["tests_ended"] == 0  # the call may still run
    assert _test_events(stack) == []

    assert _sweep_at(ctx, _deadline(job) + 60)["tests_ended"] == 1
    assert _sweep_at(ctx, _deadline(job) + 120)["tests_ended"] == 0  # told once
    [announced] = _test_events(stack)
    assert announced["status"] == "DropCall"  # the answer given is kept
    assert announced["answers"][0] == "OK"
    assert "timed out" in announced["summary"]
    assert announced["origin"] == ORIGIN
    late = connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "Yes"}), ctx)
    assert late["action"] == "end"  # a call still on hears the ending
    assert _test_events(stack) == []  # nothing announced after the one outcome
    assert len(stack.connect.requests) == 1
    _nothing_of_the_job(stack, job)


def test_a_finished_test_call_is_left_alone_by_the_backstop(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    _request(stack, job)
    dialer.handler(sqs_event(stack.queue_messages(stack.calls_queue_url)), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("TELECOM_UNANSWERED", False)
    contact_events.handler(disconnected_event(contact), ctx)

    assert _sweep_at(ctx, _deadline(job) + 60)["tests_ended"] == 0
    assert [e["status"] for e in _test_events(stack)] == ["NoAnswer"]


def test_a_test_call_that_never_gets_a_line_is_told_so_and_never_rings(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, monkeypatch: Any
) -> None:
    monkeypatch.setenv("CALLOUTS_MAX_CONCURRENT_CALLS", "1")
    wiring.reset()
    assert line_leases().acquire("other:1:1", "other", 1)  # a job's call holds the only line
    job = example_job()
    _request(stack, job)
    [call] = stack.queue_messages(stack.calls_queue_url)
    assert dialer.handler(sqs_event([call]), ctx)["batchItemFailures"]  # back later
    assert _test_events(stack) == []

    wiring.test_caller().clock = lambda: (
        datetime.now(UTC) + timedelta(seconds=LINE_WAIT_SECONDS + 30)
    )
    assert dialer.handler(sqs_event([call]), ctx) == {"batchItemFailures": []}
    assert dialer.handler(sqs_event([call]), ctx) == {"batchItemFailures": []}  # redelivered

    assert stack.connect.requests == []
    [announced] = _test_events(stack)
    assert announced["status"] == "Failed"
    assert "no line was free within 10 minutes" in announced["summary"]
    assert _sweep_at(ctx, _deadline(job) + 60)["tests_ended"] == 0  # told already


def test_a_test_call_lost_before_its_session_is_told_it_was_not_placed(
    stack: Stack, ctx: LambdaContext
) -> None:
    now = int(time.time())
    wiring.test_call_records().open(
        "lost123456", "job-1", "+852****4567", ORIGIN, "U1", now=now, deadline=now + 900
    )  # the dialer took the message, then it was lost before the session was made

    assert _sweep_at(ctx, 600)["tests_ended"] == 0
    assert _sweep_at(ctx, 960)["tests_ended"] == 1
    assert _sweep_at(ctx, 1020)["tests_ended"] == 0
    [announced] = _test_events(stack)
    assert announced["status"] == "Refused"
    assert "could not be placed in time" in announced["summary"]
    assert announced["origin"] == ORIGIN
