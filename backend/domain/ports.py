"""Interfaces between the domain and its adapters (AWS, SQLite, Slack, terminal).

The domain depends only on these Protocols; `backend/aws`, `backend/local` and `bot/`
implement them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from backend.domain.models import CallJob, CallResult

if TYPE_CHECKING:
    from backend.domain.sms import SmsTally


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where the finished report of a job was written (local paths or object keys)."""

    xlsx: str
    json: str
    csv: str
    url: str | None = None  # presigned URL on AWS
    sms: SmsTally | None = None  # a job with an SMS template: texts sent / failed / skipped

    @classmethod
    def in_dir(cls, directory: Path, job_id: str) -> ReportFiles:
        return cls(
            xlsx=str(directory / f"{job_id}.xlsx"),
            json=str(directory / f"{job_id}.json"),
            csv=str(directory / f"{job_id}.csv"),
        )


class ResultListener(Protocol):
    """Receives the stream of results of a job (Slack notifier, terminal)."""

    def on_job_started(self, job: CallJob) -> None: ...

    def on_result(self, job: CallJob, result: CallResult) -> None: ...

    def on_job_finished(
        self, job: CallJob, results: Sequence[CallResult], report: ReportFiles
    ) -> None: ...


class JobSubmitter(Protocol):
    """Starts and cancels jobs: the SQS job queue on AWS, the local engine on a laptop.

    `submit` is idempotent on `job.job_id`: submitting the same job twice starts it once.
    """

    def submit(self, job: CallJob) -> bool:
        """Return True if this call started the job, False if it was already known."""
        ...

    def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
        """Stop the job: calls not yet dialled end as Cancelled. False if unknown or finished."""
        ...


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A schedule as a front end lists it (docs/schedule.md)."""

    schedule_id: str
    description: str  # `Schedule.describe()`: first start and rule, in the job's zone
    state: str  # ScheduleState value: active | ended | cancelled
    next_at: datetime | None
    created_by: str | None
    receivers: int


class ScheduleBook(Protocol):
    """Scheduled jobs: the local schedule store, or EventBridge Scheduler on AWS."""

    def add(self, job: CallJob) -> bool:
        """Keep the job's schedule (it has start_at); False if it was kept already."""
        ...

    def scheduled(self) -> list[ScheduledJob]:
        """The schedules still active, soonest first."""
        ...

    def find(self, schedule_id: str) -> ScheduledJob | None: ...

    def cancel(self, schedule_id: str, by: str | None = None) -> bool:
        """No further occurrence starts; False when there is no such active schedule."""
        ...
