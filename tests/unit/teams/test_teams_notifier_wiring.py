"""The chat notifier Lambda posts Teams jobs through a Teams sink exactly when the stack has a
Teams app (TEAMS_APP_ID set by the template)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import aws_notifier
from bot.teams import aws_runtime
from bot.teams.sink import TeamsSink


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CALLOUTS_DATA_BUCKET", "data")
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    aws_runtime.teams_sink.cache_clear()
    yield
    sink = aws_runtime.teams_sink() if aws_runtime.teams_sink.cache_info().currsize else None
    if sink is not None:
        sink.runner.stop()  # type: ignore[attr-defined]
    aws_runtime.teams_sink.cache_clear()


def test_no_teams_app_no_teams_sink() -> None:
    assert "teams" not in aws_notifier.chat_sinks()


def test_a_teams_app_gets_a_teams_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("TEAMS_TENANT_ID", "99999999-8888-7777-6666-555555555555")
    monkeypatch.setenv("TEAMS_CLIENT_SECRET", "not-a-real-secret")
    sinks = aws_notifier.chat_sinks()
    assert isinstance(sinks["teams"], TeamsSink)
    assert sinks["teams"].reports.link_seconds == 3600
    assert "slack" in sinks


def test_test_call_outcomes_go_to_teams_only_with_a_teams_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert set(aws_notifier.test_call_tellers()) == {"slack"}
    monkeypatch.setenv("TEAMS_APP_ID", "11111111-2222-3333-4444-555555555555")
    tellers = aws_notifier.test_call_tellers()
    assert tellers["teams"] is aws_runtime.tell_test_call
    assert "slack" in tellers
