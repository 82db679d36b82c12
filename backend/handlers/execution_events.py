"""EventBridge Step Functions Execution Status Change (FAILED, TIMED_OUT, ABORTED) -> the job
record ends and "Callout Job Failed" is announced (the Slack card stops with the reason)."""

from __future__ import annotations

from typing import Any

from backend.aws.execution_events import EndOutcome
from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import execution_end_handler


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome, end = execution_end_handler().handle(event)
    if end is None:
        logger.info("not an execution of ours that ended without a report")
        return {"outcome": outcome.value}
    logger.info(
        "execution ended without a report",
        job_id=end.job_id,
        status=end.status,
        outcome=outcome.value,
    )
    count(f"JobsEnded_{end.status}", int(outcome is not EndOutcome.ALREADY_ENDED))
    return {"outcome": outcome.value, "job_id": end.job_id, "status": end.status}
