"""`callouts bot --teams`: the Teams bot on this machine, with the local engine and simulated
phones behind the Start button.

It serves the SDK's messaging endpoint (`POST /api/messages`) and the report links
(`GET /reports/<token>`) with FastAPI + uvicorn on 127.0.0.1, all on one event loop thread
(`BackgroundLoop`) that the engine's notifier also posts through. Requests are JWT-checked like on
AWS unless the dev mode (`CALLOUTS_TEAMS_DEV_UNAUTHENTICATED`, for Microsoft 365 Agents
Playground) is on: that is allowed here only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.domain.models import CallJob
from bot.core.notifier import ChatNotifier
from bot.core.state import SqliteBotState
from bot.teams.app import MESSAGING_ENDPOINT, TeamsBot, build_bot, initialize
from bot.teams.loop import BackgroundLoop
from bot.teams.places import SqlitePlaces
from bot.teams.reports import REPORTS_ROUTE, LocalReports
from bot.teams.settings import TeamsSettings
from bot.teams.worker import LocalWorker, Tasks

DEFAULT_PORT = 3978  # the Teams SDK's and Agents Playground's default
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class LocalTeamsBot:
    bot: TeamsBot
    engine: Any  # backend.local.engine.LocalEngine
    notifier: ChatNotifier
    state: SqliteBotState
    loop: BackgroundLoop
    reports: LocalReports
    port: int
    scheduler: Any  # backend.local.schedules.LocalScheduler: starts scheduled occurrences

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}{MESSAGING_ENDPOINT}"


def build_local_teams_bot(
    settings: TeamsSettings,
    out_dir: Path,
    people: Any,
    *,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
) -> LocalTeamsBot:
    """The bot, its engine and notifier; `people` is the simulator's (see simulated_people)."""
    import uvicorn
    from microsoft_teams.apps.http import FastAPIAdapter

    from backend.local.engine import LocalEngine, utc_now
    from backend.local.schedules import LocalScheduleBook, LocalScheduler, SqliteScheduleStore
    from backend.local.store import SqliteStore
    from bot.core.call_me_first import SimulatedTestCalls, SqliteNumberBook

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "reports").mkdir(exist_ok=True)
    db = (
        settings.state_db
        if "state_db" in settings.model_fields_set
        else out_dir / "teams_bot.sqlite3"
    )
    state = SqliteBotState(db)
    engine = LocalEngine(
        SqliteStore(out_dir / "jobs.sqlite3"), people=people, report_dir=out_dir / "reports"
    )
    reports = LocalReports(
        out_dir / "reports", public_url or f"http://localhost:{port}", settings.report_link_seconds
    )
    adapter = FastAPIAdapter(
        server_factory=lambda api: uvicorn.Server(
            uvicorn.Config(app=api, host="127.0.0.1", port=port, log_level="warning")
        )
    )
    _serve_reports(adapter.app, reports)
    schedules = SqliteScheduleStore.beside(engine.store.path)

    # Each occurrence is a job of its own, run like a started one: the notifier posts its card
    # in the conversation the job was scheduled from (its origin).
    def start_occurrence(job: CallJob, at: datetime) -> None:
        engine.submit(job)

    scheduler = LocalScheduler(schedules, start_occurrence)
    loop = BackgroundLoop("teams-bot")
    tasks = Tasks()
    try:
        bot = build_bot(
            settings,
            state,
            engine,
            worker=LocalWorker(tasks, loop.loop),
            tasks=tasks,
            adapter=adapter,
            runner=loop,
            reports=reports,
            places=SqlitePlaces(db),
            local=True,
            dnc=engine.dnc,
            schedules=LocalScheduleBook(schedules, utc_now),
            test_calls=SimulatedTestCalls(engine.dnc),  # Call me first on a simulated phone
            numbers=SqliteNumberBook(db),
        )
    except Exception:
        loop.stop()
        raise
    notifier = ChatNotifier(
        {"teams": bot.deps.sink},
        state,
        batch_size=settings.batch_size,
        flush_seconds=settings.flush_seconds,
    )
    engine.listeners.append(notifier)
    return LocalTeamsBot(bot, engine, notifier, state, loop, reports, port, scheduler)


def _serve_reports(api: Any, reports: LocalReports) -> None:
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    async def report(token: str) -> FileResponse:
        path = reports.served(token)
        if path is None:
            raise HTTPException(status_code=404, detail="This report link has expired.")
        return FileResponse(path, media_type=XLSX, filename=path.name)

    api.get(REPORTS_ROUTE + "{token}")(report)


def run(local: LocalTeamsBot) -> None:
    """Serve until Ctrl-C, then let the notifier post what it holds; a scheduler thread starts
    scheduled occurrences meanwhile."""
    import threading

    from backend.local.engine import utc_now

    loop = local.loop.loop
    assert loop is not None
    stop = threading.Event()
    threading.Thread(
        target=local.scheduler.run_forever, args=(stop, utc_now), name="scheduler", daemon=True
    ).start()
    serving = asyncio.run_coroutine_threadsafe(_serve(local), loop)
    try:
        serving.result()
    except KeyboardInterrupt:
        asyncio.run_coroutine_threadsafe(local.bot.adapter.stop(), loop).result(10)
    finally:
        stop.set()
        local.notifier.close()
        local.loop.stop()


async def _serve(local: LocalTeamsBot) -> None:
    await initialize(local.bot)
    await local.bot.adapter.start(local.port)
