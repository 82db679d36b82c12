"""Dialer, contact-flow and contact-event handlers: claims, ClientToken, Connect errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.aws import wiring
from backend.aws.jobs import JobStore
from backend.aws.wiring import jobs_table, session_store
from backend.domain.job_state import JobState
from backend.domain.models import CallJob
from backend.handlers import connect_flow, contact_events, dialer
from backend.handlers import report as report_handler

from .conftest import (
    LambdaContext,
    RecordingSfn,
    Stack,
    disconnected_event,
    example_job,
    flow_event,
    sqs_event,
)


def _saved_job(stack: Stack, **settings: Any) -> CallJob:
    job: CallJob = example_job(**settings)
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    return job


def _task(
    job: CallJob,
    receiver: str = "1",
    attempt: int = 1,
    token: str = "token-1",  # noqa: S107
) -> dict[str, Any]:
    body = {"task_token": token, "job_id": job.job_id, "receiver_id": receiver, "attempt": attempt}
    return {"Body": json.dumps(body), "MessageId": f"{receiver}-{attempt}-{token}"}


def _queued(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    """Send a call task through the calls queue and receive it (a real receipt handle)."""
    stack.sqs.send_message(QueueUrl=stack.calls_queue_url, MessageBody=message["Body"])
    [received] = stack.queue_messages(stack.calls_queue_url)
    return received


def test_duplicate_redelivered_and_retried_messages_dial_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    message = _task(job)

    assert dialer.handler(sqs_event([message, message]), ctx) == {"batchItemFailures": []}
    dialer.handler(sqs_event([message]), ctx)  # SQS redelivery
    dialer.handler(sqs_event([message, message]), ctx)  # Lambda retry of the whole batch

    assert len(stack.connect.requests) == 1
    [request] = stack.connect.requests
    call_id = f"{job.job_id}:1:1"
    assert request["ClientToken"] == call_id
    assert request["Attributes"] == {"call_id": call_id}  # nothing but the call id
    assert request["DestinationPhoneNumber"] == job.receiver("1").phone_number
    session = session_store().get(call_id)
    assert session is not None
    assert session.task_token == "token-1"
    assert recording_sfn.successes == []  # the call is in progress: the flow completes it


def test_another_attempt_is_another_call(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, attempt=1), _task(job, attempt=2, token="t2")]), ctx)
    assert [r["ClientToken"] for r in stack.connect.requests] == [
        f"{job.job_id}:1:1",
        f"{job.job_id}:1:2",
    ]


def test_destination_not_allowed_is_not_callable_at_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    stack.connect.refuse[job.receiver("2").phone_number] = "DestinationNotAllowedException"

    assert dialer.handler(sqs_event([_task(job, "2")]), ctx) == {"batchItemFailures": []}

    [(token, output)] = recording_sfn.successes
    assert token == "token-1"
    assert output["result"]["status"] == "NotCallable"
    assert output["result"]["receiver_id"] == "2"
    assert "DestinationNotAllowedException" in output["result"]["error"]
    number = job.receiver("2").phone_number
    assert number not in output["result"]["error"]  # masked: reports and Slack show errors
    assert number[-4:] in output["result"]["error"]


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException"])
def test_throttling_leaves_the_message_and_redials_with_the_same_token(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, code: str
) -> None:
    job = _saved_job(stack)
    number = job.receiver("3").phone_number
    stack.connect.refuse[number] = code
    message = _queued(stack, _task(job, "3"))

    assert dialer.handler(sqs_event([message]), ctx) == {
        "batchItemFailures": [{"itemIdentifier": message["MessageId"]}]
    }
    # Backed off with jitter (never the queue's fixed 120 s), within the heartbeat window.
    assert stack.queue_messages(stack.calls_queue_url) == []
    assert (
        stack.sqs.get_queue_attributes(
            QueueUrl=stack.calls_queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
        == "1"
    )
    del stack.connect.refuse[number]
    assert dialer.handler(sqs_event([message]), ctx) == {"batchItemFailures": []}
    dialer.handler(sqs_event([message]), ctx)

    tokens = [r["ClientToken"] for r in stack.connect.requests]
    assert tokens == [f"{job.job_id}:3:1"] * 2  # the refused request and one real dial
    assert len(stack.connect.dialled) == 1
    assert recording_sfn.successes == []


def test_deployment_fault_fails_the_task_and_stops_the_job(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    stack.connect.refuse[job.receiver("1").phone_number] = "OutboundContactNotPermittedException"

    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    dialer.handler(sqs_event([_task(job, "2", token="token-2")]), ctx)

    [(token, error, cause)] = recording_sfn.failures
    assert (token, error) == ("token-1", "Callouts.DeploymentFault")
    assert "OutboundContactNotPermittedException" in cause
    assert "contact flow" in cause
    # The next receiver is not dialled: the job was stopped.
    assert len(stack.connect.requests) == 1
    [(token, output)] = recording_sfn.successes
    assert token == "token-2"
    assert output["result"]["status"] == "Cancelled"


def test_cancelled_job_ends_remaining_calls_without_dialling(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    from backend.aws.submitter import SqsJobSubmitter

    job = _saved_job(stack)
    assert SqsJobSubmitter.from_settings().cancel(job.job_id, "U42")

    dialer.handler(sqs_event([_task(job, "1"), _task(job, "2", token="token-2")]), ctx)

    assert stack.connect.requests == []
    statuses = {
        output["result"]["receiver_id"]: output["result"]["status"]
        for _, output in recording_sfn.successes
    }
    assert statuses == {"1": "Cancelled", "2": "Cancelled"}
    assert "U42" in recording_sfn.successes[0][1]["result"]["error"]


def test_outside_the_calling_window_waits_without_dialling(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job(calling_window="09:00-20:00", calling_days="Mon-Sat")
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    # Monday 07:00 in Hong Kong, where the example's receivers are: two hours before the window.
    wiring.dialer().clock = lambda: datetime(2026, 11, 29, 23, 0, tzinfo=UTC)

    dialer.handler(sqs_event([_task(job)]), ctx)

    assert stack.connect.requests == []
    [(_, output)] = recording_sfn.successes
    assert output["wait_seconds"] == 2 * 60 * 60 + 1


def test_at_the_deadline_the_receiver_expires_without_dialling(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job(calling_window="09:00-20:00", deadline_hours=24)
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    created = datetime.fromtimestamp(
        int(jobs_table().get(job.job_id)["created_at"]["N"]),
        UTC,  # type: ignore[index]
    )
    wiring.dialer().clock = lambda: created + timedelta(hours=24)

    dialer.handler(sqs_event([_task(job, attempt=2)]), ctx)

    assert stack.connect.requests == []
    [(_, output)] = recording_sfn.successes
    assert output["result"]["status"] == "Expired"
    assert output["result"]["attempts"] == 1
    assert "deadline" in output["result"]["error"]


def test_unreadable_message_with_a_token_fails_its_task(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    event = sqs_event(
        [
            {"Body": json.dumps({"task_token": "t", "attempt": "x"})},
            {"Body": "{"},
            {"Body": json.dumps({"job_id": "j", "receiver_id": "1"})},  # no token: nobody waits
            {"Body": "[]"},
        ]
    )
    assert dialer.handler(event, ctx) == {"batchItemFailures": []}  # consumed, not retried
    assert [f[:2] for f in recording_sfn.failures] == [("t", "Callouts.BadCallTask")]
    assert recording_sfn.successes == []
    assert stack.connect.requests == []


def test_a_call_task_for_an_unknown_job_fails_its_task_without_dialling(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    body = {"task_token": "t", "job_id": "no-such-job", "receiver_id": "1", "attempt": 1}
    assert dialer.handler(sqs_event([{"Body": json.dumps(body)}]), ctx) == {"batchItemFailures": []}
    [(token, error, cause)] = recording_sfn.failures
    assert (token, error) == ("t", "Callouts.BadCallTask")
    assert "no-such-job" in cause
    assert stack.connect.requests == []


def test_flow_events_walk_the_questions_and_complete_the_task(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"

    first = connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    assert first["action"] == "ask"
    assert first["question_number"] == "1"
    assert first["prompt"].startswith("<speak>")
    assert "Chan Tai Man" in first["prompt"]
    answers = [
        ("OkIntent", ""),
        ("YesIntent", ""),
        ("ChoiceIntent", "B"),
        ("NumberIntent", "3"),
        ("DateIntent", "2026-12-01"),
        ("TimeIntent", "15:30"),
    ]
    replies = [
        connect_flow.handler(
            flow_event(call_id, {"event": "answer", "intent": i, "answer": a}), ctx
        )
        for i, a in answers
    ]

    assert [r["action"] for r in replies] == ["ask"] * 5 + ["end"]
    [(token, output)] = recording_sfn.successes
    assert token == "token-1"
    assert output["result"]["status"] == "CallCompleted"
    assert output["result"]["answers"] == ["OK", "Yes", "B", "3", "2026-12-01", "15:30"]
    # The disconnect that follows the flow's hang-up does not complete the task again.
    stack.connect.disconnects[stack.connect.dialled[0]] = ("CONTACT_FLOW_DISCONNECT", True)
    assert contact_events.handler(disconnected_event(stack.connect.dialled[0]), ctx) == {
        "completed": False
    }
    assert len(recording_sfn.successes) == 1


def test_flow_event_for_an_unknown_call_ends_politely(stack: Stack, ctx: LambdaContext) -> None:
    reply = connect_flow.handler(flow_event("nobody:1:1", {"event": "start"}), ctx)
    assert reply["action"] == "end"
    assert reply["prompt"].startswith("<speak>")


@pytest.mark.parametrize(
    "event",
    [
        {"Name": "ContactFlowEvent"},  # no Details block
        {"Name": "ContactFlowEvent", "Details": {"ContactData": {}, "Parameters": {}}},
        {"Details": {"ContactData": {"Attributes": {"call_id": "x:1:1"}}, "Parameters": None}},
        {"Details": "nonsense"},
    ],
)
def test_malformed_flow_events_end_the_call_politely(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, event: dict[str, Any]
) -> None:
    reply = connect_flow.handler(event, ctx)
    assert reply["action"] == "end"
    assert all(isinstance(v, str) for v in reply.values())  # Connect's STRING_MAP
    assert recording_sfn.successes == recording_sfn.failures == []


def test_disconnect_before_the_flows_last_lambda_call_sends_one_result(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("CUSTOMER_DISCONNECT", True)

    # The event overtakes the flow's Lambda call for the answer being given at hang-up.
    assert contact_events.handler(disconnected_event(contact), ctx) == {
        "completed": True,
        "status": "DropCall",
    }
    late = connect_flow.handler(
        flow_event(call_id, {"event": "answer", "intent": "YesIntent"}), ctx
    )

    assert late["action"] == "end"
    [(_, output)] = recording_sfn.successes  # one result, the partial answers kept
    assert output["result"]["status"] == "DropCall"
    assert output["result"]["answers"] == ["OK", None, None, None, None, None]
    session = session_store().get(call_id)
    assert session is not None
    assert session.result is not None
    assert session.result.status == "DropCall"


def test_throttled_describe_contact_is_retried_and_ends_the_call_once(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    from botocore.exceptions import ClientError

    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("TELECOM_UNANSWERED", False)
    stack.connect.describe_errors = ["ThrottlingException"]
    event = disconnected_event(contact)

    # Lambda retries a failed asynchronous invocation: the idempotency record must not block it.
    with pytest.raises(ClientError):
        contact_events.handler(event, ctx)
    assert recording_sfn.successes == []
    assert contact_events.handler(event, LambdaContext()) == {
        "completed": True,
        "status": "NoAnswer",
    }
    assert len(recording_sfn.successes) == 1


@pytest.mark.parametrize(("answered", "status"), [(False, "Failed"), (True, "DropCall")])
def test_a_contact_connect_does_not_know_ends_the_call_with_a_reason(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext, answered: bool, status: str
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    if answered:
        connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
        connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    [contact] = stack.connect.dialled
    stack.connect.describe_errors = ["ResourceNotFoundException"]

    assert contact_events.handler(disconnected_event(contact), ctx) == {
        "completed": True,
        "status": status,
    }
    [(_, output)] = recording_sfn.successes
    assert "ResourceNotFound" in output["result"]["error"]
    if answered:
        assert output["result"]["answers"][0] == "OK"


@pytest.mark.parametrize(
    ("reason", "connected", "status"),
    [
        ("TELECOM_BUSY", False, "Busy"),
        ("TELECOM_UNANSWERED", False, "NoAnswer"),
        ("CUSTOMER_DISCONNECT", True, "DropCall"),
        ("SOMETHING_NEW", False, "Failed"),
    ],
)
def test_disconnect_event_ends_the_call_with_its_status(
    stack: Stack,
    recording_sfn: RecordingSfn,
    ctx: LambdaContext,
    reason: str,
    connected: bool,
    status: str,
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    if connected:  # answered the first question, then hung up
        connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
        connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = (reason, connected)

    response = contact_events.handler(disconnected_event(contact), ctx)
    repeated = contact_events.handler(disconnected_event(contact), ctx)  # EventBridge redelivery

    assert response == {"completed": True, "status": status}
    assert repeated == {"completed": False}
    [(_token, output)] = recording_sfn.successes
    assert output["result"]["status"] == status
    if connected:
        assert output["result"]["answers"] == ["OK", None, None, None, None, None]
    if status == "Failed":
        assert "SOMETHING_NEW" in output["result"]["error"]


def test_a_redelivered_contact_event_is_answered_from_the_idempotency_table(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("TELECOM_BUSY", False)
    event = disconnected_event(contact)

    first = contact_events.handler(event, ctx)
    second = contact_events.handler(event, LambdaContext())

    assert first == second == {"completed": True, "status": "Busy"}
    assert stack.connect.describes == 1
    assert len(recording_sfn.successes) == 1


def test_disconnect_of_a_contact_that_is_not_ours_is_ignored(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    assert contact_events.handler(disconnected_event("someone-else"), ctx) == {"completed": False}
    # Another flow's contact on the same instance: its attributes hold no call id.
    stack.connect.attributes["inbound-1"] = {"customer": "42"}
    stack.connect.disconnects["inbound-1"] = ("CUSTOMER_DISCONNECT", True)
    assert contact_events.handler(disconnected_event("inbound-1"), ctx) == {"completed": False}
    other = disconnected_event("x")
    other["detail"]["eventType"] = "CONNECTED_TO_SYSTEM"
    assert contact_events.handler(other, ctx) == {"completed": False}
    assert stack.connect.describes == 0
    assert recording_sfn.successes == recording_sfn.failures == []


def test_a_disconnect_that_overtakes_the_dialers_link_still_ends_the_call(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "4")]), ctx)
    [contact] = stack.connect.dialled
    # As if the event arrived between StartOutboundVoiceContact and the dialer's link_contact.
    stack.ddb.delete_item(
        TableName=stack.sessions_table, Key={"call_id": {"S": f"contact#{contact}"}}
    )
    stack.connect.disconnects[contact] = ("TELECOM_NUMBER_INVALID", False)

    assert contact_events.handler(disconnected_event(contact), ctx) == {
        "completed": True,
        "status": "NotCallable",
    }
    [(_, output)] = recording_sfn.successes
    assert output["result"]["receiver_id"] == "4"


def test_report_handler_writes_report_and_presigned_url(stack: Stack, ctx: LambdaContext) -> None:
    from backend.aws.results import result_item
    from backend.domain.models import CallResult, CallStatus

    job = _saved_job(stack)
    for receiver in job.receivers:
        result = CallResult(
            job_id=job.job_id,
            receiver_id=receiver.id,
            status=CallStatus.CALL_COMPLETED if receiver.id != "2" else CallStatus.BUSY,
            answers=("OK", "Yes", "A", "1", "2026-12-01", "09:00") if receiver.id != "2" else (),
            attempts=1,
        )
        stack.ddb.put_item(TableName=stack.results_table, Item=result_item(result))

    report = report_handler.handler({"job_id": job.job_id}, ctx)

    assert report["counts"] == {"Busy": 1, "CallCompleted": 7}
    assert report["xlsx_key"] == f"reports/{job.job_id}.xlsx"
    assert report["url"].startswith("https://")
    assert job.job_id in report["url"]
    body = stack.s3.get_object(Bucket=stack.data_bucket, Key=report["json_key"])["Body"].read()
    assert job.job_id in body.decode()
    xlsx = stack.s3.get_object(Bucket=stack.data_bucket, Key=report["xlsx_key"])["Body"].read()
    assert xlsx[:2] == b"PK"
    assert jobs_table().state(job.job_id) is JobState.FINISHED


def test_stream_image_reads_back_as_a_result() -> None:
    from backend.aws.results import result_from_stream_image, result_item
    from backend.domain.models import CallResult, CallStatus

    result = CallResult(
        job_id="j", receiver_id="r", status=CallStatus.DROP_CALL, answers=("Yes", None)
    )
    assert result_from_stream_image(result_item(result)) == result


def test_report_of_10000_results_reads_every_page_of_the_results_table(
    stack: Stack, ctx: LambdaContext
) -> None:
    from backend.aws.results import result_item
    from backend.domain.models import CallResult, CallStatus

    base = example_job()
    receivers = tuple(
        base.receivers[0].model_copy(update={"id": f"{n:05d}", "phone_number": f"+8525{n:07d}"})
        for n in range(10_000)
    )
    job = base.model_copy(update={"receivers": receivers})
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    statuses = [CallStatus.CALL_COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY]
    results = [
        CallResult(
            job_id=job.job_id,
            receiver_id=receiver.id,
            status=statuses[n % 3],
            answers=("OK", "Yes", "B", "3", "2026-12-01", "09:00") if n % 3 == 0 else (),
            attempts=1,
        )
        for n, receiver in enumerate(receivers)
    ]
    for start in range(0, len(results), 25):
        stack.ddb.batch_write_item(
            RequestItems={
                stack.results_table: [
                    {"PutRequest": {"Item": result_item(r)}} for r in results[start : start + 25]
                ]
            }
        )
    first_page = stack.ddb.query(  # COUNT pages at 1 MB as a full query does, without the items
        TableName=stack.results_table,
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": job.job_id}},
        Select="COUNT",
    )
    assert "LastEvaluatedKey" in first_page  # over 1 MB: DynamoDB (and moto) pages the query
    assert 0 < first_page["Count"] < 10_000

    report = report_handler.handler({"job_id": job.job_id}, ctx)

    assert report["results"] == report["receivers"] == 10_000
    assert report["counts"] == {"Busy": 3333, "CallCompleted": 3334, "NoAnswer": 3333}
    body = stack.s3.get_object(Bucket=stack.data_bucket, Key=report["json_key"])["Body"].read()
    assert len(json.loads(body)["results"]) == 10_000


def test_a_dial_is_recorded_apart_from_its_claim(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    from backend.aws.dials import DialLog

    job = _saved_job(stack)
    log = DialLog(stack.ddb, stack.jobs_table)
    # Claimed, then the dialer died before dialling: a claim and no dial.
    jobs_table().claim(job.job_id, "2", 1, "token-2")
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    stack.connect.refuse[job.receiver("3").phone_number] = "ThrottlingException"
    dialer.handler(sqs_event([_task(job, "3", token="token-3")]), ctx)  # sent, refused: a dial
    del stack.connect.refuse[job.receiver("3").phone_number]
    dialer.handler(sqs_event([_task(job, "3", token="token-3")]), ctx)  # same attempt again

    assert log.dials(job.job_id) == {"1": 1, "3": 1}
    tokens = {r["ClientToken"].rsplit(":", 2)[1] for r in stack.connect.requests}
    assert tokens == {"1", "3"}  # the independent record agrees: receiver 2 was never rung


_ANSWERS = [
    ("OkIntent", ""),
    ("YesIntent", ""),
    ("ChoiceIntent", "B"),
    ("NumberIntent", "3"),
    ("DateIntent", "2026-12-01"),
    ("TimeIntent", "15:30"),
]


def _answer_all(ctx: LambdaContext, call_id: str) -> None:
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    for intent, answer in _ANSWERS:
        connect_flow.handler(
            flow_event(call_id, {"event": "answer", "intent": intent, "answer": answer}), ctx
        )


def test_a_result_that_failed_to_send_is_sent_again_at_disconnect(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    for intent, answer in _ANSWERS[:-1]:
        connect_flow.handler(
            flow_event(call_id, {"event": "answer", "intent": intent, "answer": answer}), ctx
        )
    recording_sfn.errors = ["ThrottlingException"]  # SendTaskSuccess fails at the last turn
    last = {"event": "answer", "intent": _ANSWERS[-1][0], "answer": _ANSWERS[-1][1]}
    assert connect_flow.handler(flow_event(call_id, last), ctx)["action"] == "end"
    assert recording_sfn.successes == []
    assert session_store().load(call_id)[1] is False  # finished, not sent

    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("CONTACT_FLOW_DISCONNECT", True)
    assert contact_events.handler(disconnected_event(contact), ctx) == {
        "completed": True,
        "status": "CallCompleted",
    }
    contact_events.handler(disconnected_event(contact), ctx)  # a second DISCONNECTED

    [(_, output)] = recording_sfn.successes
    assert output["result"]["answers"] == ["OK", "Yes", "B", "3", "2026-12-01", "15:30"]
    assert session_store().load(call_id)[1] is True


def test_a_task_that_ended_is_marked_and_never_sent_again(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    recording_sfn.ended.add("token-1")
    _answer_all(ctx, call_id)
    [contact] = stack.connect.dialled
    stack.connect.disconnects[contact] = ("CONTACT_FLOW_DISCONNECT", True)

    assert contact_events.handler(disconnected_event(contact), ctx) == {"completed": False}
    assert recording_sfn.successes == []
    assert session_store().load(call_id)[1] is True


def test_a_message_for_a_task_that_ended_rings_nobody(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved_job(stack)
    recording_sfn.ended.add("token-1")  # throttled past the task's heartbeat: it timed out

    assert dialer.handler(sqs_event([_task(job, "1")]), ctx) == {"batchItemFailures": []}

    assert stack.connect.requests == []
    assert recording_sfn.successes == recording_sfn.failures == []


def test_the_line_is_held_until_disconnected_and_waiting_calls_hold_none(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    from backend.aws.wiring import line_leases

    job = _saved_job(stack)  # the stack's budget is 5 lines, the job's concurrency 10
    first = [_task(job, r.id, token=f"t-{r.id}") for r in job.receivers[:5]]
    assert dialer.handler(sqs_event(first), ctx) == {"batchItemFailures": []}
    assert line_leases().live() == 5
    sixth = _queued(stack, _task(job, job.receivers[5].id, token="t-6"))

    assert dialer.handler(sqs_event([sixth]), ctx)["batchItemFailures"]  # no line: deferred
    assert len(stack.connect.dialled) == 5
    assert recording_sfn.heartbeats.count("t-6") == 1  # its task stays open while it waits

    call_id = f"{job.job_id}:{job.receivers[0].id}:1"
    _answer_all(ctx, call_id)  # the last answer completes the task, the ending still plays
    assert len(recording_sfn.successes) == 1
    assert line_leases().live() == 5
    assert dialer.handler(sqs_event([sixth]), ctx)["batchItemFailures"]

    stack.connect.disconnects[stack.connect.dialled[0]] = ("CONTACT_FLOW_DISCONNECT", True)
    contact_events.handler(disconnected_event(stack.connect.dialled[0]), ctx)
    contact_events.handler(disconnected_event(stack.connect.dialled[0]), ctx)  # twice
    assert line_leases().live() == 4
    assert dialer.handler(sqs_event([sixth]), ctx) == {"batchItemFailures": []}
    assert len(stack.connect.dialled) == 6
    assert line_leases().live() == line_leases().live(job.job_id) == 5
