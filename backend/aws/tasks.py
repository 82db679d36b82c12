"""Call tasks: the JSON array in S3 the Distributed Map reads, one per receiver.

The Map keeps `map_width` receivers in flight, several per line: lines are leased by the dialer
(backend/aws/lines.py), so a receiver waiting for a retry or for their calling window holds a
Map slot but no line. The tasks are ordered by when each receiver may first be called, so the
Map (which starts items roughly in order) reaches everyone callable now before the receivers
whose window opens later: closed zones never crowd out callable people.

A receiver intake marked on the do-not-call list (`CallJob.do_not_call`) gets a task carrying
its result (`dnc.intake_results`, attempt 0): the state machine saves it without dialling.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backend.aws.jobs import tasks_key
from backend.domain.call_time import call_timeout
from backend.domain.calling_rules import TIMEZONE_COLUMN, Expired, next_call_time
from backend.domain.dnc import intake_results
from backend.domain.models import CallJob, Receiver

# Receivers in flight per line: enough that lines stay busy while a quarter of the calls wait
# out a retry delay of up to ~20 call lengths (bench/aws_lines.py measures it).
IN_FLIGHT_PER_LINE = 10
MAX_MAP_CONCURRENCY = 10_000  # the Distributed Map's limit on child executions at once
PREFIX_LENGTH = 8  # "+" and 7 digits: country and area code (zones follow area codes)


def map_width(receivers: int, lines: int) -> int:
    """The Map's MaxConcurrency for a job with `receivers` and `lines` lines."""
    return max(1, min(receivers, MAX_MAP_CONCURRENCY, IN_FLIGHT_PER_LINE * max(1, lines)))


def call_tasks(job: CallJob, now: datetime | None = None) -> list[dict[str, Any]]:
    """Everything one map iteration needs; no phone numbers (the dialer reads them from the job)."""
    settings = job.settings
    at = now or datetime.now(UTC)
    opens: dict[tuple[str, str], datetime] = {}

    def opening(receiver: Receiver) -> datetime:
        # Only the order of the tasks depends on it (the dialer checks each call's window), so
        # one answer per number prefix (country and area code) and own `timezone` is enough:
        # parsing 100,000 numbers for their zones would take the start-job Lambda most of a minute.
        key = (receiver.phone_number[:PREFIX_LENGTH], receiver.fields.get(TIMEZONE_COLUMN, ""))
        if key not in opens:
            when = next_call_time(receiver, at, settings, at)
            opens[key] = when.deadline if isinstance(when, Expired) else when
        return opens[key]

    decided = intake_results(job)
    timeout = call_timeout(job)
    receivers = sorted((r for r in job.receivers if r.id not in decided), key=opening)
    not_called = [
        {"job_id": job.job_id, "receiver_id": rid, "attempt": 0, "result": result.to_json()}
        for rid, result in decided.items()
    ]
    return not_called + [
        {
            "job_id": job.job_id,
            "receiver_id": receiver.id,
            "attempt": 1,
            "max_attempts": settings.max_attempts,
            "retry_delay_seconds": settings.retry_delay_seconds,
            "call_timeout_seconds": timeout,
        }
        for receiver in receivers
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
