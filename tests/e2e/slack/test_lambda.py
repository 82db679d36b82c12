"""The bot behind a Lambda function URL: signed payload-2.0 events, ack, lazy work re-invoked."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt.adapter.aws_lambda import SlackRequestHandler

import bot.slack.aws_runtime as aws_runtime
import bot.slack.lambda_handler as lambda_handler
import bot.slack.settings as bot_settings_module
from bot.core.state import SqliteBotState
from tests.e2e.slack.conftest import (
    SECRET,
    TOKEN,
    RecordingSubmitter,
    event_body,
    form_headers,
    json_headers,
    slash_body,
)
from tests.fakes.slack_api import FakeSlack


@dataclass
class LambdaContext:
    function_name: str = "callouts-slack-bot"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:callouts-slack-bot"
    aws_request_id: str = "req-1"


class FakeLambdaClient:
    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invocations.append(kwargs)
        return {"StatusCode": 202}


def url_event(body: str, headers: dict[str, str], *, base64_body: bool = False) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {**headers, "host": "abc.lambda-url.eu-west-1.on.aws"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body.encode()).decode() if base64_body else body,
        "isBase64Encoded": base64_body,
    }


@pytest.fixture
def secrets_fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bot token and signing secret come from 'Secrets Manager' (recorded, not fetched)."""
    fetched: list[str] = []

    def fetch(key: str, secret_arn: str | None, param: str | None) -> str:
        fetched.append(key)
        return {"bot_token": TOKEN, "signing_secret": SECRET}[key]

    monkeypatch.setattr(bot_settings_module, "_fetch_secret", fetch)
    bot_settings_module._CACHE.clear()
    return fetched


@pytest.fixture
def lambda_env(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, secrets_fetched: list[str]
) -> Iterator[tuple[FakeLambdaClient, RecordingSubmitter]]:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(
        "CALLOUTS_SLACK_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:slack"
    )
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    submitter = RecordingSubmitter()
    state = SqliteBotState()
    monkeypatch.setattr(aws_runtime, "submitter", lambda: submitter)
    monkeypatch.setattr(aws_runtime, "bot_state", lambda: state)
    aws_runtime.bot_settings.cache_clear()
    handler = SlackRequestHandler(aws_runtime.aws_app())
    lambda_client = FakeLambdaClient()
    handler.app.listener_runner.lazy_listener_runner.lambda_client = lambda_client  # type: ignore[attr-defined]
    monkeypatch.setattr(lambda_handler, "_handler", handler)
    yield lambda_client, submitter
    aws_runtime.bot_settings.cache_clear()
    bot_settings_module._CACHE.clear()


def test_slash_command_acks_then_lazy_work_runs_on_reinvocation(
    lambda_env: tuple[FakeLambdaClient, RecordingSubmitter],
    fake_slack: FakeSlack,
    secrets_fetched: list[str],
) -> None:
    lambda_client, _ = lambda_env
    body = slash_body("new")
    response = lambda_handler.handler(url_event(body, form_headers(body)), LambdaContext())
    assert response["statusCode"] == 200
    assert fake_slack.calls_to("views.open") == []  # nothing but the ack before the response
    assert "bot_token" not in secrets_fetched  # the ack path never fetched the bot token
    (invocation,) = lambda_client.invocations
    assert invocation["InvocationType"] == "Event"
    assert invocation["FunctionName"] == LambdaContext.invoked_function_arn

    replay = json.loads(invocation["Payload"])
    again = lambda_handler.handler(replay, LambdaContext())
    assert again["statusCode"] == 200
    (opened,) = fake_slack.calls_to("views.open")
    assert opened.headers["Authorization"] == f"Bearer {TOKEN}"
    assert secrets_fetched.count("bot_token") == 1


def test_base64_body_is_accepted(
    lambda_env: tuple[FakeLambdaClient, RecordingSubmitter],
) -> None:
    body = slash_body("help")
    response = lambda_handler.handler(
        url_event(body, form_headers(body), base64_body=True), LambdaContext()
    )
    assert response["statusCode"] == 200
    assert "/callout template" in response["body"]


def test_unsigned_and_stale_requests_get_401(
    lambda_env: tuple[FakeLambdaClient, RecordingSubmitter], fake_slack: FakeSlack
) -> None:
    lambda_client, _ = lambda_env
    body = slash_body("new")
    unsigned = url_event(body, {"content-type": "application/x-www-form-urlencoded"})
    assert lambda_handler.handler(unsigned, LambdaContext())["statusCode"] == 401
    stale = url_event(body, form_headers(body, timestamp=int(time.time()) - 3600))
    assert lambda_handler.handler(stale, LambdaContext())["statusCode"] == 401
    forged = url_event(body, form_headers(body, secret="guess"))
    assert lambda_handler.handler(forged, LambdaContext())["statusCode"] == 401
    assert lambda_client.invocations == []
    assert fake_slack.calls == []


def test_plain_messages_and_other_files_cost_no_self_invocation(
    lambda_env: tuple[FakeLambdaClient, RecordingSubmitter],
) -> None:
    lambda_client, _ = lambda_env
    for event in (
        {"type": "message", "channel": "C1", "user": "U1", "ts": "1.1", "text": "hello"},
        {
            "type": "message",
            "subtype": "file_share",
            "channel": "C1",
            "user": "U1",
            "ts": "1.2",
            "files": [{"id": "F1", "name": "cat.png", "filetype": "png"}],
        },
        {"type": "file_shared", "file_id": "F1", "channel_id": "C1"},
    ):
        body = event_body(event)
        response = lambda_handler.handler(url_event(body, json_headers(body)), LambdaContext())
        assert response["statusCode"] == 200
    assert lambda_client.invocations == []


def test_form_problems_come_back_in_the_lambda_response(
    lambda_env: tuple[FakeLambdaClient, RecordingSubmitter], fake_slack: FakeSlack
) -> None:
    from tests.e2e.slack.conftest import payload_body
    from tests.e2e.slack.test_modal import submission

    lambda_client, _ = lambda_env
    body = payload_body(
        submission(receivers="S1, 12ab, Chan", questions=[("Is {{ nick }} coming?", "YesNo")])
    )
    response = lambda_handler.handler(url_event(body, form_headers(body)), LambdaContext())
    assert response["statusCode"] == 200
    answer = json.loads(response["body"])
    assert answer["response_action"] == "errors"
    assert {"receivers", "q0_template"} <= set(answer["errors"])
    for invocation in lambda_client.invocations:  # the lazy part posts nothing for a bad form
        lambda_handler.handler(json.loads(invocation["Payload"]), LambdaContext())
    assert fake_slack.calls_to("chat.postMessage") == []
