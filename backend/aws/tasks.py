"""Call tasks: the JSON array in S3 the Distributed Map reads, one per receiver."""

from __future__ import annotations

import json
from typing import Any

from backend.aws.jobs import tasks_key
from backend.domain.call_time import call_timeout
from backend.domain.models import CallJob


def call_tasks(job: CallJob) -> list[dict[str, Any]]:
    """Everything one map iteration needs; no phone numbers (the dialer reads them from the job)."""
    settings = job.settings
    return [
        {
            "job_id": job.job_id,
            "receiver_id": receiver.id,
            "attempt": 1,
            "max_attempts": settings.max_attempts,
            "retry_delay_seconds": settings.retry_delay_seconds,
            "call_timeout_seconds": call_timeout(job),
        }
        for receiver in job.receivers
    ]


def write_tasks(s3: Any, bucket: str, job: CallJob) -> str:
    key = tasks_key(job.job_id)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(call_tasks(job)).encode(),
        ContentType="application/json",
    )
    return key
