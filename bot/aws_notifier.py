"""The notifier Lambda's wiring: one `ChatNotifier` with a sink per chat platform this stack
serves (a job's origin platform picks one), fed by `StreamNotifier` (bot/core/stream.py)."""

from __future__ import annotations

import os
from functools import cache

from bot.aws_runtime import all_results, bot_state, decode_image, load_job, read_s3_report
from bot.core.notifier import ChatNotifier
from bot.core.ports import ChatSink
from bot.core.stream import StreamNotifier, TestCallTeller


def has_teams() -> bool:
    return bool(os.environ.get("TEAMS_APP_ID"))  # the stack was deployed with a Teams app


def chat_sinks() -> dict[str, ChatSink]:
    """A sink per chat platform this stack serves (a job's origin platform picks one)."""
    from bot.slack.aws_runtime import slack_sink

    sinks: dict[str, ChatSink] = {"slack": slack_sink()}
    if has_teams():
        from bot.teams.aws_runtime import teams_sink

        sinks["teams"] = teams_sink()
    return sinks


def test_call_tellers() -> dict[str, TestCallTeller]:
    """Per platform, who tells a requester their test call's outcome (Call me first)."""
    from bot.slack.aws_runtime import tell_test_call

    tellers: dict[str, TestCallTeller] = {"slack": tell_test_call}
    if has_teams():
        from bot.teams.aws_runtime import tell_test_call as tell_in_teams

        tellers["teams"] = tell_in_teams
    return tellers


@cache
def stream_notifier() -> StreamNotifier:
    """The notifier Lambda's adapter (one per container: it caches jobs)."""
    from bot.slack.aws_runtime import bot_settings

    notifier = ChatNotifier(
        chat_sinks(),
        bot_state(),
        batch_size=bot_settings().batch_size,
        background=False,
        read_report=read_s3_report,
    )
    return StreamNotifier(
        notifier,
        load_job=load_job,
        all_results=all_results,
        decode=decode_image,
        test_call_tellers=test_call_tellers(),
    )
