"""The contact flow's Lambda: the domain's flow logic on the DynamoDB session store."""

from __future__ import annotations

from typing import Any

from backend.aws.observability import logger, metrics, tracer
from backend.aws.wiring import completion, do_not_call, session_store
from backend.domain.call_flow import handle_flow_event


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return handle_flow_event(event, session_store(), completion(), opt_outs=do_not_call())
