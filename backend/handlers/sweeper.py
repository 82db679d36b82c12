"""Every minute: re-send undelivered call results, reclaim lines whose DISCONNECTED was lost
(or whose dialer died before dialling), end test calls whose end never came."""

from __future__ import annotations

from typing import Any

from backend.aws.observability import count, logger, metrics, tracer
from backend.aws.wiring import call_sweeper


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    swept = call_sweeper().sweep()
    count("ResultsResent", swept["resent"])
    count("LinesReclaimed", swept["released"])
    count("TestCallsEnded", swept.get("tests_ended", 0))
    if any(swept.values()):
        logger.warning("swept", extra=dict(swept))
    return swept
