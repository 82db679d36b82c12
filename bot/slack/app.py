"""build_app(): the Bolt app with every listener of Callouts.

Each listener acks at once (within Slack's 3 s) and does its work in a lazy function: on Lambda
Bolt re-invokes the function for it; locally it runs on a thread. Web API calls go through the
`client` given here (base_url and retry handlers come with it), never through a per-request one,
so the bot token can be resolved lazily (see `bot.slack.client.lazy_client`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from backend.domain.dnc import DoNotCallList
from backend.domain.ports import JobSubmitter, ScheduleBook
from bot.core.call_me_first import CallPlacer, NumberBook
from bot.core.state import BotState
from bot.slack import actions, call_me_first, commands, schedule, uploads
from bot.slack.client import LazyTokenClient, lazy_client
from bot.slack.deps import Deps
from bot.slack.files import Downloader, download
from bot.slack.modal import ADD_QUESTION, CALLBACK_ID, REMOVE_QUESTION
from bot.slack.settings import BotSettings
from bot.slack.views import (
    CANCEL_ACTION,
    DISCARD_ACTION,
    RETRY_ACTION,
    RUN_AGAIN_ACTION,
    START_ACTION,
    TEST_CALL_ACTION,
    TEST_NUMBER_CALLBACK,
)

__all__ = ["Deps", "build_app", "lazy_client"]

Listener = Callable[[Deps, dict[str, Any]], None]


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
    schedules: ScheduleBook | None = None,
    test_calls: CallPlacer | None = None,
    numbers: NumberBook | None = None,
) -> App:
    """The Bolt app. `client` does every Web API call; `submitter` starts and cancels jobs;
    `dnc` is the do-not-call list (local SQLite or DynamoDB); `schedules` keeps scheduled jobs
    (the local store, or EventBridge Scheduler through the job queue); `test_calls` and `numbers`
    make "Call me first" available (both needed)."""
    deps = Deps(
        settings,
        client,
        submitter,
        state,
        downloader,
        dnc,
        schedules=schedules,
        test_calls=test_calls,
        numbers=numbers,
    )
    app = _bolt_app(settings, client, process_before_response, listener_executor, socket_mode)
    app.middleware(skip_timeout_retries)
    _register(app, deps)
    return app


def _bolt_app(
    settings: BotSettings,
    client: WebClient,
    process_before_response: bool,
    listener_executor: Executor | None,
    socket_mode: bool,
) -> App:
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
        return App(
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


def skip_timeout_retries(request: Any, next: Callable[[], None]) -> Any:
    """Slack retries an event it got no 2xx for within 3 s; the first delivery is still being
    handled, so the retry is acknowledged and dropped. http_error retries are handled."""
    reason = (request.headers.get("x-slack-retry-reason") or [""])[0]
    if reason == "http_timeout":
        return BoltResponse(status=200, body="")
    return next()


def ack_only(ack: Callable[..., None]) -> None:
    ack()  # no lazy work when registered alone: on Lambda this costs no self-invocation


def shares_workbook(body: dict[str, Any]) -> bool:
    """Uploads come as `message` with subtype file_share, or (older clients) with no subtype."""
    event = body.get("event") or {}
    return (
        event.get("subtype") in (None, "file_share")
        and not event.get("bot_id")
        and any(uploads.is_workbook(f) for f in event.get("files") or [])
    )


def _lazy(deps: Deps, work: Listener, name: str) -> Callable[[dict[str, Any]], None]:
    """A lazy listener bound to `deps` (Bolt tells lazy functions apart by their name)."""

    def run(body: dict[str, Any]) -> None:
        work(deps, body)

    run.__name__ = run.__qualname__ = name
    return run


def _register(app: App, deps: Deps) -> None:
    def lazy(work: Listener, name: str) -> list[Callable[[dict[str, Any]], None]]:
        return [_lazy(deps, work, name)]

    app.command("/callout")(ack=commands.acknowledge, lazy=lazy(commands.run, "run_command"))
    app.view(CALLBACK_ID)(
        ack=commands.check_modal, lazy=lazy(commands.preview_modal, "preview_modal")
    )
    app.action(ADD_QUESTION)(
        ack=ack_only, lazy=lazy(lambda d, b: actions.resize_modal(d, b, +1), "add_question")
    )
    app.action(REMOVE_QUESTION)(
        ack=ack_only, lazy=lazy(lambda d, b: actions.resize_modal(d, b, -1), "remove_question")
    )
    app.action(START_ACTION)(ack=ack_only, lazy=lazy(actions.start, "start_job"))
    app.action(DISCARD_ACTION)(ack=ack_only, lazy=lazy(actions.discard, "discard_job"))
    app.action(CANCEL_ACTION)(ack=ack_only, lazy=lazy(actions.cancel, "cancel_job"))
    app.action(RETRY_ACTION)(ack=ack_only, lazy=lazy(actions.retry, "retry_unreached"))
    app.action(RUN_AGAIN_ACTION)(ack=ack_only, lazy=lazy(actions.run_again, "run_again"))
    app.action(schedule.SCHEDULE_ACTION)(
        ack=ack_only, lazy=lazy(schedule.open_form, "open_schedule_form")
    )
    app.view(schedule.SCHEDULE_CALLBACK)(
        ack=schedule.checker(deps), lazy=lazy(schedule.schedule_from_form, "schedule_job")
    )
    app.action(TEST_CALL_ACTION)(ack=ack_only, lazy=lazy(call_me_first.button, "call_me_first"))
    app.view(TEST_NUMBER_CALLBACK)(
        ack=lambda ack, body: call_me_first.check_number(deps, ack, body),
        lazy=lazy(call_me_first.number_given, "test_number_given"),
    )
    app.event("message", matchers=[shares_workbook])(
        ack=ack_only, lazy=lazy(uploads.handle_file_share, "handle_upload")
    )
    # Every subscribed event needs a listener, or Slack answers 404 and retries it.
    app.event("message")(ack_only)  # other messages and files: not ours
    app.event("file_shared")(ack_only)  # handled through its message event (it has the ts)
    app.event("app_mention")(ack=ack_only, lazy=lazy(commands.mention, "answer_mention"))
