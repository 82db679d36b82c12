"""`callouts bot` and the local runner wiring (no Slack connection is opened)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app as cli
from backend.local.engine import LocalEngine
from bot.slack.local import build_local_bot
from tests.e2e.slack.conftest import Harness, make_settings
from tests.fakes.slack_api import FakeSlack


def test_bot_command_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["bot"])
    assert result.exit_code == 1
    assert "SLACK_APP_TOKEN" in result.output
    assert "SLACK_BOT_TOKEN" in result.output
    http = CliRunner().invoke(cli, ["bot", "--http"])
    assert "SLACK_SIGNING_SECRET" in http.output


def test_local_bot_wires_the_engine_behind_the_app(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = make_settings(fake_slack, CALLOUTS_BOT_DB=str(tmp_path / "bot.sqlite3"))
    local = build_local_bot(settings, tmp_path / "out", socket=False)
    try:
        assert isinstance(local.engine, LocalEngine)
        assert local.notifier in local.engine.listeners
        response = Harness(fake_slack, local.app, local.state, local.engine).command("help")
        assert response.status == 200
        assert "/callout" in response.body
    finally:
        local.notifier.close()


def test_the_bot_state_goes_under_out_unless_set(fake_slack: FakeSlack, tmp_path: Path) -> None:
    local = build_local_bot(make_settings(fake_slack), tmp_path / "out", socket=False)
    local.notifier.close()
    assert (tmp_path / "out" / "slack_bot.sqlite3").is_file()
