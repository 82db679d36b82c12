"""A "Call me first" test call on the phone simulator: the real flow, nothing stored.

The session lives in memory only (`MemorySessions`), so the job database never sees the call:
no attempt, no dial fact, no result, no transcript, no daily-cap count. A "stop" said in the
call still reaches the do-not-call list (`opt_outs`), as in any call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from backend.domain.call_flow import OptOutList
from backend.domain.call_me_first import CallTestOutcome, new_test_id, session_for_test
from backend.domain.call_time import call_timeout
from backend.domain.models import CallJob, CallResult
from backend.domain.record_json import dumps
from backend.domain.session import CallSession, StaleSession
from backend.local.calls import CallRequest


class MemorySessions:
    """`SessionStore` in a dict: for a call whose session must not outlive it."""

    def __init__(self) -> None:
        self._sessions: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, session: CallSession) -> None:
        with self._lock:
            if session.call_id in self._sessions:
                raise StaleSession(session.call_id)
            self._sessions[session.call_id] = dumps(session.to_json())

    def get(self, call_id: str) -> CallSession | None:
        with self._lock:
            data = self._sessions.get(call_id)
        return CallSession.from_json(data) if data is not None else None

    def save(self, session: CallSession) -> None:
        with self._lock:
            stored = self._sessions.get(session.call_id)
            if stored is None or CallSession.from_json(stored).version != session.version:
                raise StaleSession(session.call_id)
            session.version += 1
            self._sessions[session.call_id] = dumps(session.to_json())


@dataclass(frozen=True)
class SimulatedTestCall:
    outcome: CallTestOutcome
    transcript: tuple[Any, ...]  # simulator TranscriptLine: speaker, text, intent, answer


def simulate_test_call(
    job: CallJob,
    to: str,
    person: Any,
    now: datetime,
    *,
    opt_outs: OptOutList | None = None,
    number_key: str | None = None,
) -> SimulatedTestCall:
    """Play one test call to `to` with person #1's prompts, answered by simulated `person`."""
    from backend.local.dialer import SimulatorDialer
    from backend.local.engine import LocalEngine

    session = session_for_test(job, to, new_test_id(), now, number_key=number_key)
    store = MemorySessions()
    store.create(session)
    receiver = job.receivers[0].model_copy(update={"phone_number": to})
    dialer = SimulatorDialer(store, {receiver.id: [person]}, opt_outs=opt_outs)
    outcome = dialer.dial(CallRequest(job, receiver, 1, session.call_id, now))
    ended = store.get(session.call_id)
    assert ended is not None
    result: CallResult = LocalEngine.ended(ended, outcome, now, float(call_timeout(job)))
    result = replace(result, duration_seconds=outcome.duration_seconds)
    return SimulatedTestCall(CallTestOutcome.of(ended, result, to), tuple(outcome.transcript))
