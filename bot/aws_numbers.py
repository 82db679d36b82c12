"""Requesters' test-call numbers on AWS (`NumberBook`): one item per chat user in the jobs table.

`pk = chat-user#<platform>#<team>#<user>`, `sk = "test-number"`, attributes `number` (E.164:
the number the requester gave for their own test calls; shown masked only) and `last_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SORT_KEY = "test-number"


class DynamoNumberBook:
    """`dynamodb` builds the client on first use (the Slack app is built before any request)."""

    def __init__(self, dynamodb: Callable[[], Any], table: str) -> None:
        self._client = dynamodb
        self.table = table

    @property
    def db(self) -> Any:
        return self._client()

    def _key(self, user_key: str) -> dict[str, Any]:
        return {"job_id": {"S": f"chat-user#{user_key}"}, "sk": {"S": SORT_KEY}}

    def _get(self, user_key: str, name: str) -> str | None:
        item = self.db.get_item(
            TableName=self.table, Key=self._key(user_key), ConsistentRead=True
        ).get("Item")
        value = (item or {}).get(name, {}).get("S")
        return str(value) if value else None

    def _set(self, user_key: str, name: str, value: str) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=self._key(user_key),
            UpdateExpression="SET #n = :v",
            ExpressionAttributeNames={"#n": name},
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def test_number(self, user_key: str) -> str | None:
        return self._get(user_key, "number")

    def remember_test_number(self, user_key: str, e164: str) -> None:
        self._set(user_key, "number", e164)

    def last_preview(self, user_key: str) -> str | None:
        return self._get(user_key, "last_job")

    def remember_preview(self, user_key: str, job_id: str) -> None:
        self._set(user_key, "last_job", job_id)
