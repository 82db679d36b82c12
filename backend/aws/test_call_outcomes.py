"""Call me first on AWS, the end of a test call: record its outcome, tell the requester.

Light on purpose: the contact flow's Lambda builds `TestCallCompletion` when a test call's
session ends (backend/aws/completion.py, `RoutedCompletion`). See backend/aws/test_calls.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.sessions import DynamoSessionStore
from backend.domain.call_me_first import TEST_CALL_PREFIX, CallTestOutcome, call_id_for_test
from backend.domain.results import CallResult
from backend.domain.session import CallCompletion, CallSession, StaleSession

log = logging.getLogger(__name__)

SOURCE = "callouts"
FINISHED = "Callout Test Call Finished"
INFO_PREFIX = "test-info#"
SWEEP_TEST = "test"  # a test record awaiting its outcome, in the sessions table's `sweep` index
RECORD_TTL_SECONDS = 2 * 24 * 3600


class TestCallRecords:
    """The test's record in the sessions table: who asked, where to answer, the outcome."""

    __test__ = False

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    def _key(self, test_id: str) -> dict[str, Any]:
        return {"call_id": {"S": INFO_PREFIX + test_id}}

    def open(
        self,
        test_id: str,
        job_id: str,
        masked_to: str,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        *,
        now: int,
        deadline: int,
    ) -> int:
        """Write the record once (a redelivery keeps the first) and return when the test was
        first taken by the dialer. Until it is finished, the record is in the `sweep` index
        (`sweep = "test"`, `since` = its deadline) for the sweeper's backstop."""
        item: dict[str, Any] = {
            **self._key(test_id),
            "job_id": {"S": job_id},
            "masked_to": {"S": masked_to},
            "requested_at": {"N": str(now)},
            "sweep": {"S": SWEEP_TEST},
            "since": {"N": str(deadline)},
            "expires_at": {"N": str(now + RECORD_TTL_SECONDS)},
        }
        if origin is not None:
            item["origin"] = {"S": json.dumps(origin)}
        if requested_by:
            item["requested_by"] = {"S": requested_by}
        try:
            self.db.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(call_id)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            found = self.db.get_item(
                TableName=self.table, Key=self._key(test_id), ConsistentRead=True
            ).get("Item", {})
            return int(found.get("requested_at", {}).get("N", now))
        return now

    def overdue(self, now: int) -> list[str]:
        """Tests not finished by their deadline (the test ids)."""
        found: list[str] = []
        paginator = self.db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName="sweep",
            KeyConditionExpression="sweep = :k AND since < :c",
            ExpressionAttributeValues={":k": {"S": SWEEP_TEST}, ":c": {"N": str(now)}},
        ):
            found.extend(item["call_id"]["S"][len(INFO_PREFIX) :] for item in page["Items"])
        return found

    def close(self, test_id: str) -> None:
        """Out of the backstop's sight (its outcome was told)."""
        self.db.update_item(
            TableName=self.table, Key=self._key(test_id), UpdateExpression="REMOVE sweep, since"
        )

    def get(self, test_id: str) -> dict[str, Any]:
        item = self.db.get_item(
            TableName=self.table, Key=self._key(test_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return {}
        found: dict[str, Any] = {
            name: value.get("S") for name, value in item.items() if "S" in value
        }
        found["origin"] = json.loads(found["origin"]) if found.get("origin") else None
        return found

    def finish(self, test_id: str, outcome: CallTestOutcome) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=self._key(test_id),
            UpdateExpression="SET #s = :s, outcome = :o REMOVE sweep, since",
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


@dataclass
class TestCallBackstop:
    """The sweeper's part: a test call not finished by its deadline is ended and told.

    There is no Step Functions task (and so no task timeout) behind a test call: if Connect
    never reports the end, this is what tells the requester. The session ends by the domain's
    one time-out rule (`CallSession.timed_out`: answers kept, `Failed` if never answered), saved
    conditionally, so a flow or DISCONNECTED that ends it at the same moment wins and only one
    outcome is announced. A test whose call was never placed (no session) is announced as not
    placed: the dialer itself gives up waiting for a line well before the deadline.
    """

    __test__ = False
    sessions: DynamoSessionStore
    records: TestCallRecords
    announcer: TestCallAnnouncer
    completion: CallCompletion  # routed: a test session's result reaches TestCallCompletion

    def expire(self, now: float) -> int:
        """End every overdue test call; how many were told."""
        told = 0
        for test_id in self.records.overdue(int(now)):
            session, delivered = self.sessions.load(call_id_for_test(test_id))
            if delivered:
                self.records.close(test_id)  # told already; the index lagged
                continue
            if session is None:
                record = self.records.get(test_id)
                why = "the call could not be placed in time; try again later"
                by = record.get("requested_by")
                self.announcer.refuse(test_id, record.get("job_id"), record.get("origin"), by, why)
                self.records.close(test_id)
            else:
                result = session.result
                if result is None:
                    result = session.timed_out(datetime.fromtimestamp(now, UTC))
                    try:
                        self.sessions.save(session)
                    except StaleSession:
                        continue  # the flow or the disconnect moved on: the next sweep sees it
                self.completion.complete(session, result)
            log.warning("test call %s: no end reported by its deadline, ended", test_id)
            told += 1
        return told
