"""A Teams bot wired to the local fakes, for tests: the fake issuer signs inbound requests, the
fake Bot Connector receives everything the bot sends.

    issuer = FakeTeamsIssuer().start(); connector = FakeTeamsConnector().start()
    harness = TeamsHarness(issuer, connector, state, submitter)
    async with harness.running() as bot:            # one event loop for the whole test
        response = await harness.post(message_activity(connector.service_url, "help"))
        await harness.worker.run_all()              # what the worker would do after the ack
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from backend.domain.ports import JobSubmitter
from bot.teams.app import MESSAGING_ENDPOINT, TeamsBot, build_bot, initialize
from bot.teams.http import RouteAdapter
from bot.teams.loop import LoopRunner
from bot.teams.places import SqlitePlaces
from bot.teams.reports import LocalReports, ReportShelf
from bot.teams.settings import TeamsSettings
from bot.teams.worker import Tasks
from tests.fakes.teams_connector import BOT_TOKEN, FakeTeamsConnector
from tests.fakes.teams_issuer import FakeTeamsIssuer

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
USER_ID = "29:user-aad-1"
USER_AAD = "aaaaaaaa-0000-0000-0000-000000000001"
TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL_ID = "19:channel-calls@thread.tacv2"
PERSONAL_CONVERSATION = "a:personal-chat-1"
BASE_URL = "http://localhost:3978"

SIGNED = "<a valid token for the activity>"
_ids = itertools.count(1)


class RecordingWorker:
    """A Worker that keeps deferred tasks until the test runs them (`run_all`)."""

    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks
        self.deferred: list[tuple[str, dict[str, Any]]] = []
        self.ran: list[str] = []

    def defer(self, task: str, payload: dict[str, Any]) -> None:
        json.dumps(payload)  # what a Lambda invocation would need: JSON only
        self.deferred.append((task, payload))

    async def run_all(self) -> None:
        while self.deferred:
            task, payload = self.deferred.pop(0)
            self.ran.append(task)
            await self.tasks.run(task, payload)


def bot_token(scope: object, tenant_id: object = None) -> str:
    return BOT_TOKEN


def harness_settings(issuer: FakeTeamsIssuer, **overrides: Any) -> TeamsSettings:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "tenant_id": TENANT_ID,
        "openid_metadata_url": issuer.metadata_url,
        "token_issuer": issuer.issuer,
        "state_db": ":memory:",
    }
    values.update(overrides)
    return TeamsSettings(**values)


def message_activity(
    service_url: str,
    text: str = "help",
    *,
    conversation_id: str = PERSONAL_CONVERSATION,
    conversation_type: str = "personal",
    channel_id: str | None = None,
    team_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    channel_data: dict[str, Any] = {"tenant": {"id": TENANT_ID}}
    if channel_id:
        channel_data["channel"] = {"id": channel_id}
    if team_id:
        channel_data["team"] = {"id": team_id}
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"act-{next(_ids)}",
        "timestamp": "2026-12-01T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": USER_ID, "name": "Pat Teacher", "aadObjectId": USER_AAD},
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": TENANT_ID,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "Callouts"},
        "text": text,
        "channelData": channel_data,
    }
    activity.update(extra)
    return activity


class TeamsHarness:
    def __init__(
        self,
        issuer: FakeTeamsIssuer,
        connector: FakeTeamsConnector,
        state: Any,
        submitter: JobSubmitter,
        reports: ReportShelf | None = None,
        bot_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        """`bot_options`: more `build_bot` arguments (schedules, test_calls, numbers, dnc...);
        `settings`: TeamsSettings overrides."""
        self.issuer = issuer
        self.connector = connector
        self.settings = harness_settings(issuer, **settings)
        self.tasks = Tasks()
        self.worker = RecordingWorker(self.tasks)
        self.adapter = RouteAdapter()
        self.runner = LoopRunner()  # bound to the test's loop by running()
        self.reports = reports or LocalReports(Path("out/teams-test-reports"), BASE_URL, 3600)
        self.bot: TeamsBot = build_bot(
            self.settings,
            state,
            submitter,
            worker=self.worker,
            tasks=self.tasks,
            adapter=self.adapter,
            runner=self.runner,
            reports=self.reports,
            places=SqlitePlaces(":memory:"),
            token=bot_token,
            **(bot_options or {}),
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TeamsBot]:
        self.runner.bind(asyncio.get_running_loop())
        await initialize(self.bot)
        yield self.bot

    def token(self, service_url: str | None = None, **claims: Any) -> str:
        return self.issuer.token(APP_ID, service_url or self.connector.service_url, **claims)

    async def post(
        self, activity: dict[str, Any], token: str | None = SIGNED, **headers: str
    ) -> Any:
        """POST an activity to the messaging endpoint; by default with a valid token."""
        if token is SIGNED:
            token = self.token(activity.get("serviceUrl"))
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        headers.setdefault("content-type", "application/json")
        return await self.adapter.handle(
            "POST", MESSAGING_ENDPOINT, json.dumps(activity).encode(), headers
        )


class RecordingSubmitter:
    """A JobSubmitter that remembers what it was asked (idempotent on job id like the real ones)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Any] = {}
        self.submits: list[str] = []
        self.cancels: list[tuple[str, str | None]] = []

    def submit(self, job: Any) -> bool:
        self.submits.append(job.job_id)
        if job.job_id in self.jobs:
            return False
        self.jobs[job.job_id] = job
        return True

    def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
        self.cancels.append((job_id, requested_by))
        return job_id in self.jobs
