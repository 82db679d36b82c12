"""Workbook uploads to the intake bucket: parse, validate, then queue the job or say why not."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from backend.aws.clients import ClientError, error_code
from backend.aws.rejections import Rejection, RejectionNotifier
from backend.aws.submitter import SqsJobSubmitter
from backend.domain.intake import IntakeLimits, read_workbook
from backend.domain.problems import Problem

log = logging.getLogger(__name__)

NOT_XLSX = (
    "only an Excel workbook (.xlsx) starts a job: save the file as 'Excel Workbook (.xlsx)' "
    "from the template (callouts template) and upload it again"
)
_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True, slots=True)
class Upload:
    bucket: str
    key: str
    decoded: bool = True  # False: the key may still be URL-encoded (EventBridge)


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
        yield Upload(detail["bucket"]["name"], detail["object"]["key"], decoded=False)


def rejected_key(key: str) -> str:
    return f"rejected/{posixpath.basename(key)}.txt"


class UploadIntake:
    def __init__(
        self,
        s3: Any,
        submitter: SqsJobSubmitter,
        data_bucket: str,
        limits: IntakeLimits | None = None,
        notifier: RejectionNotifier | None = None,
    ) -> None:
        self.s3 = s3
        self.submitter = submitter
        self.data_bucket = data_bucket
        self.limits = limits or IntakeLimits()
        self.notifier = notifier

    def _head(self, upload: Upload) -> tuple[Upload, dict[str, Any]] | None:
        """The object's metadata, trying the URL-decoded key too; None if it is gone."""
        candidates = [upload.key]
        if not upload.decoded and unquote_plus(upload.key) != upload.key:
            candidates.append(unquote_plus(upload.key))
        for key in candidates:
            try:
                return Upload(upload.bucket, key), self.s3.head_object(
                    Bucket=upload.bucket, Key=key
                )
            except ClientError as error:
                if error_code(error) not in _MISSING:
                    raise
        return None

    def accept(self, upload: Upload) -> UploadOutcome:
        if upload.key.endswith("/"):  # a "folder" made in the console: nothing to read
            return UploadOutcome(upload.key, None, False)
        name = posixpath.basename(upload.key)
        if not name.lower().endswith(".xlsx"):
            return self._reject(upload, None, [Problem(NOT_XLSX)])
        found = self._head(upload)
        if found is None:
            log.warning("uploaded object is gone: %s", upload.key)
            return UploadOutcome(upload.key, None, False, ("the uploaded file no longer exists",))
        upload, head = found
        if int(head.get("ContentLength", 0)) > self.limits.max_bytes:
            problems = [
                Problem(
                    f"the file is larger than {self.limits.max_bytes:,} bytes: split the "
                    "receivers into several workbooks"
                )
            ]
            return self._reject(upload, None, problems)
        content = self.s3.get_object(Bucket=upload.bucket, Key=upload.key)["Body"].read()
        try:
            result = read_workbook(content, filename=name, limits=self.limits)
        except Exception:  # the intake reports problems; anything else is still the file's fault
            log.exception("reading the workbook %s failed", upload.key)
            problem = Problem("the workbook could not be read: open it in Excel and save it again")
            return self._reject(upload, None, [problem])
        if not result.ok or result.job is None:
            job_id = result.job.job_id if result.job else None
            return self._reject(upload, job_id, result.problems)
        queued = self.submitter.submit(result.job)
        return UploadOutcome(upload.key, result.job.job_id, queued)

    def _reject(self, upload: Upload, job_id: str | None, problems: list[Problem]) -> UploadOutcome:
        problems = problems or [Problem("the workbook could not be read")]
        lines = [str(problem) for problem in problems]
        text = f"{upload.key} was not started. Fix these problems and upload it again:\n"
        text += "".join(f"- {line}\n" for line in lines)
        details_key = rejected_key(upload.key)
        self.s3.put_object(
            Bucket=self.data_bucket,
            Key=details_key,
            Body=text.encode(),
            ContentType="text/plain; charset=utf-8",
        )
        if self.notifier is not None:
            self.notifier.publish(
                Rejection(
                    origin="upload",
                    problems=problems,
                    job_id=job_id,
                    bucket=upload.bucket,
                    key=upload.key,
                    details_key=details_key,
                )
            )
        return UploadOutcome(upload.key, job_id, False, tuple(lines))
