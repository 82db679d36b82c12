"""The job queue as `ports.JobSubmitter`: the Slack bot and other systems start jobs through it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from backend.aws import clients
from backend.aws.jobs import JobsTable, JobStore
from backend.aws.settings import settings
from backend.domain.intake import job_to_json
from backend.domain.models import CallJob

# SQS accepts 256 KB; larger jobs travel as a reference to the job document in S3.
MAX_INLINE_BYTES = 200_000
MESSAGE_GROUP = "jobs"  # one group: jobs start in the order they were queued
TEST_CALL_GROUP = "test-calls"  # Call me first: never waits behind a job held in "jobs"


class SqsJobSubmitter:
    def __init__(self, sqs: Any, queue_url: str, jobs: JobsTable, store: JobStore) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.jobs = jobs
        self.store = store

    @classmethod
    def from_settings(cls) -> SqsJobSubmitter:
        s = settings()
        return cls(
            clients.client("sqs"),
            s.job_queue_url,
            JobsTable(clients.client("dynamodb"), s.jobs_table),
            JobStore(clients.client("s3"), s.data_bucket),
        )

    def submit(self, job: CallJob) -> bool:
        """Queue the job once: the job record's conditional write decides who submitted it."""
        if not self.jobs.create(job):
            return False
        body = json.dumps(job_to_json(job))
        if len(body.encode()) > MAX_INLINE_BYTES:
            key = self.store.save(job)
            body = json.dumps({"job_ref": {"bucket": self.store.bucket, "key": key}})
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=body,
                MessageGroupId=MESSAGE_GROUP,
                MessageDeduplicationId=job.job_id,
            )
        except Exception:
            # Not queued: forget the record, or every later submit would see "already known".
            self.jobs.forget(job.job_id)
            raise
        return True

    def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
        return self.jobs.request_cancel(job_id, requested_by)

    def request_test_call(
        self,
        job: CallJob,
        to: str,
        test_id: str,
        *,
        origin: Mapping[str, Any] | None = None,
        requested_by: str | None = None,
    ) -> None:
        """Queue one "Call me first" call of `job` to `to` (backend/aws/test_calls.py); only
        person #1 travels (their prompts are what the test plays), so the message stays small."""
        person_one = job.model_copy(update={"receivers": job.receivers[:1]})
        body = {
            "kind": "test_call",
            "test_id": test_id,
            "to": to,
            "job": job_to_json(person_one),
            "origin": dict(origin) if origin is not None else None,
            "requested_by": requested_by,
        }
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(body),
            MessageGroupId=TEST_CALL_GROUP,
            MessageDeduplicationId=test_id,
        )
