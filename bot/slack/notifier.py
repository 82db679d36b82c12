"""The Slack side of the notifier: a `ChatNotifier` with the Slack sink."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.core.notifier import ChatNotifier
from bot.core.state import BotState
from bot.slack.sink import SlackSink


def slack_notifier(client: WebClient, state: BotState, **kwargs: Any) -> ChatNotifier:
    """A ChatNotifier posting to Slack through `client` (kwargs: ChatNotifier's pacing)."""
    return ChatNotifier({"slack": SlackSink(client)}, state, **kwargs)
