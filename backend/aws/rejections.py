"""A job that was not started tells a human why: SNS (the completion topic) and EventBridge.

Uploads with problems and job-queue messages that fail validation are consumed, never retried;
this notification is where their sender learns about every problem (sheet/row/column or field).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.domain.problems import Problem

DETAIL_TYPE = "Callout Job Rejected"
SOURCE = "callouts"
SUBJECT = "Callouts job rejected"
# SNS and EventBridge take 256 KB: list this many problems, count the rest.
MAX_LISTED = 200


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "message": problem.message,
        "sheet": problem.sheet,
        "row": problem.row,
        "column": problem.column,
        "field": problem.field,
        "where": problem.where(),
    }


@dataclass(frozen=True, slots=True)
class Rejection:
    """Where the job came from (an upload's bucket/key or a queue message id) and its problems."""

    origin: str  # "upload" | "queue"
    problems: Sequence[Problem]
    job_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    message_id: str | None = None
    details_key: str | None = None  # the full text in the data bucket (uploads)

    def to_json(self) -> dict[str, Any]:
        listed = list(self.problems)[:MAX_LISTED]
        return {
            "rejected": True,
            "origin": self.origin,
            "job_id": self.job_id,
            "bucket": self.bucket,
            "key": self.key,
            "message_id": self.message_id,
            "details_key": self.details_key,
            "problem_count": len(self.problems),
            "problems": [problem_json(p) for p in listed],
        }


class RejectionNotifier:
    """Publishes a rejection on the completion topic and as an EventBridge event."""

    def __init__(self, sns: Any, events: Any, topic_arn: str, event_bus: str = "default") -> None:
        self.sns = sns
        self.events = events
        self.topic_arn = topic_arn
        self.event_bus = event_bus

    def publish(self, rejection: Rejection) -> None:
        body = json.dumps(rejection.to_json())
        if self.topic_arn:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=SUBJECT,
                Message=body,
                # Subscribers may filter on it: completions carry no such attribute.
                MessageAttributes={"event": {"DataType": "String", "StringValue": "job_rejected"}},
            )
        response = self.events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": body,
                    "EventBusName": self.event_bus,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the rejection event: {response['Entries']}")
