"""The local engine: runs a call job with the AWS state machine's semantics, in virtual time.

A discrete-event scheduler: each call occupies one of `cap` slots for its *simulated* duration
(never slept); a heap of call-end events advances a virtual clock. Calls that start at the same
virtual instant run together on a thread pool. Per receiver:

- calling hours and the deadline are checked in virtual time (`calling_rules.next_call_time`): a
  receiver outside their hours waits (virtual time jumps to the opening, nothing spins), and one
  still waiting or unreached at the deadline (`deadline_hours` after this run's start) ends as
  `Expired`;
- each attempt is claimed in SQLite before dialing (never dialled twice), then dialled;
- a call longer than `call_timeout_seconds` is cut: `DropCall` "timeout" if the person answered
  (answers so far kept), `Failed` "timeout" if not;
- `NoAnswer`/`Busy` are tried again `retry_delay_seconds` later, up to `max_attempts`;
- a dialer exception is a `Failed` result for that attempt, never a lost receiver;
- exactly one final result per receiver is written, and listeners hear of it once.

Cancellation: receivers not yet dialled (or waiting for a retry) end as `Cancelled`; calls in
flight finish and are not retried.

Resume (same job id, same SQLite file): receivers with a final result are not called again (their
results are replayed to the listeners); an attempt claimed without an outcome (a crash mid-call)
is never re-dialled: it becomes that attempt's outcome from its session (the flow's result if it
finished, `DropCall` "interrupted" if the person had answered, else `Failed` "interrupted"), and
a new attempt follows, at once, if attempts remain and the person was not reached.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from backend.domain.attempts import retry_delay, should_retry
from backend.domain.calling_rules import Expired, deadline, next_call_time
from backend.domain.models import CallJob, CallResult, CallStatus, Receiver
from backend.domain.ports import ReportFiles, ResultListener
from backend.domain.session import CallSession
from backend.local.store import AttemptRow, SqliteStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One attempt to dial: the session (with its call id) is already in the store."""

    job: CallJob
    receiver: Receiver
    attempt: int
    call_id: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class DialOutcome:
    """How a (simulated) call ended; `duration_seconds` is simulated time."""

    connected: bool
    disconnect_reason: str
    duration_seconds: float
    transcript: Sequence[Any] = ()


class Dialer(Protocol):
    """Places one call and returns when it has ended (in simulated time)."""

    def dial(self, request: CallRequest) -> DialOutcome: ...


ReportWriter = Callable[[CallJob, Sequence[CallResult], Path], ReportFiles]
PeopleSource = Any  # Mapping[str, Sequence[SimulatedPerson]] or Callable[[CallJob], that mapping]


def _default_report_writer(
    job: CallJob, results: Sequence[CallResult], out_dir: Path
) -> ReportFiles:
    from backend.domain.report import write_report

    return write_report(job, results, out_dir)


@dataclass(order=True)
class _Pending:
    ready_at: float
    order: int
    receiver_id: str = field(compare=False)
    attempt: int = field(compare=False)


@dataclass(order=True)
class _Running:
    ends_at: float
    order: int
    receiver_id: str = field(compare=False)
    attempt: int = field(compare=False)
    result: CallResult = field(compare=False)
    call_id: str = field(compare=False)
    busy_seconds: float = field(compare=False)


@dataclass
class RunStats:
    """Virtual-time figures of the last run (bench and tests)."""

    calls: int = 0
    makespan_seconds: float = 0.0
    busy_slot_seconds: float = 0.0
    max_concurrent: int = 0
    cap: int = 0

    @property
    def utilisation(self) -> float:
        if self.makespan_seconds <= 0 or self.cap <= 0:
            return 0.0
        return self.busy_slot_seconds / (self.cap * self.makespan_seconds)


class LocalEngine:
    """Runs jobs on this machine; implements `ports.JobSubmitter`."""

    def __init__(
        self,
        store: SqliteStore,
        people: PeopleSource = None,
        listeners: Sequence[ResultListener] = (),
        report_dir: Path | None = Path("out"),
        clock: Clock = utc_now,
        *,
        dialer: Dialer | None = None,
        concurrency: int | None = None,
        worker_threads: int = 8,
        report_writer: ReportWriter = _default_report_writer,
    ) -> None:
        if dialer is None:
            if people is None:
                raise ValueError("LocalEngine needs simulated people or a dialer")
            from backend.local.dialer import SimulatorDialer

            dialer = SimulatorDialer(store, people)
        self.store = store
        self.dialer = dialer
        self.listeners = list(listeners)
        self.report_dir = report_dir
        self.clock = clock
        self.concurrency = concurrency
        self.worker_threads = worker_threads
        self.report_writer = report_writer
        self.last_stats = RunStats()
        self.last_report: ReportFiles | None = None
        self._lock = threading.Lock()
        self._active: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}

    # --- JobSubmitter ---------------------------------------------------------------------------

    def submit(self, job: CallJob) -> bool:
        """Run the job in a background thread; False if it runs already or has finished."""
        with self._lock:
            thread = self._threads.get(job.job_id)
            if job.job_id in self._active or (thread is not None and thread.is_alive()):
                return False
            row = self.store.job_row(job.job_id)
            if row is not None and row.status != "running":
                return False
            thread = threading.Thread(
                target=self._run_logged, args=(job,), name=f"job-{job.job_id}", daemon=True
            )
            self._threads[job.job_id] = thread
        thread.start()
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait for a submitted job's thread; True when it has ended."""
        thread = self._threads.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
        """Calls not yet dialled end as Cancelled; calls in flight finish."""
        with self._lock:
            event = self._active.get(job_id)
        requested = self.store.request_cancel(job_id)
        if event is not None:
            event.set()
            log.info("job %s: cancel requested by %s", job_id, requested_by or "someone")
            return True
        return requested

    def _run_logged(self, job: CallJob) -> None:
        try:
            self.run(job)
        except Exception:
            log.exception("job %s failed", job.job_id)

    # --- the run --------------------------------------------------------------------------------

    def run(self, job: CallJob) -> list[CallResult]:
        """Run (or resume) the job to the end; returns one result per receiver, in job order."""
        cancel = threading.Event()
        with self._lock:
            if job.job_id in self._active:
                raise RuntimeError(f"job {job.job_id} is already running")
            self._active[job.job_id] = cancel
        try:
            return self._run(job, cancel)
        finally:
            with self._lock:
                self._active.pop(job.job_id, None)

    def _run(self, job: CallJob, cancel: threading.Event) -> list[CallResult]:
        store = self.store
        store.upsert_job(job)
        if store.cancel_requested(job.job_id):
            cancel.set()
        t0 = self.clock()
        receivers = {r.id: r for r in job.receivers}
        order = {r.id: i for i, r in enumerate(job.receivers)}
        done, pending = self._resume(job, t0)
        self._notify("on_job_started", job)
        for receiver in job.receivers:
            if receiver.id in done:
                self._notify("on_result", job, done[receiver.id])

        cap = max(1, self.concurrency or job.settings.concurrency)
        timeout = float(job.settings.call_timeout_seconds)
        stats = RunStats(cap=cap)
        speech = _LazySpeech(job)
        queue: list[_Pending] = [
            _Pending(0.0, order[rid], rid, attempt) for rid, attempt in pending
        ]
        heapq.heapify(queue)
        running: list[_Running] = []
        now = 0.0
        seq = len(order)
        threads = max(1, min(self.worker_threads, cap))
        pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None

        ends = (deadline(job.settings, t0) - t0).total_seconds()  # the job's deadline

        def at(offset: float) -> datetime:
            return t0 + timedelta(seconds=offset)

        def land(result: CallResult, *, final: bool) -> None:
            stored, new = store.finish_attempt(result, final=final)
            if final and new:
                self._notify("on_result", job, stored)

        try:
            while queue or running:
                if cancel.is_set() and queue:
                    for item in sorted(queue):
                        cancelled = CallResult(
                            job_id=job.job_id,
                            receiver_id=item.receiver_id,
                            status=CallStatus.CANCELLED,
                            error="job cancelled",
                            attempts=item.attempt - 1,
                        )
                        stored, new = store.record_result(cancelled)
                        if new:
                            self._notify("on_result", job, stored)
                    queue.clear()

                starting: list[tuple[_Pending, CallRequest]] = []
                while queue and queue[0].ready_at <= now and len(running) + len(starting) < cap:
                    item = heapq.heappop(queue)
                    receiver = receivers[item.receiver_id]
                    moment = at(now)
                    allowed = next_call_time(receiver, moment, job.settings, t0)
                    if isinstance(allowed, Expired):  # the deadline came first: the job ends
                        stored, new = store.record_result(
                            allowed.result(job.job_id, receiver.id, item.attempt - 1)
                        )
                        if new:
                            self._notify("on_result", job, stored)
                        continue
                    if allowed > moment:  # wait in virtual time: a jump, never a spin
                        item.ready_at = (allowed - t0).total_seconds()
                        heapq.heappush(queue, item)
                        continue
                    request = self._prepare(job, receiver, item.attempt, moment, speech)
                    if isinstance(request, CallResult):  # could not even dial
                        land(request, final=True)
                        continue
                    starting.append((item, request))

                for (item, request), (result, duration) in zip(
                    starting, self._dial_all(pool, [r for _, r in starting], timeout), strict=True
                ):
                    seq += 1
                    heapq.heappush(
                        running,
                        _Running(
                            now + duration,
                            seq,
                            item.receiver_id,
                            item.attempt,
                            result,
                            request.call_id,
                            duration,
                        ),
                    )
                    stats.calls += 1
                stats.max_concurrent = max(stats.max_concurrent, len(running))

                next_end = running[0].ends_at if running else float("inf")
                next_ready = queue[0].ready_at if queue and len(running) < cap else float("inf")
                if next_end == float("inf") and next_ready == float("inf"):
                    break
                if next_end <= next_ready:
                    now = max(now, next_end)
                    call = heapq.heappop(running)
                    stats.busy_slot_seconds += call.busy_seconds
                    retry = not cancel.is_set() and should_retry(
                        call.result.status, call.attempt, job.settings
                    )
                    land(call.result, final=not retry)
                    if retry:
                        heapq.heappush(
                            queue,
                            _Pending(
                                min(now + retry_delay(job.settings), ends),  # never past it
                                order[call.receiver_id],
                                call.receiver_id,
                                call.attempt + 1,
                            ),
                        )
                else:
                    now = max(now, next_ready)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        stats.makespan_seconds = now
        self.last_stats = stats

        by_receiver = {r.receiver_id: r for r in store.results(job.job_id)}
        results = [by_receiver[r.id] for r in job.receivers if r.id in by_receiver]
        store.set_job_status(job.job_id, "cancelled" if cancel.is_set() else "finished")
        report = (
            self.report_writer(job, results, self.report_dir)
            if self.report_dir is not None
            else ReportFiles("", "", "")
        )
        self.last_report = report
        self._notify("on_job_finished", job, results, report)
        return results

    # --- one call -------------------------------------------------------------------------------

    def _prepare(
        self,
        job: CallJob,
        receiver: Receiver,
        attempt: int,
        moment: datetime,
        speech: _LazySpeech,
    ) -> CallRequest | CallResult:
        """Claim the attempt and create its session; a result if the call cannot be placed."""
        from backend.domain.session import call_id_for

        call_id = call_id_for(job.job_id, receiver.id, attempt)
        failed = CallResult(
            job_id=job.job_id,
            receiver_id=receiver.id,
            status=CallStatus.FAILED,
            attempts=attempt,
            call_at=moment,
        )
        if not self.store.claim_attempt(job.job_id, receiver.id, attempt, call_id, moment):
            log.error("attempt %s was claimed before: not dialling it again", call_id)
            return failed.model_copy(update={"error": "attempt already claimed"})
        try:
            session = CallSession.new(job, receiver, attempt, speech.prompts(receiver), now=moment)
            self.store.create(session)
        except Exception as exc:
            log.exception("call %s: cannot prepare the call", call_id)
            return failed.model_copy(update={"error": f"cannot prepare the call: {exc}"})
        return CallRequest(job, receiver, attempt, call_id, moment)

    def _dial_all(
        self, pool: ThreadPoolExecutor | None, requests: list[CallRequest], timeout: float
    ) -> list[tuple[CallResult, float]]:
        if not requests:
            return []
        if pool is None or len(requests) == 1:
            return [self._dial_one(r, timeout) for r in requests]
        futures = [pool.submit(self._dial_one, r, timeout) for r in requests]
        return [f.result() for f in futures]

    def _dial_one(self, request: CallRequest, timeout: float) -> tuple[CallResult, float]:
        """Place one call and turn how it ended into that attempt's result."""
        store = self.store
        try:
            outcome = self.dialer.dial(request)
        except Exception as exc:
            log.exception("call %s: the dialer failed", request.call_id)
            outcome = None
            error = f"dialer error: {type(exc).__name__}: {exc}"
        session = store.get(request.call_id)
        if session is None:  # only if the store lost it: still one result
            return (
                CallResult(
                    job_id=request.job.job_id,
                    receiver_id=request.receiver.id,
                    status=CallStatus.FAILED,
                    error="call session lost",
                    attempts=request.attempt,
                    call_at=request.started_at,
                ),
                0.0,
            )
        if outcome is None:
            duration = 0.0
            result = session.end_with(CallStatus.FAILED, error, request.started_at)
        else:
            duration = max(0.0, float(outcome.duration_seconds))
            end = request.started_at + timedelta(seconds=min(duration, timeout))
            if duration > timeout:
                connected = outcome.connected or session.connected_at is not None
                session.result = None  # the backstop fires before the flow's own completion
                result = session.end_with(
                    CallStatus.DROP_CALL if connected else CallStatus.FAILED,
                    f"timeout after {int(timeout)} s",
                    end,
                )
                duration = timeout
            else:
                result = session.end_from_disconnect(
                    outcome.disconnect_reason, outcome.connected, end
                )
            if outcome.transcript:
                store.save_transcript(
                    request.call_id,
                    request.job.job_id,
                    request.receiver.id,
                    request.attempt,
                    outcome.transcript,
                )
        result = result.model_copy(
            update={"call_at": request.started_at, "duration_seconds": duration}
        )
        session.result = result
        try:
            store.save(session)
        except Exception:  # the result is carried by the engine; the session is only a record
            log.warning("call %s: session not saved", request.call_id)
        return result, duration

    # --- resume ---------------------------------------------------------------------------------

    def _resume(
        self, job: CallJob, now: datetime
    ) -> tuple[dict[str, CallResult], list[tuple[str, int]]]:
        """Final results already stored, and (receiver, next attempt) still to dial."""
        done = {r.receiver_id: r for r in self.store.results(job.job_id)}
        attempts: dict[str, list[AttemptRow]] = {}
        for row in self.store.attempts(job.job_id):
            attempts.setdefault(row.receiver_id, []).append(row)
        pending: list[tuple[str, int]] = []
        for receiver in job.receivers:
            if receiver.id in done:
                continue
            rows = attempts.get(receiver.id, [])
            if not rows:
                pending.append((receiver.id, 1))
                continue
            last = rows[-1]
            if last.outcome is None:
                result, retryable = self._interrupted(job, last, now)
            else:
                assert last.result is not None
                result, retryable = last.result, last.outcome.retryable
            if retryable and last.attempt < job.settings.max_attempts:
                self.store.finish_attempt(result, final=False)
                pending.append((receiver.id, last.attempt + 1))
            else:
                stored, _ = self.store.finish_attempt(result, final=True)
                done[receiver.id] = stored
        return done, pending

    def _interrupted(self, job: CallJob, row: AttemptRow, now: datetime) -> tuple[CallResult, bool]:
        """The outcome of an attempt whose run crashed mid-call; never dialled again."""
        session = self.store.get(row.call_id)
        if session is not None and session.result is not None:
            return session.result, session.result.status.retryable
        if session is not None and session.connected_at is not None:
            return session.end_with(CallStatus.DROP_CALL, "interrupted", now), False
        result = CallResult(
            job_id=job.job_id,
            receiver_id=row.receiver_id,
            status=CallStatus.FAILED,
            error="interrupted",
            attempts=row.attempt,
            call_at=datetime.fromisoformat(row.claimed_at),
        )
        return result, True

    # --- listeners ------------------------------------------------------------------------------

    def _notify(self, method: str, *args: Any) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, method)(*args)
            except Exception:  # one broken listener must not stop the calls
                log.exception("listener %r failed in %s", listener, method)


class _LazySpeech:
    """Speech compiled once per job, on first use."""

    def __init__(self, job: CallJob) -> None:
        self.job = job
        self._speech: Any = None
        self._lock = threading.Lock()

    def prompts(self, receiver: Receiver) -> Any:
        with self._lock:
            if self._speech is None:
                from backend.domain.speech import Speech

                self._speech = Speech(self.job)
        return self._speech.prompts(receiver)


def people_for(source: PeopleSource, job: CallJob) -> Mapping[str, Sequence[Any]]:
    """Resolve a people source (mapping or callable taking the job)."""
    if callable(source):
        resolved: Mapping[str, Sequence[Any]] = source(job)
        return resolved
    mapping: Mapping[str, Sequence[Any]] = source
    return mapping
