"""BotState on AWS (Slack and Teams alike): items in the jobs table (`CALLOUTS_JOBS_TABLE`) next
to the engine's own.

- `pk=<job_id>, sk="slack#pending"`: a previewed job (metadata); the job JSON itself is in the data
  bucket at `jobs/slack-pending/<job_id>.json` (a job can exceed DynamoDB's 400 KB item limit);
- `pk=<job_id>, sk="slack#start"`: the start claim (conditional put: first click wins);
- `pk=<job_id>, sk="slack#card"`: the job card and its running counts, zlib-compressed JSON in
  the binary attribute `z` (a 10,000-person card is over DynamoDB's 400 KB item limit as text);
- `pk="slack-channel#<channel>", sk="slack#recent"`: the latest job ids of a channel.
Job ids never contain `#`, so these keys cannot collide with a job's. The `slack` in the keys
is historical: Teams jobs use the same items (job ids are unique across platforms).
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

from bot.core.state import START_CLAIM_SECONDS, JobCard, PendingJob

RECENT = 10


class DynamoBotState:
    def __init__(self, dynamodb: Any, table: str, s3: Any, bucket: str) -> None:
        self.db = dynamodb
        self.table = table
        self.s3 = s3
        self.bucket = bucket

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {"job_id": {"S": pk}, "sk": {"S": sk}}

    def _get(self, pk: str, sk: str) -> str | None:
        item = self.db.get_item(
            TableName=self.table, Key=self._key(pk, sk), ConsistentRead=True
        ).get("Item")
        return str(item["value"]["S"]) if item else None

    def _put(self, pk: str, sk: str, value: str) -> None:
        self.db.put_item(TableName=self.table, Item={**self._key(pk, sk), "value": {"S": value}})

    @staticmethod
    def _job_key(job_id: str) -> str:
        return f"jobs/slack-pending/{job_id}.json"

    def save_pending(self, job_id: str, pending: PendingJob) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._job_key(job_id),
            Body=json.dumps(pending.job).encode(),
            ContentType="application/json",
        )
        meta = PendingJob(**{**pending.__dict__, "job": {}})
        self._put(job_id, "slack#pending", meta.to_json())

    def pending(self, job_id: str) -> PendingJob | None:
        raw = self._get(job_id, "slack#pending")
        if raw is None:
            return None
        pending = PendingJob.from_json(raw)
        body = self.s3.get_object(Bucket=self.bucket, Key=self._job_key(job_id))["Body"].read()
        pending.job = json.loads(body)
        return pending

    def withdraw_pending(self, job_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(job_id, "slack#pending"))
        self.s3.delete_object(Bucket=self.bucket, Key=self._job_key(job_id))

    def claim_start(self, job_id: str, user_id: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        # An expired claim is taken over only when no card was posted; the condition on `at`
        # keeps the takeover atomic (a second taker sees the first one's fresh `at`).
        condition = "attribute_not_exists(job_id)"
        values: dict[str, Any] = {}
        if self._card_item(job_id) is None:
            condition += " OR #at < :stale"
            values = {":stale": {"N": str(now - START_CLAIM_SECONDS)}}
        try:
            self.db.put_item(
                TableName=self.table,
                Item={
                    **self._key(job_id, "slack#start"),
                    "user_id": {"S": user_id},
                    "at": {"N": str(now)},
                },
                ConditionExpression=condition,
                **(
                    {"ExpressionAttributeNames": {"#at": "at"}, "ExpressionAttributeValues": values}
                    if values
                    else {}
                ),
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_start(self, job_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(job_id, "slack#start"))

    def save_card(self, card: JobCard) -> None:
        new = self._card_item(card.job_id) is None
        self.db.put_item(
            TableName=self.table,
            Item={
                **self._key(card.job_id, "slack#card"),
                "z": {"B": zlib.compress(card.to_json().encode(), 6)},
            },
        )
        if new:
            channel_key = f"slack-channel#{card.channel_id}"
            recent = json.loads(self._get(channel_key, "slack#recent") or "[]")
            recent = [card.job_id, *(j for j in recent if j != card.job_id)][:RECENT]
            self._put(channel_key, "slack#recent", json.dumps(recent))

    def _card_item(self, job_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.db.get_item(
            TableName=self.table, Key=self._key(job_id, "slack#card"), ConsistentRead=True
        ).get("Item")
        return item

    def card(self, job_id: str) -> JobCard | None:
        item = self._card_item(job_id)
        if item is None:
            return None
        if "z" in item:
            return JobCard.from_json(zlib.decompress(item["z"]["B"]).decode())
        return JobCard.from_json(str(item["value"]["S"]))  # stored before compression

    def recent_cards(self, channel_id: str, limit: int = 5) -> list[JobCard]:
        recent = json.loads(self._get(f"slack-channel#{channel_id}", "slack#recent") or "[]")
        cards = [self.card(job_id) for job_id in recent[:limit]]
        return [card for card in cards if card is not None]
