"""After the Distributed Map: results table -> report in S3; the state machine then notifies."""

from __future__ import annotations

from typing import Any

from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import report_writer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job_id = str(event["job_id"])
    logger.append_keys(job_id=job_id)
    report = report_writer().write(job_id)
    for status, number in report["counts"].items():
        count(f"JobResults_{status}", number)
    logger.info("report written", counts=report["counts"], key=report["xlsx_key"])
    return report
