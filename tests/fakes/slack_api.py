"""A local fake of the Slack Web API for offline tests and the Slack bench.

`WebClient(base_url=fake.base_url)` sends every call here. The server records each call (method,
form/query params, JSON body, headers), answers the methods the bot uses with plausible payloads,
serves the upload URL it hands out from `files.getUploadURLExternal`, serves file downloads for
`url_private_download` (bot token required), and can answer the next call of a method with a 429.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.loopback import LoopbackServer, QuietHandler


@dataclass
class SlackCall:
    method: str
    params: dict[str, Any]
    json: dict[str, Any] | None
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def args(self) -> dict[str, Any]:
        """Form/query params and the JSON body merged (what the caller passed)."""
        merged = dict(self.params)
        merged.update(self.json or {})
        return merged

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.args.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    def text(self) -> str:
        """Every text of the call (text, blocks, view) flattened: handy for `in` assertions."""
        return json.dumps(self.args, ensure_ascii=False)


@dataclass
class Upload:
    file_id: str
    filename: str
    content: bytes = b""
    completed: dict[str, Any] | None = None


class FakeSlack:
    def __init__(self, *, bot_token: str = "xoxb-test", team_id: str = "T0001") -> None:  # noqa: S107
        self.bot_token = bot_token
        self.team_id = team_id
        self.calls: list[SlackCall] = []
        self.uploads: dict[str, Upload] = {}
        self.downloads: dict[str, bytes] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.user_groups_of: dict[str, list[str]] = {}
        self._failures: dict[str, list[int]] = {}
        self._errors: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handler_class())

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def base_url(self) -> str:
        """What `WebClient(base_url=...)` takes: ends with a slash."""
        return self.url + "/api/"

    # -- test helpers --------------------------------------------------------------------------

    def add_download(self, name: str, content: bytes) -> str:
        """Serve `content` as a private file; returns its `url_private_download`."""
        self.downloads[name] = content
        return f"{self.url}/files-pri/{name}"

    def rate_limit_next(self, method: str, retry_after: int = 0, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After`."""
        self._failures.setdefault(method, []).extend([retry_after] * times)

    def error_next(self, method: str, error: str = "internal_error", times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `{"ok": false, "error": error}`."""
        self._errors.setdefault(method, []).extend([error] * times)

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def count_by_method(self) -> Counter[str]:
        with self._lock:
            return Counter(c.method for c in self.calls)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[SlackCall]:
        """Wait until `count` calls of `method` arrived (for work done in background threads)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        return self.calls_to(method)

    # -- responses -----------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel") or args.get("channel_id") or "C0001"
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or self._next_ts()
            message = {"text": args.get("text", ""), "ts": ts, "blocks": args.get("blocks")}
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts") or "").replace(".", "")
            link = f"https://school.slack.com/archives/{channel}/p{ts}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else (view or {})
            view_id = args.get("view_id") or f"V{next(self._ids):06d}"
            return {"ok": True, "view": {**view, "id": view_id, "hash": f"h{next(self._ids)}"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):06d}"
            self.uploads[file_id] = Upload(file_id, str(args.get("filename", "")))
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            for item in files:
                upload = self.uploads.get(item.get("id", ""))
                if upload is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.completed = dict(args)
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "users.info":
            user = args.get("user", "U0")
            return {"ok": True, "user": {"id": user, "name": user.lower(), "tz": "UTC"}}
        if method == "usergroups.users.list":
            users = self.usergroups.get(str(args.get("usergroup")), [])
            return {"ok": True, "users": users}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": channel, "name": "general", "is_member": True}}
        return {"ok": False, "error": "unknown_method"}

    def _handler_class(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path.startswith("/files-pri/"):
                    name = parsed.path.removeprefix("/files-pri/")
                    auth = self.headers.get("Authorization", "")
                    fake._record("files.download", {"name": name}, None, dict(self.headers))
                    if auth != f"Bearer {fake.bot_token}":
                        self.send(403, b"forbidden")
                    elif name not in fake.downloads:
                        self.send(404, b"not found")
                    else:
                        self.send(200, fake.downloads[name])
                    return
                self._api(parsed.path, parse_qs(parsed.query), b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parsed = urlparse(self.path)
                if parsed.path.startswith("/upload/"):
                    file_id = parsed.path.removeprefix("/upload/")
                    fake._record("upload", {"file_id": file_id}, None, dict(self.headers))
                    upload = fake.uploads.get(file_id)
                    if upload is None:
                        self.send(404, b"unknown upload")
                        return
                    upload.content = body
                    self.send(200, b"OK - " + str(len(body)).encode())
                    return
                self._api(parsed.path, parse_qs(parsed.query), body)

            def _api(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
                method = path.rsplit("/", 1)[-1]
                params: dict[str, Any] = {k: v[0] for k, v in query.items()}
                payload: dict[str, Any] | None = None
                content_type = self.headers.get("Content-Type", "")
                if body and content_type.startswith("application/json"):
                    payload = json.loads(body)
                elif body:
                    params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
                fake._record(method, params, payload, dict(self.headers))
                failures = fake._failures.get(method)
                if failures:
                    retry_after = failures.pop(0)
                    self.send_json(
                        429,
                        {"ok": False, "error": "ratelimited"},
                        {"Retry-After": str(retry_after)},
                    )
                    return
                errors = fake._errors.get(method)
                if errors:
                    self.send_json(200, {"ok": False, "error": errors.pop(0)})
                    return
                args = dict(params)
                args.update(payload or {})
                self.send_json(200, fake._answer(method, args))

        return Handler

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        payload: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> None:
        with self._lock:
            self.calls.append(SlackCall(method, params, payload, headers))
