"""Proactive sends to the (fake) Bot Connector: card post, update in place, thread replies; 429 and
friends retried with back-off and Retry-After; Teams' per-thread rate never exceeded. Time is
virtual: nothing here waits for real."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from microsoft_teams.api import ApiClient
from microsoft_teams.common import Client, ClientOptions

from bot.teams.sender import (
    THREAD_WINDOWS,
    RateLimiter,
    RetryPolicy,
    TeamsSender,
    TeamsSendError,
)
from tests.fakes.teams_connector import BOT_TOKEN, ConnectorCall, FakeTeamsConnector
from tests.fakes.teams_harness import APP_ID, CHANNEL_ID, TENANT_ID

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(
    connector: FakeTeamsConnector,
    clock: Any,
    scenario: Callable[[TeamsSender], Awaitable[Any]],
    **options: Any,
) -> Any:
    async def main() -> Any:
        api = ApiClient(
            connector.service_url,
            Client(ClientOptions(token=lambda: BOT_TOKEN)),
        )
        sender = TeamsSender(
            api,
            APP_ID,
            tenant_id=TENANT_ID,
            clock=clock,
            sleep=clock.sleep,
            jitter=lambda: 0.5,
            **options,
        )
        return await scenario(sender)

    connector.clock = clock
    return asyncio.run(main())


def test_a_card_is_posted_as_a_new_channel_thread_updated_in_place_and_replied_to(
    connector: FakeTeamsConnector, clock: Any
) -> None:
    url = connector.service_url

    async def scenario(sender: TeamsSender) -> tuple[str, str]:
        thread, card_id = await sender.start_thread(url, CHANNEL_ID, "card v1")
        await sender.update(url, thread, card_id, "card v2")
        await sender.reply(url, thread, card_id, "results 1-40")
        return thread, card_id

    thread, card_id = run(connector, clock, scenario)
    assert thread == f"{CHANNEL_ID};messageid={card_id}"
    create, update, reply = connector.calls
    assert create.operation == "create_conversation"
    assert create.body is not None
    assert create.body["isGroup"] is True
    assert create.body["channelData"] == {"channel": {"id": CHANNEL_ID}}
    assert create.body["tenantId"] == TENANT_ID
    assert create.body["activity"]["text"] == "card v1"
    assert (update.operation, update.conversation_id, update.activity_id) == (
        "update",
        thread,
        card_id,
    )
    assert update.body is not None
    assert update.body["text"] == "card v2"
    assert (reply.operation, reply.conversation_id) == ("send", thread)
    assert reply.body is not None
    assert reply.body["from"]["id"] == APP_ID


@pytest.mark.parametrize("status", [429, 412, 502, 504])
def test_a_throttled_or_failed_send_is_retried_with_back_off(
    status: int, connector: FakeTeamsConnector, clock: Any
) -> None:
    connector.fail_next(status, times=2)

    async def scenario(sender: TeamsSender) -> str:
        return await sender.send(connector.service_url, "a:chat", "hello")

    activity_id = run(connector, clock, scenario)
    assert [c.status for c in connector.calls] == [status, status, 200]
    assert isinstance(activity_id, str)
    assert activity_id
    # exponential steps of 1 s, 2 s with jitter 0.5: 0.75 s then 1.5 s
    assert clock.sleeps == [0.75, 1.5]
    assert connector.calls[2].at - connector.calls[0].at == pytest.approx(2.25)


def test_retry_after_is_honoured_when_longer_than_the_back_off(
    connector: FakeTeamsConnector, clock: Any
) -> None:
    connector.fail_next(429, retry_after="7")

    async def scenario(sender: TeamsSender) -> None:
        await sender.update(connector.service_url, "a:chat", "42", "v2")

    run(connector, clock, scenario)
    assert [c.status for c in connector.calls] == [429, 200]
    assert connector.calls[1].at - connector.calls[0].at == pytest.approx(7.0)


def test_a_refusal_is_not_retried_and_persistent_throttling_gives_up(
    connector: FakeTeamsConnector, clock: Any
) -> None:
    connector.fail_next(403)
    connector.fail_next(429, times=10)

    async def scenario(sender: TeamsSender) -> list[int | None]:
        statuses = []
        for _ in range(2):
            try:
                await sender.send(connector.service_url, "a:chat", "x")
            except TeamsSendError as error:
                statuses.append(error.status)
        return statuses

    assert run(connector, clock, scenario, policy=RetryPolicy(attempts=3)) == [403, 429]
    assert [c.status for c in connector.calls] == [403, 429, 429, 429]


def _max_in_window(calls: list[ConnectorCall], seconds: float) -> int:
    times = sorted(c.at for c in calls)
    return max(sum(1 for u in times if t <= u < t + seconds) for t in times)


def test_the_per_thread_rate_is_never_exceeded(connector: FakeTeamsConnector, clock: Any) -> None:
    url = connector.service_url

    async def scenario(sender: TeamsSender) -> None:
        thread, card_id = await sender.start_thread(url, CHANNEL_ID, "card")
        for i in range(75):
            await sender.reply(url, thread, card_id, f"batch {i}")
            if i % 5 == 0:
                await sender.update(url, thread, card_id, f"card after {i}")
        await sender.send(url, "a:other-chat", "elsewhere, not paced by the thread")

    run(connector, clock, scenario)
    thread_calls = [c for c in connector.calls if c.conversation_id.startswith(CHANNEL_ID)]
    assert len(thread_calls) == 1 + 75 + 15
    assert _max_in_window(thread_calls, 1.0) <= 7
    assert _max_in_window(thread_calls, 30.0) <= 60
    # paced, not stalled: 91 operations at 60 per 30 s need just over 30 s
    assert 30.0 <= thread_calls[-1].at <= 45.0
    assert connector.calls[-1].at == thread_calls[-1].at  # the other chat did not wait


def test_concurrent_reservations_keep_every_window() -> None:
    limiter = RateLimiter(THREAD_WINDOWS, lambda: 0.0)
    slots = []
    for step in range(400):
        now = step * 0.05  # callers arrive faster than the limit, two at a time
        slots.append(limiter.reserve_at("thread", now))
        slots.append(limiter.reserve_at("thread", now))
    assert slots == sorted(slots)
    for window in THREAD_WINDOWS:
        most = max(sum(1 for u in slots if t <= u < t + window.seconds) for t in slots)
        assert most <= window.limit


def test_team_members_are_read_page_by_page(connector: FakeTeamsConnector, clock: Any) -> None:
    connector.members["19:team@thread.tacv2"] = ["aad-1", "aad-2", "aad-3", "aad-4", "aad-5"]

    async def scenario(sender: TeamsSender) -> list[str]:
        return await sender.member_ids(connector.service_url, "19:team@thread.tacv2")

    assert run(connector, clock, scenario) == ["aad-1", "aad-2", "aad-3", "aad-4", "aad-5"]
    assert [c.operation for c in connector.calls] == ["members"] * 3
