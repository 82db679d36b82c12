"""The bot's AWS wiring: settings, the SQS job submitter, the DynamoDB/S3 bot state and the
stream notifier's readers (job JSON in S3, results in DynamoDB, report in S3).

Nothing here runs at import time: the Lambda entry points build these on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from slack_bolt import App

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from bot.app import build_app, lazy_client
from bot.aws_state import DynamoBotState
from bot.notifier import SlackNotifier
from bot.settings import BotSettings
from bot.stream import StreamNotifier


@cache
def bot_settings() -> BotSettings:
    return BotSettings()


@cache
def bot_state() -> DynamoBotState:
    from backend.aws import clients
    from backend.aws.settings import settings

    s = settings()
    return DynamoBotState(
        clients.client("dynamodb"), s.jobs_table, clients.client("s3"), s.data_bucket
    )


def submitter() -> Any:
    from backend.aws.submitter import SqsJobSubmitter

    return SqsJobSubmitter.from_settings()


def aws_app() -> App:
    """The Bolt app for Lambda: acks before work (process_before_response), lazy listeners."""
    from backend.aws import clients
    from backend.aws.settings import settings as aws_settings
    from bot.aws_numbers import DynamoNumberBook
    from bot.core.call_me_first import QueuedTestCalls

    settings = bot_settings()
    jobs = submitter()
    return build_app(
        settings,
        lazy_client(settings),
        jobs,
        bot_state(),
        process_before_response=True,
        dnc=do_not_call(),
        test_calls=QueuedTestCalls(jobs),  # Call me first through the job queue
        numbers=DynamoNumberBook(clients.client("dynamodb"), aws_settings().jobs_table),
    )


def do_not_call() -> Any:
    """The DynamoDB do-not-call list (None when the stack gives this function no table)."""
    from backend.aws.wiring import do_not_call as build

    return build()


def load_job(job_id: str) -> CallJob | None:
    """The job JSON the start-job Lambda stored (None when there is none; raises otherwise)."""
    from backend.aws import clients
    from backend.aws.jobs import JobStore
    from backend.aws.settings import settings

    try:
        return JobStore(clients.client("s3"), settings().data_bucket).load(job_id)
    except clients.ClientError as error:
        if clients.error_code(error) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def all_results(job_id: str) -> list[CallResult]:
    from backend.aws import clients
    from backend.aws.results import ResultsTable
    from backend.aws.settings import settings

    return ResultsTable(clients.client("dynamodb"), settings().results_table).results(job_id)


def read_s3_report(report: ReportFiles) -> bytes:
    from backend.aws import clients
    from backend.aws.settings import settings

    body = clients.client("s3").get_object(Bucket=settings().data_bucket, Key=report.xlsx)["Body"]
    content: bytes = body.read()
    return content


def decode_image(image: Any) -> CallResult:
    from backend.aws.results import result_from_stream_image

    return result_from_stream_image(image)


@cache
def stream_notifier() -> StreamNotifier:
    """The notifier Lambda's adapter (one per container: it caches jobs)."""
    settings = bot_settings()
    slack = SlackNotifier(
        lazy_client(settings),
        bot_state(),
        batch_size=settings.batch_size,
        background=False,
        read_report=read_s3_report,
    )
    return StreamNotifier(slack, load_job=load_job, all_results=all_results, decode=decode_image)
