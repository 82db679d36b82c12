"""A workbook shared in a channel: download it with the bot token, run intake, preview in thread."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.preview import post_preview

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger(__name__)

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


def is_workbook(file: dict[str, Any]) -> bool:
    return file.get("filetype") == "xlsx" or str(file.get("name", "")).lower().endswith(".xlsx")


def handle_file_share(deps: Deps, body: dict[str, Any]) -> None:
    from backend.domain.intake import IntakeLimits, default_job_id, read_workbook

    limits = IntakeLimits(max_bytes=MAX_BYTES)
    event = body["event"]
    if event.get("bot_id"):  # the bot's own report upload, or another bot
        return
    channel, user, ts = event["channel"], event.get("user", ""), event["ts"]
    thread_ts = event.get("thread_ts") or ts
    team = str(body.get("team_id") or event.get("team") or "")
    for file in event.get("files") or []:
        if not is_workbook(file):
            continue  # not ours: images, PDFs and CSVs are ignored silently
        name = str(file.get("name") or "workbook.xlsx")
        size = int(file.get("size") or 0)
        if size > limits.max_bytes:
            reply(
                deps,
                channel,
                thread_ts,
                f"*{name}* is {size / 1e6:.1f} MB: the limit is "
                f"{limits.max_bytes // 1_000_000} MB. Split the receivers into several workbooks.",
            )
            continue
        url = file.get("url_private_download") or file.get("url_private")
        try:
            token = deps.client.token or ""
            content = deps.downloader(str(url), token, limits.max_bytes)
        except DownloadError as error:
            log.warning("download of %s failed: %s", name, error)
            reply(
                deps,
                channel,
                thread_ts,
                f"The bot could not download *{name}* ({error}): check that the Slack app has "
                "the `files:read` scope and that the bot is in the channel "
                "(`/invite @Callouts`), then upload the workbook again.",
            )
            continue
        job_id = default_job_id(name, content)
        result = read_workbook(content, filename=name, job_id=job_id)
        post_preview(
            deps,
            result,
            title=name,
            team_id=team,
            channel_id=channel,
            user_id=user,
            thread_ts=thread_ts,
            filename=name,
        )


def reply(deps: Deps, channel: str, thread_ts: str, text: str) -> None:
    deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
