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

from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import dialer

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
    try:
        outcome = dialer().handle(record.body)  # RetryLater raises: the message comes back later
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
