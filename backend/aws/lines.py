"""Phone lines leased from a counter sized to the budget: a line is held from dial to DISCONNECTED.

The sessions table holds the counters and the leases (no separate table):

- `#lines` (`live`): calls holding a line across every job; never above the stack's budget,
  which leaves headroom under Connect's concurrent-call quota;
- `#lines#<job id>` (`live`): the same for one job, never above the job's `concurrency`;
- `line#<call id>`: the lease of one call, with `sweep = "line"` and `since` (the `sweep` index
  lets the sweeper find leases whose DISCONNECTED never came), `until` (the dialer that holds it
  may still dial until then) and, once the Connect request may leave, `dialling`.

Acquire is one TransactWriteItems (both counters +1 under their limits, the lease put if absent);
release is one TransactWriteItems (lease deleted if present, both counters -1), so a repeated
release changes nothing. A call waiting (retry delay, calling window, no free line) holds none.

A dialer that dies between taking a line and dialling leaves a lease with no call behind it.
`fence` marks the lease `dialling` (only if it still exists) just before the Connect request,
and a redelivery that finds its lease renews `until`: so a lease that is not `dialling` after
`until` has no call and never will, and `release_undialled` gives it back (conditionally, in the
same transaction as the counters) within minutes instead of after the two-hour backstop. A
dialer whose lease was reclaimed meanwhile finds `fence` refused and dials nothing under it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.aws.clients import ClientError, error_code

COUNTER = "#lines"
LEASE_PREFIX = "line#"
SWEEP_INDEX = "sweep"
SWEEP_LINE = "line"
# How long a lease's dialer may still dial (`until`): longer than any dialer invocation
# (the DialerFunction's Timeout is 60 s; a test keeps it below this).
DIAL_GRACE_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Lease:
    call_id: str
    job_id: str
    since: int
    contact_id: str | None = None
    until: int | None = None  # its dialer may dial until then (None: a lease of an older release)
    dialling: bool = False  # the Connect request may have left: a call may exist


def _key(name: str) -> dict[str, Any]:
    return {"call_id": {"S": name}}


class LineLeases:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        budget: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = dynamodb
        self.table = table
        self.budget = budget
        self.clock = clock

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
        if self.lease(call_id) is not None and self._renew(call_id):
            return True  # a redelivery of a message whose earlier delivery took the line
        now = int(self.clock())
        lease = {
            **_key(LEASE_PREFIX + call_id),
            "job_id": {"S": job_id},
            "sweep": {"S": SWEEP_LINE},
            "since": {"N": str(now)},
            "until": {"N": str(now + DIAL_GRACE_SECONDS)},
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

    def _renew(self, call_id: str) -> bool:
        """This delivery holds the lease again until `until` (False: reclaimed meanwhile)."""
        return self._update_lease(
            call_id, "SET #u = :u", {":u": {"N": str(int(self.clock()) + DIAL_GRACE_SECONDS)}}
        )

    def fence(self, call_id: str) -> bool:
        """Just before the Connect request: the lease may now stand for a call, so only its end
        (or Connect) gives it back. False: it was reclaimed (its dialer was taken for dead), and
        the caller must not dial under it."""
        return self._update_lease(call_id, "SET dialling = :t", {":t": {"BOOL": True}})

    def _update_lease(self, call_id: str, expression: str, values: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": _key(LEASE_PREFIX + call_id),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(call_id)",
            "ExpressionAttributeValues": values,
        }
        if "#u" in expression:
            request["ExpressionAttributeNames"] = {"#u": "until"}  # a DynamoDB reserved word
        try:
            self.db.update_item(**request)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release(self, call_id: str) -> bool:
        """Give the call's line back (True), or it was not held (False: released before)."""
        return self._release(call_id, "attribute_exists(call_id)", {})

    def release_undialled(self, call_id: str, now: int) -> bool:
        """Give back a lease whose dialer is gone without dialling (no `dialling`, no contact,
        `until` past), in one transaction with the counters: a dialer renewing or fencing it at
        the same moment wins, and the lease stays."""
        condition = (
            "attribute_exists(call_id) AND attribute_not_exists(dialling) "
            "AND attribute_not_exists(contact_id) AND #u < :now"
        )
        return self._release(call_id, condition, {":now": {"N": str(now)}}, {"#u": "until"})

    def _release(
        self,
        call_id: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        lease = self.lease(call_id)
        if lease is None:
            return False
        delete: dict[str, Any] = {
            "TableName": self.table,
            "Key": _key(LEASE_PREFIX + call_id),
            "ConditionExpression": condition,
        }
        if values:
            delete["ExpressionAttributeValues"] = values
        if names:
            delete["ExpressionAttributeNames"] = names
        try:
            self.db.transact_write_items(
                TransactItems=[
                    {"Delete": delete},
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
        until=int(item["until"]["N"]) if "until" in item else None,
        dialling=bool(item.get("dialling", {}).get("BOOL")),
    )
