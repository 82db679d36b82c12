"""Fixtures of the Teams conversation tests: the fake issuer and Bot Connector, a file server for
workbooks "sent in the chat", and activity builders for what Teams posts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.loopback import LoopbackServer, QuietHandler
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import (
    APP_ID,
    PERSONAL_CONVERSATION,
    TENANT_ID,
    USER_AAD,
    USER_ID,
    message_activity,
)
from tests.fakes.teams_issuer import FakeTeamsIssuer

_ids = itertools.count(1)


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


class FileServer:
    """Serves `files[name]` at `url(name)` (what a Teams downloadUrl points at); 404 otherwise."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gets: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.gets.append(name)
                body = server.files.get(name)
                self.send(200 if body is not None else 404, body or b"")

        self._server = LoopbackServer(Handler).start()

    def url(self, name: str) -> str:
        return f"{self._server.url}/{name}"

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.stop()


def _base(service_url: str, conversation_id: str, conversation_type: str) -> dict[str, Any]:
    return {
        "id": f"invoke-{next(_ids)}",
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
        "channelData": {"tenant": {"id": TENANT_ID}},
    }


def invoke(
    service_url: str,
    name: str,
    value: dict[str, Any],
    *,
    conversation_id: str = PERSONAL_CONVERSATION,
    conversation_type: str = "personal",
    user: dict[str, str] | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    activity = _base(service_url, conversation_id, conversation_type)
    activity.update({"type": "invoke", "name": name, "value": value})
    if user:
        activity["from"] = user
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def execute(service_url: str, action: str, **data: Any) -> dict[str, Any]:
    """A press of an Action.Execute button whose data names `action`."""
    extra = {k: data.pop(k) for k in ("user", "conversation_id", "conversation_type") if k in data}
    return invoke(
        service_url,
        "adaptiveCard/action",
        {"action": {"type": "Action.Execute", "verb": action, "data": {"action": action, **data}}},
        **extra,
    )


def dialog_fetch(service_url: str, data: dict[str, Any]) -> dict[str, Any]:
    return invoke(service_url, "task/fetch", {"data": data})


def dialog_submit(service_url: str, data: dict[str, Any]) -> dict[str, Any]:
    return invoke(service_url, "task/submit", {"data": data})


def file_message(service_url: str, name: str, url: str, file_type: str = "xlsx") -> dict[str, Any]:
    """A file sent to the bot in the personal chat, as Teams delivers it."""
    return message_activity(
        service_url,
        "",
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": name,
                "content": {"downloadUrl": url, "uniqueId": "file-1", "fileType": file_type},
            }
        ],
    )
