"""Job queue (SQS FIFO) -> call tasks in S3 -> state machine execution named after the job id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.starter import BadJobMessage
from backend.aws.wiring import job_starter

processor = SqsFifoPartialProcessor()
# A busy or failed batch is reported per message rather than as a failed invocation.
processor.raise_on_entire_batch_failure = False


def record_handler(record: SQSRecord) -> None:
    try:
        job = job_starter().parse(record.body)
    except BadJobMessage as error:  # bad input is consumed, never retried
        logger.error(
            "job message rejected",
            message_id=record.message_id,
            problems=[str(p) for p in error.problems],
        )
        count("JobsRejected")
        return
    logger.append_keys(job_id=job.job_id)
    outcome = job_starter().start(job)  # JobsBusy raises: the message waits in the queue
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
