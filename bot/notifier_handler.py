"""AWS Lambda entry of the notifier: results-table stream batches and the job-completion event
(see bot/core/stream.py), for Slack and Teams jobs alike."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from bot.aws_notifier import stream_notifier

    return stream_notifier().handle(event)
