"""Fixtures for the Slack bot tests: a fake Slack Web API, signed requests, a synchronous app."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from backend.domain.models import CallJob
from backend.domain.workbook_template import write_example
from bot.core.state import SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.settings import BotSettings
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
TEAM, CHANNEL, USER, ADMIN = "T0001", "C0001", "U0001", "UADMIN"


class SyncExecutor(Executor):
    """Runs listeners and lazy listeners inline: the test sees their effects after dispatch."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # pragma: no cover - surfaced through the future
            future.set_exception(error)
        return future


class RecordingSubmitter:
    """A JobSubmitter that remembers what it was asked (idempotent on job id like the real ones)."""

    def __init__(self) -> None:
        self.jobs: dict[str, CallJob] = {}
        self.submits: list[str] = []
        self.cancels: list[tuple[str, str | None]] = []

    def submit(self, job: CallJob) -> bool:
        self.submits.append(job.job_id)
        if job.job_id in self.jobs:
            return False
        self.jobs[job.job_id] = job
        return True

    def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
        self.cancels.append((job_id, requested_by))
        return job_id in self.jobs


def sign(body: str, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature}


def form_headers(body: str, **kw: Any) -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded", **sign(body, **kw)}


def json_headers(body: str, **kw: Any) -> dict[str, str]:
    return {"content-type": "application/json", **sign(body, **kw)}


def slash_body(
    text: str,
    *,
    user: str = USER,
    channel: str = CHANNEL,
    response_url: str = "https://hooks.slack.com/commands/T0001/1/abc",
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "school",
            "channel_id": channel,
            "channel_name": "teachers",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/callout",
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": "1337.42.abcd",
        }
    )


def payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def action_payload(
    action_id: str,
    value: str,
    *,
    user: str = USER,
    channel: str = CHANNEL,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "school"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": "1337.42.abcd",
        "channel": {"id": channel, "name": "teachers"},
        "container": {"type": "message", "channel_id": channel, "message_ts": "111.222"},
        "message": message or {"ts": "111.222", "blocks": []},
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1.2",
            }
        ],
    }


def event_body(event: dict[str, Any], event_id: str = "Ev0001") -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
    )


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "call_job.xlsx"


def example_workbook() -> bytes:
    """examples/call_job.xlsx (built by the project's own writer, which is the fallback)."""
    if EXAMPLE.is_file():
        return EXAMPLE.read_bytes()
    buffer = io.BytesIO()
    write_example(buffer)
    return buffer.getvalue()


class Harness:
    def __init__(self, fake: FakeSlack, app: App, state: SqliteBotState, submitter: Any) -> None:
        self.fake, self.app, self.state, self.submitter = fake, app, state, submitter

    def dispatch(self, body: str, headers: dict[str, str]) -> BoltResponse:
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def command(self, text: str, **kw: Any) -> BoltResponse:
        kw.setdefault("response_url", f"{self.fake.url}/commands/T0001/1/respond")
        body = slash_body(text, **kw)
        return self.dispatch(body, form_headers(body))

    def action(self, action_id: str, value: str, **kw: Any) -> BoltResponse:
        body = payload_body(action_payload(action_id, value, **kw))
        return self.dispatch(body, form_headers(body))

    def payload(self, payload: dict[str, Any]) -> BoltResponse:
        body = payload_body(payload)
        return self.dispatch(body, form_headers(body))

    def event(self, event: dict[str, Any], **headers: str) -> BoltResponse:
        body = event_body(event)
        return self.dispatch(body, {**json_headers(body), **headers})

    def share_file(
        self,
        name: str,
        content: bytes,
        *,
        user: str = USER,
        ts: str = "1700.0001",
        filetype: str = "xlsx",
    ) -> BoltResponse:
        url = self.fake.add_download(name, content)
        return self.event(
            {
                "type": "message",
                "subtype": "file_share",
                "channel": CHANNEL,
                "user": user,
                "ts": ts,
                "text": "",
                "files": [
                    {
                        "id": "F1",
                        "name": name,
                        "filetype": filetype,
                        "size": len(content),
                        "url_private_download": url,
                    }
                ],
            }
        )


def make_settings(fake: FakeSlack, **overrides: Any) -> BotSettings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "CALLOUTS_ADMIN_USERS": ADMIN,
        "CALLOUTS_ALLOWED_CHANNELS": "",
        "CALLOUTS_ALLOWED_USERS": "",
        "CALLOUTS_ALLOWED_USERGROUPS": "",
    }
    values.update(overrides)
    return BotSettings(**values)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN, team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def make_harness(fake_slack: FakeSlack) -> Callable[..., Harness]:
    def make(submitter: Any = None, **settings: Any) -> Harness:
        config = make_settings(fake_slack, **settings)
        state = SqliteBotState()
        submitter = submitter if submitter is not None else RecordingSubmitter()
        app = build_app(
            config,
            lazy_client(config),
            submitter,
            state,
            listener_executor=SyncExecutor(),
        )
        return Harness(fake_slack, app, state, submitter)

    return make


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
