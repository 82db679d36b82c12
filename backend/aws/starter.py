"""Start-job: job message -> job record -> call tasks in S3 -> one execution named after the job."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.jobs import JobsTable, JobStore
from backend.aws.schedules import Schedules
from backend.aws.tasks import map_width, write_tasks
from backend.domain.dnc import DoNotCallLookup, mark_do_not_call
from backend.domain.intake import job_from_json
from backend.domain.intake.assemble import DEFAULT_LIMITS
from backend.domain.intake.json_form import load_json
from backend.domain.intake.languages import disabled_languages
from backend.domain.job_state import ENDED, JobState
from backend.domain.models import CallJob
from backend.domain.problems import Problem
from backend.domain.repeat import ScheduleError
from backend.domain.schedule import occurrence_job, occurrence_job_id, parse_occurrence_time
from backend.domain.voices import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)


class JobsBusy(Exception):
    """The configured number of jobs is running: the message stays in the queue for later."""


def busy_delay_seconds(receives: int) -> int:
    """How long a waiting job message stays hidden: 1 minute, doubling up to 15 minutes."""
    return int(min(15 * 60, 60 * 2 ** max(0, min(receives, 10) - 1)))


class BadJobMessage(ValueError):
    def __init__(self, problems: list[Problem], job_id: str | None = None) -> None:
        self.problems = problems
        self.job_id = job_id
        super().__init__("; ".join(str(p) for p in problems[:10]))


@dataclass(frozen=True, slots=True)
class StartOutcome:
    job_id: str
    started: bool
    reason: str


class JobStarter:
    def __init__(
        self,
        s3: Any,
        sfn: Any,
        jobs: JobsTable,
        store: JobStore,
        state_machine_arn: str,
        max_running_jobs: int,
        max_concurrent_calls: int,
        schedules: Schedules | None = None,
        *,
        enabled_languages: tuple[str, ...] = (DEFAULT_LANGUAGE,),
        dnc: DoNotCallLookup | None = None,
    ) -> None:
        self.schedules = schedules
        self.dnc = dnc  # the do-not-call list: its receivers end NotCallable at intake
        self.s3 = s3
        self.sfn = sfn
        self.jobs = jobs
        self.store = store
        self.state_machine_arn = state_machine_arn
        self.max_running_jobs = max_running_jobs
        self.max_concurrent_calls = max_concurrent_calls
        self.enabled_languages = enabled_languages  # the bots' locales (BotLocales parameter)

    def parse(self, body: str) -> CallJob:
        """The job from a queue message: job JSON, or a reference to a job document in S3.

        Whatever is wrong with the message's content is a BadJobMessage, never another
        exception: only reading a job_ref from S3 can fail for the infrastructure's sake.
        """
        payload = load_json(body, DEFAULT_LIMITS.max_bytes, "queue message")
        if isinstance(payload, Problem):
            raise BadJobMessage([payload])
        if isinstance(payload, Mapping) and "occurrence" in payload:
            return self._occurrence(payload)
        if isinstance(payload, Mapping) and "job_ref" in payload:
            payload = self._referenced(payload["job_ref"])
        try:
            result = job_from_json(payload)
        except Exception as error:  # intake answers with problems; a crash is still the input's
            log.exception("intake failed on a job message")
            problem = Problem(f"the job could not be checked ({type(error).__name__}): fix it")
            raise BadJobMessage([problem]) from error
        if not result.ok or result.job is None:
            job_id = payload.get("job_id") if isinstance(payload, Mapping) else None
            raise BadJobMessage(
                result.problems or [Problem("the job could not be read")],
                job_id if isinstance(job_id, str) else None,
            )
        why = disabled_languages(result.job, self.enabled_languages)
        if why:  # the bots could not understand these people: refuse before anyone is rung
            raise BadJobMessage([Problem(why, field="receivers")], result.job.job_id)
        return result.job

    def _occurrence(self, payload: Mapping[str, Any]) -> CallJob:
        """One occurrence of a schedule (its message from EventBridge Scheduler): the scheduled
        job under the occurrence's own job id, the same for every delivery of it."""
        schedule_id, when = payload.get("schedule_id"), payload.get("occurrence")
        if not isinstance(schedule_id, str) or not isinstance(when, str):
            problem = Problem("an occurrence message needs schedule_id and occurrence (text)")
            raise BadJobMessage([problem])
        try:
            at = parse_occurrence_time(when)
        except ScheduleError as error:
            raise BadJobMessage([Problem(str(error), field="occurrence")]) from None
        job_id = occurrence_job_id(schedule_id, at)
        if self.jobs.get(job_id) is not None:  # a second delivery: that job is known already
            return self.store.load(job_id)
        job = self.schedules.job(schedule_id) if self.schedules is not None else None
        if job is None:
            problem = Problem(
                f"schedule {schedule_id} was cancelled (or has ended): its occurrence at "
                f"{at:%Y-%m-%d %H:%M} UTC was not started"
            )
            raise BadJobMessage([problem], job_id)
        return occurrence_job(job, schedule_id, at)

    def _referenced(self, ref: Any) -> Any:
        """The job document a `job_ref` names (only in the stack's data bucket)."""
        if not (
            isinstance(ref, Mapping)
            and isinstance(ref.get("bucket"), str)
            and isinstance(ref.get("key"), str)
        ):
            problem = Problem("job_ref must be an object with bucket and key", field="job_ref")
            raise BadJobMessage([problem])
        if ref["bucket"] != self.store.bucket:
            problem = Problem(
                f"job_ref must name the stack's bucket {self.store.bucket}", field="job_ref.bucket"
            )
            raise BadJobMessage([problem])
        try:
            raw = self.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
        except ClientError as error:
            if error_code(error) not in ("NoSuchKey", "AccessDenied", "404", "403"):
                raise
            problem = Problem(
                f"the job document {ref['key']} cannot be read ({error_code(error)})",
                field="job_ref.key",
            )
            raise BadJobMessage([problem]) from error
        payload = load_json(raw, DEFAULT_LIMITS.max_json_bytes, f"job document {ref['key']}")
        if isinstance(payload, Problem):
            raise BadJobMessage([Problem(payload.message, field="job_ref.key")])
        return payload

    def running_jobs(self) -> int:
        paginator = self.sfn.get_paginator("list_executions")
        running = 0
        for page in paginator.paginate(
            stateMachineArn=self.state_machine_arn, statusFilter="RUNNING"
        ):
            running += len(page.get("executions", []))
            if running >= self.max_running_jobs:
                break
        return running

    def start(self, job: CallJob) -> StartOutcome:
        """Start the job's execution once; a job with a start_at becomes a schedule instead."""
        if job.settings.start_at is not None:
            return self._schedule(job)
        self.jobs.create(job)
        state = self.jobs.state(job.job_id)
        # An ended job is never started again (nor could it be: its execution name is taken).
        if state is JobState.RUNNING or state in ENDED:
            return StartOutcome(job.job_id, False, f"already {state.value.lower()}")
        if self.jobs.cancel_requested(job.job_id):
            self.jobs.set_state(job.job_id, JobState.CANCELLED)
            return StartOutcome(job.job_id, False, "cancelled before it started")
        if self.running_jobs() >= self.max_running_jobs:
            raise JobsBusy(f"{self.max_running_jobs} job(s) running: {job.job_id} waits")
        if self.dnc is not None:  # intake's rule with the list as it is now, whatever the door
            job = mark_do_not_call(job, self.dnc)
        self.store.save(job)
        key = write_tasks(self.s3, self.store.bucket, job)
        execution_input = {
            "job_id": job.job_id,
            "tasks": {"bucket": self.store.bucket, "key": key},
            # Receivers in flight, not lines: the dialer leases lines (see backend/aws/tasks.py).
            "max_concurrency": map_width(
                len(job.receivers), min(job.settings.concurrency, self.max_concurrent_calls)
            ),
        }
        execution_arn = (
            f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{job.job_id}"
        )
        try:
            execution_arn = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=job.job_id,
                input=json.dumps(execution_input),
            )["executionArn"]
            reason = "started"
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            reason = "execution already existed"
        self.jobs.set_state(job.job_id, JobState.RUNNING, execution_arn)
        return StartOutcome(job.job_id, reason == "started", reason)

    def _schedule(self, job: CallJob) -> StartOutcome:
        """A scheduled job: its schedule is made (each occurrence is then a job of its own)."""
        if self.schedules is None:
            problem = Problem("scheduled jobs are not set up in this deployment", field="start_at")
            raise BadJobMessage([problem], job.job_id)
        made = self.schedules.create(job)
        # The record the submitter wrote under the scheduled job's id stands for no run.
        self.jobs.forget(job.job_id)
        verb = "scheduled" if made.created else "already scheduled"
        return StartOutcome(job.job_id, False, f"{verb}: {made.description}")
