"""AWS Lambda entry of the Teams bot: function-URL requests and its own async worker events.

One event loop per container (the SDK keeps an httpx client bound to it), one bot built on the
first event. A function-URL event is a Bot Connector request; an event with
`callouts_teams_task` is deferred work this function handed to itself (bot.teams.worker).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.teams.worker import PAYLOAD_KEY, TASK_KEY, is_task_event

_loop: asyncio.AbstractEventLoop | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    global _loop
    from bot.teams.aws_runtime import aws_bot, route_adapter
    from bot.teams.http import function_url_request, function_url_response

    if _loop is None:
        _loop = asyncio.new_event_loop()
    bot = _loop.run_until_complete(aws_bot())
    if is_task_event(event):
        _loop.run_until_complete(bot.deps.tasks.run(event[TASK_KEY], event.get(PAYLOAD_KEY) or {}))
        return None
    method, path, body, headers = function_url_request(event)
    response = _loop.run_until_complete(route_adapter(bot).handle(method, path, body, headers))
    return function_url_response(response)
