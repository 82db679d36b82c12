"""Where a Teams job card's Excel report is fetched from.

Teams cannot take a file posted into a channel, so a channel gets a card linking to a short-lived
download; the personal chat gets a file consent card and the bytes are uploaded to the teacher's
OneDrive once they accept. Both need the report again later, by job id:

- `S3Reports` (AWS): `reports/<job id>.xlsx` in the data bucket, linked by a presigned GET that
  expires after `CALLOUTS_TEAMS_REPORT_LINK_SECONDS` (or earlier, when the signing Lambda's
  session credentials do);
- `LocalReports` (`callouts bot --teams`): `<out>/reports/<job id>.xlsx`, linked through the local
  bot's own `/reports/<token>` route with an unguessable token that expires likewise.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

REPORTS_ROUTE = "/reports/"


class ReportShelf(Protocol):
    link_seconds: int

    def link(self, job_id: str) -> str:
        """A download URL of the job's Excel report, valid for `link_seconds`."""
        ...

    def read(self, job_id: str) -> bytes:
        """The job's Excel report (FileNotFoundError when there is none)."""
        ...


def report_name(job_id: str) -> str:
    return f"{job_id}.xlsx"


class S3Reports:
    def __init__(self, s3: Any, bucket: str, link_seconds: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self.link_seconds = link_seconds

    def _key(self, job_id: str) -> str:
        if "/" in job_id or job_id in ("", ".", ".."):
            raise FileNotFoundError(job_id)
        return f"reports/{report_name(job_id)}"

    def link(self, job_id: str) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._key(job_id),
                "ResponseContentDisposition": f'attachment; filename="{report_name(job_id)}"',
            },
            ExpiresIn=self.link_seconds,
        )
        return url

    def read(self, job_id: str) -> bytes:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self._key(job_id))["Body"]
        except self._s3.exceptions.NoSuchKey as error:
            raise FileNotFoundError(job_id) from error
        content: bytes = body.read()
        return content


class LocalReports:
    """Reports under `directory`, served by the local bot at `<base_url>/reports/<token>`."""

    def __init__(
        self,
        directory: Path,
        base_url: str,
        link_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory.resolve()
        self.base_url = base_url.rstrip("/")
        self.link_seconds = link_seconds
        self._clock = clock
        self._links: dict[str, tuple[Path, float]] = {}
        self._lock = threading.Lock()

    def path(self, job_id: str) -> Path:
        path = (self.directory / report_name(job_id)).resolve()
        if path.parent != self.directory or not path.is_file():
            raise FileNotFoundError(job_id)
        return path

    def link(self, job_id: str) -> str:
        path = self.path(job_id)
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._links = {t: v for t, v in self._links.items() if v[1] > now}
            self._links[token] = (path, now + self.link_seconds)
        return f"{self.base_url}{REPORTS_ROUTE}{token}"

    def served(self, token: str) -> Path | None:
        """The file a link token stands for, while it is valid."""
        with self._lock:
            found = self._links.get(token)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def read(self, job_id: str) -> bytes:
        return self.path(job_id).read_bytes()
