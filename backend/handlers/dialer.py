"""Calls queue -> claim (job, receiver, attempt) -> StartOutboundVoiceContact; partial failures."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from backend.aws.dialing import RetryLater
from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import calls_queue, dialer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _log_keys(body: str) -> dict[str, Any]:
    """job_id, receiver_id and attempt for the log lines (never the task token)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in ("job_id", "receiver_id", "attempt") if k in data}


def record_handler(record: SQSRecord) -> str:
    keys = _log_keys(record.body)
    logger.append_keys(**keys)
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        outcome = dialer().handle(record.body, receives)
    except RetryLater as later:  # the message comes back after a jittered delay
        calls_queue().defer(record.receipt_handle, later.seconds)
        logger.info("call task deferred", reason=str(later), seconds=later.seconds, **keys)
        count("Dial_deferred")
        raise
    finally:
        logger.remove_keys(list(keys))
    logger.info("call task", message_id=record.message_id, outcome=outcome.value, **keys)
    count(f"Dial_{outcome.value}")
    return outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
