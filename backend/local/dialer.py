"""The local "dialer": runs one call on the phone simulator, through the real contact flow and
the real flow Lambda logic (`call_flow.handle_flow_event`) against the SQLite session store.

The only contact attribute is the call id, as on Amazon Connect. People come from a
`PeopleSource`: a mapping receiver id -> simulated person per attempt (`load_answers_csv`), or a
callable taking the job (`random_people`). Attempt k uses the k-th person, or the last one when
the list is shorter; a receiver nobody scripted does not answer. Relative dates ("tomorrow") are
resolved against `reference_date`, by default the virtual date of the first call.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from backend.domain.call_flow import OptOutList, handle_flow_event
from backend.domain.models import CallResult
from backend.domain.session import CallSession, SessionStore
from backend.local.calls import CallRequest, DialOutcome, PeopleSource, people_for


class _EngineCompletion:
    """Locally the engine reads the finished session after the call: nothing to send."""

    def complete(self, session: CallSession, result: CallResult) -> None:
        return None


class SimulatorDialer:
    """`engine.Dialer` backed by `backend.local.simulator.PhoneSimulator`."""

    def __init__(
        self,
        store: SessionStore,
        people: PeopleSource,
        *,
        flow_path: Path | None = None,
        bots_dir: Path | None = None,
        reference_date: date | None = None,
        opt_outs: OptOutList | None = None,
    ) -> None:
        self.store = store
        self.opt_outs = opt_outs  # the do-not-call list an opt-out in a call goes on
        self.people = people
        self.flow_path = flow_path
        self.bots_dir = bots_dir
        self.reference_date = reference_date
        self._local = threading.local()
        self._people: dict[str, Mapping[str, Sequence[Any]]] = {}
        self._lock = threading.Lock()
        self._shared: tuple[Any, Any] | None = None

    def _flow_and_bots(self, today: date) -> tuple[Any, Any]:
        with self._lock:
            if self._shared is None:
                reference = self.reference_date or today
                from backend.flows import OUTBOUND_CALL_FLOW, load_flow
                from backend.local.simulator import BotLibrary

                flow = load_flow(self.flow_path or OUTBOUND_CALL_FLOW)
                bots = (
                    BotLibrary.load(self.bots_dir, reference)
                    if self.bots_dir
                    else BotLibrary.load(reference_date=reference)
                )
                self._shared = (flow, bots)
            return self._shared

    def _simulator(self, today: date) -> Any:
        simulator = getattr(self._local, "simulator", None)
        if simulator is None:
            from backend.flows import CALL_FLOW_FUNCTION
            from backend.local.simulator import PhoneSimulator

            flow, bots = self._flow_and_bots(today)
            completion = _EngineCompletion()
            store = self.store
            opt_outs = self.opt_outs
            local = self._local

            def virtual_now() -> datetime:  # call start + the simulated time spent so far
                started: datetime = local.started_at
                return started + timedelta(seconds=local.simulator.elapsed_seconds)

            def call_flow_function(event: dict[str, Any], context: object) -> dict[str, str]:
                return handle_flow_event(
                    event, store, completion, now=virtual_now, opt_outs=opt_outs
                )

            simulator = PhoneSimulator(flow, bots, {CALL_FLOW_FUNCTION: call_flow_function})
            self._local.simulator = simulator
        return simulator

    def person_for(self, request: CallRequest) -> Any:
        job_id = request.job.job_id
        with self._lock:
            people = self._people.get(job_id)
            if people is None:
                people = people_for(self.people, request.job)
                self._people[job_id] = people
        from backend.local.simulator import person_for

        return person_for(people, request.receiver.id, request.attempt)

    def dial(self, request: CallRequest) -> DialOutcome:
        person = self.person_for(request)
        self._local.started_at = request.started_at  # session times in virtual time
        outcome = self._simulator(request.started_at.date()).call(
            request.call_id, {"call_id": request.call_id}, person
        )
        return DialOutcome(
            connected=bool(outcome.connected),
            disconnect_reason=str(outcome.disconnect_reason),
            duration_seconds=float(outcome.duration_seconds),
            transcript=tuple(outcome.transcript),
        )
