"""A workbook shared in a channel: download it with the bot token, run intake, preview in thread."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.deps import Deps
from bot.slack.files import MAX_BYTES, DownloadError
from bot.slack.preview import post_preview

log = logging.getLogger(__name__)


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
