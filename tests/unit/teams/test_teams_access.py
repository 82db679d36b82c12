"""Who may start a job from Teams: the core's rules with Entra ids, and teams whose members may
start (read from the Bot Connector, like Slack user groups)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from microsoft_teams.api import ApiClient
from microsoft_teams.common import Client, ClientOptions

from bot.core.access import NOT_ON_LIST, NOT_THIS_CHANNEL
from bot.teams.auth import TEAMS_NOT_READABLE, teams_access
from bot.teams.loop import BackgroundLoop
from bot.teams.sender import RetryPolicy, TeamsSender
from tests.fakes.teams_connector import BOT_TOKEN, FakeTeamsConnector
from tests.fakes.teams_harness import APP_ID, CHANNEL_ID, TEAM_ID, harness_settings
from tests.fakes.teams_issuer import FakeTeamsIssuer


@pytest.fixture
def loop() -> Iterator[BackgroundLoop]:
    runner = BackgroundLoop("test-access")
    yield runner
    runner.stop()


def sender(connector: FakeTeamsConnector) -> TeamsSender:
    api = ApiClient(connector.service_url, Client(ClientOptions(token=lambda: BOT_TOKEN)))

    async def no_wait(seconds: float) -> None:
        return None

    return TeamsSender(api, APP_ID, sleep=no_wait, policy=RetryPolicy(attempts=2))


def test_members_of_an_allowed_team_may_start_others_may_not(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, loop: BackgroundLoop
) -> None:
    connector.members[TEAM_ID] = ["aad-teacher", "aad-other-teacher", "aad-head"]
    settings = harness_settings(
        issuer,
        service_url=connector.service_url,
        allowed_teams=TEAM_ID,
        allowed_channels=f"{CHANNEL_ID}, 19:other@thread.tacv2",
        admin_users="aad-admin",
    )
    access = teams_access(settings, sender(connector), loop)
    assert access.may_start(CHANNEL_ID, "aad-other-teacher") is None
    assert access.may_start(CHANNEL_ID, "aad-stranger") == NOT_ON_LIST
    assert access.may_start("19:elsewhere@thread.tacv2", "aad-teacher") == NOT_THIS_CHANNEL
    assert access.may_start("19:elsewhere@thread.tacv2", "aad-admin") is None
    assert access.may_cancel("aad-admin", creator="aad-teacher")
    assert not access.may_cancel("aad-head", creator="aad-teacher")
    assert [c.operation for c in connector.calls] == ["members", "members"]  # 3 in pages of 2


def test_an_unreadable_team_refuses_with_a_reason(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, loop: BackgroundLoop
) -> None:
    settings = harness_settings(issuer, service_url=connector.service_url, allowed_teams=TEAM_ID)
    access = teams_access(settings, sender(connector), loop)
    connector.fail_next(403)
    assert access.may_start(CHANNEL_ID, "aad-teacher") == TEAMS_NOT_READABLE
