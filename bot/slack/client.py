"""The bot's Web API client: one per app, its token resolved on first use (not at import, not
when the app is built), 429s retried after Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.settings import BotSettings


class LazyTokenClient(WebClient):
    """A WebClient whose token is fetched on its first API call, not when it is built."""

    def __init__(self, token_source: Callable[[], str], **kwargs: Any) -> None:
        self._token_source: Callable[[], str] | None = token_source
        self._lazy_token: str | None = None
        self._deferred = False
        super().__init__(**kwargs)

    @property
    def token(self) -> str | None:
        if self._lazy_token is None and self._token_source is not None and not self._deferred:
            self._lazy_token = self._token_source()
        return self._lazy_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._lazy_token = value


def lazy_client(settings: BotSettings) -> WebClient:
    """The bot's Web API client: token resolved on first use, 429s retried after Retry-After."""
    kwargs: dict[str, Any] = {"retry_handlers": [RateLimitErrorRetryHandler(max_retry_count=3)]}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return LazyTokenClient(settings.bot_token, **kwargs)
