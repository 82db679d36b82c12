"""SMS to the unreached on AWS: the state machine's PlanTexts / SendTexts step in moto, the
End User Messaging client faked at the adapter boundary (moto has no pinpoint-sms-voice-v2),
every message counted from the fake's own record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.aws import clients, wiring
from backend.aws.jobs import JobStore
from backend.aws.results import result_item
from backend.domain.dnc import DO_NOT_CALL, add_number
from backend.domain.models import CallResult, CallStatus
from backend.domain.sms import NOT_SET_UP
from backend.handlers import report, sms
from backend.local.simulator import SimulatedPerson
from tests.fakes.sms import FakeSmsClient

from .conftest import LambdaContext, Stack, example_job
from .test_aws_pipeline import Phones, _start

TEMPLATE = "Hi {{ name }}, we could not reach you by phone. Please call the school office."
IDENTITY = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1234"


@pytest.fixture
def fake_sms(monkeypatch: pytest.MonkeyPatch) -> FakeSmsClient:
    fake = FakeSmsClient()
    monkeypatch.setenv("CALLOUTS_SMS_ORIGINATION_IDENTITY", IDENTITY)
    monkeypatch.setattr(clients, "sms_client", lambda: fake)
    wiring.reset()
    return fake


def test_the_unreached_are_texted_once_before_the_report(
    running_stack: Stack, ctx: LambdaContext, fake_sms: FakeSmsClient
) -> None:
    stack = running_stack
    job = example_job(retry_delay_seconds=0, sms_template=TEMPLATE)
    fake_sms.refuse[job.receiver("5").phone_number] = "ValidationException"
    people = {
        "2": [SimulatedPerson(pickup="no_answer")] * 2,
        "3": [SimulatedPerson(pickup="busy")] * 2,
        "4": [SimulatedPerson(pickup="invalid")],
        "5": [SimulatedPerson(pickup="no_answer")] * 2,
    }
    status = Phones(stack, people).run(_start(stack, ctx, job), redeliver=True)
    assert status == "SUCCEEDED"

    results = stack.results(job.job_id)
    textable = sorted(r for r, v in results.items() if CallStatus(v["status"]).textable)
    assert textable == ["2", "3", "5"]
    # One message each for the unreached who can take one; nobody reached, nobody listed.
    assert sorted(fake_sms.to()) == sorted(job.receiver(r).phone_number for r in ("2", "3"))
    message = fake_sms.messages[0]
    assert message["OriginationIdentity"] == IDENTITY
    assert message["MessageType"] == "TRANSACTIONAL"
    assert message["MessageBody"].startswith("Hi ")
    assert "ConfigurationSetName" not in message

    [(notification, _)] = stack.notifications()
    assert notification["sms"] == {"sent": 2, "failed": 1, "skipped": 0}
    body = stack.s3.get_object(Bucket=stack.data_bucket, Key=notification["json_key"])["Body"]
    rows = {row["receiver_id"]: row["sms"] for row in json.loads(body.read())["rows"]}
    assert rows["2"] == rows["3"] == "Sent"
    assert rows["5"].startswith("Failed: ValidationException")
    assert rows["1"] is None
    assert rows["4"] is None

    # A retried batch (Lambda or state machine retry) texts nobody again.
    sms.handler({"job_id": job.job_id, "start": 0, "end": 3}, ctx)
    assert len(fake_sms.messages) == 2


def _finished_job(stack: Stack, statuses: dict[str, CallStatus], **settings: Any) -> Any:
    """A job whose calls are over: the job in S3, its record and its results in the tables."""
    job = example_job(sms_template=TEMPLATE, **settings)
    JobStore(stack.s3, stack.data_bucket).save(job)
    wiring.jobs_table().create(job)
    for receiver in job.receivers:
        result = CallResult(
            job_id=job.job_id,
            receiver_id=receiver.id,
            status=statuses.get(receiver.id, CallStatus.CALL_COMPLETED),
        )
        stack.ddb.put_item(TableName=stack.results_table, Item=result_item(result))
    return job


def _plan_and_send(job_id: str, ctx: LambdaContext) -> dict[str, Any]:
    plan: dict[str, Any] = sms.handler({"job_id": job_id}, ctx)
    for batch in plan["batches"]:
        sms.handler(batch, ctx)
    return plan


def test_listed_numbers_are_skipped_and_batches_cover_everyone_once(
    stack: Stack, ctx: LambdaContext, fake_sms: FakeSmsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreached = dict.fromkeys(("1", "2", "3", "4", "5", "S07"), CallStatus.NO_ANSWER)
    job = _finished_job(stack, unreached)
    dnc = wiring.do_not_call()
    assert dnc is not None
    add_number(dnc, job.receiver("4").phone_number, "test")
    monkeypatch.setattr(wiring.sms_step(), "batch_size", 4)

    plan = _plan_and_send(job.job_id, ctx)
    assert plan["texting"] == 6
    assert len(plan["batches"]) == 2
    expected = [job.receiver(r).phone_number for r in ("1", "2", "3", "5", "S07")]
    assert sorted(fake_sms.to()) == sorted(expected)
    _plan_and_send(job.job_id, ctx)  # the whole step again: nothing new
    assert len(fake_sms.messages) == 5

    detail = report.handler({"job_id": job.job_id}, ctx)
    assert detail["sms"] == {"sent": 5, "failed": 0, "skipped": 1}
    body = stack.s3.get_object(Bucket=stack.data_bucket, Key=detail["json_key"])["Body"]
    rows = {row["receiver_id"]: row["sms"] for row in json.loads(body.read())["rows"]}
    assert rows["4"] == f"Skipped: {DO_NOT_CALL}"


def test_a_cancelled_job_is_not_texted(
    stack: Stack, ctx: LambdaContext, fake_sms: FakeSmsClient
) -> None:
    job = _finished_job(stack, {"2": CallStatus.NO_ANSWER, "3": CallStatus.CANCELLED})
    wiring.jobs_table().request_cancel(job.job_id, "U1")
    assert _plan_and_send(job.job_id, ctx)["batches"] == []
    assert fake_sms.messages == []
    assert "sms" in report.handler({"job_id": job.job_id}, ctx)  # the job has a template


def test_without_an_origination_identity_texts_are_skipped_saying_so(
    stack: Stack, ctx: LambdaContext
) -> None:
    job = _finished_job(stack, {"2": CallStatus.BUSY})
    _plan_and_send(job.job_id, ctx)
    detail = report.handler({"job_id": job.job_id}, ctx)
    assert detail["sms"] == {"sent": 0, "failed": 0, "skipped": 1}
    body = stack.s3.get_object(Bucket=stack.data_bucket, Key=detail["json_key"])["Body"]
    rows = {row["receiver_id"]: row["sms"] for row in json.loads(body.read())["rows"]}
    assert rows["2"] == f"Skipped: {NOT_SET_UP}"


def test_the_sms_items_hold_no_text_and_no_number(
    stack: Stack, ctx: LambdaContext, fake_sms: FakeSmsClient
) -> None:
    job = _finished_job(stack, {"2": CallStatus.NO_HUMAN})
    _plan_and_send(job.job_id, ctx)
    items = stack.ddb.query(
        TableName=stack.jobs_table,
        KeyConditionExpression="job_id = :j AND begins_with(sk, :p)",
        ExpressionAttributeValues={":j": {"S": job.job_id}, ":p": {"S": "sms#"}},
    )["Items"]
    assert [item["sk"]["S"] for item in items] == ["sms#2"]
    stored = json.dumps(items)
    assert job.receiver("2").phone_number not in stored
    assert "could not reach you" not in stored


def test_the_sms_step_sits_between_the_calls_and_the_report_and_never_blocks_it() -> None:
    from .conftest import ASL

    states = json.loads(ASL.read_text())["States"]
    assert states["CallReceivers"]["Next"] == "PlanTexts"
    assert states["PlanTexts"]["Next"] == "SendTexts"
    assert states["SendTexts"]["Next"] == "WriteReport"
    for name in ("PlanTexts", "SendTexts"):  # a failing SMS step still writes the report
        [catch] = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["Next"] == "WriteReport"
    assert 1 <= states["SendTexts"]["MaxConcurrency"] <= 10
