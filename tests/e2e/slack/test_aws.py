"""AWS side of the bot with moto: the DynamoDB/S3 bot state and the notifier Lambda (results
stream records + job completion event -> card, thread batch, report)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import bot.aws_notifier as aws_notifier
import bot.aws_runtime as aws_runtime
import bot.notifier_handler as notifier_handler
import bot.slack.aws_runtime as slack_runtime
from backend.aws import clients
from backend.aws.jobs import JobStore
from backend.aws.results import result_item
from backend.aws.settings import settings as aws_settings
from backend.domain.intake import job_to_json, read_workbook
from backend.domain.models import CallJob, CallResult, CallStatus, ChatOrigin
from bot.aws_state import DynamoBotState
from bot.core.state import START_CLAIM_SECONDS, JobCard, PendingJob
from tests.e2e.slack.conftest import CHANNEL, SECRET, TEAM, TOKEN, USER, example_workbook
from tests.fakes.slack_api import FakeSlack

BUCKET, JOBS, RESULTS = "callouts-data", "callouts-jobs", "callouts-results"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> Iterator[None]:
    env = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "CALLOUTS_DATA_BUCKET": BUCKET,
        "CALLOUTS_JOBS_TABLE": JOBS,
        "CALLOUTS_RESULTS_TABLE": RESULTS,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        _reset()
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        db = boto3.client("dynamodb")
        for name, sort in ((JOBS, "sk"), (RESULTS, "receiver_id")):
            db.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "job_id", "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "job_id", "AttributeType": "S"},
                    {"AttributeName": sort, "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        yield
        _reset()


def _reset() -> None:
    clients.client.cache_clear()
    aws_settings.cache_clear()
    slack_runtime.bot_settings.cache_clear()
    aws_runtime.bot_state.cache_clear()
    aws_notifier.stream_notifier.cache_clear()


def _job(origin: bool = True) -> CallJob:
    job = read_workbook(example_workbook(), filename="class.xlsx", job_id="class-3a").job
    assert job is not None
    if origin:
        job = job.model_copy(
            update={
                "origin": ChatOrigin(
                    team_id=TEAM, channel_id=CHANNEL, user_id=USER, card_ref="77.7"
                )
            }
        )
    return job


def _state() -> DynamoBotState:
    return DynamoBotState(boto3.client("dynamodb"), JOBS, boto3.client("s3"), BUCKET)


def test_dynamo_state_claims_once_and_keeps_pending_jobs_and_cards(aws: None) -> None:
    state = _state()
    job = _job()
    state.save_pending(
        job.job_id,
        PendingJob(job=job_to_json(job), team_id=TEAM, channel_id=CHANNEL, user_id=USER),
    )
    pending = state.pending(job.job_id)
    assert pending is not None
    assert pending.job["receivers"] == job_to_json(job)["receivers"]
    assert state.pending("nope") is None

    assert state.claim_start(job.job_id, USER) is True
    assert state.claim_start(job.job_id, "U2") is False
    state.release_start(job.job_id)
    assert state.claim_start(job.job_id, "U2", now=1000.0) is True
    # A claim whose card was never posted expires; one with a card never does.
    assert state.claim_start(job.job_id, "U3", now=1000.0 + START_CLAIM_SECONDS - 1) is False
    assert state.claim_start(job.job_id, "U3", now=1000.0 + START_CLAIM_SECONDS + 1) is True
    state.withdraw_pending(job.job_id)
    assert state.pending(job.job_id) is None

    card = JobCard.for_job(job)
    card.statuses["1"] = "CallCompleted"
    state.save_card(card)
    state.save_card(card)
    loaded = state.card(job.job_id)
    assert loaded is not None
    assert loaded.statuses == {"1": "CallCompleted"}
    assert [c.job_id for c in state.recent_cards(CHANNEL)] == [job.job_id]
    assert state.claim_start(job.job_id, "U4", now=1000.0 + 10 * START_CLAIM_SECONDS) is False


def _record(result: CallResult, seq: str) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": result_item(result), "SequenceNumber": seq},
    }


def test_notifier_lambda_posts_batches_then_report(aws: None, fake_slack: FakeSlack) -> None:
    job = _job()
    JobStore(boto3.client("s3"), BUCKET).save(job)
    _state().save_card(JobCard.for_job(job))
    results = [
        CallResult(job_id=job.job_id, receiver_id=r.id, status=CallStatus.NO_ANSWER)
        for r in job.receivers
    ]
    db = boto3.client("dynamodb")
    for result in results:
        db.put_item(TableName=RESULTS, Item=result_item(result))

    answer = notifier_handler.handler(
        {"Records": [_record(r, str(i)) for i, r in enumerate(results[:5])]}, None
    )
    assert answer == {"batchItemFailures": []}
    (batch,) = fake_slack.calls_to("chat.postMessage")
    assert batch.args["thread_ts"] == "77.7"
    assert "5/8" in fake_slack.calls_to("chat.update")[-1].text()

    boto3.client("s3").put_object(Bucket=BUCKET, Key="reports/class-3a.xlsx", Body=b"xlsx!")
    notifier_handler.handler(
        {
            "source": "callouts",
            "detail-type": "Callout Job Finished",
            "detail": {"job_id": job.job_id, "bucket": BUCKET, "xlsx_key": "reports/class-3a.xlsx"},
        },
        None,
    )
    assert "8/8" in fake_slack.calls_to("chat.update")[-1].text()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the 3 late results, one batch
    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == "77.7"
    assert [u.content for u in fake_slack.uploads.values() if u.completed] == [b"xlsx!"]


def test_notifier_lambda_ignores_jobs_not_from_slack(aws: None, fake_slack: FakeSlack) -> None:
    job = _job(origin=False)
    JobStore(boto3.client("s3"), BUCKET).save(job)
    result = CallResult(job_id=job.job_id, receiver_id="1", status=CallStatus.BUSY)
    assert notifier_handler.handler({"Records": [_record(result, "1")]}, None) == {
        "batchItemFailures": []
    }
    assert fake_slack.calls == []


def test_undelivered_results_are_retried_by_the_stream(aws: None, fake_slack: FakeSlack) -> None:
    job = _job()
    JobStore(boto3.client("s3"), BUCKET).save(job)
    results = [
        CallResult(job_id=job.job_id, receiver_id=r.id, status=CallStatus.BUSY)
        for r in job.receivers[:3]
    ]
    records = {"Records": [_record(r, f"s{i}") for i, r in enumerate(results)]}
    fake_slack.error_next("chat.postMessage", "internal_error")
    answer = notifier_handler.handler(records, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"s{i}"} for i in range(3)]}
    stored = _state().card(job.job_id)
    assert stored is None or stored.done == 0

    assert notifier_handler.handler(records, None) == {"batchItemFailures": []}  # redelivery
    assert "3/8" in fake_slack.calls_to("chat.update")[-1].text()
    posted = [c for c in fake_slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "`1`" in json.dumps(posted[-1].args["blocks"])


def test_the_card_of_a_10000_person_job_fits_a_dynamodb_item(aws: None) -> None:
    state = _state()
    card = JobCard.for_job(_job())
    card.total = 10_000
    card.statuses = {f"parent-{i:05d}@school.example": "CallCompleted" for i in range(10_000)}
    assert len(card.to_json()) > 400_000  # over DynamoDB's item limit as plain JSON
    state.save_card(card)
    loaded = state.card(card.job_id)
    assert loaded is not None
    assert loaded.statuses == card.statuses


def test_a_card_stored_as_text_by_an_older_version_is_still_read(aws: None) -> None:
    card = JobCard.for_job(_job())
    boto3.client("dynamodb").put_item(
        TableName=JOBS,
        Item={
            "job_id": {"S": card.job_id},
            "sk": {"S": "slack#card"},
            "value": {"S": card.to_json()},
        },
    )
    loaded = _state().card(card.job_id)
    assert loaded is not None
    assert loaded.total == card.total
