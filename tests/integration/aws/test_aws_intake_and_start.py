"""Intake upload and start-job handlers on moto, with real S3, EventBridge and SQS event shapes."""

from __future__ import annotations

import json
from typing import Any

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


def test_other_files_are_ignored(stack: Stack, ctx: LambdaContext) -> None:
    _upload(stack, "notes.txt", b"hello")
    response = intake_upload.handler(s3_put_event(stack.intake_bucket, "notes.txt", 5), ctx)
    assert response["uploads"][0]["queued"] is False
    assert stack.queue_messages(stack.job_queue_url) == []


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
    assert execution_input["max_concurrency"] == 5  # min(job concurrency 10, stack budget 5)
    tasks = json.loads(
        stack.s3.get_object(Bucket=stack.data_bucket, Key=execution_input["tasks"]["key"])[
            "Body"
        ].read()
    )
    assert [t["receiver_id"] for t in tasks] == [r.id for r in job.receivers]
    assert {t["attempt"] for t in tasks} == {1}
    assert all("phone" not in json.dumps(t) for t in tasks)


def test_start_job_leaves_the_message_when_jobs_are_running(
    stack: Stack, ctx: LambdaContext
) -> None:
    first = example_job()
    second = example_job(retry_delay_seconds=0)  # different content -> different job id
    assert first.job_id != second.job_id
    start_job.handler(_fifo([{"Body": json.dumps(job_to_json(first))}]), ctx)

    event = _fifo([{"Body": json.dumps(job_to_json(second)), "MessageId": "waiting"}])
    response = start_job.handler(event, ctx)

    assert response == {"batchItemFailures": [{"itemIdentifier": "waiting"}]}
    names = [
        e["name"]
        for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    ]
    assert names == [first.job_id]


def test_bad_job_message_is_consumed_not_retried(stack: Stack, ctx: LambdaContext) -> None:
    response = start_job.handler(
        _fifo([{"Body": '{"job_id": "x", "receivers": 5}'}, {"Body": "not json"}]), ctx
    )
    assert response == {"batchItemFailures": []}
    assert stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


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
