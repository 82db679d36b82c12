"""A local fake of the Bot Connector API (the Teams side of proactive messaging).

Point the SDK at it with the activity's `serviceUrl` = `fake.service_url`. Every call is recorded
(`calls`: method, operation, conversation id, activity id, JSON body, time on `clock`), answers are
plausible ids, and `fail_next(status, ...)` makes the next matching calls answer 429/412/502/504
(with an optional Retry-After). `PUT <base>/upload/<name>` is an upload URL as a file consent
answer hands out (the bytes land in `uploads`). Requests without the expected bearer token get 401.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt

from tests.fakes.loopback import LoopbackServer, QuietHandler

# What the test bot presents: a JWT (the SDK reads its expiry), issued for the Bot Connector.
BOT_TOKEN = jwt.encode(
    {"aud": "https://api.botframework.com", "appid": "callouts-test", "exp": 4102444800},
    "fake-connector-signing-key-32-bytes!",
    algorithm="HS256",
)


@dataclass
class ConnectorCall:
    method: str  # HTTP method
    operation: str  # create_conversation | send | reply | update | upload
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any] | None
    at: float
    status: int = 200

    @property
    def thread(self) -> str:
        """The conversation (or channel thread) the call wrote to."""
        return self.conversation_id

    def cards(self) -> list[dict[str, Any]]:
        activity = (self.body or {}).get("activity", self.body) or {}
        return [
            a.get("content") or {}
            for a in activity.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def text(self) -> str:
        """Everything sent, flattened: handy for `in` assertions."""
        return json.dumps(self.body or {}, ensure_ascii=False)


@dataclass
class _Failure:
    status: int
    operation: str | None
    retry_after: str | None


@dataclass
class FakeTeamsConnector:
    token: str = BOT_TOKEN
    clock: Callable[[], float] = time.monotonic
    calls: list[ConnectorCall] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    # conversation (team) id -> its members' Entra object ids, served in pages of `page_size`
    members: dict[str, list[str]] = field(default_factory=dict)
    page_size: int = 2

    def __post_init__(self) -> None:
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handler_class())

    def start(self) -> FakeTeamsConnector:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def service_url(self) -> str:
        return self._server.url + "/"

    def upload_url(self, name: str) -> str:
        return f"{self.service_url}upload/{name}"

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        operation: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """The next `times` calls (of `operation`, or any) answer `status`."""
        with self._lock:
            self._failures.extend(_Failure(status, operation, retry_after) for _ in range(times))

    def ok_calls(self, operation: str | None = None) -> list[ConnectorCall]:
        return [
            c
            for c in self.calls
            if c.status < 300 and (operation is None or c.operation == operation)
        ]

    def _take_failure(self, operation: str) -> _Failure | None:
        with self._lock:
            for i, failure in enumerate(self._failures):
                if failure.operation in (None, operation):
                    return self._failures.pop(i)
        return None

    def _route(self, method: str, path: str) -> tuple[str, str, str | None]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "PUT" and parts[0] == "upload":
            return "upload", "", "/".join(parts[1:])
        if parts[:2] != ["v3", "conversations"]:
            return "unknown", "", None
        if len(parts) == 2 and method == "POST":
            return "create_conversation", "", None
        conversation = parts[2]
        if len(parts) == 4 and method == "POST":
            return "send", conversation, None
        if len(parts) == 5 and method == "POST":
            return "reply", conversation, parts[4]
        if len(parts) == 5 and method == "PUT":
            return "update", conversation, parts[4]
        return "unknown", conversation, None

    def _answer(
        self, operation: str, conversation: str, activity_id: str | None, body: Any
    ) -> dict[str, Any]:
        if operation == "create_conversation":
            new_id = str(next(self._ids))
            channel = (((body or {}).get("channelData") or {}).get("channel") or {}).get("id")
            return {"id": f"{channel};messageid={new_id}", "activityId": new_id}
        if operation == "update":
            return {"id": activity_id}
        return {"id": str(next(self._ids))}

    def _handler_class(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                parts = [unquote(p) for p in parsed.path.strip("/").split("/")]
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self.send_json(401, {"error": {"code": "Unauthorized"}})
                    return
                if len(parts) != 4 or parts[:2] != ["v3", "conversations"]:
                    self.send_json(404, {"error": {"code": "NotFound"}})
                    return
                conversation = parts[2]
                failure = fake._take_failure("members")
                if failure is not None:
                    with fake._lock:
                        fake.calls.append(
                            ConnectorCall(
                                "GET",
                                "members",
                                conversation,
                                None,
                                None,
                                fake.clock(),
                                failure.status,
                            )
                        )
                    self.send_json(failure.status, {"error": {"code": str(failure.status)}})
                    return
                start = int((parse_qs(parsed.query).get("continuationToken") or ["0"])[0])
                everyone = fake.members.get(conversation, [])
                page = everyone[start : start + fake.page_size]
                answer: dict[str, Any] = {
                    "members": [{"id": f"29:{m}", "aadObjectId": m} for m in page]
                }
                if start + fake.page_size < len(everyone):
                    answer["continuationToken"] = str(start + fake.page_size)
                with fake._lock:
                    fake.calls.append(
                        ConnectorCall("GET", "members", conversation, None, None, fake.clock())
                    )
                self.send_json(200, answer)

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                operation, conversation, activity_id = fake._route(method, urlparse(self.path).path)
                if operation == "upload":
                    with fake._lock:
                        fake.uploads[activity_id or ""] = raw
                        fake.calls.append(
                            ConnectorCall(method, operation, "", activity_id, None, fake.clock())
                        )
                    self.send_json(201, {"id": activity_id})
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self.send_json(401, {"error": {"code": "Unauthorized"}})
                    return
                body = json.loads(raw) if raw else None
                failure = fake._take_failure(operation)
                status = failure.status if failure else 200
                if operation == "unknown":
                    status = 404
                answer: dict[str, Any] = (
                    fake._answer(operation, conversation, activity_id, body)
                    if status == 200
                    else {"error": {"code": "Throttled" if status == 429 else str(status)}}
                )
                with fake._lock:
                    call = ConnectorCall(
                        method, operation, conversation, activity_id, body, fake.clock(), status
                    )
                    if operation == "create_conversation" and status == 200:
                        call.conversation_id = answer["id"]
                        call.activity_id = answer["activityId"]
                    fake.calls.append(call)
                headers = (
                    {"Retry-After": failure.retry_after} if failure and failure.retry_after else {}
                )
                self.send_json(status, answer, headers)

        return Handler
