"""Inbound security of the Teams bot: every request's JWT is checked by the SDK against the
(local fake) issuer's keys; anything not signed for this app and this service URL gets 401 and
reaches no handler; the dev mode is refused outside a local run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext

from bot.core.state import SqliteBotState
from bot.teams.auth import TeamsAuthError, app_options
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import (
    APP_ID,
    PERSONAL_CONVERSATION,
    RecordingSubmitter,
    TeamsHarness,
    harness_settings,
    message_activity,
)
from tests.fakes.teams_issuer import FakeTeamsIssuer


def harness(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, **settings: Any
) -> TeamsHarness:
    h = TeamsHarness(
        issuer, connector, SqliteBotState(":memory:"), RecordingSubmitter(), **settings
    )

    @h.bot.app.on_message
    async def echo(ctx: ActivityContext[MessageActivity]) -> None:
        await ctx.send(f"echo: {ctx.activity.text}")

    return h


def test_a_signed_message_is_acknowledged_then_handled_by_the_worker(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    h = harness(issuer, connector)

    async def scenario() -> tuple[Any, list[str], list[str]]:
        async with h.running():
            response = await h.post(message_activity(connector.service_url, "hello"))
            before = [c.operation for c in connector.calls]  # nothing sent before the ack
            await h.worker.run_all()
            return response, before, [c.operation for c in connector.calls]

    response, before, after = asyncio.run(scenario())
    assert response["status"] == 200
    assert before == []
    assert h.worker.ran == ["activity"]
    assert after == ["send"]
    sent = connector.calls[0]
    assert sent.conversation_id == PERSONAL_CONVERSATION
    assert "echo: hello" in sent.text()


def _expired(h: TeamsHarness) -> str:
    now = int(time.time())
    return h.token(exp=now - 400, iat=now - 4000, nbf=now - 4000)  # beyond the 300 s leeway


BAD_TOKENS: dict[str, Callable[[TeamsHarness], str | None]] = {
    "unsigned": lambda h: None,
    "not a JWT": lambda h: "not-a-jwt",
    "expired": _expired,
    "wrong audience": lambda h: h.token(aud="00000000-1111-2222-3333-444444444444"),
    "wrong serviceurl": lambda h: h.token(service_url="https://smba.example.invalid/teams/"),
    "no serviceurl": lambda h: h.token(serviceurl=None),
    "wrong issuer": lambda h: h.token(iss="https://issuer.example.invalid"),
    "key not published": lambda h: h.issuer.foreign_token(APP_ID, h.connector.service_url),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_request_not_signed_for_this_app_and_service_url_gets_401(
    case: str, issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    h = harness(issuer, connector)

    async def scenario() -> Any:
        async with h.running():
            return await h.post(message_activity(connector.service_url), token=BAD_TOKENS[case](h))

    response = asyncio.run(scenario())
    assert response["status"] == 401
    assert h.worker.deferred == []
    assert connector.calls == []


def test_an_invoke_runs_inline_and_a_bad_one_is_refused(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    h = harness(issuer, connector)
    invoke = message_activity(connector.service_url, type="invoke", name="adaptiveCard/action")
    invoke["value"] = {"action": {"type": "Action.Execute", "verb": "noop", "data": {}}}

    async def scenario() -> tuple[Any, Any]:
        async with h.running():
            good = await h.post(invoke)
            bad = await h.post(invoke, token=h.token(aud="someone-else"))
            return good, bad

    good, bad = asyncio.run(scenario())
    assert good["status"] != 401
    assert bad["status"] == 401
    assert h.worker.deferred == []  # an invoke is answered in its own response


def test_the_dev_mode_is_refused_outside_a_local_run(
    issuer: FakeTeamsIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = harness_settings(issuer, dev_unauthenticated=True)
    with pytest.raises(TeamsAuthError, match="only allowed for a local"):
        app_options(settings, local=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "callouts-teams")
    with pytest.raises(TeamsAuthError, match="only allowed for a local"):
        app_options(settings, local=True)


def test_the_sdk_env_switch_cannot_turn_the_check_off(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "true")
    h = harness(issuer, connector)

    async def scenario() -> Any:
        async with h.running():
            return await h.post(message_activity(connector.service_url), token=None)

    assert asyncio.run(scenario())["status"] == 401


def test_the_local_dev_mode_accepts_unsigned_requests(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    settings = harness_settings(issuer, dev_unauthenticated=True)
    options = app_options(settings, local=True)
    assert options["dangerously_allow_unauthenticated_requests"] is True


def test_a_single_tenant_app_is_required(issuer: FakeTeamsIssuer) -> None:
    with pytest.raises(TeamsAuthError, match="TEAMS_TENANT_ID"):
        app_options(harness_settings(issuer, tenant_id=None), local=False, token=lambda *a: "t")
    with pytest.raises(TeamsAuthError, match="TEAMS_APP_ID"):
        app_options(harness_settings(issuer, app_id=None), local=False, token=lambda *a: "t")
