"""The state machine executed by moto, and the pipeline end to end.

upload -> job message -> start-job -> call tasks in S3 -> state machine (Distributed Map, moto) ->
calls queue with task tokens -> dialer (fake Connect) -> contact flow run by the phone simulator
calling the flow Lambda -> disconnect events -> results in DynamoDB -> report Lambda -> S3 -> SNS.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.aws.jobs import JobStore
from backend.aws.wiring import jobs_table
from backend.domain.intake import job_to_json
from backend.domain.job_state import JobState
from backend.flows import load_flow
from backend.handlers import connect_flow, contact_events, dialer, intake_upload, start_job
from backend.local.simulator import BotLibrary, PhoneSimulator, SimulatedPerson

from .conftest import (
    LambdaContext,
    Stack,
    disconnected_event,
    example_job,
    example_workbook,
    s3_put_event,
    sqs_event,
)

# moto runs each execution in background threads that a loaded machine can starve past the
# tests' waits; a genuine failure fails all three tries.

ANSWERS = ["okay", "yes I do", "B", "three", "the fourth of December 2026", "half past four p m"]
EXPECTED = ["OK", "Yes", "B", "3", "2026-12-04", "16:30"]


class Phones:
    """Plays Amazon Connect: runs the calls queue through the dialer and each dial through the
    contact flow with a simulated person, then sends the DISCONNECTED event."""

    def __init__(self, stack: Stack, people: dict[str, list[SimulatedPerson]]) -> None:
        self.stack = stack
        self.people = people
        self.simulator = PhoneSimulator(
            load_flow(), BotLibrary.load(), {"CallFlowFunctionArn": connect_flow.handler}
        )
        self.simulated: set[str] = set()
        self.tokens: set[str] = set()
        self.outcomes: dict[str, Any] = {}  # the last call of each receiver
        self.ctx = LambdaContext()

    def pump_calls_queue(self, redeliver: bool) -> None:
        messages = self.stack.queue_messages(self.stack.calls_queue_url)
        if not messages:
            return
        self.tokens.update(json.loads(m["Body"])["task_token"] for m in messages)
        event = sqs_event([{"Body": m["Body"], "MessageId": m["MessageId"]} for m in messages])
        response = dialer.handler(event, self.ctx)
        if redeliver:  # at-least-once delivery and a Lambda retry: the same batch again
            dialer.handler(event, self.ctx)
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.stack.sqs.delete_message(
                    QueueUrl=self.stack.calls_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def answer_new_calls(self) -> None:
        for contact_id in self.stack.connect.dialled:
            if contact_id in self.simulated:
                continue
            self.simulated.add(contact_id)
            attributes = self.stack.connect.attributes[contact_id]
            _, receiver_id, attempt = attributes["call_id"].rsplit(":", 2)
            person = self.people.get(receiver_id, [SimulatedPerson(utterances=ANSWERS)])
            outcome = self.simulator.call(contact_id, attributes, person[int(attempt) - 1])
            self.outcomes[receiver_id] = outcome
            self.stack.connect.disconnects[contact_id] = (
                outcome.disconnect_reason,
                outcome.connected,
            )
            contact_events.handler(disconnected_event(contact_id), self.ctx)

    def run(self, execution_arn: str, redeliver: bool = False, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump_calls_queue(redeliver)
            self.answer_new_calls()
            status = self.stack.sfn.describe_execution(executionArn=execution_arn)["status"]
            if status != "RUNNING":
                return str(status)
            time.sleep(0.05)
        raise AssertionError("the execution did not finish in time")


def _sns_messages(stack: Stack) -> list[dict[str, Any]]:
    return [
        json.loads(json.loads(m["Body"])["Message"])
        for m in stack.queue_messages(stack.notifications_url)
    ]


def _fifo_event(body: str) -> dict[str, Any]:
    event = sqs_event([{"Body": body}], queue="callouts-jobs.fifo")
    event["Records"][0]["attributes"].update({"MessageGroupId": "jobs", "SequenceNumber": "1"})
    return event


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Every log line of the handlers at DEBUG: Powertools JSON lines and backend.* records."""
    from backend.aws.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    powertools = logging.getLogger(logger.name)
    level = powertools.level
    powertools.addHandler(handler)
    powertools.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="backend")
    yield lambda: lines.getvalue() + "\n".join(caplog.messages)
    powertools.removeHandler(handler)
    powertools.setLevel(level)


def test_upload_to_report_end_to_end(
    running_stack: Stack, ctx: LambdaContext, all_logs: Callable[[], str]
) -> None:
    stack = running_stack
    workbook = example_workbook(retry_delay_seconds=0)
    stack.s3.put_object(Bucket=stack.intake_bucket, Key="class-3A.xlsx", Body=workbook)
    upload_event = s3_put_event(stack.intake_bucket, "class-3A.xlsx", len(workbook))

    [upload] = intake_upload.handler(upload_event, ctx)["uploads"]
    job_id = upload["job_id"]
    [job_message] = stack.queue_messages(stack.job_queue_url)
    assert start_job.handler(_fifo_event(job_message["Body"]), ctx) == {"batchItemFailures": []}
    [execution] = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert execution["name"] == job_id

    job = JobStore(stack.s3, stack.data_bucket).load(job_id)
    stack.connect.refuse[job.receiver("6").phone_number] = "DestinationNotAllowedException"
    people = {
        "2": [SimulatedPerson(pickup="no_answer"), SimulatedPerson(utterances=ANSWERS)],
        "3": [SimulatedPerson(pickup="busy"), SimulatedPerson(pickup="busy")],
        "4": [SimulatedPerson(pickup="invalid")],
        "5": [SimulatedPerson(utterances=ANSWERS, hang_up_after=2)],
    }
    phones = Phones(stack, people)
    status = phones.run(execution["executionArn"], redeliver=True)

    assert status == "SUCCEEDED"
    results = stack.results(job_id)
    assert {r: (v["status"], v["attempts"]) for r, v in results.items()} == {
        "1": ("CallCompleted", 1),
        "2": ("CallCompleted", 2),
        "3": ("Busy", 2),
        "4": ("NotCallable", 1),
        "5": ("DropCall", 1),
        "6": ("NotCallable", 1),
        "S07": ("CallCompleted", 1),
        "S08": ("CallCompleted", 1),
    }
    assert results["1"]["answers"] == EXPECTED
    assert results["5"]["answers"] == EXPECTED[:2] + [None] * 4
    # One request per (receiver, attempt) despite every calls-queue batch arriving twice.
    tokens = [request["ClientToken"] for request in stack.connect.requests]
    assert len(tokens) == len(set(tokens)) == 10

    [notification] = _sns_messages(stack)
    assert notification["task_id"] == job_id
    assert notification["bucket"] == stack.data_bucket
    assert notification["xlsx_key"] == f"reports/{job_id}.xlsx"
    assert notification["url"].startswith("https://")
    assert notification["counts"] == {
        "Busy": 1,
        "CallCompleted": 4,
        "DropCall": 1,
        "NotCallable": 2,
    }
    report = stack.s3.get_object(Bucket=stack.data_bucket, Key=notification["json_key"])
    assert job_id in report["Body"].read().decode()
    assert jobs_table().state(job_id) is JobState.FINISHED

    # A repeated upload and a redelivered job message start nothing and dial nobody.
    assert intake_upload.handler(upload_event, ctx)["uploads"][0]["queued"] is False
    assert start_job.handler(_fifo_event(job_message["Body"]), ctx) == {"batchItemFailures": []}
    assert (
        len(stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]) == 1
    )
    assert stack.queue_messages(stack.calls_queue_url) == []
    assert len(stack.connect.requests) == 10

    # The logs of the whole run hold no phone number and no task token.
    logged = all_logs()
    assert "call task" in logged  # the dialer's line per message: the capture works
    assert job_id in logged
    assert phones.tokens
    for token in phones.tokens:
        assert token not in logged
    for receiver in job.receivers:
        assert receiver.phone_number not in logged
    assert not re.search(r"\+\d{8,15}", logged), re.findall(r"\+\d{8,15}", logged)


def test_timeout_and_task_failure_become_failed_results(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    stack = running_stack
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    tasks = [
        {
            "job_id": job.job_id,
            "receiver_id": receiver,
            "attempt": 1,
            "max_attempts": 2,
            "retry_delay_seconds": 0,
            "call_timeout_seconds": timeout,
        }
        for receiver, timeout in (("1", 1), ("2", 60), ("3", 60))
    ]
    # Receiver 3's result was saved before (a redriven map run): the conditional put keeps it.
    from backend.aws.results import result_item
    from backend.domain.models import CallResult, CallStatus

    saved = CallResult(job_id=job.job_id, receiver_id="3", status=CallStatus.BUSY, attempts=1)
    stack.ddb.put_item(TableName=stack.results_table, Item=result_item(saved))
    stack.s3.put_object(Bucket=stack.data_bucket, Key="tasks/t.json", Body=json.dumps(tasks))
    execution_arn = stack.sfn.start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=job.job_id,
        input=json.dumps(
            {
                "job_id": job.job_id,
                "tasks": {"bucket": stack.data_bucket, "key": "tasks/t.json"},
                "max_concurrency": 3,
            }
        ),
    )["executionArn"]

    deadline = time.monotonic() + 30
    failed = False
    while time.monotonic() < deadline:
        for message in stack.queue_messages(stack.calls_queue_url):
            body = json.loads(message["Body"])
            if body["receiver_id"] == "2" and not failed:
                stack.sfn.send_task_failure(
                    taskToken=body["task_token"],
                    error="Callouts.DeploymentFault",
                    cause="Amazon Connect refused the call",
                )
                failed = True
            if body["receiver_id"] == "3":
                result = dataclasses.replace(saved, status=CallStatus.CALL_COMPLETED)
                stack.sfn.send_task_success(
                    taskToken=body["task_token"], output=json.dumps({"result": result.to_json()})
                )
        if stack.sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING":
            break
        time.sleep(0.05)

    assert stack.sfn.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED"
    results = stack.results(job.job_id)
    assert results["1"]["status"] == "Failed"
    assert "timeout" in results["1"]["error"]
    assert results["2"]["status"] == "Failed"
    # moto 5.2.5 drops SendTaskFailure's cause; AWS passes it into "<error>: <cause>".
    assert results["2"]["error"].startswith("Callouts.DeploymentFault: ")
    history = stack.sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert "MapRunSucceeded" in [e["type"] for e in history]  # no child failed: caught in-map
    assert results["3"]["status"] == "Busy"  # AlreadySaved: written once, never overwritten
    [notification] = _sns_messages(stack)
    assert notification["counts"] == {"Busy": 1, "Failed": 2}


def test_start_job_message_shape_matches_the_schema_form(stack: Stack) -> None:
    job = example_job()
    assert json.loads(json.dumps(job_to_json(job)))["job_id"] == job.job_id


def _start(stack: Stack, ctx: LambdaContext, job: Any) -> str:
    """Queue the job as the Slack bot does and run start-job: the execution's ARN."""
    from backend.aws.submitter import SqsJobSubmitter

    assert SqsJobSubmitter.from_settings().submit(job)
    [message] = stack.queue_messages(stack.job_queue_url)
    assert start_job.handler(_fifo_event(message["Body"]), ctx) == {"batchItemFailures": []}
    [execution] = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    return str(execution["executionArn"])


def test_cancel_mid_job_ends_every_remaining_receiver_once_as_cancelled(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    from backend.aws.submitter import SqsJobSubmitter

    stack = running_stack
    job = example_job(retry_delay_seconds=0)
    execution_arn = _start(stack, ctx, job)
    phones = Phones(stack, {})
    deadline = time.monotonic() + 30
    while not stack.connect.dialled and time.monotonic() < deadline:
        phones.pump_calls_queue(redeliver=False)
        time.sleep(0.05)
    phones.answer_new_calls()  # the first calls (at most MaxConcurrency) are answered

    assert SqsJobSubmitter.from_settings().cancel(job.job_id, "U42")
    dialled_before_cancel = len(stack.connect.requests)
    status = phones.run(execution_arn, redeliver=True)

    assert status == "SUCCEEDED"
    assert len(stack.connect.requests) == dialled_before_cancel  # nobody dialled after it
    results = stack.results(job.job_id)
    assert sorted(results) == sorted(r.id for r in job.receivers)  # one result per receiver
    statuses = [v["status"] for v in results.values()]
    assert statuses.count("CallCompleted") == dialled_before_cancel
    assert statuses.count("Cancelled") == len(job.receivers) - dialled_before_cancel > 0
    assert all("U42" in v["error"] for v in results.values() if v["status"] == "Cancelled")
    [(notification, _)] = stack.notifications()
    assert notification["cancelled"] is True
    assert sum(notification["counts"].values()) == len(job.receivers)
    assert jobs_table().state(job.job_id) is JobState.CANCELLED


def test_a_receiver_outside_the_calling_window_waits_and_is_then_called(
    running_stack: Stack, ctx: LambdaContext
) -> None:
    from datetime import UTC, datetime, timedelta

    from backend.aws import wiring

    stack = running_stack
    job = example_job(retry_delay_seconds=0, calling_window="09:00-17:00")
    opening = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Hong Kong
    closed = {"now": True}
    # One second before the window opens: the state machine waits 2 s, then sends the call again.
    wiring.dialer().clock = lambda: opening - timedelta(seconds=1) if closed["now"] else opening
    execution_arn = _start(stack, ctx, job)
    phones = Phones(stack, {})
    deadline = time.monotonic() + 30
    waited: list[str] = []
    while not waited and time.monotonic() < deadline:
        messages = stack.queue_messages(stack.calls_queue_url)
        for message in messages:
            assert wiring.dialer().handle(message["Body"]) == "waiting"
            waited.append(json.loads(message["Body"])["receiver_id"])
            stack.sqs.delete_message(
                QueueUrl=stack.calls_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        time.sleep(0.05)
    assert waited
    assert stack.connect.requests == []
    closed["now"] = False

    assert phones.run(execution_arn) == "SUCCEEDED"

    results = stack.results(job.job_id)
    assert {
        r: (v["status"], v["attempts"]) for r, v in results.items() if r in waited
    } == dict.fromkeys(waited, ("CallCompleted", 1))
    tokens = [request["ClientToken"] for request in stack.connect.requests]
    assert sorted(tokens) == sorted(f"{job.job_id}:{r.id}:1" for r in job.receivers)


def test_a_two_language_job_runs_end_to_end_in_each_person_language(
    running_stack: Stack, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spanish people hear Spanish (Lupe, the es_US bots) and answer in Spanish through the
    deployed pipeline; the results hold the same canonical answers as the English ones."""
    from backend.aws import wiring
    from tests.fakes.bilingual import ANSWERS as SAID_ANSWERS
    from tests.fakes.bilingual import SPOKEN, bilingual_job

    monkeypatch.setenv("CALLOUTS_BOT_LANGUAGES", "en-US,es-US")
    wiring.reset()
    job = bilingual_job("bilingual-pipeline")
    assert start_job.handler(_fifo_event(json.dumps(job_to_json(job))), ctx) == {
        "batchItemFailures": []
    }
    [execution] = running_stack.sfn.list_executions(
        stateMachineArn=running_stack.state_machine_arn
    )["executions"]
    people = {rid: [SimulatedPerson(utterances=said)] for rid, said in SPOKEN.items()}
    phones = Phones(running_stack, people)

    assert phones.run(execution["executionArn"]) == "SUCCEEDED"

    results = running_stack.results(job.job_id)
    assert {rid: r["status"] for rid, r in results.items()} == dict.fromkeys(
        SPOKEN, "CallCompleted"
    )
    assert {rid: tuple(r["answers"]) for rid, r in results.items()} == SAID_ANSWERS
    heard = {rid: (o.voice, o.language) for rid, o in phones.outcomes.items()}
    assert heard == {
        "en1": ("Joanna", "en-US"),
        "es1": ("Lupe", "es-US"),
        "es2": ("Lupe", "es-US"),
        "en2": ("Joanna", "en-US"),
    }
