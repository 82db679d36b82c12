"""RouteAdapter: the SDK's `HttpServerAdapter` without a server, and function-URL translation.

The SDK registers its messaging endpoint (and any other route) here; `handle` feeds one request
to the registered handler. On Lambda each function-URL event (payload 2.0: lower-case headers, a
body that may be base64) becomes one such request; tests call `handle` directly or through the
Lambda handler.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from microsoft_teams.apps.http.adapter import (
    HttpMethod,
    HttpRequest,
    HttpResponse,
    HttpRouteHandler,
)

MAX_BODY_BYTES = 1_000_000  # a Teams activity is ~100 KB at most; refuse anything far larger


class RouteAdapter:
    """Routes registered by the SDK, dispatched by method and path."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], HttpRouteHandler] = {}

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        self._routes[(method.upper(), path)] = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("the Teams bot serves no static pages")

    async def start(self, port: int) -> None:
        raise NotImplementedError("RouteAdapter has no server: feed requests to handle()")

    async def stop(self) -> None:
        return None

    async def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpResponse:
        handler = self._routes.get((method.upper(), path.rstrip("/") or "/"))
        if handler is None:
            return HttpResponse(status=404, body={"error": "Not found"})
        if len(body) > MAX_BODY_BYTES:
            return HttpResponse(status=413, body={"error": "Request too large"})
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return HttpResponse(status=400, body={"error": "Body is not JSON"})
        if not isinstance(parsed, dict):
            return HttpResponse(status=400, body={"error": "Body is not a JSON object"})
        request = HttpRequest(body=parsed, headers={k.lower(): v for k, v in headers.items()})
        return await handler(request)


def function_url_request(event: Mapping[str, Any]) -> tuple[str, str, bytes, dict[str, str]]:
    """(method, path, body, headers) of a function-URL (or API Gateway HTTP API) event."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or event.get("httpMethod") or "GET")
    path = str(event.get("rawPath") or http.get("path") or event.get("path") or "/")
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return method, path, body, headers


def function_url_response(response: HttpResponse) -> dict[str, Any]:
    body = response.get("body")
    result: dict[str, Any] = {"statusCode": response["status"]}
    if body is not None:
        result["headers"] = {"content-type": "application/json"}
        result["body"] = json.dumps(body)
    return result
