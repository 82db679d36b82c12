"""The Teams bot behind a Lambda function URL: a function-URL event (base64 body, lower-case
headers) reaches the SDK through the Lambda handler, gets its 401 or its quick 200, and the work
comes back as the function's own asynchronous invocation, which posts proactively."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext

import bot.teams.aws_runtime as aws_runtime
import bot.teams.lambda_handler as lambda_handler
from bot.core.state import SqliteBotState
from bot.teams.app import TeamsBot, build_bot, initialize
from bot.teams.http import RouteAdapter
from bot.teams.worker import LambdaWorker, Tasks
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import (
    APP_ID,
    RecordingSubmitter,
    bot_token,
    harness_settings,
    message_activity,
)
from tests.fakes.teams_issuer import FakeTeamsIssuer


class FakeLambdaClient:
    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invocations.append(kwargs)
        return {"StatusCode": 202}


def function_url_event(activity: dict[str, Any], token: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json", "host": "abc.lambda-url.eu-west-1.on.aws"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "rawPath": "/api/messages",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/api/messages"}},
        "body": base64.b64encode(json.dumps(activity).encode()).decode(),
        "isBase64Encoded": True,
    }


@pytest.fixture
def lambda_bot(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeLambdaClient]:
    client = FakeLambdaClient()

    async def aws_bot() -> TeamsBot:
        # What aws_runtime.aws_bot builds, with the fakes in place of DynamoDB, SQS and Lambda.
        if aws_runtime._bot is None:
            tasks = Tasks()
            bot = build_bot(
                harness_settings(issuer),
                SqliteBotState(":memory:"),
                RecordingSubmitter(),
                worker=LambdaWorker("callouts-teams", client),
                tasks=tasks,
                adapter=RouteAdapter(),
                token=bot_token,
            )

            @bot.app.on_message
            async def answer(ctx: ActivityContext[MessageActivity]) -> None:
                await ctx.send("working on it")

            await initialize(bot)
            aws_runtime._bot = bot
        return aws_runtime._bot

    monkeypatch.setattr(aws_runtime, "_bot", None)
    monkeypatch.setattr(aws_runtime, "aws_bot", aws_bot)
    monkeypatch.setattr(lambda_handler, "_loop", None)
    yield client
    if lambda_handler._loop is not None:
        lambda_handler._loop.close()


def test_a_function_url_request_is_acked_and_its_work_runs_in_the_async_invocation(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, lambda_bot: FakeLambdaClient
) -> None:
    activity = message_activity(connector.service_url, "new")
    token = issuer.token(APP_ID, connector.service_url)

    response = lambda_handler.handler(function_url_event(activity, token), None)

    assert response == {"statusCode": 200}
    assert connector.calls == []
    (invocation,) = lambda_bot.invocations
    assert invocation["FunctionName"] == "callouts-teams"
    assert invocation["InvocationType"] == "Event"
    payload = json.loads(invocation["Payload"])
    assert token not in invocation["Payload"]  # the raw JWT is not passed on

    assert lambda_handler.handler(payload, None) is None
    (sent,) = connector.calls
    assert sent.operation == "send"
    assert "working on it" in sent.text()


@pytest.mark.parametrize("bad", ["unsigned", "wrong audience", "wrong serviceurl"])
def test_a_bad_token_through_the_function_url_gets_401(
    bad: str,
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    lambda_bot: FakeLambdaClient,
) -> None:
    url = connector.service_url
    token = {
        "unsigned": None,
        "wrong audience": issuer.token("not-our-app", url),
        "wrong serviceurl": issuer.token(APP_ID, "https://elsewhere.example.invalid/"),
    }[bad]

    response = lambda_handler.handler(function_url_event(message_activity(url), token), None)

    assert response is not None
    assert response["statusCode"] == 401
    assert lambda_bot.invocations == []
    assert connector.calls == []


def test_other_paths_and_bodies_are_refused(lambda_bot: FakeLambdaClient) -> None:
    event = function_url_event({"type": "message"}, None)
    event["rawPath"] = "/admin"
    assert lambda_handler.handler(event, None)["statusCode"] == 404  # type: ignore[index]
    event = function_url_event({}, None)
    event["body"] = base64.b64encode(b"not json").decode()
    assert lambda_handler.handler(event, None)["statusCode"] == 400  # type: ignore[index]
