"""The results table: one item per (job, receiver), written once by the state machine."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from backend.domain.models import CallResult


def result_from_item(item: Mapping[str, Any]) -> CallResult:
    """A CallResult from a DynamoDB item or stream NEW_IMAGE (typed: `{"result": {"S": ..}}`)."""
    return CallResult.from_json(item["result"]["S"])


result_from_stream_image = result_from_item


def result_item(result: CallResult) -> dict[str, Any]:
    """The item the state machine's putItem writes (used by tests and the local tools)."""
    return {
        "job_id": {"S": result.job_id},
        "receiver_id": {"S": result.receiver_id},
        "status": {"S": result.status.value},
        "attempts": {"N": str(result.attempts)},
        "result": {"S": json.dumps(result.to_json())},
    }


class ResultsTable:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def results(self, job_id: str) -> list[CallResult]:
        found: list[CallResult] = []
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="job_id = :j",
            ExpressionAttributeValues={":j": {"S": job_id}},
            ConsistentRead=True,
        ):
            found.extend(result_from_item(item) for item in page.get("Items", []))
        return found
