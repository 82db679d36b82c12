"""LocalEngine with a fake dialer: cap, retries, one result per receiver, resume, cancellation."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.domain.call_flow import handle_flow_event
from backend.domain.job_state import JobState
from backend.domain.models import (
    CallingWindow,
    CallJob,
    CallResult,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.ports import ReportFiles
from backend.domain.session import CallSession
from backend.domain.weekdays import ALL_DAYS
from backend.local.calls import CallRequest, DialOutcome
from backend.local.engine import LocalEngine
from backend.local.lease import RunId
from backend.local.store import SqliteStore

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


@dataclass
class Script:
    """One attempt: pickup is answer | no_answer | busy | invalid | raise | crash."""

    pickup: str = "answer"
    turns: tuple[tuple[str | None, str | None], ...] = (("OkIntent", None), ("YesIntent", None))
    hang_up_after: int | None = None
    duration: float = 60.0
    turn_seconds: float = 0.0  # virtual time between flow events


@dataclass
class FakeDialer:
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    default: Script = field(default_factory=Script)
    calls: list[CallRequest] = field(default_factory=list)
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    store: SqliteStore | None = None

    def dial(self, request: CallRequest) -> DialOutcome:
        with self.lock:
            self.calls.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._dial(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _dial(self, request: CallRequest) -> DialOutcome:
        attempts = self.scripts.get(request.receiver.id, [self.default])
        script = attempts[min(request.attempt, len(attempts)) - 1]
        with self.lock:
            end = request.started_at + timedelta(seconds=script.duration)
            self.intervals.append((request.started_at, end))
        if script.pickup == "raise":
            raise RuntimeError("line dead")
        if script.pickup == "crash":
            raise Crash
        if script.pickup == "crash_after_greeting":  # picked up, then the process dies
            assert self.store is not None
            handle_flow_event(
                _event(request.call_id, {"event": "start"}), self.store, _NoCompletion()
            )
            raise Crash
        if script.pickup == "handler_error":  # the flow Lambda's store is down: flow hangs up
            response = handle_flow_event(
                _event(request.call_id, {"event": "start"}), _BrokenStore(), _NoCompletion()
            )
            assert response["action"] == "end"
            return DialOutcome(True, "CONTACT_FLOW_DISCONNECT", 3.0, [response["prompt"]])
        if script.pickup in ("no_answer", "busy", "invalid"):
            reason = {
                "no_answer": "TELECOM_UNANSWERED",
                "busy": "TELECOM_BUSY",
                "invalid": "TELECOM_NUMBER_INVALID",
            }[script.pickup]
            return DialOutcome(False, reason, script.duration)
        assert self.store is not None
        done = _NoCompletion()
        events = iter(range(1_000))

        def now() -> datetime:  # virtual time, as the simulator dialer stamps it
            return request.started_at + timedelta(seconds=next(events) * script.turn_seconds)

        response = handle_flow_event(
            _event(request.call_id, {"event": "start"}), self.store, done, now
        )
        lines = [response["prompt"]]
        for number, (intent, slot) in enumerate(script.turns):
            if script.hang_up_after is not None and number >= script.hang_up_after:
                return DialOutcome(True, "CUSTOMER_DISCONNECT", script.duration, lines)
            params = {"event": "answer", "intent": intent or "", "answer": slot or ""}
            response = handle_flow_event(_event(request.call_id, params), self.store, done, now)
            lines.append(response["prompt"])
            if response["action"] == "end":
                break
        return DialOutcome(True, "CONTACT_FLOW_DISCONNECT", script.duration, lines)


class _BrokenStore:
    def create(self, session: CallSession) -> None:
        raise OSError("table gone")

    def get(self, call_id: str) -> CallSession | None:
        raise OSError("table gone")

    def save(self, session: CallSession) -> None:
        raise OSError("table gone")


class _NoCompletion:
    def complete(self, session: CallSession, result: CallResult) -> None:
        return None


def _event(call_id: str, params: dict[str, str]) -> dict[str, object]:
    return {"Details": {"ContactData": {"Attributes": {"call_id": call_id}}, "Parameters": params}}


@dataclass
class Listener:
    started: int = 0
    results: list[CallResult] = field(default_factory=list)
    finished: list[tuple[Sequence[CallResult], ReportFiles]] = field(default_factory=list)
    on_each: object = None

    def on_job_started(self, job: CallJob) -> None:
        self.started += 1

    def on_result(self, job: CallJob, result: CallResult) -> None:
        self.results.append(result)
        if callable(self.on_each):
            self.on_each(result)

    def on_job_finished(
        self, job: CallJob, results: Sequence[CallResult], report: ReportFiles
    ) -> None:
        self.finished.append((results, report))


def make_job(n: int, **settings: object) -> CallJob:
    return CallJob(
        job_id="job-e",
        greeting="Hello {{ name }}",
        ending="Bye",
        questions=(
            Question(template="Did you get it?", type=QuestionType.OK),
            Question(template="Coming?", type=QuestionType.YES_NO),
        ),
        receivers=tuple(
            Receiver(id=f"r{i}", phone_number=f"+8529123{i:04d}", fields={"name": f"N{i}"})
            for i in range(n)
        ),
        extra_columns=("name",),
        settings=JobSettings(**settings),  # type: ignore[arg-type]
    )


def fake_report(job: CallJob, results: Sequence[CallResult], out: Path) -> ReportFiles:
    return ReportFiles.in_dir(out, job.job_id)


def engine_for(
    tmp_path: Path, dialer: FakeDialer, *listeners: Listener, db: str = "e.db", **kw: object
) -> LocalEngine:
    store = SqliteStore(tmp_path / db)
    dialer.store = store
    return LocalEngine(
        store,
        listeners=listeners,
        report_dir=tmp_path / "out",
        clock=lambda: T0,
        dialer=dialer,
        report_writer=fake_report,
        **kw,  # type: ignore[arg-type]
    )


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


def test_every_receiver_gets_one_completed_result(tmp_path: Path) -> None:
    listener = Listener()
    dialer = FakeDialer()
    engine = engine_for(tmp_path, dialer, listener)
    results = engine.run(make_job(5))
    assert [r.receiver_id for r in results] == [f"r{i}" for i in range(5)]
    assert {r.status for r in results} == {CallStatus.CALL_COMPLETED}
    assert all(r.answers == ("OK", "Yes") for r in results)
    assert all(r.call_at == T0 for r in results)
    assert all(r.duration_seconds == 60 for r in results)
    assert listener.started == 1
    assert sorted(r.receiver_id for r in listener.results) == [f"r{i}" for i in range(5)]
    assert len(listener.finished) == 1
    assert listener.finished[0][1].json.endswith("job-e.json")
    assert engine.store.job_row("job-e").status == JobState.FINISHED  # type: ignore[union-attr]


def test_concurrency_cap_is_never_exceeded_and_slots_stay_busy(tmp_path: Path) -> None:
    scripts = {f"r{i}": [Script(duration=30 + (i * 37) % 90)] for i in range(40)}
    dialer = FakeDialer(scripts=scripts)
    engine = engine_for(tmp_path, dialer, worker_threads=4)
    engine.run(make_job(40, concurrency=3))
    assert len(dialer.calls) == 40
    assert max_overlap(dialer.intervals) == 3
    assert dialer.max_in_flight <= 3
    assert engine.last_stats.max_concurrent == 3
    assert engine.last_stats.utilisation > 0.9


def test_concurrency_option_overrides_the_job(tmp_path: Path) -> None:
    dialer = FakeDialer()
    engine = engine_for(tmp_path, dialer, concurrency=2)
    engine.run(make_job(7, concurrency=50))
    assert max_overlap(dialer.intervals) == 2


def test_no_answer_and_busy_are_retried_after_the_delay(tmp_path: Path) -> None:
    scripts = {
        "r0": [Script("no_answer", duration=30), Script()],
        "r1": [Script("busy", duration=5)],
        "r2": [Script("invalid", duration=2)],
    }
    dialer = FakeDialer(scripts=scripts)
    engine = engine_for(tmp_path, dialer)
    results = {
        r.receiver_id: r for r in engine.run(make_job(3, max_attempts=3, retry_delay_seconds=600))
    }
    assert results["r0"].status is CallStatus.CALL_COMPLETED
    assert results["r0"].attempts == 2
    assert results["r1"].status is CallStatus.BUSY
    assert results["r1"].attempts == 3
    assert results["r2"].status is CallStatus.NOT_CALLABLE
    assert results["r2"].attempts == 1
    dialled = [(c.receiver.id, c.attempt) for c in dialer.calls]
    assert sorted(dialled) == [("r0", 1), ("r0", 2), ("r1", 1), ("r1", 2), ("r1", 3), ("r2", 1)]
    r0_second = next(c for c in dialer.calls if c.receiver.id == "r0" and c.attempt == 2)
    assert r0_second.started_at == T0 + timedelta(seconds=30 + 600)
    assert results["r0"].call_at == r0_second.started_at


def test_hang_up_midway_is_drop_call_with_partial_answers(tmp_path: Path) -> None:
    dialer = FakeDialer(scripts={"r0": [Script(hang_up_after=1)]})
    results = engine_for(tmp_path, dialer).run(make_job(1))
    assert results[0].status is CallStatus.DROP_CALL
    assert results[0].answers == ("OK", None)


def test_a_call_longer_than_the_timeout_is_cut(tmp_path: Path) -> None:
    dialer = FakeDialer(
        scripts={
            "r0": [Script(duration=500, turn_seconds=100)],  # answers at 100 s and 200 s
            "r1": [Script("no_answer", duration=400)],
        }
    )
    results = engine_for(tmp_path, dialer).run(
        make_job(2, call_timeout_seconds=120, max_attempts=1)
    )
    assert results[0].status is CallStatus.DROP_CALL
    assert results[0].error == "timed out after 120 s"
    assert results[0].answers == ("OK", None)  # the answer after the time-out is not kept
    assert results[0].duration_seconds == 120
    assert results[1].status is CallStatus.FAILED
    assert results[1].error == "timed out after 120 s, before the call was answered"


def test_dialer_failures_become_failed_results_never_lost(tmp_path: Path) -> None:
    scripts = {f"r{i}": [Script("raise")] for i in range(0, 10, 3)}
    listener = Listener()
    dialer = FakeDialer(scripts=scripts)
    results = engine_for(tmp_path, dialer, listener).run(make_job(10, concurrency=4))
    assert len(results) == 10
    assert len(listener.results) == 10
    failed = {r.receiver_id for r in results if r.status is CallStatus.FAILED}
    assert failed == {"r0", "r3", "r6", "r9"}
    assert all("line dead" in (r.error or "") for r in results if r.status is CallStatus.FAILED)


def test_a_broken_listener_does_not_stop_the_job(tmp_path: Path) -> None:
    def explode(result: CallResult) -> None:
        raise RuntimeError("slack down")

    listener = Listener(on_each=explode)
    results = engine_for(tmp_path, FakeDialer(), listener).run(make_job(4))
    assert len(results) == 4
    assert len(listener.results) == 4


def test_resume_after_a_crash_never_calls_anyone_twice(tmp_path: Path) -> None:
    # r3's first attempt dies mid-call (the process is killed) after r0..r2 have results.
    scripts = {"r3": [Script("crash"), Script()]}
    first_dialer = FakeDialer(scripts=scripts)
    first_listener = Listener()
    engine = engine_for(tmp_path, first_dialer, first_listener, concurrency=1)
    with pytest.raises(Crash):
        engine.run(make_job(6))
    assert [r.receiver_id for r in first_listener.results] == ["r0", "r1", "r2"]

    second_dialer = FakeDialer()
    second_listener = Listener()
    again = engine_for(tmp_path, second_dialer, second_listener, concurrency=1)
    results = again.run(make_job(6))
    dialled = [(c.receiver.id, c.attempt) for c in second_dialer.calls]
    # r3 was rung when the process died: its next attempt waits the retry delay, in virtual
    # time continued from the first run (r0..r2 took 60 s each, r3 was dialled at 180 s).
    assert dialled == [("r4", 1), ("r5", 1), ("r3", 2)]
    starts = {c.receiver.id: c.started_at for c in second_dialer.calls}
    assert starts["r4"] == T0 + timedelta(seconds=180)
    assert starts["r3"] >= T0 + timedelta(seconds=180 + 300)
    assert len(results) == 6
    assert {r.status for r in results} == {CallStatus.CALL_COMPLETED}
    assert next(r for r in results if r.receiver_id == "r3").attempts == 2
    assert sorted(r.receiver_id for r in second_listener.results) == [f"r{i}" for i in range(6)]
    attempts = again.store.attempts("job-e")
    r3 = [(a.attempt, a.outcome) for a in attempts if a.receiver_id == "r3"]
    assert r3 == [(1, CallStatus.FAILED), (2, CallStatus.CALL_COMPLETED)]

    # A third run calls nobody and returns the same results.
    third_dialer = FakeDialer()
    assert engine_for(tmp_path, third_dialer).run(make_job(6)) == results
    assert third_dialer.calls == []


def test_an_interrupted_last_attempt_is_final(tmp_path: Path) -> None:
    dialer = FakeDialer(scripts={"r0": [Script("crash")]})
    with pytest.raises(Crash):
        engine_for(tmp_path, dialer).run(make_job(1, max_attempts=1))
    second = FakeDialer()
    results = engine_for(tmp_path, second).run(make_job(1, max_attempts=1))
    assert second.calls == []
    assert results[0].status is CallStatus.FAILED
    assert results[0].error == "interrupted"


def test_cancel_ends_undialled_calls_as_cancelled(tmp_path: Path) -> None:
    dialer = FakeDialer()
    listener = Listener()
    engine = engine_for(tmp_path, dialer, listener, concurrency=2)
    listener.on_each = lambda result: engine.cancel("job-e", "teacher")
    results = engine.run(make_job(8))
    statuses = [r.status for r in results]
    assert statuses[:2] == [CallStatus.CALL_COMPLETED, CallStatus.CALL_COMPLETED]
    assert statuses[2:] == [CallStatus.CANCELLED] * 6
    assert len(dialer.calls) == 2
    assert len(listener.results) == 8
    assert engine.store.job_row("job-e").status == JobState.CANCELLED  # type: ignore[union-attr]
    assert engine.cancel("job-e") is False


def test_cancelled_retries_are_not_dialled(tmp_path: Path) -> None:
    dialer = FakeDialer(scripts={"r0": [Script("busy", duration=10)]})
    listener = Listener()
    engine = engine_for(tmp_path, dialer, listener, concurrency=2)
    listener.on_each = lambda result: engine.cancel("job-e")
    results = engine.run(make_job(2, max_attempts=3))
    # r0 was busy first and landed no final result; r1 finished and triggered the cancel
    assert len(dialer.calls) == 2
    assert results[0].status is CallStatus.CANCELLED
    assert results[0].attempts == 1


def test_calling_window_waits_in_virtual_time(tmp_path: Path) -> None:
    late = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 22:00 in Hong Kong
    dialer = FakeDialer()
    store = SqliteStore(tmp_path / "w.db")
    dialer.store = store
    engine = LocalEngine(store, report_dir=None, clock=lambda: late, dialer=dialer)
    job = make_job(2, calling_window=CallingWindow(start="08:00", end="21:00", days=ALL_DAYS))
    results = engine.run(job)
    opening = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert [r.call_at for r in results] == [opening, opening]


def test_submit_runs_in_the_background_once(tmp_path: Path) -> None:
    dialer = FakeDialer()
    listener = Listener()
    engine = engine_for(tmp_path, dialer, listener)
    job = make_job(3)
    assert engine.submit(job) is True
    assert engine.wait(job.job_id, timeout=30)
    assert engine.submit(job) is False
    assert len(listener.results) == 3
    assert len(dialer.calls) == 3


def test_store_keeps_exactly_one_final_result(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    run = RunId.this_process()
    job = make_job(1).model_copy(update={"job_id": "j"})
    store.upsert_job(job)
    store.acquire_lease("j", run)
    first = CallResult(job_id="j", receiver_id="r", status=CallStatus.BUSY)
    second = CallResult(job_id="j", receiver_id="r", status=CallStatus.CALL_COMPLETED)
    assert store.record_result(first, run) == (first, True)
    assert store.record_result(second, run) == (first, False)
    assert store.results("j") == [first]
    assert store.claim_attempt("j", "r", 1, "j:r:1", T0, run) is True
    assert store.claim_attempt("j", "r", 1, "j:r:1", T0, run) is False


def test_simulated_runs_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    from backend.local.simulator import random_people

    job = make_job(30, concurrency=4)

    def run_once(name: str) -> list[CallResult]:
        engine = LocalEngine(
            SqliteStore(tmp_path / name),
            lambda job: random_people(job, 42),
            report_dir=None,
            clock=lambda: T0,
            worker_threads=4,
        )
        results = engine.run(job)
        assert engine.store.transcripts(job.job_id, results[0].receiver_id)
        return results

    first, second = run_once("a.db"), run_once("b.db")
    assert first == second
    assert len({r.receiver_id for r in first}) == 30
    assert CallStatus.CALL_COMPLETED in {r.status for r in first}


def test_flow_handler_failures_still_give_one_result_each(tmp_path: Path) -> None:
    scripts = {"r1": [Script("handler_error")], "r2": [Script("handler_error")]}
    listener = Listener()
    results = engine_for(tmp_path, FakeDialer(scripts=scripts), listener).run(make_job(4))
    # picked up, heard "sorry ... we will try again later", answered nothing: NoHuman (retried)
    assert [r.status for r in results] == [
        CallStatus.CALL_COMPLETED,
        CallStatus.NO_HUMAN,
        CallStatus.NO_HUMAN,
        CallStatus.CALL_COMPLETED,
    ]
    assert results[1].error == "disconnected: CONTACT_FLOW_DISCONNECT"
    assert results[1].answers == ()
    assert len(listener.results) == 4


# --- one run owns a job; dials are facts; the clock survives a resume --------------------------


@dataclass
class BlockingDialer(FakeDialer):
    """Holds every call of `receiver` until `release` is set (a run stuck mid-call)."""

    receiver: str = "r0"
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def _dial(self, request: CallRequest) -> DialOutcome:
        if request.receiver.id == self.receiver:
            self.entered.set()
            assert self.release.wait(30)
        return super()._dial(request)


def _background(engine: LocalEngine, job: CallJob) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(engine.run(job))
        except BaseException as error:  # recorded for the test to look at
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_a_second_run_of_a_running_job_refuses_naming_the_first(tmp_path: Path) -> None:
    import os
    import socket

    from backend.local.lease import JobBusy

    blocking = BlockingDialer()
    first = engine_for(tmp_path, blocking)
    thread, outcome = _background(first, make_job(3))
    assert blocking.entered.wait(30)
    second_dialer = FakeDialer()
    second = engine_for(tmp_path, second_dialer)
    with pytest.raises(JobBusy) as refused:
        second.run(make_job(3))
    assert f"pid {os.getpid()} on {socket.gethostname()}" in str(refused.value)
    assert second_dialer.calls == []
    blocking.release.set()
    thread.join(30)
    assert [r.status for r in outcome[0]] == [CallStatus.CALL_COMPLETED] * 3  # type: ignore[union-attr]


def test_a_stale_run_is_taken_over_and_then_writes_nothing(tmp_path: Path) -> None:
    """Run A stops heartbeating mid-call (Ctrl-Z); run B takes the job over; A wakes up."""
    from backend.local.lease import LeaseLost

    blocking = BlockingDialer()
    stale = Listener()
    first = engine_for(tmp_path, blocking, stale, heartbeat_seconds=3600, concurrency=1)
    thread, outcome = _background(first, make_job(3, max_attempts=1))
    assert blocking.entered.wait(30)
    time.sleep(0.3)
    second_dialer = FakeDialer()
    second = engine_for(tmp_path, second_dialer, lease_stale_seconds=0.2, concurrency=1)
    results = second.run(make_job(3, max_attempts=1))
    # r0 was rung by A and is never rung again: its attempt is A's, cut by the takeover.
    assert [(c.receiver.id, c.attempt) for c in second_dialer.calls] == [("r1", 1), ("r2", 1)]
    assert results[0].error == "interrupted"
    before = second.store.attempts("job-e")

    blocking.release.set()
    thread.join(30)
    assert isinstance(outcome[0], LeaseLost)
    assert stale.results == []  # A announced nothing
    assert second.store.attempts("job-e") == before  # and overwrote nothing
    assert sorted(second.store.results("job-e"), key=lambda r: r.receiver_id) == results


def test_a_claim_never_dialled_does_not_use_up_an_attempt(tmp_path: Path) -> None:
    def die_before_dialling(request: CallRequest) -> CallResult | None:
        if request.receiver.id == "r1":
            raise Crash
        return None

    first = engine_for(tmp_path, FakeDialer(), concurrency=1, guards=[die_before_dialling])
    with pytest.raises(Crash):
        first.run(make_job(3, max_attempts=1))
    claimed = [(a.receiver_id, a.attempt, a.dialled_at) for a in first.store.attempts("job-e")]
    assert claimed == [("r0", 1, T0.isoformat()), ("r1", 1, None)]

    second_dialer = FakeDialer()
    results = engine_for(tmp_path, second_dialer, concurrency=1).run(make_job(3, max_attempts=1))
    assert [(c.receiver.id, c.attempt) for c in second_dialer.calls] == [("r1", 1), ("r2", 1)]
    assert [r.status for r in results] == [CallStatus.CALL_COMPLETED] * 3
    with sqlite3.connect(tmp_path / "e.db") as conn:
        dials = conn.execute(
            "SELECT receiver_id, COUNT(*) FROM dials GROUP BY receiver_id ORDER BY receiver_id"
        ).fetchall()
    assert dials == [("r0", 1), ("r1", 1), ("r2", 1)]


def test_a_dial_guard_ends_the_attempt_without_a_call(tmp_path: Path) -> None:
    def do_not_call(request: CallRequest) -> CallResult | None:
        if request.receiver.id != "r1":
            return None
        return CallResult(
            job_id=request.job.job_id,
            receiver_id="r1",
            status=CallStatus.NOT_CALLABLE,
            error="on the do-not-call list",
            attempts=request.attempt,
        )

    dialer = FakeDialer()
    engine = engine_for(tmp_path, dialer, guards=[do_not_call])
    results = engine.run(make_job(3))
    assert sorted(c.receiver.id for c in dialer.calls) == ["r0", "r2"]
    assert results[1].status is CallStatus.NOT_CALLABLE
    assert [d.receiver_id for d in engine.store.dials("job-e")] == ["r0", "r2"]


def test_resume_keeps_retry_delays_and_time_order(tmp_path: Path) -> None:
    # r0 does not answer (30 s); r1 and r2 take 100 s; r3 crashes the process at 200 s.
    scripts = {
        "r0": [Script("no_answer", duration=30), Script()],
        "r1": [Script(duration=100)],
        "r2": [Script(duration=100)],
        "r3": [Script("crash")],
    }
    first = FakeDialer(scripts=scripts)
    with pytest.raises(Crash):
        engine_for(tmp_path, first, concurrency=1).run(make_job(5, retry_delay_seconds=600))
    assert [c.started_at for c in first.calls] == [
        T0,
        T0 + timedelta(seconds=30),
        T0 + timedelta(seconds=130),
        T0 + timedelta(seconds=230),
    ]
    second = FakeDialer()
    engine_for(tmp_path, second, concurrency=1).run(make_job(5, retry_delay_seconds=600))
    starts = {(c.receiver.id, c.attempt): c.started_at for c in second.calls}
    # r4 goes on from where the clock stopped (never before r3's dial), and r0's retry waits
    # its delay after its first attempt ended, not "now".
    assert starts[("r4", 1)] == T0 + timedelta(seconds=230)
    assert starts[("r0", 2)] == T0 + timedelta(seconds=30 + 600)
    assert min(starts.values()) >= max(c.started_at for c in first.calls)


def test_store_errors_name_the_file_and_what_to_do(tmp_path: Path) -> None:
    from backend.local.store import StoreError

    text = tmp_path / "notes.db"
    text.write_text("this is not a database, just some text " * 100)
    with pytest.raises(StoreError) as error:
        SqliteStore(text).jobs()
    assert str(text) in str(error.value)
    assert "--db" in str(error.value)
    for message, words in (
        ("attempt to write a readonly database", "is read-only"),
        ("database or disk is full", "is full: free some space"),
        ("database is locked", "is locked"),
    ):
        explained = str(StoreError(text, sqlite3.OperationalError(message)))
        assert f"job database {text} {words}" in explained


def test_a_call_cut_by_a_crash_before_any_answer_is_retried_as_no_human(tmp_path: Path) -> None:
    dialer = FakeDialer(scripts={"r0": [Script("crash_after_greeting"), Script()]})
    with pytest.raises(Crash):
        engine_for(tmp_path, dialer).run(make_job(1, max_attempts=2))
    second = FakeDialer()
    engine = engine_for(tmp_path, second)
    results = engine.run(make_job(1, max_attempts=2))
    assert [(c.receiver.id, c.attempt) for c in second.calls] == [("r0", 2)]
    assert results[0].status is CallStatus.CALL_COMPLETED
    first = engine.store.attempts("job-e")[0]
    assert (first.outcome, first.result and first.result.error) == (
        CallStatus.NO_HUMAN,
        "interrupted",
    )
