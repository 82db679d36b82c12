"""Phone lines leased from a counter sized to the budget: a line is held from dial to DISCONNECTED.

The sessions table holds the counters and the leases (no separate table):

- `#lines` (`live`): calls holding a line across every job; never above the stack's budget,
  which leaves headroom under Connect's concurrent-call quota;
- `#lines#<job id>` (`live`): the same for one job, never above the job's `concurrency`;
- `line#<call id>`: the lease of one call, with `sweep = "line"` and `since` (the `sweep` index
  lets the sweeper find leases whose DISCONNECTED never came).

Acquire is one TransactWriteItems (both counters +1 under their limits, the lease put if absent);
release is one TransactWriteItems (lease deleted if present, both counters -1), so a repeated
release changes nothing. A call waiting (retry delay, calling window, no free line) holds none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from backend.aws.clients import ClientError, error_code

COUNTER = "#lines"
LEASE_PREFIX = "line#"
SWEEP_INDEX = "sweep"
SWEEP_LINE = "line"


@dataclass(frozen=True, slots=True)
class Lease:
    call_id: str
    job_id: str
    since: int
    contact_id: str | None = None


def _key(name: str) -> dict[str, Any]:
    return {"call_id": {"S": name}}


class LineLeases:
    def __init__(self, dynamodb: Any, table: str, budget: int) -> None:
        self.db = dynamodb
        self.table = table
        self.budget = budget

    def _counter_plus(self, name: str, limit: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(name),
                "UpdateExpression": "SET live = if_not_exists(live, :zero) + :one",
                "ConditionExpression": "attribute_not_exists(live) OR live < :limit",
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                },
            }
        }

    def _counter_minus(self, name: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(name),
                "UpdateExpression": "SET live = live - :one",
                "ConditionExpression": "live > :zero",
                "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
            }
        }

    def acquire(self, call_id: str, job_id: str, job_limit: int) -> bool:
        """Take a line for this call (True), or none is free now (False); idempotent per call."""
        if self.lease(call_id) is not None:
            return True  # a redelivery of a message whose earlier delivery took the line
        now = int(time.time())
        lease = {
            **_key(LEASE_PREFIX + call_id),
            "job_id": {"S": job_id},
            "sweep": {"S": SWEEP_LINE},
            "since": {"N": str(now)},
            "expires_at": {"N": str(now + 7 * 24 * 3600)},
        }
        try:
            self.db.transact_write_items(
                TransactItems=[
                    self._counter_plus(COUNTER, self.budget),
                    self._counter_plus(f"{COUNTER}#{job_id}", min(job_limit, self.budget)),
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": lease,
                            "ConditionExpression": "attribute_not_exists(call_id)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            # Only the lease's condition failed: a concurrent delivery of this call took it.
            return len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed"
        return True

    def release(self, call_id: str) -> bool:
        """Give the call's line back (True), or it was not held (False: released before)."""
        lease = self.lease(call_id)
        if lease is None:
            return False
        try:
            self.db.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": _key(LEASE_PREFIX + call_id),
                            "ConditionExpression": "attribute_exists(call_id)",
                        }
                    },
                    self._counter_minus(COUNTER),
                    self._counter_minus(f"{COUNTER}#{lease.job_id}"),
                ]
            )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            return False
        return True

    def set_contact(self, call_id: str, contact_id: str) -> None:
        """The lease's Connect contact, for the sweeper's DescribeContact."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(LEASE_PREFIX + call_id),
                UpdateExpression="SET contact_id = :c",
                ConditionExpression="attribute_exists(call_id)",
                ExpressionAttributeValues={":c": {"S": contact_id}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise  # else released already (a DISCONNECTED faster than the dialer)

    def lease(self, call_id: str) -> Lease | None:
        item = self.db.get_item(
            TableName=self.table, Key=_key(LEASE_PREFIX + call_id), ConsistentRead=True
        ).get("Item")
        return _lease(item) if item else None

    def live(self, job_id: str | None = None) -> int:
        """Calls holding a line (all jobs, or one job)."""
        name = COUNTER if job_id is None else f"{COUNTER}#{job_id}"
        item = self.db.get_item(TableName=self.table, Key=_key(name), ConsistentRead=True).get(
            "Item"
        )
        return int(item["live"]["N"]) if item else 0

    def held_since_before(self, cutoff: int) -> list[Lease]:
        """Leases taken before `cutoff` (epoch seconds): the sweeper's candidates."""
        found: list[Lease] = []
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="sweep = :k AND since < :c",
            ExpressionAttributeValues={":k": {"S": SWEEP_LINE}, ":c": {"N": str(cutoff)}},
        ):
            found.extend(_lease(item) for item in page.get("Items", []))
        return found


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(
        call_id=item["call_id"]["S"][len(LEASE_PREFIX) :],
        job_id=item["job_id"]["S"],
        since=int(item["since"]["N"]),
        contact_id=item.get("contact_id", {}).get("S"),
    )
