"""The Slack app's AWS wiring: its settings, the Bolt app for Lambda and the Slack sink of the
notifier Lambda. The state, submitter and do-not-call list are the shared ones (bot.aws_runtime).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from slack_bolt import App

from bot.aws_runtime import bot_state, do_not_call, number_book, schedule_book, submitter
from bot.core.call_me_first import QueuedTestCalls
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.settings import BotSettings
from bot.slack.sink import SlackSink


@cache
def bot_settings() -> BotSettings:
    return BotSettings()


def aws_app() -> App:
    """The Bolt app for Lambda: acks before work (process_before_response), lazy listeners."""
    settings = bot_settings()
    jobs = submitter()
    return build_app(
        settings,
        lazy_client(settings),
        jobs,
        bot_state(),
        process_before_response=True,
        dnc=do_not_call(),
        schedules=schedule_book(),
        test_calls=QueuedTestCalls(jobs),  # Call me first through the job queue
        numbers=number_book(),
    )


def slack_sink() -> SlackSink:
    return SlackSink(lazy_client(bot_settings()))


def tell_test_call(detail: Mapping[str, Any]) -> None:
    """The notifier's "Callout Test Call Finished" for a Slack requester (ephemeral)."""
    from bot.slack.call_me_first import tell_outcome

    tell_outcome(lazy_client(bot_settings()), detail)
