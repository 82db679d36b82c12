"""A workbook sent to the bot in the personal chat: downloaded, run through intake, previewed.

Teams hands the bot a file sent in a 1:1 chat as an attachment of type
`application/vnd.microsoft.teams.file.download.info` whose `content.downloadUrl` is short-lived
and pre-authorized (no token). A file dropped in a channel never reaches the bot (that needs
Microsoft Graph application permissions: see docs/teams.md). The download is capped in size and
time; anything that is not a workbook, too big, or not downloadable gets a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
MAX_BYTES = 10_000_000  # IntakeLimits().max_bytes
TIMEOUT_SECONDS = 20.0


class DownloadError(Exception):
    """The file could not be downloaded; the message says why, for the user."""


@dataclass(frozen=True)
class SentFile:
    name: str
    url: str
    file_type: str

    @property
    def is_workbook(self) -> bool:
        return self.file_type.lower() == "xlsx" or self.name.lower().endswith(".xlsx")


def sent_files(activity: Any) -> list[SentFile]:
    """The files attached to a message (personal chat only: Teams sends no others)."""
    files = []
    for attachment in activity.attachments or []:
        if attachment.content_type != FILE_INFO or not isinstance(attachment.content, dict):
            continue
        content = attachment.content
        files.append(
            SentFile(
                name=str(attachment.name or "workbook.xlsx"),
                url=str(content.get("downloadUrl") or ""),
                file_type=str(content.get("fileType") or ""),
            )
        )
    return files


async def download(
    url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS
) -> bytes:
    """GET the pre-authorized download URL; refuse more than `max_bytes` without reading it all."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise DownloadError("Teams gave no usable download link")
    content = bytearray()
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(f"Teams answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise DownloadError(f"the file is larger than {max_bytes // 1_000_000} MB")
    except httpx.TimeoutException as error:
        raise DownloadError("the download took too long") from error
    except httpx.HTTPError as error:
        raise DownloadError(f"the download failed ({type(error).__name__})") from error
    return bytes(content)


def not_a_workbook(file: SentFile) -> str:
    return (
        f"**{file.name}** is not an Excel workbook (.xlsx). Send a workbook made from the "
        "template (`template`), or write the job in a form (`new`)."
    )


def download_failed(file: SentFile, error: DownloadError) -> str:
    return f"I could not download **{file.name}** ({error}). Send it again in a minute."
