"""Jobs on AWS: the job document in S3; job record, cancel flag and dial claims in DynamoDB."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.domain.job_state import ENDED as ENDED  # re-exported: callers import it from here
from backend.domain.job_state import JobState
from backend.domain.models import CallJob

JOB_SK = "job"


def job_key(job_id: str) -> str:
    return f"jobs/{job_id}.json"


def tasks_key(job_id: str) -> str:
    return f"tasks/{job_id}.json"


class JobStore:
    """The whole job as JSON in S3 (a job can exceed DynamoDB's and Step Functions' item limits)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def save(self, job: CallJob) -> str:
        key = job_key(job.job_id)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=job.model_dump_json().encode(),
            ContentType="application/json",
        )
        return key

    def load(self, job_id: str) -> CallJob:
        body = self.s3.get_object(Bucket=self.bucket, Key=job_key(job_id))["Body"].read()
        return CallJob.model_validate_json(body)


class ClaimState(StrEnum):
    NEW = "new"  # this caller owns the dial
    PENDING = "pending"  # claimed before, dial not confirmed: redial with the same ClientToken
    DIALLED = "dialled"  # a contact exists: never dial again


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    contact_id: str | None = None
    task_token: str | None = None


class JobsTable:
    """One table: the job record (sk "job") and one claim per (receiver, attempt)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    # -- job record ---------------------------------------------------------------------------
    def create(self, job: CallJob, state: JobState = JobState.QUEUED) -> bool:
        """Record the job once; False if it was already known (a repeated message or upload)."""
        item: dict[str, Any] = {
            "job_id": {"S": job.job_id},
            "sk": {"S": JOB_SK},
            "status": {"S": state.value},
            "receivers": {"N": str(len(job.receivers))},
            "created_at": {"N": str(int(time.time()))},
            "cancel_requested": {"BOOL": False},
        }
        if job.origin is not None:
            item["origin"] = {"S": job.origin.model_dump_json()}
        if job.created_by:
            item["created_by"] = {"S": job.created_by}
        try:
            self.db.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(job_id)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def forget(self, job_id: str) -> None:
        """Delete a job record that never reached the queue (only while still QUEUED)."""
        try:
            self.db.delete_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}, "sk": {"S": JOB_SK}},
                ConditionExpression="#s = :q",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":q": {"S": JobState.QUEUED.value}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def get(self, job_id: str) -> dict[str, Any] | None:
        found = self.db.get_item(
            TableName=self.table,
            Key={"job_id": {"S": job_id}, "sk": {"S": JOB_SK}},
            ConsistentRead=True,
        ).get("Item")
        return found if found else None

    def state(self, job_id: str) -> JobState | None:
        item = self.get(job_id)
        return JobState.parse(item["status"]["S"]) if item else None

    def set_state(self, job_id: str, state: JobState, execution_arn: str | None = None) -> None:
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": {"S": state.value}}
        expression = "SET #s = :s"
        if execution_arn:
            expression += ", execution_arn = :e"
            values[":e"] = {"S": execution_arn}
        self.db.update_item(
            TableName=self.table,
            Key={"job_id": {"S": job_id}, "sk": {"S": JOB_SK}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def end(self, job_id: str, state: JobState, error: str, cause: str) -> bool:
        """End a queued or running job without a report (FAILED / STOPPED) and keep why;
        False when the job is unknown or already over (its report was written, say)."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}, "sk": {"S": JOB_SK}},
                UpdateExpression=(
                    "SET #s = :s, failure_error = :e, failure_cause = :c, ended_at = :t"
                ),
                ConditionExpression="attribute_exists(job_id) AND #s IN (:q, :r)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": {"S": state.value},
                    ":e": {"S": error},
                    ":c": {"S": cause},
                    ":t": {"N": str(int(time.time()))},
                    ":q": {"S": JobState.QUEUED.value},
                    ":r": {"S": JobState.RUNNING.value},
                },
            )
        except ClientError as error_:
            if error_code(error_) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def request_cancel(self, job_id: str, requested_by: str | None) -> bool:
        """Set the cancel flag the dialer checks; False if the job is unknown or already over."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}, "sk": {"S": JOB_SK}},
                UpdateExpression="SET cancel_requested = :t, cancelled_by = :by",
                ConditionExpression="attribute_exists(job_id) AND #s IN (:q, :r)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":t": {"BOOL": True},
                    ":by": {"S": requested_by or ""},
                    ":q": {"S": JobState.QUEUED.value},
                    ":r": {"S": JobState.RUNNING.value},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def cancel_requested(self, job_id: str) -> bool:
        item = self.get(job_id)
        return bool(item and item.get("cancel_requested", {}).get("BOOL"))

    # -- dial claims ----------------------------------------------------------------------------
    @staticmethod
    def _claim_key(job_id: str, receiver_id: str, attempt: int) -> dict[str, Any]:
        return {"job_id": {"S": job_id}, "sk": {"S": f"claim#{receiver_id}#{attempt}"}}

    def claim(self, job_id: str, receiver_id: str, attempt: int, task_token: str) -> Claim:
        """Claim one dial with a conditional put; report what an earlier claim got to."""
        key = self._claim_key(job_id, receiver_id, attempt)
        try:
            self.db.put_item(
                TableName=self.table,
                Item={**key, "task_token": {"S": task_token}, "at": {"N": str(int(time.time()))}},
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            item = self.db.get_item(TableName=self.table, Key=key, ConsistentRead=True)["Item"]
            contact = item.get("contact_id", {}).get("S")
            token = item.get("task_token", {}).get("S")
            if contact:
                return Claim(ClaimState.DIALLED, contact, token)
            return Claim(ClaimState.PENDING, None, token)
        return Claim(ClaimState.NEW, None, task_token)

    def mark_dialled(self, job_id: str, receiver_id: str, attempt: int, contact_id: str) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=self._claim_key(job_id, receiver_id, attempt),
            UpdateExpression="SET contact_id = :c",
            ExpressionAttributeValues={":c": {"S": contact_id}},
        )


def origin_json(item: dict[str, Any]) -> dict[str, Any] | None:
    raw = item.get("origin", {}).get("S")
    return json.loads(raw) if raw else None
