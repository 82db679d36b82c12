"""The state machine's failure path, executed by moto: a report that cannot be written is
announced as a "Callout Job Failed" event (the Slack card shows it) before the execution fails."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock

from backend.aws.jobs import JobStore
from backend.aws.wiring import jobs_table

from .conftest import Stack, example_job


def _failing_report(
    self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response: Any
) -> bytes:
    """The report Lambda raising: Lambda answers with a function error, which is not retried."""
    response["x-amz-function-error"] = "Unhandled"
    error = {"errorType": "NoSuchKey", "errorMessage": "the job document is gone"}
    return json.dumps(error).encode()


def _run(stack: Stack, job_id: str, tasks: list[dict[str, Any]]) -> str:
    stack.s3.put_object(Bucket=stack.data_bucket, Key="tasks/t.json", Body=json.dumps(tasks))
    execution_arn: str = stack.sfn.start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=job_id,
        input=json.dumps(
            {
                "job_id": job_id,
                "tasks": {"bucket": stack.data_bucket, "key": "tasks/t.json"},
                "max_concurrency": 1,
            }
        ),
    )["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if stack.sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    return execution_arn


def test_a_failed_report_is_announced_then_the_execution_fails(running_stack: Stack) -> None:
    stack = running_stack
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    with mock.patch("moto.awslambda_simple.models.LambdaSimpleBackend.invoke", _failing_report):
        execution_arn = _run(stack, job.job_id, [])

    execution = stack.sfn.describe_execution(executionArn=execution_arn)
    assert execution["status"] == "FAILED"
    [event] = stack.events()
    assert event["source"] == "callouts"
    assert event["detail-type"] == "Callout Job Failed"
    detail = event["detail"]
    assert detail["job_id"] == job.job_id
    assert detail["failure"]["Error"] == "NoSuchKey"
    assert "the job document is gone" in detail["failure"]["Cause"]
    assert stack.notifications() == []  # no completion notice for a job without a report


def test_a_job_that_reports_announces_no_failure(running_stack: Stack) -> None:
    stack = running_stack
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)

    execution_arn = _run(stack, job.job_id, [])

    assert stack.sfn.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED"
    assert [event["detail-type"] for event in stack.events()] == ["Callout Job Finished"]


def test_the_slack_notifier_receives_finished_rejected_and_failed_events() -> None:

    from backend.deploy import cfn_yaml

    from .test_aws_template import TEMPLATE

    loaded = cfn_yaml.load(TEMPLATE.read_text())
    rule = loaded["Resources"]["SlackNotifierFunction"]["Properties"]["Events"]["Finished"]
    pattern = rule["Properties"]["Pattern"]
    assert pattern["source"] == ["callouts"]
    assert sorted(pattern["detail-type"]) == [
        "Callout Job Failed",
        "Callout Job Finished",
        "Callout Job Rejected",
        "Callout Test Call Finished",  # Call me first's outcome, to its requester
    ]
