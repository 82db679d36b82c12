"""Job queue (SQS FIFO) -> call tasks in S3 -> state machine execution named after the job id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from backend.aws import clients
from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.rejections import Rejection
from backend.aws.settings import settings
from backend.aws.starter import BadJobMessage, JobsBusy, busy_delay_seconds
from backend.aws.test_calls import is_test_call_message
from backend.aws.wiring import job_starter, rejection_notifier, test_call_forwarder
from backend.domain.problems import Problem

processor = SqsFifoPartialProcessor()
# A busy or failed batch is reported per message rather than as a failed invocation.
processor.raise_on_entire_batch_failure = False

# An unexpected error gets this many deliveries, then the sender is told and the queue moves on
# (one FIFO group: a message failing for days would hold back every job behind it).
MAX_FAILED_DELIVERIES = 5


def _receives(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def _postpone(record: SQSRecord) -> None:
    """Busy: come back later, less often the longer the job has waited."""
    clients.client("sqs").change_message_visibility(
        QueueUrl=settings().job_queue_url,
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=busy_delay_seconds(_receives(record)),
    )


def _reject(record: SQSRecord, problems: list[Problem], job_id: str | None) -> None:
    logger.error(
        "job message rejected",
        message_id=record.message_id,
        job_id=job_id,
        problems=[str(p) for p in problems],
    )
    rejection = Rejection("queue", problems, job_id=job_id, message_id=record.message_id)
    rejection_notifier().publish(rejection)
    count("JobsRejected")


def record_handler(record: SQSRecord) -> None:
    """Bad input is rejected at once; an infrastructure error is retried a few times, then the
    sender is told and the message is consumed, so it never holds back the jobs behind it."""
    try:
        _start(record)
    except JobsBusy:  # the message waits in the queue
        _postpone(record)
        raise
    except Exception as error:
        if _receives(record) < MAX_FAILED_DELIVERIES:
            raise
        logger.exception("job could not be started", message_id=record.message_id)
        problem = Problem(
            f"the job could not be started after {_receives(record)} deliveries "
            f"({type(error).__name__}): send it again later"
        )
        try:
            _reject(record, [problem], None)
        except Exception:  # not even the sender can be told: the log and metric are all left
            logger.exception("job message dropped", message_id=record.message_id)
            count("JobsDropped")


def _start(record: SQSRecord) -> None:
    if is_test_call_message(record.body):  # Call me first: one call, no job started
        count("TestCallsQueued", int(test_call_forwarder().handle(record.body)))
        return
    try:
        job = job_starter().parse(record.body)
        logger.append_keys(job_id=job.job_id)
        outcome = job_starter().start(job)
    except BadJobMessage as error:  # bad input is consumed, never retried: the sender is told
        _reject(record, error.problems, error.job_id)
        return
    logger.info("job start", started=outcome.started, reason=outcome.reason)
    count("JobsStarted", int(outcome.started))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
