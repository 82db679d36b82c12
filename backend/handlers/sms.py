"""After the calls, before the report: text the unreached (`backend.aws.sms.SmsStep`).

`{"job_id"}` plans (returns the batches); `{"job_id", "start", "end"}` sends one batch.
"""

from __future__ import annotations

from typing import Any

from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import sms_step


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job_id = str(event["job_id"])
    logger.append_keys(job_id=job_id)
    if "start" not in event:
        plan = sms_step().plan(job_id)
        logger.info("texts planned", texting=plan["texting"], batches=len(plan["batches"]))
        if plan["texting"] and not plan["enabled"]:
            logger.warning("SMS is not set up (SmsOriginationIdentity is empty): texts skipped")
        return plan
    tally = sms_step().send(job_id, int(event["start"]), int(event["end"]))
    for outcome, number in tally.items():
        count(f"Sms_{outcome}", number)
    logger.info("texts sent", tally=tally)
    return tally
