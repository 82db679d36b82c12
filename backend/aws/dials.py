"""Dials as facts: one item per (receiver, attempt), written before the Connect request leaves.

The claim (`claim#<receiver>#<attempt>`) says who may dial; the dial item (`dial#<receiver>#
<attempt>`) says that a StartOutboundVoiceContact request for that attempt was sent (`requests`
counts the requests: a retry repeats the same ClientToken, which Connect turns into the same
contact). A claim without a dial item was claimed and never dialled.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

DIAL_PREFIX = "dial#"


def dial_key(job_id: str, receiver_id: str, attempt: int) -> dict[str, Any]:
    return {"job_id": {"S": job_id}, "sk": {"S": f"{DIAL_PREFIX}{receiver_id}#{attempt}"}}


class DialLog:
    """The dial items in the jobs table (next to the job record and its claims)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def record(self, job_id: str, receiver_id: str, attempt: int, call_id: str) -> None:
        """Called just before StartOutboundVoiceContact: the attempt is dialled from now on."""
        self.db.update_item(
            TableName=self.table,
            Key=dial_key(job_id, receiver_id, attempt),
            UpdateExpression="SET call_id = :c, first_at = if_not_exists(first_at, :t) "
            "ADD requests :one",
            ExpressionAttributeValues={
                ":c": {"S": call_id},
                ":t": {"N": str(int(time.time()))},
                ":one": {"N": "1"},
            },
        )

    def dials(self, job_id: str) -> Counter[str]:
        """Dialled attempts per receiver of a job (the proof of who was rung how often)."""
        found: Counter[str] = Counter()
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="job_id = :j AND begins_with(sk, :p)",
            ExpressionAttributeValues={":j": {"S": job_id}, ":p": {"S": DIAL_PREFIX}},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                receiver_id = item["sk"]["S"][len(DIAL_PREFIX) :].rsplit("#", 1)[0]
                found[receiver_id] += 1
        return found
