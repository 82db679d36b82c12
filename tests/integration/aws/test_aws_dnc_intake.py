"""On AWS intake marks do-not-call receivers: the workbook uploaded to the intake bucket and the
JSON job sent to the job queue both reach start-job, which marks them from the DynamoDB list;
the state machine (executed by moto) saves their `NotCallable (do-not-call)` result without a
call task, so the dialer never hears of them and fake Connect never rings them."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest

from backend.aws.jobs import JobStore
from backend.aws.wiring import do_not_call
from backend.domain.dnc import DO_NOT_CALL, add_number, is_listed
from backend.domain.intake import job_to_json
from backend.handlers import dialer, intake_upload, start_job
from backend.local.simulator import SimulatedPerson

from .conftest import LambdaContext, Stack, example_job, example_workbook, s3_put_event, sqs_event
from .test_aws_pipeline import Phones


def _fifo_event(body: str) -> dict[str, Any]:
    event = sqs_event([{"Body": body}], queue="callouts-jobs.fifo")
    event["Records"][0]["attributes"].update({"MessageGroupId": "jobs", "SequenceNumber": "1"})
    return event


KEPT = 3  # receivers kept of the example's eight: enough to show it, quick to run


def _small_workbook() -> bytes:
    """The example workbook with its first three receivers."""
    book = openpyxl.load_workbook(io.BytesIO(example_workbook(retry_delay_seconds=0)))
    sheet = book["Receivers"]
    sheet.delete_rows(KEPT + 2, sheet.max_row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _small_job(job_id: str) -> dict[str, Any]:
    job = job_to_json(example_job(retry_delay_seconds=0))
    return {**job, "job_id": job_id, "receivers": job["receivers"][:KEPT]}


def _list_receivers(*receivers: str) -> dict[str, str]:
    """Put the example job's receivers on the list; the kept receivers' numbers by id."""
    numbers = {r.id: r.phone_number for r in example_job().receivers[:KEPT]}
    dnc = do_not_call()
    assert dnc is not None
    for receiver in receivers:
        add_number(dnc, numbers[receiver], "test")
    return numbers


def _run_to_end(
    stack: Stack,
    job_id: str,
    monkeypatch: pytest.MonkeyPatch,
    people: dict[str, list[SimulatedPerson]] | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """Run the job's execution with everyone answering; its results and the receivers the
    dialer was handed a call task for (the calls-queue records it received)."""
    [execution] = [
        e
        for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if e["name"] == job_id
    ]
    tasked: set[str] = set()
    real = dialer.handler

    def recording(event: dict[str, Any], context: Any) -> Any:
        tasked.update(json.loads(record["body"])["receiver_id"] for record in event["Records"])
        return real(event, context)

    monkeypatch.setattr(dialer, "handler", recording)
    try:
        assert Phones(stack, people or {}).run(execution["executionArn"]) == "SUCCEEDED"
    finally:
        monkeypatch.setattr(dialer, "handler", real)
    return stack.results(job_id), tasked


def test_an_uploaded_workbook_ends_listed_receivers_not_callable_without_a_call(
    running_stack: Stack, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = running_stack
    numbers = _list_receivers("2")
    workbook = _small_workbook()
    stack.s3.put_object(Bucket=stack.intake_bucket, Key="class.xlsx", Body=workbook)
    [upload] = intake_upload.handler(
        s3_put_event(stack.intake_bucket, "class.xlsx", len(workbook)), ctx
    )["uploads"]
    [message] = stack.queue_messages(stack.job_queue_url)
    assert start_job.handler(_fifo_event(message["Body"]), ctx) == {"batchItemFailures": []}
    job_id = upload["job_id"]
    assert JobStore(stack.s3, stack.data_bucket).load(job_id).do_not_call == ("2",)

    results, tasked = _run_to_end(stack, job_id, monkeypatch)
    assert (results["2"]["status"], results["2"]["error"], results["2"]["attempts"]) == (
        "NotCallable",
        DO_NOT_CALL,
        0,
    )
    assert {r["status"] for rid, r in results.items() if rid != "2"} == {"CallCompleted"}
    assert len(results) == KEPT
    rung = [request["DestinationPhoneNumber"] for request in stack.connect.requests]
    assert numbers["2"] not in rung
    assert len(rung) == KEPT - 1
    assert tasked == set(numbers) - {"2"}  # the dialer never got a task for them


def test_a_queued_json_job_is_marked_at_start_and_a_second_job_gives_the_same(
    running_stack: Stack, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = running_stack
    numbers = _list_receivers("3")
    first = _small_job("json-first")
    assert start_job.handler(_fifo_event(json.dumps(first)), ctx) == {"batchItemFailures": []}
    results, tasked = _run_to_end(stack, "json-first", monkeypatch)
    assert (results["3"]["status"], results["3"]["error"], results["3"]["attempts"]) == (
        "NotCallable",
        DO_NOT_CALL,
        0,
    )
    assert "3" not in tasked
    second = {**first, "job_id": "json-second"}
    assert start_job.handler(_fifo_event(json.dumps(second)), ctx) == {"batchItemFailures": []}
    again, tasked_again = _run_to_end(stack, "json-second", monkeypatch)

    def outcome(rows: dict[str, Any]) -> dict[str, tuple[str, Any, int]]:
        return {rid: (r["status"], r["error"], r["attempts"]) for rid, r in rows.items()}

    assert outcome(again) == outcome(results)
    assert tasked_again == tasked
    rung = [request["DestinationPhoneNumber"] for request in stack.connect.requests]
    assert numbers["3"] not in rung
    assert len(rung) == 2 * (len(numbers) - 1)


def test_star_with_the_bot_down_opts_out_through_the_flow_and_the_next_job_marks_them(
    running_stack: Stack, ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone simulator runs the real contact flow against the flow Lambda's handler: Lex
    fails for receiver 1, who presses star; the flow's own keypad listener takes it."""
    stack = running_stack
    numbers = _list_receivers()
    first = _small_job("keypad-first")
    assert start_job.handler(_fifo_event(json.dumps(first)), ctx) == {"batchItemFailures": []}
    people = {"1": [SimulatedPerson(utterances=["*"], bot_fails=True)]}
    results, _ = _run_to_end(stack, "keypad-first", monkeypatch, people)
    assert results["1"]["status"] == "OptedOut"
    dnc = do_not_call()
    assert dnc is not None
    assert is_listed(dnc, numbers["1"])
    second = {**first, "job_id": "keypad-second"}
    assert start_job.handler(_fifo_event(json.dumps(second)), ctx) == {"batchItemFailures": []}
    again, tasked = _run_to_end(stack, "keypad-second", monkeypatch)
    assert (again["1"]["status"], again["1"]["error"]) == ("NotCallable", DO_NOT_CALL)
    assert "1" not in tasked
    rung = [request["DestinationPhoneNumber"] for request in stack.connect.requests]
    assert rung.count(numbers["1"]) == 1
