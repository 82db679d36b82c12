"""An execution that times out, is stopped by hand or fails outside a Catch: the job record ends
(FAILED / STOPPED) and "Callout Job Failed" is announced, once, so no Slack card stays
"Calling…" and no record stays RUNNING."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from unittest import mock

import pytest

from backend.aws.jobs import JobStore
from backend.aws.submitter import SqsJobSubmitter
from backend.aws.wiring import job_starter, jobs_table
from backend.domain.intake import job_to_json
from backend.domain.job_state import JobState
from backend.domain.models import CallJob
from backend.handlers import dialer, execution_events, start_job

from .conftest import LambdaContext, RecordingSfn, Stack, example_job, sqs_event
from .test_aws_job_failed import _failing_report, _run


def _ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def status_change(
    stack: Stack, execution_arn: str, *, with_error: bool = True, **detail: Any
) -> dict[str, Any]:
    """The EventBridge event Step Functions sends when an execution ends (shape of the Step
    Functions user guide, "Step Functions Execution Status Change"), from the execution."""
    execution = stack.sfn.describe_execution(executionArn=execution_arn)
    body: dict[str, Any] = {
        "executionArn": execution_arn,
        "stateMachineArn": execution["stateMachineArn"],
        "name": execution["name"],
        "status": execution["status"],
        "startDate": _ms(execution["startDate"]),
        "stopDate": _ms(execution.get("stopDate")),
        "input": execution["input"],
        "inputDetails": {"included": True},
        "output": None,
        "outputDetails": None,
    }
    if with_error:
        body.update(error=execution.get("error"), cause=execution.get("cause"))
    body.update(detail)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": "us-east-1",
        "resources": [execution_arn],
        "detail": body,
    }


def _started(stack: Stack) -> tuple[CallJob, str]:
    job = example_job()
    outcome = job_starter().start(job)
    assert outcome.started
    record = jobs_table().get(job.job_id)
    assert record is not None
    return job, record["execution_arn"]["S"]


def _failed_events(stack: Stack) -> list[dict[str, Any]]:
    events = stack.events()
    assert {e["detail-type"] for e in events} <= {"Callout Job Failed"}
    return [e["detail"] for e in events]


def test_a_stopped_execution_stops_the_job_and_is_announced_once(
    stack: Stack, ctx: LambdaContext
) -> None:
    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)
    # The user guide's example of an aborted execution carries no error or cause: they are read
    # with DescribeExecution.
    event = status_change(stack, execution_arn, with_error=False)
    assert event["detail"]["status"] == "ABORTED"

    response = execution_events.handler(event, ctx)

    assert response == {"outcome": "announced", "job_id": job.job_id, "status": "ABORTED"}
    assert jobs_table().state(job.job_id) is JobState.STOPPED
    [detail] = _failed_events(stack)
    assert detail["job_id"] == job.job_id
    assert detail["status"] == "ABORTED"
    assert detail["failure"] == {
        "Error": "ABORTED",
        "Cause": "the execution was stopped (StopExecution)",
    }
    assert "xlsx_key" not in detail  # no report: the card stops rather than finishes
    # Over everywhere: cancel is refused and a redelivered job message starts nothing.
    assert not SqsJobSubmitter.from_settings().cancel(job.job_id, "U1")
    assert job_starter().start(job).reason == "already stopped"
    assert jobs_table().state(job.job_id) is JobState.STOPPED

    redelivered = execution_events.handler(event, ctx)
    again = execution_events.handler(status_change(stack, execution_arn), ctx)

    assert redelivered["outcome"] == again["outcome"] == "already_ended"
    assert _failed_events(stack) == []
    assert jobs_table().state(job.job_id) is JobState.STOPPED


def test_a_timed_out_execution_fails_the_job_with_its_error_and_cause(
    stack: Stack, ctx: LambdaContext
) -> None:
    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)
    event = status_change(
        stack, execution_arn, status="TIMED_OUT", error="States.Timeout", cause=None
    )

    assert execution_events.handler(event, ctx)["outcome"] == "announced"

    record = jobs_table().get(job.job_id)
    assert record is not None
    assert record["status"]["S"] == JobState.FAILED.value
    assert record["failure_error"]["S"] == "States.Timeout"
    [detail] = _failed_events(stack)
    assert detail["status"] == "TIMED_OUT"
    assert detail["failure"] == {
        "Error": "States.Timeout",
        "Cause": "the execution ran longer than its timeout",
    }


def test_an_uncaught_failure_is_announced_with_its_error(stack: Stack, ctx: LambdaContext) -> None:
    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)
    event = status_change(
        stack,
        execution_arn,
        status="FAILED",
        error="States.Runtime",
        cause="An error occurred while executing the state 'CallReceivers'",
    )

    execution_events.handler(event, ctx)

    assert jobs_table().state(job.job_id) is JobState.FAILED
    [detail] = _failed_events(stack)
    assert detail["failure"]["Error"] == "States.Runtime"
    assert "CallReceivers" in detail["failure"]["Cause"]


def test_a_job_whose_report_was_written_is_left_finished(stack: Stack, ctx: LambdaContext) -> None:
    job, execution_arn = _started(stack)
    jobs_table().set_state(job.job_id, JobState.FINISHED)  # the report Lambda's last step
    stack.sfn.stop_execution(executionArn=execution_arn)

    response = execution_events.handler(status_change(stack, execution_arn), ctx)

    assert response["outcome"] == "already_ended"
    assert jobs_table().state(job.job_id) is JobState.FINISHED
    assert _failed_events(stack) == []


def test_a_stopped_job_frees_its_slot_and_the_next_job_starts(
    stack: Stack, ctx: LambdaContext
) -> None:
    _, execution_arn = _started(stack)
    second = example_job(retry_delay_seconds=0)
    message = {
        "Body": json.dumps(job_to_json(second)),
        "Attributes": {"MessageGroupId": "jobs", "SequenceNumber": "1"},
    }
    stack.sfn.stop_execution(executionArn=execution_arn)
    execution_events.handler(status_change(stack, execution_arn), ctx)

    assert start_job.handler(sqs_event([message], "callouts-jobs.fifo"), ctx) == {
        "batchItemFailures": []
    }
    assert jobs_table().state(second.job_id) is JobState.RUNNING


@pytest.mark.parametrize(
    "change",
    [
        {"status": "SUCCEEDED"},
        {"status": "RUNNING"},
        {"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:other"},
        {"name": ""},
    ],
)
def test_other_executions_and_statuses_are_ignored(
    stack: Stack, ctx: LambdaContext, change: dict[str, Any]
) -> None:
    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)

    response = execution_events.handler(status_change(stack, execution_arn, **change), ctx)

    assert response == {"outcome": "ignored"}
    assert jobs_table().state(job.job_id) is JobState.RUNNING
    assert _failed_events(stack) == []


def test_a_distributed_map_child_execution_is_ignored(stack: Stack, ctx: LambdaContext) -> None:
    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)
    child = status_change(
        stack,
        execution_arn,
        stateMachineArn=f"{stack.state_machine_arn}/CallReceivers:1a2b",
        name="c0ffee",
    )

    assert execution_events.handler(child, ctx) == {"outcome": "ignored"}
    assert jobs_table().state(job.job_id) is JobState.RUNNING


@pytest.mark.parametrize("event", [{}, {"source": "aws.states"}, {"detail": "x"}])
def test_a_malformed_event_is_ignored(stack: Stack, ctx: LambdaContext, event: Any) -> None:
    assert execution_events.handler(event, ctx) == {"outcome": "ignored"}


def test_a_late_call_task_of_a_stopped_job_rings_nobody(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    jobs_table().set_state(job.job_id, JobState.RUNNING)
    assert jobs_table().end(job.job_id, JobState.STOPPED, "ABORTED", "stopped by hand")
    body = {"task_token": "t-1", "job_id": job.job_id, "receiver_id": "1", "attempt": 1}

    dialer.handler(sqs_event([{"Body": json.dumps(body)}]), ctx)

    assert stack.connect.requests == []
    [(token, output)] = recording_sfn.successes
    assert token == "t-1"
    assert output["result"]["status"] == "Cancelled"
    assert "stopped" in output["result"]["error"]


def test_a_caught_failure_ends_the_record_and_is_announced_by_the_state_machine_only(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    stack = running_stack
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    jobs_table().set_state(job.job_id, JobState.RUNNING)
    with mock.patch("moto.awslambda_simple.models.LambdaSimpleBackend.invoke", _failing_report):
        execution_arn = _run(stack, job.job_id, [])
    assert stack.sfn.describe_execution(executionArn=execution_arn)["status"] == "FAILED"
    [announced] = _failed_events(stack)  # AnnounceFailure
    assert announced["failure"]["Error"] == "NoSuchKey"

    response = execution_events.handler(status_change(stack, execution_arn), ctx)

    assert response["outcome"] == "ended"
    assert jobs_table().state(job.job_id) is JobState.FAILED
    assert _failed_events(stack) == []  # not announced a second time


def test_the_rule_sends_only_this_state_machines_ends_and_the_function_may_do_only_its_job() -> (
    None
):

    from backend.deploy import cfn_yaml

    from .test_aws_template import TEMPLATE

    resources = cfn_yaml.load(TEMPLATE.read_text())["Resources"]
    function = resources["ExecutionEventsFunction"]["Properties"]
    assert function["Handler"] == "backend.handlers.execution_events.handler"
    pattern = function["Events"]["ExecutionEnded"]["Properties"]["Pattern"]
    assert pattern == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            "stateMachineArn": [{"Ref": "CalloutStateMachine"}],
        },
    }
    role = resources["ExecutionEventsFunctionRole"]["Properties"]  # backend/deploy/roles.py
    own, _runtime = (p["PolicyDocument"] for p in role["Policies"])
    policy = own
    granted = {
        action: statement["Resource"]
        for statement in policy["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert set(granted) == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "states:DescribeExecution",
        "events:PutEvents",
    }
    assert granted["dynamodb:UpdateItem"] == {"Fn::GetAtt": ["JobsTable", "Arn"]}
    assert (
        ":execution:${AWS::StackName}-callouts:*" in granted["states:DescribeExecution"]["Fn::Sub"]
    )
    assert granted["events:PutEvents"]["Fn::Sub"].endswith(":event-bus/default")
    state_machine_arn = function["Environment"]["Variables"]["CALLOUTS_STATE_MACHINE_ARN"]
    assert state_machine_arn["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-callouts")
    assert resources["ExecutionEventsFunctionLogs"]["Type"] == "AWS::Logs::LogGroup"


def test_a_refused_announcement_leaves_the_job_running_for_the_retry(
    stack: Stack, ctx: LambdaContext
) -> None:
    from backend.aws.execution_events import ExecutionEndHandler

    class RefusingBus:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}

    job, execution_arn = _started(stack)
    stack.sfn.stop_execution(executionArn=execution_arn)
    event = status_change(stack, execution_arn)
    refusing = ExecutionEndHandler(
        jobs_table(), stack.sfn, RefusingBus(), stack.state_machine_arn, "default"
    )

    with pytest.raises(RuntimeError, match="refused"):
        refusing.handle(event)
    assert jobs_table().state(job.job_id) is JobState.RUNNING  # Lambda's retry announces it

    retried = execution_events.handler(event, ctx)

    assert retried["outcome"] == "announced"
    assert jobs_table().state(job.job_id) is JobState.STOPPED
    assert len(_failed_events(stack)) == 1
