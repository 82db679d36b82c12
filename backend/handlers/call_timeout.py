"""The state machine's TimedOut step: a call that outlived its Dial task ends with its answers."""

from __future__ import annotations

from typing import Any

from backend.aws.observability import logger, metrics, tracer
from backend.aws.wiring import call_timeouts


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(job_id=event.get("job_id"), receiver_id=event.get("receiver_id"))
    resolved = call_timeouts().resolve(event)
    logger.info("call timed out", status=resolved["result"]["status"])
    return resolved
