"""Intake bucket upload (S3 notification or EventBridge "Object Created") -> job queue."""

from __future__ import annotations

from typing import Any

from backend.aws.intake import uploads
from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import upload_intake


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes = [upload_intake().accept(upload) for upload in uploads(event)]
    for outcome in outcomes:
        if outcome.problems:
            logger.warning(
                "upload rejected",
                key=outcome.key,
                job_id=outcome.job_id,
                problems=list(outcome.problems),
            )
            count("UploadsRejected")
        else:
            logger.info(
                "upload accepted", key=outcome.key, job_id=outcome.job_id, queued=outcome.queued
            )
            count("JobsQueued", int(outcome.queued))
    return {
        "uploads": [
            {"key": o.key, "job_id": o.job_id, "queued": o.queued, "problems": list(o.problems)}
            for o in outcomes
        ]
    }
