"""After the Map: the report of a job in S3, its presigned URL and the job's final state."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from backend.aws.jobs import JobsTable, JobStore
from backend.aws.results import ResultsTable
from backend.aws.sms import SmsOutboxTable
from backend.domain.job_state import JobState
from backend.domain.models import CallResult
from backend.domain.report import write_report


def report_keys(job_id: str) -> dict[str, str]:
    return {kind: f"reports/{job_id}.{kind}" for kind in ("xlsx", "json", "csv")}


_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}


class ReportWriter:
    def __init__(
        self,
        s3: Any,
        jobs: JobsTable,
        store: JobStore,
        results: ResultsTable,
        url_expiry_seconds: int,
        sms: SmsOutboxTable | None = None,
    ) -> None:
        self.s3 = s3
        self.jobs = jobs
        self.store = store
        self.results = results
        self.url_expiry_seconds = url_expiry_seconds
        self.sms = sms

    def write(self, job_id: str) -> dict[str, Any]:
        """Write the report; the returned dict is the SNS message and the EventBridge detail."""
        job = self.store.load(job_id)
        results: list[CallResult] = self.results.results(job_id)
        keys = report_keys(job_id)
        texted = self.sms.results(job_id) if self.sms and job.sms_template.strip() else {}
        with tempfile.TemporaryDirectory() as directory:
            files = write_report(job, results, Path(directory), texted)
            for kind, path in (("xlsx", files.xlsx), ("json", files.json), ("csv", files.csv)):
                self.s3.upload_file(
                    path,
                    self.store.bucket,
                    keys[kind],
                    ExtraArgs={"ContentType": _CONTENT_TYPES[kind]},
                )
        url = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.store.bucket, "Key": keys["xlsx"]},
            ExpiresIn=self.url_expiry_seconds,
        )
        cancelled = self.jobs.cancel_requested(job_id)
        self.jobs.set_state(job_id, JobState.CANCELLED if cancelled else JobState.FINISHED)
        counts = Counter(result.status.value for result in results)
        detail: dict[str, Any] = {
            "task_id": job_id,
            "job_id": job_id,
            "bucket": self.store.bucket,
            "xlsx_key": keys["xlsx"],
            "json_key": keys["json"],
            "csv_key": keys["csv"],
            "url": url,
            "receivers": len(job.receivers),
            "results": len(results),
            "counts": dict(sorted(counts.items())),
            "cancelled": cancelled,
        }
        if files.sms is not None:  # a job with an SMS template: the card's SMS line
            detail["sms"] = files.sms.to_json()
        return detail
