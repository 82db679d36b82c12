"""AWS Lambda entry of the Slack app (function URL, payload 2.0; API Gateway 1.0 works too)."""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

_handler: SlackRequestHandler | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        from bot.slack.aws_runtime import aws_app

        _handler = SlackRequestHandler(aws_app())
    response: dict[str, Any] = _handler.handle(event, context)  # type: ignore[no-untyped-call]
    return response
