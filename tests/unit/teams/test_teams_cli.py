"""`callouts bot --teams` refuses to start without what it needs, and refuses the dev mode where
it is not a local run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app

TEAMS_ENV = (
    "TEAMS_APP_ID",
    "TEAMS_TENANT_ID",
    "TEAMS_CLIENT_SECRET",
    "CALLOUTS_TEAMS_SECRET_ARN",
    "CALLOUTS_TEAMS_DEV_UNAUTHENTICATED",
    "AWS_LAMBDA_FUNCTION_NAME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TEAMS_ENV:
        monkeypatch.delenv(name, raising=False)


def test_without_credentials_it_names_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bot", "--teams", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "TEAMS_APP_ID" in result.output
    assert "TEAMS_TENANT_ID" in result.output
    assert "CALLOUTS_TEAMS_DEV_UNAUTHENTICATED" in result.output  # the way to try it anyway


def test_the_dev_mode_is_refused_inside_a_lambda(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLOUTS_TEAMS_DEV_UNAUTHENTICATED", "1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "callouts-teams-bot")
    result = CliRunner().invoke(app, ["bot", "--teams", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "only allowed for a local" in result.output


def test_the_local_bot_has_a_scheduler_and_call_me_first(tmp_path: Path) -> None:
    from backend.local.schedules import LocalScheduler
    from bot.core.call_me_first import SimulatedTestCalls, SqliteNumberBook
    from bot.teams.local import build_local_teams_bot
    from bot.teams.settings import TeamsSettings

    settings = TeamsSettings(
        CALLOUTS_TEAMS_DEV_UNAUTHENTICATED=True, CALLOUTS_TEAMS_BOT_DB=str(tmp_path / "bot.db")
    )
    local = build_local_teams_bot(settings, tmp_path, people=lambda job: [], port=0)
    try:
        deps = local.bot.deps
        assert isinstance(local.scheduler, LocalScheduler)
        assert deps.schedule_book is not None
        assert isinstance(deps.test_calls, SimulatedTestCalls)
        assert isinstance(deps.numbers, SqliteNumberBook)
        assert deps.test_calls.dnc is local.engine.dnc  # a "stop" in a test call is kept
    finally:
        local.notifier.close()
        local.loop.stop()
