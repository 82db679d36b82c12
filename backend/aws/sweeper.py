"""Backstops for the call path, run on a schedule and when a call task times out.

- `CallSweeper.sweep`: a finished session whose result never reached its task is sent again
  (the results table keeps the first one written); a line lease whose call is over in Connect
  (its DISCONNECTED event was lost) or that outlived any call is given back, and so, within
  minutes, is a lease whose dialer died before dialling (no call was or will be made under it);
  a test call not finished by its deadline is ended and told (`TestCallBackstop`).
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
from backend.aws.lines import DIAL_GRACE_SECONDS, Lease, LineLeases
from backend.aws.sessions import DynamoSessionStore
from backend.aws.test_call_outcomes import TestCallBackstop
from backend.domain.models import CallResult, CallStatus
from backend.domain.session import CallCompletion, StaleSession, call_id_for

log = logging.getLogger(__name__)

RESEND_AFTER_SECONDS = 120  # the flow and the DISCONNECTED handler had their chance
LEASE_CHECK_AFTER_SECONDS = 300  # a lease this old asks Connect whether its call is over
# Longer than any call (call_timeout_seconds <= 3600): the backstop for a lease that may stand
# for a call whose contact id was never learnt (a dialer that died during the Connect request).
LEASE_MAX_SECONDS = 2 * 3600


@dataclass
class CallSweeper:
    sessions: DynamoSessionStore
    lines: LineLeases
    completion: CallCompletion
    connect: ConnectDialer
    now: Callable[[], float] = field(default=time.time)
    tests: TestCallBackstop | None = None  # Call me first: test calls whose end never came

    def sweep(self) -> dict[str, int]:
        swept = {"resent": self.resend(), "released": self.reclaim()}
        if self.tests is not None:
            swept["tests_ended"] = self.tests.expire(self.now())
        return swept

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
        for lease in self.lines.held_since_before(now - DIAL_GRACE_SECONDS):
            if lease.contact_id is None:
                # The index projects no `until`/`dialling`: read the lease itself.
                lease = self.lines.lease(lease.call_id) or lease
            if self._undialled(lease, now) and self.lines.release_undialled(lease.call_id, now):
                log.warning(
                    "call %s: line reclaimed (its dialer died before dialling)", lease.call_id
                )
                released += 1
                continue
            over = now - lease.since > LEASE_MAX_SECONDS
            if not over and lease.contact_id and now - lease.since > LEASE_CHECK_AFTER_SECONDS:
                over = self._contact_ended(lease.contact_id)
            if over and self.lines.release(lease.call_id):
                log.warning("call %s: line reclaimed (no DISCONNECTED seen)", lease.call_id)
                released += 1
        return released

    @staticmethod
    def _undialled(lease: Lease, now: int) -> bool:
        """No Connect request was or will be made under this lease (lines.py, `fence`)."""
        return (
            not lease.dialling
            and lease.contact_id is None
            and lease.until is not None
            and lease.until < now
        )

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
