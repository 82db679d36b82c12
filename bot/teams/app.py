"""build_bot(): the Teams SDK `App` of Callouts, its shared deps and its request front.

The SDK validates each request's JWT and would run the whole handler before answering, but Teams
wants the answer within 15 s. So the front answers message-like activities (messages, conversation
and installation updates) as soon as their token is valid and hands them to the worker, which runs
the SDK's own processing (and so the handlers) afterwards; invokes (card actions, dialogs, file
consent) carry their answer in the HTTP response and run inline. Handlers are registered by
`bot.teams.conversation.register(app, deps)`, then the report's file consent answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from microsoft_teams.api import InvokeResponse
from microsoft_teams.apps import App
from microsoft_teams.apps.events import ActivityEvent, CoreActivity
from microsoft_teams.apps.http.adapter import HttpServerAdapter

from backend.domain.dnc import DoNotCallList
from backend.domain.ports import JobSubmitter, ScheduleBook
from bot.core.call_me_first import CallPlacer, NumberBook
from bot.core.state import BotState
from bot.teams import conversation
from bot.teams.auth import app_options, teams_access
from bot.teams.deps import TeamsDeps
from bot.teams.loop import LoopRunner
from bot.teams.places import Places
from bot.teams.reports import ReportShelf
from bot.teams.sender import TeamsSender
from bot.teams.settings import TeamsSettings
from bot.teams.sink import TeamsSink, register_report_consent
from bot.teams.worker import Tasks, Worker

MESSAGING_ENDPOINT = "/api/messages"
ACTIVITY_TASK = "activity"  # the worker task that processes a deferred activity
INLINE_TYPES = frozenset({"invoke"})  # activities whose HTTP answer carries their result

Process = Callable[[ActivityEvent], Awaitable[InvokeResponse[Any]]]


@dataclass
class TeamsBot:
    app: App
    deps: TeamsDeps
    adapter: HttpServerAdapter


def build_bot(
    settings: TeamsSettings,
    state: BotState,
    submitter: JobSubmitter,
    *,
    worker: Worker,
    tasks: Tasks,
    adapter: HttpServerAdapter,
    runner: LoopRunner,
    reports: ReportShelf,
    places: Places,
    local: bool = False,
    token: Any | None = None,
    dnc: DoNotCallList | None = None,
    sender_options: dict[str, Any] | None = None,
    schedules: ScheduleBook | None = None,
    test_calls: CallPlacer | None = None,
    numbers: NumberBook | None = None,
) -> TeamsBot:
    """The app and its deps; call `await initialize(bot)` on `runner`'s loop before serving.

    `runner` runs the SDK's coroutines for synchronous callers (the sink, the team lookup);
    `reports` finds a finished job's workbook. `local` allows the unauthenticated dev mode
    (refused otherwise); `token` replaces MSAL for outbound calls (tests); `sender_options` go to
    `TeamsSender` (virtual clocks in tests). `schedules` keeps scheduled jobs (the local store,
    or EventBridge Scheduler through the job queue); `test_calls` and `numbers` make "Call me
    first" available (both needed).
    """
    options = app_options(settings, local=local, token=token)
    app = App(
        http_server_adapter=adapter,
        messaging_endpoint=MESSAGING_ENDPOINT,
        state=False,
        **options,
    )
    sender = TeamsSender(
        app.api, options["client_id"], tenant_id=settings.tenant_id, **(sender_options or {})
    )
    deps = TeamsDeps(
        settings=settings,
        state=state,
        submitter=submitter,
        sender=sender,
        sink=TeamsSink(sender, runner, reports),
        access=teams_access(settings, sender, runner),
        worker=worker,
        tasks=tasks,
        places=places,
        dnc=dnc,
        schedule_book=schedules,
        test_calls=test_calls if numbers is not None else None,
        numbers=numbers,
    )
    conversation.register(app, deps)
    register_report_consent(app, state, reports)
    return TeamsBot(app=app, deps=deps, adapter=adapter)


async def initialize(bot: TeamsBot) -> None:
    """Initialize the SDK app (JWT validator, route) and put the deferring front before it."""
    await bot.app.initialize()
    process = bot.app.server.on_request
    if process is None:  # pragma: no cover - the SDK always sets it in initialize()
        raise RuntimeError("the Teams app has no activity processor")
    bot.app.server.on_request = _front(process, bot.deps.worker)

    async def run_deferred(payload: dict[str, Any]) -> None:
        await process(deferred_event(payload))

    if ACTIVITY_TASK not in bot.deps.tasks:
        bot.deps.tasks.register(ACTIVITY_TASK, run_deferred)


def _front(process: Process, worker: Worker) -> Process:
    async def front(event: ActivityEvent) -> InvokeResponse[Any]:
        if event.body.type in INLINE_TYPES:
            return await process(event)
        worker.defer(ACTIVITY_TASK, deferral_payload(event))
        return InvokeResponse[Any](status=200)

    return front


def deferral_payload(event: ActivityEvent) -> dict[str, Any]:
    """What the worker needs to process a validated activity later (no raw token)."""
    token = event.token
    return {
        "activity": event.body.model_dump(mode="json", exclude_none=True),
        "token": {
            "app_id": getattr(token, "app_id", "") or "",
            "tenant_id": getattr(token, "tenant_id", "") or "",
            "service_url": getattr(token, "service_url", "") or "",
        },
    }


def deferred_event(payload: dict[str, Any]) -> ActivityEvent:
    claims = payload.get("token") or {}
    token = SimpleNamespace(
        app_id=claims.get("app_id", ""),
        app_display_name="",
        tenant_id=claims.get("tenant_id", ""),
        service_url=claims.get("service_url", ""),
        from_="azure",
        from_id="",
        is_expired=lambda: False,
    )
    return ActivityEvent(body=CoreActivity.model_validate(payload["activity"]), token=token)
