"""Handing a file to a teacher in the personal chat: Teams' file consent flow.

A bot cannot attach a file to a message. It sends a file consent card (name, size, what it is);
when the teacher accepts, Teams answers with an invoke (`fileConsent/invoke`) holding a
pre-authorized upload URL in the teacher's OneDrive; the bot PUTs the bytes there and posts a
file info card that opens the file. Only the personal chat supports this (a channel gets a link).

`context` travels in the card and comes back with the answer: `{"callouts": KIND, ...}` says what
to upload (the blank template, a job's report), so the bytes are made when they are needed, in
whatever process handles the answer.
"""

from __future__ import annotations

from typing import Any

import httpx
from microsoft_teams.api.models.attachment import Attachment

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
INFO = "application/vnd.microsoft.teams.card.file.info"
KIND = "callouts"  # the context key naming what the offer is for
UPLOAD_TIMEOUT_SECONDS = 30.0


class UploadError(Exception):
    """The upload URL did not take the file."""


def consent_card(name: str, size: int, description: str, context: dict[str, Any]) -> Attachment:
    return Attachment(
        content_type=CONSENT,
        name=name,
        content={
            "description": description,
            "sizeInBytes": size,
            "acceptContext": context,
            "declineContext": context,
        },
    )


def info_card(name: str, content_url: str, unique_id: str, file_type: str) -> Attachment:
    return Attachment(
        content_type=INFO,
        name=name,
        content_url=content_url,
        content={"uniqueId": unique_id, "fileType": file_type},
    )


async def upload(upload_url: str, content: bytes) -> None:
    """PUT the whole file to the pre-authorized upload URL (one range)."""
    headers = {
        "Content-Length": str(len(content)),
        "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}",
    }
    try:
        async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT_SECONDS) as client:
            response = await client.put(upload_url, content=content, headers=headers)
    except httpx.HTTPError as error:
        raise UploadError(type(error).__name__) from error
    if response.status_code not in (200, 201):
        raise UploadError(f"answered {response.status_code}")
