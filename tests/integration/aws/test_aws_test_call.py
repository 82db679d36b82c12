"""Call me first on AWS (moto + the fake Connect): one call, marked as a test, never a result."""

from __future__ import annotations

import json
from typing import Any

from backend.aws.submitter import SqsJobSubmitter
from backend.aws.test_call_outcomes import FINISHED
from backend.aws.wiring import do_not_call, session_store
from backend.domain.dnc import add_number
from backend.domain.models import CallJob
from backend.handlers import connect_flow, contact_events, dialer, start_job

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
