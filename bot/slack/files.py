"""Downloading a file shared in Slack with the bot token (`url_private_download`)."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

Downloader = Callable[[str, str, int], bytes]  # (url, bot token, max bytes) -> content
MAX_BYTES = 10_000_000  # IntakeLimits().max_bytes; the size is checked before downloading


class DownloadError(Exception):
    pass


def download(url: str, token: str, max_bytes: int) -> bytes:
    """GET `url_private_download` with the bot token; refuse more than `max_bytes`."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise DownloadError("unexpected file URL")
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            content: bytes = response.read(max_bytes + 1)
    except OSError as error:
        raise DownloadError(str(error)) from error
    if len(content) > max_bytes:
        raise DownloadError(f"the file is larger than {max_bytes // 1_000_000} MB")
    if looks_like_html(content):
        # Slack answers with its sign-in page (200) when the token may not read the file.
        raise DownloadError("Slack sent a web page instead of the file")
    return content


def looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))
