"""Scheduled and recurring jobs on AWS: one EventBridge Scheduler schedule per scheduled job.

A job with `start_at` (and maybe `repeat`) reaching start-job becomes a schedule, not a run:
the job (under the schedule's id) is kept in the schedule bucket at `schedules/<id>.json`, and
a schedule in the stack's group sends the job queue, at each occurrence, the small message
`{"schedule_id": ID, "occurrence": "<aws.scheduler.scheduled-time>"}`, retried for an hour and
then put on the stack's schedules dead-letter queue (alarmed) instead of being lost silently.
Start-job turns that into the occurrence's own job (`schedule.occurrence_job`): a deterministic job
id per occurrence, so a second delivery finds the job already known and starts nothing.

Expressions: `at(...)` for a one-time start (deleted after it fired), `cron(...)` in the job's
zone for repeats (wall-clock times, as the domain's rrule reads them), between StartDate and an
EndDate just after the last occurrence. FlexibleTimeWindow is OFF: people are told a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.domain.models import CallJob
from backend.domain.ports import JobSubmitter, ScheduledJob
from backend.domain.schedule import Schedule, schedule_of, template_job
from backend.domain.weekdays import Weekday

MESSAGE_GROUP = "jobs"  # the job queue's one FIFO group (backend/aws/submitter.py)
OCCURRENCE_TIME = "<aws.scheduler.scheduled-time>"  # filled in by EventBridge Scheduler
# Retries of an occurrence Scheduler could not send (queue throttled, role or queue changed).
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
_DAYS = {day: day.value.upper() for day in Weekday}


def schedule_key(schedule_id: str) -> str:
    return f"schedules/{schedule_id}.json"


def occurrence_message(schedule_id: str, occurrence: str = OCCURRENCE_TIME) -> str:
    """The job-queue message of one occurrence (the schedule's target input)."""
    return json.dumps({"schedule_id": schedule_id, "occurrence": occurrence})


def expression(schedule: Schedule) -> str:
    """`at(2026-12-07T18:00:00)` once, else `cron(0 18 ? * MON,THU *)`, in the schedule's zone."""
    local = schedule.start.astimezone(schedule.tz)
    if schedule.rule is None:
        return f"at({local:%Y-%m-%dT%H:%M:%S})"
    if schedule.rule.daily:
        return f"cron({local.minute} {local.hour} * * ? *)"
    days = schedule.rule.days or (Weekday.of(local.date()),)
    return f"cron({local.minute} {local.hour} ? * {','.join(_DAYS[d] for d in days)} *)"


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    schedule_id: str
    description: str
    state: str  # ENABLED / DISABLED
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    schedule_id: str
    created: bool  # False: it existed already (a repeated message)
    description: str
    occurrences: int


class Schedules:
    """The stack's schedule group: create, list, delete; the scheduled jobs in the data bucket."""

    def __init__(
        self,
        scheduler: Any,
        s3: Any,
        *,
        group: str,
        bucket: str,
        queue_arn: str,
        role_arn: str,
        dead_letter_arn: str = "",
    ) -> None:
        self.scheduler = scheduler
        self.s3 = s3
        self.group = group
        self.bucket = bucket
        self.queue_arn = queue_arn
        self.role_arn = role_arn
        self.dead_letter_arn = dead_letter_arn

    def create(self, job: CallJob) -> ScheduleOutcome:
        """The job's schedule (once: a repeated message finds it and changes nothing)."""
        schedule = schedule_of(job)
        if schedule is None:
            raise ValueError(f"job {job.job_id} has no start_at: it is not a scheduled job")
        found = schedule.occurrences()
        kept = template_job(job)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=schedule_key(schedule.schedule_id),
            Body=kept.model_dump_json().encode(),
            ContentType="application/json",
        )
        request: dict[str, Any] = {
            "Name": schedule.schedule_id,
            "GroupName": self.group,
            "ScheduleExpression": expression(schedule),
            "ScheduleExpressionTimezone": schedule.tz.key,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Description": schedule.describe()[:512],
            "State": "ENABLED",
            "Target": {
                "Arn": self.queue_arn,
                "RoleArn": self.role_arn,
                "Input": occurrence_message(schedule.schedule_id),
                "SqsParameters": {"MessageGroupId": MESSAGE_GROUP},
                # A delivery that fails is tried again for an hour, then given up: a call job
                # hours late is worse than a missed one (the next occurrence still comes). The
                # given-up occurrence lands in the dead-letter queue (ScheduleDeadLetterAlarm).
                "RetryPolicy": RETRY_POLICY,
            },
        }
        if self.dead_letter_arn:
            request["Target"]["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        # Deleted once it has fired its last occurrence (its job document then goes too).
        request["ActionAfterCompletion"] = "DELETE"
        if schedule.rule is not None:
            request["StartDate"] = found[0] - timedelta(minutes=1)
            request["EndDate"] = found[-1] + timedelta(minutes=1)
        try:
            self.scheduler.create_schedule(**request)
        except ClientError as error:
            if error_code(error) != "ConflictException":
                raise
            return ScheduleOutcome(schedule.schedule_id, False, schedule.describe(), len(found))
        return ScheduleOutcome(schedule.schedule_id, True, schedule.describe(), len(found))

    def list(self) -> list[ScheduleInfo]:
        """The schedules whose job is kept (read from the bucket, then each schedule: GetSchedule
        takes a schedule's ARN, where ListSchedules would need every resource). One that has
        fired its last occurrence is gone; its document stays until the bucket expires it (an
        occurrence may still wait in the job queue for a free slot)."""
        found: list[ScheduleInfo] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix="schedules/"):
            for item in page.get("Contents", []):
                schedule_id = str(item["Key"]).removeprefix("schedules/").removesuffix(".json")
                detail = self.get(schedule_id)
                if detail is not None:
                    found.append(detail)
        return sorted(found, key=lambda info: info.schedule_id)

    def get(self, schedule_id: str) -> ScheduleInfo | None:
        try:
            item = self.scheduler.get_schedule(Name=schedule_id, GroupName=self.group)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        return ScheduleInfo(
            item["Name"],
            item.get("Description", ""),
            item.get("State", ""),
            item.get("CreationDate"),
        )

    def job(self, schedule_id: str) -> CallJob | None:
        """The scheduled job (the schedule id as its job id), or None."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=schedule_key(schedule_id))["Body"]
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404", "AccessDenied", "403"):
                return None
            raise
        return CallJob.model_validate_json(body.read())

    def delete(self, schedule_id: str) -> bool:
        """Cancel the schedule: no further occurrence starts (running ones go on), and its job
        document is deleted (an occurrence already queued then finds no job). False: none."""
        try:
            self.scheduler.delete_schedule(Name=schedule_id, GroupName=self.group)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            return False
        finally:
            self.forget(schedule_id)
        return True

    def forget(self, schedule_id: str) -> None:
        """Delete the job document of a schedule that will fire no more."""
        self.s3.delete_object(Bucket=self.bucket, Key=schedule_key(schedule_id))


class AwsScheduleBook:
    """`ports.ScheduleBook` on AWS: schedules are made by start-job from the job queue (one
    creation path for Slack, uploads and other systems), listed and deleted here."""

    def __init__(self, submitter: JobSubmitter, schedules: Schedules, clock: Any) -> None:
        self.submitter = submitter
        self.schedules = schedules
        self.clock = clock

    def add(self, job: CallJob) -> bool:
        return self.submitter.submit(job)

    def scheduled(self) -> list[ScheduledJob]:
        views = [self._view(info) for info in self.schedules.list()]
        active = [view for view in views if view is not None and view.next_at is not None]
        return sorted(active, key=lambda view: (view.next_at, view.schedule_id))

    def find(self, schedule_id: str) -> ScheduledJob | None:
        info = self.schedules.get(schedule_id)
        return None if info is None else self._view(info)

    def cancel(self, schedule_id: str, by: str | None = None) -> bool:
        return self.schedules.delete(schedule_id)

    def _view(self, info: ScheduleInfo) -> ScheduledJob | None:
        job = self.schedules.job(info.schedule_id)
        schedule = schedule_of(job) if job is not None else None
        if job is None or schedule is None:
            return None
        now = self.clock()
        return ScheduledJob(
            schedule_id=info.schedule_id,
            description=schedule.describe(),
            state=schedule.state(now).value,
            next_at=schedule.next_after(now),
            created_by=job.created_by,
            receivers=len(job.receivers),
        )
