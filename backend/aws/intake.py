"""Workbook uploads to the intake bucket: parse, validate, then queue the job or say why not."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from backend.aws.submitter import SqsJobSubmitter
from backend.domain.intake import IntakeLimits, read_workbook
from backend.domain.problems import Problem


@dataclass(frozen=True, slots=True)
class Upload:
    bucket: str
    key: str


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    key: str
    job_id: str | None
    queued: bool
    problems: tuple[str, ...] = ()


def uploads(event: Mapping[str, Any]) -> Iterator[Upload]:
    """Objects named by an S3 notification (`Records`) or an EventBridge "Object Created" event."""
    for record in event.get("Records", []) or []:
        s3 = record.get("s3", {})
        yield Upload(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]))
    if event.get("detail-type") == "Object Created":
        detail = event.get("detail", {})
        yield Upload(detail["bucket"]["name"], detail["object"]["key"])


def rejected_key(key: str) -> str:
    return f"rejected/{posixpath.basename(key)}.txt"


class UploadIntake:
    def __init__(
        self,
        s3: Any,
        submitter: SqsJobSubmitter,
        data_bucket: str,
        limits: IntakeLimits | None = None,
    ) -> None:
        self.s3 = s3
        self.submitter = submitter
        self.data_bucket = data_bucket
        self.limits = limits or IntakeLimits()

    def accept(self, upload: Upload) -> UploadOutcome:
        name = posixpath.basename(upload.key)
        if not name.lower().endswith(".xlsx"):
            return UploadOutcome(upload.key, None, False, ("not an .xlsx workbook: ignored",))
        head = self.s3.head_object(Bucket=upload.bucket, Key=upload.key)
        if int(head.get("ContentLength", 0)) > self.limits.max_bytes:
            problems = [
                Problem(
                    f"the file is larger than {self.limits.max_bytes:,} bytes: split the "
                    "receivers into several workbooks"
                )
            ]
            return self._reject(upload, None, problems)
        content = self.s3.get_object(Bucket=upload.bucket, Key=upload.key)["Body"].read()
        result = read_workbook(content, filename=name, limits=self.limits)
        if not result.ok or result.job is None:
            job_id = result.job.job_id if result.job else None
            return self._reject(upload, job_id, result.problems)
        queued = self.submitter.submit(result.job)
        return UploadOutcome(upload.key, result.job.job_id, queued)

    def _reject(self, upload: Upload, job_id: str | None, problems: list[Problem]) -> UploadOutcome:
        lines = [str(problem) for problem in problems] or ["the workbook could not be read"]
        text = f"{upload.key} was not started. Fix these problems and upload it again:\n"
        text += "".join(f"- {line}\n" for line in lines)
        self.s3.put_object(
            Bucket=self.data_bucket,
            Key=rejected_key(upload.key),
            Body=text.encode(),
            ContentType="text/plain; charset=utf-8",
        )
        return UploadOutcome(upload.key, job_id, False, tuple(lines))
