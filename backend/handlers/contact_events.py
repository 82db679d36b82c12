"""EventBridge Amazon Connect Contact Event (DISCONNECTED) -> status -> complete the call task."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from backend.aws.observability import logger, metrics, tracer
from backend.aws.wiring import disconnect_handler, idempotency_store


def _end_call(event: dict[str, Any]) -> dict[str, Any]:
    result = disconnect_handler().handle(event)
    if result is None:
        return {"completed": False}
    logger.info(
        "call ended by disconnect",
        job_id=result.job_id,
        receiver_id=result.receiver_id,
        status=result.status.value,
    )
    return {"completed": True, "status": result.status.value}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # EventBridge may deliver an event twice: the second delivery gets the stored answer and
    # spends none of Connect's DescribeContact quota.
    config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)
    config.register_lambda_context(context)
    once = idempotent_function(
        data_keyword_argument="event", persistence_store=idempotency_store(), config=config
    )(_end_call)
    response: dict[str, Any] = once(event=event)
    return response
