"""DynamoDB session store: one item per call, optimistic lock on `version`, TTL `expires_at`.

A finished session is saved with `sweep = "unsent"` and `since` (the sparse `sweep` index): its
result has not reached Step Functions yet. `mark_sent` sets `completion_sent` and takes it out of
the index once SendTaskSuccess/Failure succeeded or the task had already ended; until then the
DISCONNECTED handler and the sweeper send it again (the results table keeps the first).
"""

from __future__ import annotations

import time
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.domain.record_json import dumps
from backend.domain.session import CallSession, StaleSession

CONTACT_PREFIX = "contact#"
SWEEP_INDEX = "sweep"
SWEEP_UNSENT = "unsent"


class DynamoSessionStore:
    """Implements `backend.domain.session.SessionStore` on the sessions table."""

    def __init__(self, dynamodb: Any, table: str, ttl_seconds: int = 2 * 24 * 3600) -> None:
        self.db = dynamodb
        self.table = table
        self.ttl_seconds = ttl_seconds

    def _item(self, session: CallSession) -> dict[str, dict[str, str]]:
        item = {
            "call_id": {"S": session.call_id},
            "job_id": {"S": session.job_id},
            "version": {"N": str(session.version)},
            "session": {"S": dumps(session.to_json())},
            "expires_at": self._expires(),
        }
        if session.finished:
            item["sweep"] = {"S": SWEEP_UNSENT}
            item["since"] = {"N": str(int(time.time()))}
        return item

    def _expires(self) -> dict[str, str]:
        return {"N": str(int(time.time()) + self.ttl_seconds)}

    def create(self, session: CallSession) -> None:
        try:
            self.db.put_item(
                TableName=self.table,
                Item=self._item(session),
                ConditionExpression="attribute_not_exists(call_id)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise StaleSession(session.call_id) from error
            raise

    def get(self, call_id: str) -> CallSession | None:
        return self.load(call_id)[0]

    def load(self, call_id: str) -> tuple[CallSession | None, bool]:
        """The session and whether its result reached Step Functions (`completion_sent`)."""
        item = self.db.get_item(
            TableName=self.table, Key={"call_id": {"S": call_id}}, ConsistentRead=True
        ).get("Item")
        if not item or "session" not in item:
            return None, False
        session = CallSession.from_json(item["session"]["S"])
        session.version = int(item["version"]["N"])
        return session, bool(item.get("completion_sent", {}).get("BOOL"))

    def mark_sent(self, call_id: str) -> None:
        """The finished session's result reached its task (or the task had ended)."""
        self.db.update_item(
            TableName=self.table,
            Key={"call_id": {"S": call_id}},
            UpdateExpression="SET completion_sent = :t REMOVE sweep, since",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    def unsent_before(self, cutoff: int) -> list[str]:
        """Call ids of sessions finished before `cutoff` whose result was never delivered."""
        found: list[str] = []
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="sweep = :k AND since < :c",
            ExpressionAttributeValues={":k": {"S": SWEEP_UNSENT}, ":c": {"N": str(cutoff)}},
        ):
            found.extend(item["call_id"]["S"] for item in page.get("Items", []))
        return found

    def save(self, session: CallSession) -> None:
        expected = session.version
        session.version = expected + 1
        try:
            self.db.put_item(
                TableName=self.table,
                Item=self._item(session),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(expected)}},
            )
        except ClientError as error:
            session.version = expected
            if error_code(error) == "ConditionalCheckFailedException":
                raise StaleSession(session.call_id) from error
            raise

    # Contact events name the Connect contact, not our call: keep a pointer from one to the other.
    def link_contact(self, contact_id: str, call_id: str) -> None:
        self.db.put_item(
            TableName=self.table,
            Item={
                "call_id": {"S": CONTACT_PREFIX + contact_id},
                "target": {"S": call_id},
                "expires_at": self._expires(),
            },
        )

    def call_for_contact(self, contact_id: str) -> str | None:
        item = self.db.get_item(
            TableName=self.table,
            Key={"call_id": {"S": CONTACT_PREFIX + contact_id}},
            ConsistentRead=True,
        ).get("Item")
        return str(item["target"]["S"]) if item else None
