"""Start-job on moto: a job whose people speak a language the deployment's bots were not built
for (the BotLocales stack parameter) is refused with a clear problem; enabled, it starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.aws import wiring
from backend.domain.intake import job_to_json
from backend.handlers import start_job
from tests.fakes.bilingual import bilingual_job

from .conftest import LambdaContext, Stack, sqs_event


def _start(job_id: str, ctx: LambdaContext) -> Any:
    body = json.dumps(job_to_json(bilingual_job(job_id)))
    event = sqs_event([{"Body": body, "MessageId": job_id}], queue="callouts-jobs.fifo")
    for record in event["Records"]:
        record["attributes"].update(
            {"MessageGroupId": "jobs", "SequenceNumber": "1", "MessageDeduplicationId": job_id}
        )
    return start_job.handler(event, ctx)


def _executions(stack: Stack) -> list[str]:
    found = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return [execution["name"] for execution in found]


def test_spanish_people_on_an_english_only_deployment_are_refused(
    stack: Stack, ctx: LambdaContext
) -> None:
    assert _start("spanish-refused", ctx) == {"batchItemFailures": []}  # rejected, not retried
    assert _executions(stack) == []  # nobody is rung
    [(rejection, _)] = stack.notifications()
    [problem] = rejection["problems"]
    assert problem["field"] == "receivers"
    assert "do not speak es-US" in problem["message"]
    assert "BotLocales" in problem["message"]


def test_the_same_job_starts_where_spanish_is_enabled(
    stack: Stack, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLOUTS_BOT_LANGUAGES", "en-US,es-US")
    wiring.reset()
    assert _start("spanish-enabled", ctx) == {"batchItemFailures": []}
    assert _executions(stack) == ["spanish-enabled"]
    assert stack.notifications() == []
