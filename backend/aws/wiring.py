"""Builds each handler's service from the settings once per Lambda container."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from backend.aws import clients
from backend.aws.completion import StepFunctionsCallbacks, StepFunctionsCompletion
from backend.aws.connect import ConnectDialer
from backend.aws.dialing import Dialer
from backend.aws.disconnect import DisconnectHandler
from backend.aws.intake import UploadIntake
from backend.aws.jobs import JobsTable, JobStore
from backend.aws.reporting import ReportWriter
from backend.aws.results import ResultsTable
from backend.aws.sessions import DynamoSessionStore
from backend.aws.settings import settings
from backend.aws.starter import JobStarter
from backend.aws.submitter import SqsJobSubmitter


def jobs_table() -> JobsTable:
    return JobsTable(clients.client("dynamodb"), settings().jobs_table)


def job_store() -> JobStore:
    return JobStore(clients.client("s3"), settings().data_bucket)


@cache
def session_store() -> DynamoSessionStore:
    s = settings()
    return DynamoSessionStore(clients.client("dynamodb"), s.sessions_table, s.session_ttl_seconds)


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings().idempotency_table, boto3_client=clients.client("dynamodb")
    )


@cache
def completion() -> StepFunctionsCompletion:
    return StepFunctionsCompletion(clients.client("stepfunctions"))


@cache
def connect_dialer() -> ConnectDialer:
    s = settings()
    return ConnectDialer(
        clients.connect_client(), s.connect_instance_id, s.contact_flow_id, s.source_phone_number
    )


@cache
def upload_intake() -> UploadIntake:
    return UploadIntake(
        clients.client("s3"), SqsJobSubmitter.from_settings(), settings().data_bucket
    )


@cache
def job_starter() -> JobStarter:
    s = settings()
    return JobStarter(
        clients.client("s3"),
        clients.client("stepfunctions"),
        jobs_table(),
        job_store(),
        s.state_machine_arn,
        s.max_running_jobs,
        s.max_concurrent_calls,
    )


@cache
def dialer() -> Dialer:
    return Dialer(
        jobs_table(),
        job_store(),
        session_store(),
        StepFunctionsCallbacks(clients.client("stepfunctions")),
        connect_dialer(),
    )


@cache
def disconnect_handler() -> DisconnectHandler:
    return DisconnectHandler(session_store(), connect_dialer(), completion())


@cache
def report_writer() -> ReportWriter:
    s = settings()
    return ReportWriter(
        clients.client("s3"),
        jobs_table(),
        job_store(),
        ResultsTable(clients.client("dynamodb"), s.results_table),
        s.report_url_expiry_seconds,
    )


def reset() -> None:
    """Forget settings, clients and services (tests: after changing env vars or mocks)."""
    for builder in (
        idempotency_store,
        session_store,
        completion,
        connect_dialer,
        upload_intake,
        job_starter,
        dialer,
        disconnect_handler,
        report_writer,
        clients.client,
        clients.connect_client,
    ):
        clear = getattr(builder, "cache_clear", None)  # tests may have replaced a builder
        if clear is not None:
            clear()
    settings.cache_clear()
