"""The Teams bot's AWS wiring, built on first use (nothing at import).

- `aws_bot()`: the Teams function's bot (its requests and its own async worker events), on the
  container's event loop: the same DynamoDB/S3 bot state, SQS job submitter and do-not-call list
  as the Slack bot, the client secret from Secrets Manager, deferred work by invoking this very
  function asynchronously, report links presigned on the data bucket.
- `teams_sink()`: the sink the chat notifier Lambda posts Teams job cards through (no server:
  an SDK app for its API client, on a loop thread of its own); `tell_test_call` posts a "Call me
  first" outcome through it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from bot.aws_runtime import bot_state, do_not_call, number_book, schedule_book, submitter
from bot.teams.app import TeamsBot, build_bot, initialize
from bot.teams.http import RouteAdapter
from bot.teams.loop import BackgroundLoop, LoopRunner
from bot.teams.places import DynamoPlaces
from bot.teams.reports import S3Reports
from bot.teams.settings import TeamsSettings
from bot.teams.sink import TeamsSink
from bot.teams.worker import LambdaWorker, Tasks

_bot: TeamsBot | None = None


def s3_reports(settings: TeamsSettings) -> S3Reports:
    from backend.aws import clients
    from backend.aws.settings import settings as aws_settings

    return S3Reports(clients.client("s3"), aws_settings().data_bucket, settings.report_link_seconds)


async def aws_bot() -> TeamsBot:
    """The container's bot (built and initialized once, on the container's event loop)."""
    global _bot
    if _bot is None:
        from backend.aws import clients
        from bot.core.call_me_first import QueuedTestCalls

        settings = TeamsSettings()
        function = settings.worker_function or os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        jobs = submitter()
        bot = build_bot(
            settings,
            bot_state(),
            jobs,
            worker=LambdaWorker(function, clients.client("lambda")),
            tasks=Tasks(),
            adapter=RouteAdapter(),
            runner=LoopRunner(asyncio.get_running_loop()),
            reports=s3_reports(settings),
            places=dynamo_places(),
            dnc=do_not_call(),
            schedules=schedule_book(),
            test_calls=QueuedTestCalls(jobs),  # Call me first through the job queue
            numbers=number_book(),
        )
        await initialize(bot)
        _bot = bot
    return _bot


def dynamo_places() -> DynamoPlaces:
    """The channels the bot is in: items of the jobs table (see bot.teams.places)."""
    from backend.aws import clients
    from backend.aws.settings import settings as aws_settings

    return DynamoPlaces(clients.client("dynamodb"), aws_settings().jobs_table)


def route_adapter(bot: TeamsBot) -> RouteAdapter:
    adapter = bot.adapter
    if not isinstance(adapter, RouteAdapter):  # pragma: no cover - built above
        raise TypeError("the Lambda bot is built on a RouteAdapter")
    return adapter


@cache
def teams_sink() -> TeamsSink:
    """The notifier's Teams sink (one per container)."""
    from microsoft_teams.apps import App

    from bot.teams.auth import app_options
    from bot.teams.sender import TeamsSender

    settings = TeamsSettings()
    options = app_options(settings, local=False)
    app = App(http_server_adapter=RouteAdapter(), state=False, **options)
    sender = TeamsSender(app.api, options["client_id"], tenant_id=settings.tenant_id)
    return TeamsSink(sender, BackgroundLoop("teams-notifier"), s3_reports(settings))


def tell_test_call(detail: Mapping[str, Any]) -> None:
    """The notifier's "Callout Test Call Finished" for a Teams requester (in their chat)."""
    from bot.teams.call_me_first import tell_outcome

    tell_outcome(teams_sink(), detail)
