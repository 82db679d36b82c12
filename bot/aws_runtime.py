"""The bots' AWS wiring, shared by the Slack and Teams Lambdas: the SQS job submitter, the
DynamoDB/S3 bot state, the do-not-call list, and the notifier's readers (job JSON in S3, results
in DynamoDB, report in S3; see bot/aws_notifier.py).

Nothing here runs at import time: the Lambda entry points build these on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from bot.aws_state import DynamoBotState


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


@cache
def number_book() -> Any:
    """Requesters' own numbers for "Call me first" (bot/aws_numbers.py, the jobs table)."""
    from backend.aws import clients
    from backend.aws.settings import settings
    from bot.aws_numbers import DynamoNumberBook

    return DynamoNumberBook(lambda: clients.client("dynamodb"), settings().jobs_table)


def schedule_book() -> Any:
    """Scheduled jobs on AWS (None when the stack gives this function no schedule group)."""
    from datetime import UTC, datetime

    from backend.aws.schedules import AwsScheduleBook
    from backend.aws.wiring import schedules

    found = schedules()
    if found is None:
        return None
    return AwsScheduleBook(submitter(), found, lambda: datetime.now(UTC))


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
