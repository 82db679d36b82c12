"""build_app(): the Bolt app with every listener of Callouts.

Each listener acks at once (within Slack's 3 s) and does its work in a lazy function: on Lambda
Bolt re-invokes the function for it; locally it runs on a thread. Web API calls go through the
`client` given here (base_url and retry handlers come with it), never through a per-request one,
so the bot token can be resolved lazily (see `lazy_client`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from backend.domain.dnc import DoNotCallList
from backend.domain.ports import JobSubmitter
from bot import actions, commands, uploads
from bot import call_me_first as slack_test_calls
from bot.core.call_me_first import CallPlacer, NumberBook
from bot.modal import ADD_QUESTION, CALLBACK_ID, REMOVE_QUESTION
from bot.settings import BotSettings
from bot.state import BotState
from bot.uploads import Downloader, download
from bot.views import (
    CANCEL_ACTION,
    DISCARD_ACTION,
    RETRY_ACTION,
    START_ACTION,
    TEST_CALL_ACTION,
    TEST_NUMBER_CALLBACK,
)

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300


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


class Deps:
    """What the listeners share."""

    def __init__(
        self,
        settings: BotSettings,
        client: WebClient,
        submitter: JobSubmitter,
        state: BotState,
        downloader: Downloader,
        dnc: DoNotCallList | None = None,
        test_calls: CallPlacer | None = None,
        numbers: NumberBook | None = None,
    ) -> None:
        self.settings = settings
        self.dnc = dnc  # the do-not-call list (`/callout dnc`, preview counts)
        # Call me first (bot/core/call_me_first.py): who places test calls, requesters' numbers.
        self.test_calls = test_calls if numbers is not None else None
        self.numbers = numbers
        self.client = client
        self.submitter = submitter
        self.state = state
        self.downloader = downloader
        self._group_cache: dict[str, tuple[float, frozenset[str]]] = {}

    def usergroup_members(self, group: str) -> frozenset[str]:
        """Members of a user group, cached for GROUP_CACHE_SECONDS."""
        cached = self._group_cache.get(group)
        if cached is None or time.monotonic() - cached[0] > GROUP_CACHE_SECONDS:
            users = self.client.usergroups_users_list(usergroup=group).get("users") or []
            cached = self._group_cache[group] = (time.monotonic(), frozenset(users))
        return cached[1]

    def may_start(self, channel_id: str, user_id: str) -> str | None:
        """None when the user may start a job in this channel, else why not."""
        settings = self.settings
        if user_id in settings.admin_users:
            return None
        if settings.allowed_channels and channel_id not in settings.allowed_channels:
            return "Call jobs cannot be started in this channel. Ask an admin which channel to use."
        if not settings.allowed_users and not settings.allowed_usergroups:
            return None
        if user_id in settings.allowed_users:
            return None
        try:
            if any(user_id in self.usergroup_members(g) for g in settings.allowed_usergroups):
                return None
        except SlackApiError as error:
            log.error("user groups not readable: %s", error.response.get("error"))
            return (
                "I could not check the user groups allowed to start call jobs (the app needs "
                "the `usergroups:read` scope). Ask an admin."
            )
        return "You are not on the list of people who may start call jobs. Ask an admin."

    def may_cancel(self, user_id: str, creator: str) -> bool:
        return user_id == creator or user_id in self.settings.admin_users

    def ephemeral(self, channel: str, user: str, text: str, **kwargs: Any) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, **kwargs)


def build_app(
    settings: BotSettings,
    client: WebClient,
    submitter: JobSubmitter,
    state: BotState,
    *,
    process_before_response: bool = False,
    listener_executor: Executor | None = None,
    downloader: Downloader = download,
    socket_mode: bool = False,
    dnc: DoNotCallList | None = None,
    test_calls: CallPlacer | None = None,
    numbers: NumberBook | None = None,
) -> App:
    """The Bolt app. `client` does every Web API call; `submitter` starts and cancels jobs;
    `dnc` is the do-not-call list (local SQLite or DynamoDB); `test_calls` and `numbers` make
    "Call me first" available (both needed)."""
    deps = Deps(settings, client, submitter, state, downloader, dnc, test_calls, numbers)

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        # No network here: the token is only needed by lazy work, through `client`.
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_user_id=settings.slack_bot_user_id,
        )

    kwargs: dict[str, Any] = {}
    if listener_executor is not None:
        kwargs["listener_executor"] = listener_executor
    # Bolt reads client.token while it is built: keep a lazy token unresolved until real use.
    if isinstance(client, LazyTokenClient):
        client._deferred = True
    try:
        app = App(
            # Socket Mode requests are not signed (Bolt skips the check for them).
            signing_secret=(
                settings.slack_signing_secret or "socket-mode"
                if socket_mode
                else settings.signing_secret()
            ),
            client=client,
            authorize=authorize,
            process_before_response=process_before_response,
            **kwargs,
        )
    finally:
        if isinstance(client, LazyTokenClient):
            client._deferred = False

    @app.middleware
    def skip_timeout_retries(request: Any, next: Callable[[], None]) -> Any:
        # Slack retries an event it got no 2xx for within 3 s; the first delivery is still
        # being handled, so the retry is acknowledged and dropped. http_error retries are handled.
        reason = (request.headers.get("x-slack-retry-reason") or [""])[0]
        if reason == "http_timeout":
            return BoltResponse(status=200, body="")
        return next()

    def ack_only(ack: Callable[..., None]) -> None:
        ack()

    def ignore(ack: Callable[..., None]) -> None:
        ack()  # no lazy work: on Lambda this costs no self-invocation

    def shares_workbook(body: dict[str, Any]) -> bool:
        # Uploads come as `message` with subtype file_share, or (older clients) with no subtype.
        event = body.get("event") or {}
        return (
            event.get("subtype") in (None, "file_share")
            and not event.get("bot_id")
            and any(uploads.is_workbook(f) for f in event.get("files") or [])
        )

    def run_command(body: dict[str, Any]) -> None:
        commands.run(deps, body)

    def preview_modal(body: dict[str, Any]) -> None:
        commands.preview_modal(deps, body)

    def add_question(body: dict[str, Any]) -> None:
        actions.resize_modal(deps, body, +1)

    def remove_question(body: dict[str, Any]) -> None:
        actions.resize_modal(deps, body, -1)

    def start_job(body: dict[str, Any]) -> None:
        actions.start(deps, body)

    def discard_job(body: dict[str, Any]) -> None:
        actions.discard(deps, body)

    def cancel_job(body: dict[str, Any]) -> None:
        actions.cancel(deps, body)

    def retry_unreached(body: dict[str, Any]) -> None:
        actions.retry(deps, body)

    def handle_upload(body: dict[str, Any]) -> None:
        uploads.handle_file_share(deps, body)

    def answer_mention(body: dict[str, Any]) -> None:
        commands.mention(deps, body)

    def call_me_first(body: dict[str, Any]) -> None:
        slack_test_calls.button(deps, body)

    def check_number(ack: Callable[..., None], body: dict[str, Any]) -> None:
        slack_test_calls.check_number(deps, ack, body)

    def number_given(body: dict[str, Any]) -> None:
        slack_test_calls.number_given(deps, body)

    app.command("/callout")(ack=commands.acknowledge, lazy=[run_command])
    app.view(CALLBACK_ID)(ack=commands.check_modal, lazy=[preview_modal])
    app.action(ADD_QUESTION)(ack=ack_only, lazy=[add_question])
    app.action(REMOVE_QUESTION)(ack=ack_only, lazy=[remove_question])
    app.action(START_ACTION)(ack=ack_only, lazy=[start_job])
    app.action(DISCARD_ACTION)(ack=ack_only, lazy=[discard_job])
    app.action(CANCEL_ACTION)(ack=ack_only, lazy=[cancel_job])
    app.action(RETRY_ACTION)(ack=ack_only, lazy=[retry_unreached])
    app.action(TEST_CALL_ACTION)(ack=ack_only, lazy=[call_me_first])
    app.view(TEST_NUMBER_CALLBACK)(ack=check_number, lazy=[number_given])
    app.event("message", matchers=[shares_workbook])(ack=ack_only, lazy=[handle_upload])
    # Every subscribed event needs a listener, or Slack answers 404 and retries it.
    app.event("message")(ignore)  # other messages and files: not ours
    app.event("file_shared")(ignore)  # handled through its message event (it has the ts)
    app.event("app_mention")(ack=ack_only, lazy=[answer_mention])
    return app
