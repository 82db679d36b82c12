"""Builds each handler's service from the settings once per Lambda container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from backend.aws import clients
from backend.aws.settings import settings

# Each handler imports only what its service needs (the flow Lambda's cold start counts: Connect
# waits at most 8 s), hence the imports inside the builders.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from backend.aws.completion import RoutedCompletion
    from backend.aws.connect import ConnectDialer
    from backend.aws.dialing import CallsQueue, Dialer
    from backend.aws.disconnect import DisconnectHandler
    from backend.aws.dnc import DynamoDoNotCall
    from backend.aws.execution_events import ExecutionEndHandler
    from backend.aws.intake import UploadIntake
    from backend.aws.jobs import JobsTable, JobStore
    from backend.aws.lines import LineLeases
    from backend.aws.rejections import RejectionNotifier
    from backend.aws.reporting import ReportWriter
    from backend.aws.schedules import Schedules
    from backend.aws.sessions import DynamoSessionStore
    from backend.aws.sms import SmsOutboxTable, SmsStep
    from backend.aws.starter import JobStarter
    from backend.aws.sweeper import CallSweeper, CallTimeouts
    from backend.aws.test_call_outcomes import (
        TestCallAnnouncer,
        TestCallCompletion,
        TestCallRecords,
    )
    from backend.aws.test_calls import TestCaller, TestCallForwarder


def jobs_table() -> JobsTable:
    from backend.aws.jobs import JobsTable

    return JobsTable(clients.client("dynamodb"), settings().jobs_table)


def job_store() -> JobStore:
    from backend.aws.jobs import JobStore

    return JobStore(clients.client("s3"), settings().data_bucket)


@cache
def session_store() -> DynamoSessionStore:
    from backend.aws.sessions import DynamoSessionStore

    s = settings()
    return DynamoSessionStore(clients.client("dynamodb"), s.sessions_table, s.session_ttl_seconds)


@cache
def line_leases() -> LineLeases:
    from backend.aws.lines import LineLeases

    s = settings()
    return LineLeases(clients.client("dynamodb"), s.sessions_table, s.max_concurrent_calls)


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings().idempotency_table, boto3_client=clients.client("dynamodb")
    )


@cache
def completion() -> RoutedCompletion:
    """Jobs' calls complete their Step Functions task; test calls are announced instead."""
    from backend.aws.completion import RoutedCompletion, StepFunctionsCompletion

    jobs = StepFunctionsCompletion(clients.client("stepfunctions"), session_store())
    return RoutedCompletion(jobs, test_call_completion)


@cache
def test_call_records() -> TestCallRecords:
    from backend.aws.test_call_outcomes import TestCallRecords

    return TestCallRecords(clients.client("dynamodb"), settings().sessions_table)


@cache
def test_call_announcer() -> TestCallAnnouncer:
    from backend.aws.test_call_outcomes import TestCallAnnouncer

    return TestCallAnnouncer(clients.client("events"), settings().event_bus_name)


@cache
def test_call_completion() -> TestCallCompletion:
    from backend.aws.test_call_outcomes import TestCallCompletion

    return TestCallCompletion(session_store(), test_call_records(), test_call_announcer())


@cache
def test_caller() -> TestCaller:
    from backend.aws.dials import DialLog
    from backend.aws.test_calls import TestCaller

    return TestCaller(
        session_store(),
        connect_dialer(),
        DialLog(clients.client("dynamodb"), settings().jobs_table),
        line_leases(),
        test_call_records(),
        completion(),
        test_call_announcer(),
        dnc=do_not_call(),
    )


@cache
def test_call_forwarder() -> TestCallForwarder:
    from backend.aws.test_calls import TestCallForwarder

    return TestCallForwarder(
        job_starter().parse,
        clients.client("sqs"),
        settings().calls_queue_url,
        test_call_announcer(),
    )


@cache
def connect_dialer() -> ConnectDialer:
    from backend.aws.connect import ConnectDialer

    s = settings()
    return ConnectDialer(
        clients.connect_client(), s.connect_instance_id, s.contact_flow_id, s.source_phone_number
    )


@cache
def rejection_notifier() -> RejectionNotifier:
    from backend.aws.rejections import RejectionNotifier

    s = settings()
    return RejectionNotifier(
        clients.client("sns"), clients.client("events"), s.completion_topic_arn, s.event_bus_name
    )


@cache
def upload_intake() -> UploadIntake:
    from backend.aws.intake import UploadIntake
    from backend.aws.submitter import SqsJobSubmitter

    return UploadIntake(
        clients.client("s3"),
        SqsJobSubmitter.from_settings(),
        settings().data_bucket,
        notifier=rejection_notifier(),
    )


@cache
def job_starter() -> JobStarter:
    from backend.aws.starter import JobStarter

    s = settings()
    return JobStarter(
        clients.client("s3"),
        clients.client("stepfunctions"),
        jobs_table(),
        job_store(),
        s.state_machine_arn,
        s.max_running_jobs,
        s.max_concurrent_calls,
        schedules(),
        enabled_languages=s.enabled_languages,
        dnc=do_not_call(),
    )


@cache
def schedules() -> Schedules | None:
    """The stack's schedules (None when this function is not given the schedule group)."""
    from backend.aws.schedules import Schedules

    s = settings()
    if not s.schedule_group:
        return None
    return Schedules(
        clients.client("scheduler"),
        clients.client("s3"),
        group=s.schedule_group,
        bucket=s.schedule_bucket,
        queue_arn=s.job_queue_arn,
        role_arn=s.scheduler_role_arn,
        dead_letter_arn=s.schedule_dead_letter_arn,
    )


@cache
def do_not_call() -> DynamoDoNotCall | None:
    """The do-not-call list (None when this function is not given the table)."""
    from backend.aws.dnc import DynamoDoNotCall, secret_from_arn

    s = settings()
    if not s.dnc_table:
        return None
    arn = s.dnc_secret_arn
    return DynamoDoNotCall(clients.client("dynamodb"), s.dnc_table, lambda: secret_from_arn(arn))


@cache
def dialer() -> Dialer:
    from backend.aws.completion import StepFunctionsCallbacks
    from backend.aws.dialing import Dialer
    from backend.aws.dials import DialLog

    return Dialer(
        jobs_table(),
        job_store(),
        session_store(),
        StepFunctionsCallbacks(clients.client("stepfunctions")),
        connect_dialer(),
        DialLog(clients.client("dynamodb"), settings().jobs_table),
        line_leases(),
        dnc=do_not_call(),
        tests=test_caller(),
    )


@cache
def calls_queue() -> CallsQueue:
    from backend.aws.dialing import CallsQueue

    return CallsQueue(clients.client("sqs"), settings().calls_queue_url)


@cache
def disconnect_handler() -> DisconnectHandler:
    from backend.aws.disconnect import DisconnectHandler

    return DisconnectHandler(session_store(), connect_dialer(), completion(), line_leases())


@cache
def call_sweeper() -> CallSweeper:
    from backend.aws.sweeper import CallSweeper
    from backend.aws.test_call_outcomes import TestCallBackstop

    tests = TestCallBackstop(
        session_store(), test_call_records(), test_call_announcer(), completion()
    )
    return CallSweeper(session_store(), line_leases(), completion(), connect_dialer(), tests=tests)


@cache
def call_timeouts() -> CallTimeouts:
    from backend.aws.sweeper import CallTimeouts

    return CallTimeouts(session_store())


@cache
def report_writer() -> ReportWriter:
    from backend.aws.reporting import ReportWriter
    from backend.aws.results import ResultsTable

    s = settings()
    return ReportWriter(
        clients.client("s3"),
        jobs_table(),
        job_store(),
        ResultsTable(clients.client("dynamodb"), s.results_table),
        s.report_url_expiry_seconds,
        sms_outbox(),
    )


def sms_outbox() -> SmsOutboxTable:
    from backend.aws.sms import SmsOutboxTable

    return SmsOutboxTable(clients.client("dynamodb"), settings().jobs_table)


@cache
def sms_step() -> SmsStep:
    from backend.aws.results import ResultsTable
    from backend.aws.sms import EndUserMessagingSender, SmsStep

    s = settings()
    sender = (
        EndUserMessagingSender(
            clients.sms_client(), s.sms_origination_identity, s.sms_configuration_set
        )
        if s.sms_origination_identity
        else None  # SMS not set up: each unreached person's SMS is Skipped, saying so
    )
    return SmsStep(
        clients.client("s3"),
        jobs_table(),
        job_store(),
        ResultsTable(clients.client("dynamodb"), s.results_table),
        sms_outbox(),
        sender,
        do_not_call(),
    )


@cache
def execution_end_handler() -> ExecutionEndHandler:
    from backend.aws.execution_events import ExecutionEndHandler

    s = settings()
    return ExecutionEndHandler(
        jobs_table(),
        clients.client("stepfunctions"),
        clients.client("events"),
        s.state_machine_arn,
        s.event_bus_name,
    )


def reset() -> None:
    """Forget settings, clients and services (tests: after changing env vars or mocks)."""
    for builder in (
        idempotency_store,
        session_store,
        line_leases,
        completion,
        test_call_records,
        test_call_announcer,
        test_call_completion,
        test_caller,
        test_call_forwarder,
        connect_dialer,
        do_not_call,
        schedules,
        rejection_notifier,
        upload_intake,
        job_starter,
        dialer,
        calls_queue,
        disconnect_handler,
        report_writer,
        sms_step,
        call_sweeper,
        call_timeouts,
        execution_end_handler,
        clients.client,
        clients.connect_client,
        clients.sms_client,
    ):
        clear = getattr(builder, "cache_clear", None)  # tests may have replaced a builder
        if clear is not None:
            clear()
    settings.cache_clear()
