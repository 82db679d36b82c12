"""The Teams bot's AWS wiring, built on the first event of a container (nothing at import).

The same DynamoDB/S3 bot state, SQS job submitter and do-not-call list as the Slack bot; the
client secret from Secrets Manager (settings); deferred work by invoking this very function
asynchronously.
"""

from __future__ import annotations

import os

from bot.aws_runtime import bot_state, do_not_call, submitter
from bot.teams.app import TeamsBot, build_bot, initialize
from bot.teams.http import RouteAdapter
from bot.teams.settings import TeamsSettings
from bot.teams.worker import LambdaWorker, Tasks

_bot: TeamsBot | None = None


async def aws_bot() -> TeamsBot:
    """The container's bot (built and initialized once, on the container's event loop)."""
    global _bot
    if _bot is None:
        from backend.aws import clients

        settings = TeamsSettings()
        function = settings.worker_function or os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        bot = build_bot(
            settings,
            bot_state(),
            submitter(),
            worker=LambdaWorker(function, clients.client("lambda")),
            tasks=Tasks(),
            adapter=RouteAdapter(),
            dnc=do_not_call(),
        )
        await initialize(bot)
        _bot = bot
    return _bot


def route_adapter(bot: TeamsBot) -> RouteAdapter:
    adapter = bot.adapter
    if not isinstance(adapter, RouteAdapter):  # pragma: no cover - built above
        raise TypeError("the Lambda bot is built on a RouteAdapter")
    return adapter
