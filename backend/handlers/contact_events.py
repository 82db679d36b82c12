"""EventBridge Amazon Connect Contact Event (DISCONNECTED) -> status -> complete the call task."""

from __future__ import annotations

from typing import Any

from backend.aws.observability import logger, metrics, tracer
from backend.aws.wiring import disconnect_handler


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
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
