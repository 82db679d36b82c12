"""SMS on AWS: AWS End User Messaging SMS (`pinpoint-sms-voice-v2` SendTextMessage), the
`sms#<receiver>` outbox items in the jobs table, and the state machine's SMS step.

After the calls (the CallReceivers Map) and before the report, `PlanTexts` lists the people to
text (domain.sms rules) into `sms/<job_id>.json` in the data bucket and returns batches of
index ranges; `SendTexts` (an inline Map with bounded concurrency) sends each batch. Every
message is claimed with a conditional put of `sms#<receiver>` before it leaves and its outcome
written after, so a retried batch never texts anyone twice (domain.sms.text_one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.jobs import JobsTable, JobStore
from backend.aws.results import ResultsTable
from backend.domain.dnc import DoNotCallList
from backend.domain.sms import (
    INTERRUPTED,
    SmsContext,
    SmsResult,
    SmsSendError,
    SmsStatus,
    SmsTally,
    sms_due,
    sms_receivers,
    sms_template,
    text_one,
)

SMS_PREFIX = "sms#"
BATCH_SIZE = 100  # messages per SendTexts item: one Lambda call sends them one after another


def sms_list_key(job_id: str) -> str:
    return f"sms/{job_id}.json"


class SmsOutboxTable:
    """`domain.sms.SmsOutbox` in the jobs table: `sms#<receiver>` items next to the dial claims.

    The item holds no message text and no phone number: `claimed_at`, then `status`, `outcome`.
    """

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def _key(self, job_id: str, receiver_id: str) -> dict[str, Any]:
        return {"job_id": {"S": job_id}, "sk": {"S": f"{SMS_PREFIX}{receiver_id}"}}

    def claim(self, job_id: str, receiver_id: str, body: str, at: datetime) -> bool:
        try:
            self.db.put_item(
                TableName=self.table,
                Item={
                    **self._key(job_id, receiver_id),
                    "claimed_at": {"S": at.isoformat()},
                    "chars": {"N": str(len(body))},
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def finish(self, result: SmsResult) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=self._key(result.job_id, result.receiver_id),
            UpdateExpression="SET #s = :s, outcome = :o",
            ConditionExpression="attribute_exists(sk) AND attribute_not_exists(outcome)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": result.status.value},
                ":o": {"S": json.dumps(result.to_json())},
            },
        )

    def outcome(self, job_id: str, receiver_id: str) -> SmsResult | None:
        item = self.db.get_item(
            TableName=self.table, Key=self._key(job_id, receiver_id), ConsistentRead=True
        ).get("Item")
        if not item or "outcome" not in item:
            return None
        return SmsResult.model_validate_json(item["outcome"]["S"])

    def results(self, job_id: str) -> dict[str, SmsResult]:
        """receiver id -> outcome; a claim without one is Failed "interrupted" (never resent)."""
        found: dict[str, SmsResult] = {}
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="job_id = :j AND begins_with(sk, :p)",
            ExpressionAttributeValues={":j": {"S": job_id}, ":p": {"S": SMS_PREFIX}},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                receiver_id = item["sk"]["S"][len(SMS_PREFIX) :]
                if "outcome" in item:
                    found[receiver_id] = SmsResult.model_validate_json(item["outcome"]["S"])
                else:
                    found[receiver_id] = SmsResult(
                        job_id=job_id,
                        receiver_id=receiver_id,
                        status=SmsStatus.FAILED,
                        reason=INTERRUPTED,
                        at=datetime.fromisoformat(item["claimed_at"]["S"]),
                    )
        return found


class EndUserMessagingSender:
    """`domain.sms.SmsSender` through SendTextMessage (botocore retries throttling, adaptive)."""

    def __init__(self, client: Any, origination_identity: str, configuration_set: str = "") -> None:
        self.client = client
        self.origination_identity = origination_identity
        self.configuration_set = configuration_set

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        params: dict[str, Any] = {
            "DestinationPhoneNumber": phone_number,
            "OriginationIdentity": self.origination_identity,
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
            "Context": {"job_id": job_id[:100], "receiver_id": receiver_id[:100]},
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            response = self.client.send_text_message(**params)
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))[:200]
            raise SmsSendError(f"{error_code(error)}: {message}".rstrip(": ")) from None
        return str(response.get("MessageId", ""))


class SmsStep:
    """The state machine's SMS step: `plan` after the calls, `send` per batch."""

    def __init__(
        self,
        s3: Any,
        jobs: JobsTable,
        store: JobStore,
        results: ResultsTable,
        outbox: SmsOutboxTable,
        sender: EndUserMessagingSender | None,
        dnc: DoNotCallList | None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.s3 = s3
        self.jobs = jobs
        self.store = store
        self.results = results
        self.outbox = outbox
        self.sender = sender
        self.dnc = dnc
        self.batch_size = batch_size

    def plan(self, job_id: str) -> dict[str, Any]:
        """The batches to send: [] for a job without an SMS template or a cancelled job."""
        job = self.store.load(job_id)
        cancelled = self.jobs.cancel_requested(job_id)
        if not sms_due(job, cancelled=cancelled):
            return {
                "job_id": job_id,
                "texting": 0,
                "batches": [],
                "enabled": self.sender is not None,
            }
        ids = [r.id for r in sms_receivers(job, self.results.results(job_id))]
        self.s3.put_object(
            Bucket=self.store.bucket,
            Key=sms_list_key(job_id),
            Body=json.dumps(ids).encode(),
            ContentType="application/json",
        )
        batches = [
            {"job_id": job_id, "start": start, "end": min(start + self.batch_size, len(ids))}
            for start in range(0, len(ids), self.batch_size)
        ]
        return {
            "job_id": job_id,
            "texting": len(ids),
            "batches": batches,
            "enabled": self.sender is not None,
        }

    def send(self, job_id: str, start: int, end: int) -> dict[str, int]:
        """Text receivers `start`..`end` of the plan's list; each at most once across retries."""
        job = self.store.load(job_id)
        body = self.s3.get_object(Bucket=self.store.bucket, Key=sms_list_key(job_id))["Body"]
        ids: list[str] = json.loads(body.read())[start:end]
        context = SmsContext(job, sms_template(job), self.outbox, self.sender, self.dnc)
        receivers = {r.id: r for r in job.receivers}
        outcomes = [text_one(context, receivers[i], datetime.now(UTC)) for i in ids]
        return SmsTally.of(outcomes).to_json()
