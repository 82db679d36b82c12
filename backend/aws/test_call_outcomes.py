"""Call me first on AWS, the end of a test call: record its outcome, tell the requester.

Light on purpose: the contact flow's Lambda builds `TestCallCompletion` when a test call's
session ends (backend/aws/completion.py, `RoutedCompletion`). See backend/aws/test_calls.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.aws.sessions import DynamoSessionStore
from backend.domain.call_me_first import TEST_CALL_PREFIX, CallTestOutcome
from backend.domain.models import CallResult
from backend.domain.session import CallSession

SOURCE = "callouts"
FINISHED = "Callout Test Call Finished"
INFO_PREFIX = "test-info#"
RECORD_TTL_SECONDS = 2 * 24 * 3600


class TestCallRecords:
    """The test's record in the sessions table: who asked, where to answer, the outcome."""

    __test__ = False

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def _key(self, test_id: str) -> dict[str, Any]:
        return {"call_id": {"S": INFO_PREFIX + test_id}}

    def create(
        self,
        test_id: str,
        job_id: str,
        masked_to: str,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
    ) -> None:
        item: dict[str, Any] = {
            **self._key(test_id),
            "job_id": {"S": job_id},
            "masked_to": {"S": masked_to},
            "expires_at": {"N": str(int(time.time()) + RECORD_TTL_SECONDS)},
        }
        if origin is not None:
            item["origin"] = {"S": json.dumps(origin)}
        if requested_by:
            item["requested_by"] = {"S": requested_by}
        self.db.put_item(TableName=self.table, Item=item)

    def get(self, test_id: str) -> dict[str, Any]:
        item = self.db.get_item(
            TableName=self.table, Key=self._key(test_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return {}
        found: dict[str, Any] = {name: value.get("S") for name, value in item.items()}
        found["origin"] = json.loads(found["origin"]) if found.get("origin") else None
        return found

    def finish(self, test_id: str, outcome: CallTestOutcome) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=self._key(test_id),
            UpdateExpression="SET #s = :s, outcome = :o",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": outcome.result.status.value},
                ":o": {"S": json.dumps(outcome.result.to_json())},
            },
        )


@dataclass
class TestCallAnnouncer:
    """Puts "Callout Test Call Finished" on the event bus (the chat notifier listens)."""

    __test__ = False
    events: Any
    bus: str = "default"

    def announce(self, outcome: CallTestOutcome, record: Mapping[str, Any]) -> None:
        """The call ended: its status, answers and summary, for the requester at `origin`."""
        result = outcome.result
        self._put(
            {
                "test_id": outcome.test_id,
                "job_id": outcome.job_id,
                "masked_to": outcome.masked_to,
                "status": result.status.value,
                "answers": list(result.answers),
                "error": result.error,
                "duration_seconds": result.duration_seconds,
                "summary": outcome.summary(),
                "origin": record.get("origin"),
                "requested_by": record.get("requested_by"),
            }
        )

    def refuse(
        self,
        test_id: str,
        job_id: str | None,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        why: str,
    ) -> None:
        """No call was placed (bad number, do-not-call list, bad job): say why."""
        self._put(
            {
                "test_id": test_id,
                "job_id": job_id,
                "status": "Refused",
                "summary": f"Test call not placed: {why}",
                "refused": why,
                "origin": dict(origin) if origin is not None else None,
                "requested_by": requested_by,
            }
        )

    def _put(self, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": FINISHED,
            "Detail": json.dumps({"test": True, **detail}),
            "EventBusName": self.bus,
        }
        response = self.events.put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"the test-call event was not put: {response.get('Entries')}")


@dataclass
class TestCallCompletion:
    """`CallCompletion` of test sessions: record the outcome, announce it, mark it sent.

    An announcement that fails raises and leaves the session unsent: the DISCONNECTED handler
    and the sweeper complete it again (the requester may then hear it twice, never not at all).
    """

    __test__ = False
    sessions: DynamoSessionStore
    records: TestCallRecords
    announcer: TestCallAnnouncer

    def complete(self, session: CallSession, result: CallResult) -> None:
        test_id = session.call_id.removeprefix(TEST_CALL_PREFIX)
        record = self.records.get(test_id)
        outcome = CallTestOutcome(
            job_id=session.job_id,
            test_id=test_id,
            masked_to=str(record.get("masked_to") or "your number"),
            result=result,
        )
        self.records.finish(test_id, outcome)
        self.announcer.announce(outcome, record)
        self.sessions.mark_sent(session.call_id)
