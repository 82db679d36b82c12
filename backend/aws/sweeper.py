"""Backstops for the call path, run on a schedule and when a call task times out.

- `CallSweeper.sweep`: a finished session whose result never reached its task is sent again
  (the results table keeps the first one written); a line lease whose call is over in Connect
  (its DISCONNECTED event was lost) or that outlived any call is given back.
- `CallTimeouts.resolve`: the Dial task's heartbeat expired (the call outlived its task): the
  session ends as a time-out with what was answered, and that is the task's result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.connect import ConnectDialer
from backend.aws.lines import LineLeases
from backend.aws.sessions import DynamoSessionStore
from backend.domain.models import CallResult, CallStatus
from backend.domain.session import CallCompletion, StaleSession, call_id_for

log = logging.getLogger(__name__)

RESEND_AFTER_SECONDS = 120  # the flow and the DISCONNECTED handler had their chance
LEASE_CHECK_AFTER_SECONDS = 300  # a lease this old asks Connect whether its call is over
LEASE_MAX_SECONDS = 2 * 3600  # longer than any call (call_timeout_seconds <= 3600)


@dataclass
class CallSweeper:
    sessions: DynamoSessionStore
    lines: LineLeases
    completion: CallCompletion
    connect: ConnectDialer
    now: Callable[[], float] = field(default=time.time)

    def sweep(self) -> dict[str, int]:
        return {"resent": self.resend(), "released": self.reclaim()}

    def resend(self) -> int:
        sent = 0
        for call_id in self.sessions.unsent_before(int(self.now()) - RESEND_AFTER_SECONDS):
            session, delivered = self.sessions.load(call_id)
            if session is None or session.result is None or delivered:
                continue  # the index lags the table
            log.warning("call %s: sending its undelivered result again", call_id)
            self.completion.complete(session, session.result)
            sent += 1
        return sent

    def reclaim(self) -> int:
        released = 0
        now = int(self.now())
        for lease in self.lines.held_since_before(now - LEASE_CHECK_AFTER_SECONDS):
            over = now - lease.since > LEASE_MAX_SECONDS
            if not over and lease.contact_id:
                over = self._contact_ended(lease.contact_id)
            if over and self.lines.release(lease.call_id):
                log.warning("call %s: line reclaimed (no DISCONNECTED seen)", lease.call_id)
                released += 1
        return released

    def _contact_ended(self, contact_id: str) -> bool:
        try:
            return self.connect.has_ended(contact_id)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return True
            raise


@dataclass
class CallTimeouts:
    sessions: DynamoSessionStore
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def resolve(self, event: dict[str, Any]) -> dict[str, Any]:
        """`{"result": ...}` for a call whose Dial task timed out (the state machine saves it)."""
        job_id, receiver_id = str(event["job_id"]), str(event["receiver_id"])
        attempt, limit = int(event["attempt"]), int(event.get("call_timeout_seconds", 0))
        call_id = call_id_for(job_id, receiver_id, attempt)
        error = f"no result before the call timeout ({limit} s)"
        for _ in range(3):
            session, _sent = self.sessions.load(call_id)
            if session is None:  # never dialled
                never = CallResult(
                    job_id=job_id,
                    receiver_id=receiver_id,
                    status=CallStatus.FAILED,
                    error=error,
                    call_at=self.clock(),
                    attempts=attempt,
                )
                return {"result": never.to_json()}
            result = session.result
            if result is None:
                # The domain's one time-out rule: the answers given are kept (DropCall).
                result = session.timed_out(self.clock())
                try:
                    self.sessions.save(session)
                except StaleSession:
                    continue  # the flow or the disconnect moved on: read again
            self.sessions.mark_sent(call_id)  # the state machine takes it from this answer
            return {"result": result.to_json()}
        raise StaleSession(call_id)
