"""The contact flow's Lambda: the domain's flow logic on the DynamoDB session store.

It runs between a person's answer and the next question, so it imports as little as it can:
no X-Ray SDK (Lambda's active tracing records the invocation; bench.voice_path prints the cost)
and no pydantic (the per-call records are dataclasses; tests/unit/test_lambda_imports.py).

On demand, its clients are made by the first turn (botocore is imported then, once per
container). When Lambda runs the init before any call (provisioned concurrency, SnapStart:
`AWS_LAMBDA_INITIALIZATION_TYPE` is not `on-demand`), they are made at import instead, so no
caller waits for botocore.
"""

from __future__ import annotations

import os
from typing import Any

from backend.aws.observability import logger, metrics
from backend.aws.wiring import completion, do_not_call, session_store
from backend.domain.call_flow import handle_flow_event


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return handle_flow_event(event, session_store(), completion(), opt_outs=do_not_call())


def init_ahead_of_calls(initialization_type: str | None) -> bool:
    """Whether this container's init runs before any call (so it may make the clients)."""
    return (initialization_type or "on-demand") != "on-demand"


if init_ahead_of_calls(os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")):
    session_store()  # the DynamoDB client
    completion()  # the Step Functions client
    do_not_call()  # on the same DynamoDB client (its secret is read on the first opt-out)
