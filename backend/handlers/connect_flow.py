"""The contact flow's Lambda: the domain's flow logic on the DynamoDB session store.

It runs between a person's answer and the next question, so it imports as little as it can:
no X-Ray SDK (Lambda's active tracing records the invocation; bench.voice_path prints the cost).
"""

from __future__ import annotations

from typing import Any

from backend.aws.observability import logger, metrics
from backend.aws.wiring import completion, do_not_call, session_store
from backend.domain.call_flow import handle_flow_event


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return handle_flow_event(event, session_store(), completion(), opt_outs=do_not_call())
