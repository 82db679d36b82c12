"""Fixtures for the Teams hosting tests: a local token issuer and a fake Bot Connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_issuer import FakeTeamsIssuer


@pytest.fixture(scope="session")
def issuer() -> Iterator[FakeTeamsIssuer]:
    fake = FakeTeamsIssuer().start()
    yield fake
    fake.stop()


@pytest.fixture
def connector() -> Iterator[FakeTeamsConnector]:
    fake = FakeTeamsConnector().start()
    yield fake
    fake.stop()


class VirtualClock:
    """Time that moves only when code sleeps on it (sequential callers)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
