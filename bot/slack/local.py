"""Run the Slack bot on this machine: Socket Mode (an xapp- token, no public URL) or HTTP, with
the local engine and simulated phones behind the Start button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from slack_bolt import App

from backend.domain.models import CallJob
from backend.local.simulator.people import simulated_people
from bot.core.notifier import ChatNotifier
from bot.core.state import SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.settings import BotSettings
from bot.slack.sink import SlackSink


@dataclass
class LocalBot:
    app: App
    engine: Any  # backend.local.engine.LocalEngine
    notifier: ChatNotifier
    state: SqliteBotState
    scheduler: Any  # backend.local.schedules.LocalScheduler: starts scheduled occurrences


def build_local_bot(
    settings: BotSettings,
    out_dir: Path,
    *,
    answers: Path | None = None,
    seed: int = 7,
    socket: bool = True,
) -> LocalBot:
    from backend.local.engine import LocalEngine, utc_now
    from backend.local.schedules import LocalScheduleBook, LocalScheduler, SqliteScheduleStore
    from backend.local.store import SqliteStore
    from bot.core.call_me_first import SimulatedTestCalls, SqliteNumberBook

    out_dir.mkdir(parents=True, exist_ok=True)
    client = lazy_client(settings)
    # CALLOUTS_BOT_DB when set, else next to the engine's files under --out.
    db = (
        settings.state_db
        if "state_db" in settings.model_fields_set
        else out_dir / "slack_bot.sqlite3"
    )
    state = SqliteBotState(db)
    notifier = ChatNotifier(
        {"slack": SlackSink(client)},
        state,
        batch_size=settings.batch_size,
        flush_seconds=settings.flush_seconds,
    )
    engine = LocalEngine(
        SqliteStore(out_dir / "jobs.sqlite3"),
        people=simulated_people(answers, seed),
        listeners=[notifier],
        report_dir=out_dir / "reports",
    )
    schedules = SqliteScheduleStore.beside(engine.store.path)

    # Each occurrence is a job of its own, run like a started one: the notifier posts its card
    # in the channel the job was scheduled from (its origin).
    def start_occurrence(job: CallJob, at: datetime) -> None:
        engine.submit(job)

    scheduler = LocalScheduler(schedules, start_occurrence)
    app = build_app(
        settings,
        client,
        engine,
        state,
        socket_mode=socket,
        dnc=engine.dnc,
        schedules=LocalScheduleBook(schedules, utc_now),
        test_calls=SimulatedTestCalls(engine.dnc),  # Call me first on a simulated phone
        numbers=SqliteNumberBook(db),
    )
    return LocalBot(app, engine, notifier, state, scheduler)


def run(bot: LocalBot, settings: BotSettings, *, socket: bool, port: int) -> None:
    """Blocks until Ctrl-C; a scheduler thread starts scheduled occurrences meanwhile."""
    import threading

    from backend.local.engine import utc_now

    stop = threading.Event()
    threading.Thread(
        target=bot.scheduler.run_forever, args=(stop, utc_now), name="scheduler", daemon=True
    ).start()
    if socket:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(bot.app, settings.slack_app_token).start()  # type: ignore[no-untyped-call]
    else:
        bot.app.start(port=port)
