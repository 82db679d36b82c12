"""The bot's AWS wiring: settings, the SQS job submitter and the DynamoDB/S3 bot state.

Nothing here runs at import time: the Lambda entry points build these on first use.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from slack_bolt import App

from bot.app import build_app, lazy_client
from bot.aws_state import DynamoBotState
from bot.settings import BotSettings


@cache
def bot_settings() -> BotSettings:
    return BotSettings()


@cache
def bot_state() -> DynamoBotState:
    from backend.aws import clients
    from backend.aws.settings import settings

    s = settings()
    return DynamoBotState(
        clients.client("dynamodb"), s.jobs_table, clients.client("s3"), s.data_bucket
    )


def submitter() -> Any:
    from backend.aws.submitter import SqsJobSubmitter

    return SqsJobSubmitter.from_settings()


def aws_app() -> App:
    """The Bolt app for Lambda: acks before work (process_before_response), lazy listeners."""
    settings = bot_settings()
    return build_app(
        settings,
        lazy_client(settings),
        submitter(),
        bot_state(),
        process_before_response=True,
    )
