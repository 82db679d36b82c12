"""Start-job: job message -> job record -> call tasks in S3 -> one execution named after the job."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.jobs import JobsTable, JobState, JobStore
from backend.aws.tasks import write_tasks
from backend.domain.intake import job_from_json
from backend.domain.models import CallJob
from backend.domain.problems import Problem


class JobsBusy(Exception):
    """The configured number of jobs is running: the message stays in the queue for later."""


class BadJobMessage(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
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
    ) -> None:
        self.s3 = s3
        self.sfn = sfn
        self.jobs = jobs
        self.store = store
        self.state_machine_arn = state_machine_arn
        self.max_running_jobs = max_running_jobs
        self.max_concurrent_calls = max_concurrent_calls

    def parse(self, body: str) -> CallJob:
        """The job from a queue message: job JSON, or a reference to a job document in S3."""
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as error:
            raise BadJobMessage([Problem(f"the message is not JSON: {error.msg}")]) from error
        if isinstance(payload, Mapping) and "job_ref" in payload:
            ref = payload["job_ref"]
            raw = self.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
            return CallJob.model_validate_json(raw)
        result = job_from_json(payload)
        if not result.ok or result.job is None:
            raise BadJobMessage(result.problems or [Problem("the job could not be read")])
        return result.job

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
        self.jobs.create(job)
        state = self.jobs.state(job.job_id)
        if state in (JobState.RUNNING, JobState.FINISHED, JobState.CANCELLED):
            return StartOutcome(job.job_id, False, f"already {state.value.lower()}")
        if self.jobs.cancel_requested(job.job_id):
            self.jobs.set_state(job.job_id, JobState.CANCELLED)
            return StartOutcome(job.job_id, False, "cancelled before it started")
        if self.running_jobs() >= self.max_running_jobs:
            raise JobsBusy(f"{self.max_running_jobs} job(s) running: {job.job_id} waits")
        self.store.save(job)
        key = write_tasks(self.s3, self.store.bucket, job)
        execution_input = {
            "job_id": job.job_id,
            "tasks": {"bucket": self.store.bucket, "key": key},
            "max_concurrency": max(1, min(job.settings.concurrency, self.max_concurrent_calls)),
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
