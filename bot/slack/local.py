"""Run the Slack bot on this machine: Socket Mode (an xapp- token, no public URL) or HTTP, with
the local engine and simulated phones behind the Start button."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import App

from backend.domain.models import CallJob
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


def simulated_people(answers: Path | None, seed: int) -> Any:
    """Who picks up and what they say: an answers CSV, else a random but repeatable mix."""
    from backend.local.simulator import load_answers_csv, random_people

    scripted: Mapping[str, Sequence[Any]] | None = load_answers_csv(answers) if answers else None

    def people(job: CallJob) -> Mapping[str, Sequence[Any]]:
        return scripted if scripted is not None else random_people(job, seed)

    return people


def build_local_bot(
    settings: BotSettings,
    out_dir: Path,
    *,
    answers: Path | None = None,
    seed: int = 7,
    socket: bool = True,
) -> LocalBot:
    from backend.local.engine import LocalEngine
    from backend.local.store import SqliteStore

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
    from bot.core.call_me_first import SimulatedTestCalls, SqliteNumberBook

    app = build_app(
        settings,
        client,
        engine,
        state,
        socket_mode=socket,
        dnc=engine.dnc,
        test_calls=SimulatedTestCalls(engine.dnc),  # Call me first on a simulated phone
        numbers=SqliteNumberBook(db),
    )
    return LocalBot(app, engine, notifier, state)


def run(bot: LocalBot, settings: BotSettings, *, socket: bool, port: int) -> None:
    """Blocks until Ctrl-C."""
    if socket:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(bot.app, settings.slack_app_token).start()  # type: ignore[no-untyped-call]
    else:
        bot.app.start(port=port)
