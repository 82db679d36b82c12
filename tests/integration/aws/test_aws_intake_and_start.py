"""Intake upload and start-job handlers on moto, with real S3, EventBridge and SQS event shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.domain.intake import job_to_json
from backend.handlers import intake_upload, start_job

from .conftest import (
    LambdaContext,
    Stack,
    eventbridge_s3_event,
    example_job,
    example_workbook,
    s3_put_event,
    sqs_event,
)


def _upload(stack: Stack, key: str, body: bytes) -> None:
    stack.s3.put_object(Bucket=stack.intake_bucket, Key=key, Body=body)


def _fifo(messages: list[dict[str, Any]]) -> dict[str, Any]:
    for message in messages:
        message.setdefault("Attributes", {}).update(
            {"MessageGroupId": "jobs", "SequenceNumber": "1", "MessageDeduplicationId": "d"}
        )
    return sqs_event(messages, queue="callouts-jobs.fifo")


def test_upload_queues_the_job_once(stack: Stack, ctx: LambdaContext) -> None:
    body = example_workbook()
    _upload(stack, "uploads/class 3A.xlsx", body)

    first = intake_upload.handler(
        s3_put_event(stack.intake_bucket, "uploads/class 3A.xlsx", len(body)), ctx
    )
    again = intake_upload.handler(
        eventbridge_s3_event(stack.intake_bucket, "uploads/class 3A.xlsx", len(body)), ctx
    )

    [outcome] = first["uploads"]
    assert outcome["queued"] is True
    assert outcome["problems"] == []
    assert again["uploads"][0]["queued"] is False  # same content -> same job id -> not queued
    messages = stack.queue_messages(stack.job_queue_url)
    assert len(messages) == 1
    job = json.loads(messages[0]["Body"])
    assert job["job_id"] == outcome["job_id"]
    assert len(job["receivers"]) == 8


def test_broken_workbook_is_rejected_with_a_readable_reason(
    stack: Stack, ctx: LambdaContext
) -> None:
    _upload(stack, "bad.xlsx", b"id,phone_number\n1,123\n")

    response = intake_upload.handler(s3_put_event(stack.intake_bucket, "bad.xlsx", 22), ctx)

    assert response["uploads"][0]["queued"] is False
    text = stack.s3.get_object(Bucket=stack.data_bucket, Key="rejected/bad.xlsx.txt")["Body"].read()
    assert b"bad.xlsx was not started" in text
    assert "xlsx" in response["uploads"][0]["problems"][0].lower()
    assert stack.queue_messages(stack.job_queue_url) == []


def _rejections(stack: Stack) -> list[dict[str, Any]]:
    """Rejections as SNS messages, checked against the EventBridge events carrying the same."""
    published = stack.notifications()
    events = stack.events()
    assert [e["detail-type"] for e in events] == ["Callout Job Rejected"] * len(events)
    assert [e["detail"] for e in events] == [message for message, _ in published]
    for message, attributes in published:
        assert message["rejected"] is True
        assert attributes["event"]["Value"] == "job_rejected"
    return [message for message, _ in published]


def test_other_files_are_rejected_with_a_notification(stack: Stack, ctx: LambdaContext) -> None:
    _upload(stack, "notes.txt", b"hello")
    response = intake_upload.handler(s3_put_event(stack.intake_bucket, "notes.txt", 5), ctx)
    assert response["uploads"][0]["queued"] is False
    assert stack.queue_messages(stack.job_queue_url) == []
    [rejection] = _rejections(stack)
    assert rejection["key"] == "notes.txt"
    assert ".xlsx" in rejection["problems"][0]["message"]


def test_a_folder_marker_is_ignored_quietly(stack: Stack, ctx: LambdaContext) -> None:
    _upload(stack, "uploads/", b"")
    response = intake_upload.handler(s3_put_event(stack.intake_bucket, "uploads/", 0), ctx)
    assert response["uploads"][0]["problems"] == []
    assert stack.notifications() == []


def test_broken_workbook_publishes_a_rejection_and_starts_nothing(
    stack: Stack, ctx: LambdaContext
) -> None:
    _upload(stack, "in/bad.xlsx", b"PK\x03\x04 not really a zip")
    response = intake_upload.handler(s3_put_event(stack.intake_bucket, "in/bad.xlsx", 30), ctx)
    assert response["uploads"][0]["queued"] is False
    [rejection] = _rejections(stack)
    assert (rejection["origin"], rejection["bucket"]) == ("upload", stack.intake_bucket)
    assert rejection["key"] == "in/bad.xlsx"
    assert rejection["details_key"] == "rejected/bad.xlsx.txt"
    assert rejection["problem_count"] >= 1
    assert stack.queue_messages(stack.job_queue_url) == []


def test_row_problems_are_published_with_sheet_row_and_column(
    stack: Stack, ctx: LambdaContext
) -> None:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(example_workbook()))
    receivers = book["Receivers"]
    receivers.cell(row=3, column=2, value="not a number")  # the second person's phone_number
    out = io.BytesIO()
    book.save(out)
    # EventBridge may leave the key URL-encoded: the object is found either way.
    _upload(stack, "class 3A.xlsx", out.getvalue())
    event = eventbridge_s3_event(stack.intake_bucket, "class+3A.xlsx", len(out.getvalue()))

    response = intake_upload.handler(event, ctx)

    assert response["uploads"][0]["queued"] is False
    [rejection] = _rejections(stack)
    assert rejection["key"] == "class 3A.xlsx"
    assert rejection["job_id"]
    [problem] = [p for p in rejection["problems"] if p["row"] == 3]
    assert problem["sheet"] == "Receivers"
    assert problem["column"] == "phone_number"
    assert problem["message"]
    assert stack.queue_messages(stack.job_queue_url) == []
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


def test_start_job_writes_tasks_and_starts_one_execution(stack: Stack, ctx: LambdaContext) -> None:
    job = example_job()
    body = json.dumps(job_to_json(job))

    # The same message twice in a batch, then redelivered: one execution.
    first = start_job.handler(_fifo([{"Body": body}, {"Body": body}]), ctx)
    again = start_job.handler(_fifo([{"Body": body}]), ctx)

    assert first == {"batchItemFailures": []}
    assert again == {"batchItemFailures": []}
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert [e["name"] for e in executions] == [job.job_id]
    started = stack.sfn.describe_execution(executionArn=executions[0]["executionArn"])
    execution_input = json.loads(started["input"])
    assert execution_input["max_concurrency"] == 8  # receivers in flight: all 8 (10 per line)
    tasks = json.loads(
        stack.s3.get_object(Bucket=stack.data_bucket, Key=execution_input["tasks"]["key"])[
            "Body"
        ].read()
    )
    assert [t["receiver_id"] for t in tasks] == [r.id for r in job.receivers]
    assert {t["attempt"] for t in tasks} == {1}
    assert all("phone" not in json.dumps(t) for t in tasks)


def _execution_arn(stack: Stack, job_id: str) -> str:
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    [arn] = [e["executionArn"] for e in executions if e["name"] == job_id]
    return str(arn)


def test_start_job_leaves_the_message_when_jobs_are_running(
    stack: Stack, ctx: LambdaContext, monkeypatch: Any
) -> None:
    first = example_job()
    second = example_job(retry_delay_seconds=0)  # different content -> different job id
    assert first.job_id != second.job_id
    start_job.handler(_fifo([{"Body": json.dumps(job_to_json(first))}]), ctx)

    # A real queue message: its visibility is pushed back while the job waits.
    stack.sqs.send_message(
        QueueUrl=stack.job_queue_url,
        MessageBody=json.dumps(job_to_json(second)),
        MessageGroupId="jobs",
    )
    [message] = stack.queue_messages(stack.job_queue_url)
    event = _fifo(
        [
            {
                "Body": message["Body"],
                "MessageId": "waiting",
                "ReceiptHandle": message["ReceiptHandle"],
            }
        ]
    )
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"
    calls: list[dict[str, Any]] = []
    real = stack.sqs.change_message_visibility
    from backend.aws import clients

    sqs = clients.client("sqs")
    monkeypatch.setattr(
        sqs, "change_message_visibility", lambda **kw: (calls.append(kw), real(**kw))[1]
    )

    response = start_job.handler(event, ctx)

    assert response == {"batchItemFailures": [{"itemIdentifier": "waiting"}]}
    names = [
        e["name"]
        for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    ]
    assert names == [first.job_id]
    assert [(c["ReceiptHandle"], c["VisibilityTimeout"]) for c in calls] == [
        (message["ReceiptHandle"], 240)
    ]
    assert stack.notifications() == []  # waiting is not a rejection

    # When the running job is over, the same message starts the second job.
    stack.sfn.stop_execution(executionArn=_execution_arn(stack, first.job_id))
    assert start_job.handler(event, ctx) == {"batchItemFailures": []}
    assert _execution_arn(stack, second.job_id)


def test_bad_job_message_is_consumed_not_retried(stack: Stack, ctx: LambdaContext) -> None:
    response = start_job.handler(
        _fifo(
            [
                {"Body": '{"job_id": "x", "receivers": 5}', "MessageId": "schema"},
                {"Body": "not json", "MessageId": "text"},
            ]
        ),
        ctx,
    )
    assert response == {"batchItemFailures": []}
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []
    schema, text = _rejections(stack)
    assert (schema["origin"], schema["message_id"], schema["job_id"]) == ("queue", "schema", "x")
    assert "receivers" in {p["field"] for p in schema["problems"]}
    assert text["message_id"] == "text"
    assert "not valid JSON" in text["problems"][0]["message"]


def test_receiver_problems_in_a_job_message_name_the_fields(
    stack: Stack, ctx: LambdaContext
) -> None:
    payload = job_to_json(example_job())
    payload["receivers"][2]["phone_number"] = "12"
    response = start_job.handler(_fifo([{"Body": json.dumps(payload)}]), ctx)

    assert response == {"batchItemFailures": []}  # consumed: never retried, never DLQ'd
    [rejection] = _rejections(stack)
    assert rejection["job_id"] == payload["job_id"]
    assert "receivers[2].phone_number" in {p["field"] for p in rejection["problems"]}
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


def test_bad_job_references_are_rejected(stack: Stack, ctx: LambdaContext) -> None:
    stack.s3.put_object(Bucket=stack.data_bucket, Key="jobs/broken.json", Body=b"{not json")
    bodies = [
        {"job_ref": "jobs/x.json"},
        {"job_ref": {"bucket": stack.data_bucket, "key": "jobs/missing.json"}},
        {"job_ref": {"bucket": "someone-elses-bucket", "key": "jobs/x.json"}},
        {"job_ref": {"bucket": stack.data_bucket, "key": "jobs/broken.json"}},
    ]
    response = start_job.handler(_fifo([{"Body": json.dumps(b)} for b in bodies]), ctx)

    assert response == {"batchItemFailures": []}
    rejections = _rejections(stack)
    assert len(rejections) == 4
    for rejection in rejections:
        assert rejection["problems"][0]["field"].startswith("job_ref")
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


def test_a_job_that_keeps_failing_to_start_is_rejected_after_a_few_deliveries(
    stack: Stack, ctx: LambdaContext, monkeypatch: Any
) -> None:
    from backend.aws import wiring

    def broken(job: Any) -> Any:
        raise RuntimeError("state machine deleted")

    monkeypatch.setattr(wiring.job_starter(), "start", broken)
    body = json.dumps(job_to_json(example_job()))
    early = _fifo([{"Body": body, "MessageId": "m"}])
    assert start_job.handler(early, ctx) == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert stack.notifications() == []

    late = _fifo([{"Body": body, "MessageId": "m"}])
    late["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(
        start_job.MAX_FAILED_DELIVERIES
    )
    assert start_job.handler(late, ctx) == {"batchItemFailures": []}
    [rejection] = _rejections(stack)
    assert "could not be started" in rejection["problems"][0]["message"]


def test_submitter_queues_once_and_cancels(stack: Stack) -> None:
    from backend.aws.submitter import SqsJobSubmitter

    submitter = SqsJobSubmitter.from_settings()
    job = example_job()
    assert submitter.submit(job) is True
    assert submitter.submit(job) is False
    assert len(stack.queue_messages(stack.job_queue_url)) == 1
    assert submitter.cancel(job.job_id, "U123") is True
    assert submitter.cancel("unknown-job") is False


def test_large_job_travels_as_a_reference(
    stack: Stack, ctx: LambdaContext, monkeypatch: Any
) -> None:
    from backend.aws import submitter as submitter_module

    monkeypatch.setattr(submitter_module, "MAX_INLINE_BYTES", 10)
    job = example_job()
    assert submitter_module.SqsJobSubmitter.from_settings().submit(job)
    [message] = stack.queue_messages(stack.job_queue_url)
    assert "job_ref" in json.loads(message["Body"])

    assert start_job.handler(_fifo([{"Body": message["Body"]}]), ctx) == {"batchItemFailures": []}
    names = [
        e["name"]
        for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    ]
    assert names == [job.job_id]


def test_a_job_document_over_the_workbook_size_limit_still_starts(
    stack: Stack, ctx: LambdaContext
) -> None:
    """A 100,000-person job is ~10.6 MB of JSON, over the 10 MB a workbook file may have: the job
    document the stack wrote itself is read with the JSON job limit, not the workbook's."""
    from backend.aws.submitter import SqsJobSubmitter
    from backend.domain.intake.assemble import DEFAULT_LIMITS
    from backend.domain.models import Receiver

    base = example_job(max_receivers=5000)
    note = "n" * 2_900
    people = tuple(
        Receiver(
            id=f"P{n:05d}",
            phone_number=f"+85251{n:06d}",
            fields={**base.receivers[0].fields, "note": note},
        )
        for n in range(3_600)
    )
    job = base.model_copy(
        update={"receivers": people, "extra_columns": (*base.extra_columns, "note")}
    )
    assert len(job.model_dump_json()) > DEFAULT_LIMITS.max_bytes
    assert SqsJobSubmitter.from_settings().submit(job)
    [message] = stack.queue_messages(stack.job_queue_url)
    assert "job_ref" in json.loads(message["Body"])

    assert start_job.handler(_fifo([{"Body": message["Body"]}]), ctx) == {"batchItemFailures": []}
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)
    assert [e["name"] for e in executions["executions"]] == [job.job_id]


def test_a_job_that_could_not_be_queued_can_be_submitted_again(
    stack: Stack, monkeypatch: Any
) -> None:
    from backend.aws.submitter import SqsJobSubmitter

    submitter = SqsJobSubmitter.from_settings()
    job = example_job()

    def refused(**kwargs: Any) -> None:
        raise RuntimeError("SQS unavailable")

    send = submitter.sqs.send_message
    monkeypatch.setattr(submitter.sqs, "send_message", refused)
    with pytest.raises(RuntimeError):
        submitter.submit(job)
    monkeypatch.setattr(submitter.sqs, "send_message", send)

    assert SqsJobSubmitter.from_settings().submit(job) is True
    assert len(stack.queue_messages(stack.job_queue_url)) == 1


@pytest.mark.parametrize(
    ("poison", "fragment"),
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ("capitalise", "capitalise"),
        ("deep template", "nested too deeply"),
        ("bomb", "10,000 characters"),
    ],
)
def test_a_poisoned_message_is_rejected_once_and_the_next_job_starts(
    stack: Stack, ctx: LambdaContext, poison: str, fragment: str
) -> None:
    bad = job_to_json(example_job(retry_delay_seconds=1))
    templates = {
        "capitalise": "Hello {{ name|capitalise }}",
        "deep template": "{{ " + "(" * 1_000 + "name" + ")" * 1_000 + " }}",
        "bomb": "{{ 'a' * 1000 * 1000 * 1000 }}",
    }
    if poison in templates:
        bad["greeting"] = templates[poison]
        body = json.dumps(bad)
    else:
        body = poison
    good = example_job()
    event = _fifo(
        [
            {"Body": body, "MessageId": "poison"},
            {"Body": json.dumps(job_to_json(good)), "MessageId": "next"},
        ]
    )

    assert start_job.handler(event, ctx) == {"batchItemFailures": []}  # nothing retried

    [rejection] = _rejections(stack)
    assert rejection["message_id"] == "poison"
    assert any(fragment in p["message"] for p in rejection["problems"]), rejection
    if poison in templates:
        assert "greeting" in {p["field"] for p in rejection["problems"]}
    assert _execution_arn(stack, good.job_id)  # the job behind it started


def test_an_unreadable_job_reference_is_retried_a_few_times_then_rejected(
    stack: Stack, ctx: LambdaContext, monkeypatch: Any
) -> None:
    from backend.aws import wiring
    from backend.aws.clients import ClientError

    def throttled(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "busy"}}, "GetObject")

    monkeypatch.setattr(wiring.job_starter().s3, "get_object", throttled)
    body = json.dumps({"job_ref": {"bucket": stack.data_bucket, "key": "jobs/a.json"}})
    early = _fifo([{"Body": body, "MessageId": "m"}])
    assert start_job.handler(early, ctx) == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert stack.notifications() == []

    late = _fifo([{"Body": body, "MessageId": "m"}])
    late["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(
        start_job.MAX_FAILED_DELIVERIES
    )
    assert start_job.handler(late, ctx) == {"batchItemFailures": []}
    [rejection] = _rejections(stack)
    assert "ClientError" in rejection["problems"][0]["message"]
