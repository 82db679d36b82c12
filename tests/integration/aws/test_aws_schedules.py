"""Scheduled jobs on moto: a job with start_at/repeat becomes an EventBridge Scheduler schedule;
each delivered occurrence starts exactly one job, however often it is delivered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from typer.testing import CliRunner

from backend.aws import wiring
from backend.aws.schedules import OCCURRENCE_TIME, AwsScheduleBook, schedule_key
from backend.aws.submitter import SqsJobSubmitter
from backend.cli import app
from backend.domain.intake import job_to_json
from backend.handlers import start_job

from .conftest import REGION, LambdaContext, Stack, example_job, sqs_event

GROUP = "callouts-test"
SCHEDULE_BUCKET = "callouts-schedules"
DEAD_LETTER_ARN = f"arn:aws:sqs:{REGION}:123456789012:callouts-schedule-dlq"


@pytest.fixture
def scheduler(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    session = boto3.session.Session(region_name=REGION)
    client = session.client("scheduler")
    client.create_schedule_group(Name=GROUP)
    stack.s3.create_bucket(Bucket=SCHEDULE_BUCKET)
    role = session.client("iam").create_role(
        RoleName="callouts-scheduler", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    queue_arn = stack.sqs.get_queue_attributes(
        QueueUrl=stack.job_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    monkeypatch.setenv("CALLOUTS_SCHEDULE_GROUP", GROUP)
    monkeypatch.setenv("CALLOUTS_SCHEDULE_BUCKET", SCHEDULE_BUCKET)
    monkeypatch.setenv("CALLOUTS_JOB_QUEUE_ARN", queue_arn)
    monkeypatch.setenv("CALLOUTS_SCHEDULER_ROLE_ARN", role)
    monkeypatch.setenv("CALLOUTS_SCHEDULE_DEAD_LETTER_ARN", DEAD_LETTER_ARN)
    monkeypatch.setenv("CALLOUTS_MAX_RUNNING_JOBS", "5")  # occurrences may overlap
    wiring.reset()
    return client


def _deliver(stack: Stack, ctx: LambdaContext, bodies: list[str]) -> dict[str, Any]:
    messages = []
    for index, body in enumerate(bodies):
        attributes = {
            "MessageGroupId": "jobs",
            "SequenceNumber": str(index + 1),
            "MessageDeduplicationId": f"d{index}",
        }
        messages.append({"Body": body, "Attributes": attributes})
    return dict(start_job.handler(sqs_event(messages, queue="callouts-jobs.fifo"), ctx))


def _executions(stack: Stack) -> list[str]:
    listed = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return sorted(e["name"] for e in listed)


def _fire(target: dict[str, Any], at: datetime) -> str:
    """What EventBridge Scheduler sends the queue at `at`: the input, context filled in."""
    return str(target["Input"]).replace(OCCURRENCE_TIME, f"{at:%Y-%m-%dT%H:%M:%SZ}")


def test_a_scheduled_job_becomes_a_schedule_and_each_occurrence_one_job(
    stack: Stack, scheduler: Any, ctx: LambdaContext
) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=10, minute=0, second=0)
    job = example_job(
        timezone="Asia/Hong_Kong",
        start_at=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00"),
        repeat="daily 3 times",
    )
    body = json.dumps(job_to_json(job))

    assert _deliver(stack, ctx, [body, body]) == {"batchItemFailures": []}

    assert _executions(stack) == []  # a schedule, not a run
    [listed] = scheduler.list_schedules(GroupName=GROUP)["Schedules"]
    made = scheduler.get_schedule(Name=listed["Name"], GroupName=GROUP)
    local = start.astimezone(ZoneInfo("Asia/Hong_Kong"))
    assert made["ScheduleExpression"] == f"cron({local.minute} {local.hour} * * ? *)"
    assert made["ScheduleExpressionTimezone"] == "Asia/Hong_Kong"
    assert made["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = made["Target"]
    assert target["Arn"].endswith(":callouts-jobs.fifo")
    assert target["SqsParameters"] == {"MessageGroupId": "jobs"}
    # Retried for an hour, then kept in the alarmed dead-letter queue rather than lost.
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
    assert target["DeadLetterConfig"] == {"Arn": DEAD_LETTER_ARN}
    assert json.loads(target["Input"]) == {"schedule_id": job.job_id, "occurrence": OCCURRENCE_TIME}
    kept = stack.s3.get_object(Bucket=SCHEDULE_BUCKET, Key=schedule_key(job.job_id))
    assert json.loads(kept["Body"].read())["settings"]["repeat"] == "daily 3 times"

    first, second = start, start + timedelta(days=1)
    # The first occurrence delivered twice (at-least-once delivery), then the second once.
    for at in (first, first, second):
        assert _deliver(stack, ctx, [_fire(target, at)]) == {"batchItemFailures": []}

    stamp = "%Y%m%dT%H%MZ"
    assert _executions(stack) == [
        f"{job.job_id}-{first.astimezone(UTC):{stamp}}",
        f"{job.job_id}-{second.astimezone(UTC):{stamp}}",
    ]
    assert stack.notifications() == []  # nothing rejected


def test_a_cancelled_schedule_starts_nothing_more(
    stack: Stack, scheduler: Any, ctx: LambdaContext
) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    job = example_job(start_at=start.strftime("%Y-%m-%dT%H:%M+00:00"))
    _deliver(stack, ctx, [json.dumps(job_to_json(job))])
    made = scheduler.get_schedule(Name=job.job_id, GroupName=GROUP)
    assert made["ScheduleExpression"] == f"at({start:%Y-%m-%dT%H:%M}:00)"
    assert made["ActionAfterCompletion"] == "DELETE"

    schedules = wiring.schedules()
    assert schedules is not None
    assert [s.schedule_id for s in schedules.list()] == [job.job_id]
    listed_cli = CliRunner().invoke(app, ["schedule", "list", "--aws"])
    assert listed_cli.exit_code == 0, listed_cli.output
    assert f"{job.job_id}  next " in listed_cli.output
    book = AwsScheduleBook(SqsJobSubmitter.from_settings(), schedules, lambda: datetime.now(UTC))
    [listed] = book.scheduled()
    assert listed.next_at == start.replace(second=0, microsecond=0)
    assert listed.receivers == len(job.receivers)
    assert book.find("no-such-schedule") is None
    cancelled = CliRunner().invoke(app, ["schedule", "cancel", job.job_id, "--aws"])
    assert cancelled.exit_code == 0, cancelled.output
    assert book.cancel(job.job_id, by="U1") is False  # gone
    assert schedules.list() == []
    assert schedules.delete(job.job_id) is False

    _deliver(stack, ctx, [_fire(made["Target"], start)])
    assert _executions(stack) == []
    [(rejection, _)] = stack.notifications()
    assert "was cancelled" in json.dumps(rejection)


def test_a_scheduled_job_in_the_past_is_rejected_naming_the_field(
    stack: Stack, scheduler: Any, ctx: LambdaContext
) -> None:
    payload = job_to_json(example_job())
    payload["settings"]["start_at"] = "2020-01-06T09:00:00+00:00"
    _deliver(stack, ctx, [json.dumps(payload)])
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    [(rejection, _)] = stack.notifications()
    assert "settings.start_at" in json.dumps(rejection)
    assert "in the past" in json.dumps(rejection)
