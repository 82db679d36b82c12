"""One run of one job by the local engine: the discrete-event scheduler in virtual time.

`JobRun` owns the job's lease for its lifetime (see `backend.local.lease`); every store write
names the run, so a run that lost the lease writes nothing. The virtual clock is the job's
(`SqliteStore.clock`): a resumed run continues from where the last one stopped, so retry delays
hold across a resume and attempt times never go backwards.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from backend.domain.attempts import retry_delay, should_retry
from backend.domain.calling_rules import Expired, deadline, next_call_time
from backend.domain.dnc import intake_results
from backend.domain.job_state import JobState
from backend.domain.models import CallJob, CallResult, CallStatus, Receiver
from backend.domain.ports import ReportFiles
from backend.domain.session import CallSession, call_id_for
from backend.domain.sms import SmsResult, SmsTally, sms_due
from backend.local.calls import CallRequest
from backend.local.lease import LeaseLost, RunId
from backend.local.store import AttemptRow, SqliteStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ReportWriter = Callable[[CallJob, Sequence[CallResult], Path], ReportFiles]


class RunHost(Protocol):
    """What a run needs from the engine that started it (`LocalEngine`)."""

    store: SqliteStore
    clock: Clock
    concurrency: int | None
    worker_threads: int
    report_writer: ReportWriter
    report_dir: Path | None
    last_report: ReportFiles | None

    def notify(self, method: str, *args: Any) -> None: ...

    def respect(
        self, job: CallJob, receiver: Receiver, attempt: int, moment: datetime
    ) -> CallResult | datetime | str: ...

    def dial_all(
        self,
        pool: ThreadPoolExecutor | None,
        requests: list[CallRequest],
        run: RunId,
        clock_seconds: float,
    ) -> list[tuple[CallResult, float]]: ...

    def text_unreached(
        self,
        job: CallJob,
        results: Sequence[CallResult],
        run: RunId,
        now: datetime,
        *,
        cancelled: bool,
    ) -> dict[str, SmsResult]: ...


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


class JobRun:
    """Runs (or resumes) one job to its end; `execute` returns one result per receiver."""

    def __init__(
        self,
        engine: RunHost,
        job: CallJob,
        run: RunId,
        cancel: threading.Event,
        lost: threading.Event,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.job = job
        self.run = run
        self.cancel = cancel
        self.lost = lost
        self.receivers = {r.id: r for r in job.receivers}
        self.order = {r.id: i for i, r in enumerate(job.receivers)}
        clock = self.store.clock(job.job_id, engine.clock())
        self.t0 = clock.start
        # Never behind the stored clock (time order across resumes) nor behind the real one.
        self.now = max(clock.seconds, (engine.clock() - self.t0).total_seconds(), 0.0)
        self.started_at = self.now
        self.deadline = self.offset(deadline(job.settings, self.t0))  # from the job's first start
        self.cap = max(1, engine.concurrency or job.settings.concurrency)
        self.stats = RunStats(cap=self.cap)
        self.queue: list[_Pending] = []
        self.running: list[_Running] = []
        self.seq = len(self.order)
        self.speech = LazySpeech(job)

    def at(self, offset: float) -> datetime:
        return self.t0 + timedelta(seconds=offset)

    def offset(self, moment: datetime) -> float:
        return (moment - self.t0).total_seconds()

    # --- the loop -------------------------------------------------------------------------------

    def execute(self) -> list[CallResult]:
        done = self.resume()
        self.engine.notify("on_job_started", self.job)
        for receiver in self.job.receivers:
            if receiver.id in done:
                self.engine.notify("on_result", self.job, done[receiver.id])
        threads = max(1, min(self.engine.worker_threads, self.cap))
        pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
        try:
            while self.queue or self.running:
                if self.lost.is_set():
                    raise LeaseLost(self.job.job_id, self.store.lease(self.job.job_id))
                if self.cancel.is_set():
                    self.cancel_waiting()
                self.start_calls(pool, self.take_due())
                if not self.advance():
                    break
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        self.stats.makespan_seconds = self.now - self.started_at
        return self.finish()

    def take_due(self) -> list[CallRequest]:
        """Claim the receivers due now, up to the free slots (calling window permitting)."""
        starting: list[CallRequest] = []
        while (
            self.queue
            and self.queue[0].ready_at <= self.now
            and len(self.running) + len(starting) < self.cap
        ):
            item = heapq.heappop(self.queue)
            receiver = self.receivers[item.receiver_id]
            moment = self.at(self.now)
            allowed = next_call_time(receiver, moment, self.job.settings, self.t0)
            if isinstance(allowed, Expired):  # the deadline came first: the job ends
                expired = allowed.result(self.job.job_id, receiver.id, item.attempt - 1)
                stored, new = self.store.record_result(expired, self.run)
                if new:
                    self.engine.notify("on_result", self.job, stored)
                continue
            if allowed > moment:  # wait in virtual time: a jump, never a spin
                item.ready_at = self.offset(allowed)
                heapq.heappush(self.queue, item)
                continue
            respected = self.engine.respect(self.job, receiver, item.attempt, moment)
            if isinstance(respected, datetime):  # the number had its calls today
                item.ready_at = min(self.offset(respected), self.deadline)  # then Expired
                heapq.heappush(self.queue, item)
                continue
            if isinstance(respected, CallResult):  # on the do-not-call list: never dialled
                self.final_without_call(respected)
                continue
            request = self.prepare(receiver, item.attempt, moment, respected)
            if isinstance(request, CallResult):  # could not even dial
                self.land(request, final=True)
            elif request is not None:
                starting.append(request)
        return starting

    def start_calls(self, pool: ThreadPoolExecutor | None, requests: list[CallRequest]) -> None:
        for request, (result, duration) in zip(
            requests, self.engine.dial_all(pool, requests, self.run, self.now), strict=True
        ):
            self.seq += 1
            heapq.heappush(
                self.running,
                _Running(
                    self.now + duration,
                    self.seq,
                    request.receiver.id,
                    request.attempt,
                    result,
                    duration,
                ),
            )
            self.stats.calls += 1
        self.stats.max_concurrent = max(self.stats.max_concurrent, len(self.running))

    def advance(self) -> bool:
        """Move the clock to the next event (a call ends, or a receiver becomes due)."""
        next_end = self.running[0].ends_at if self.running else float("inf")
        free = len(self.running) < self.cap
        next_ready = self.queue[0].ready_at if self.queue and free else float("inf")
        if next_end == float("inf") and next_ready == float("inf"):
            return False
        if next_end > next_ready:
            self.now = max(self.now, next_ready)
            return True
        self.now = max(self.now, next_end)
        call = heapq.heappop(self.running)
        self.stats.busy_slot_seconds += call.busy_seconds
        retry = not self.cancel.is_set() and should_retry(
            call.result.status, call.attempt, self.job.settings
        )
        self.land(call.result, final=not retry)
        if retry:
            self.schedule(
                call.receiver_id, call.attempt + 1, self.now + retry_delay(self.job.settings)
            )
        return True

    def schedule(self, receiver_id: str, attempt: int, ready_at: float) -> None:
        # Never due after the deadline: a retry it cuts off ends as Expired at the deadline.
        due = max(min(ready_at, self.deadline), self.now)
        item = _Pending(due, self.order[receiver_id], receiver_id, attempt)
        heapq.heappush(self.queue, item)

    def cancel_waiting(self) -> None:
        """Receivers not dialled yet (or waiting for a retry) end as Cancelled."""
        for item in sorted(self.queue):
            cancelled = CallResult(
                job_id=self.job.job_id,
                receiver_id=item.receiver_id,
                status=CallStatus.CANCELLED,
                error="job cancelled",
                attempts=item.attempt - 1,
            )
            stored, new = self.store.record_result(cancelled, self.run)
            if new:
                self.engine.notify("on_result", self.job, stored)
        self.queue.clear()

    def final_without_call(self, result: CallResult) -> None:
        stored, new = self.store.record_result(result, self.run)
        if new:
            self.engine.notify("on_result", self.job, stored)

    def land(self, result: CallResult, *, final: bool) -> None:
        stored, new = self.store.finish_attempt(
            result, final=final, run=self.run, clock_seconds=self.now
        )
        if final and new:
            self.engine.notify("on_result", self.job, stored)

    # --- one call -------------------------------------------------------------------------------

    def prepare(
        self, receiver: Receiver, attempt: int, moment: datetime, number_key: str | None = None
    ) -> CallRequest | CallResult | None:
        """Claim the attempt and create its session; a result if the call cannot be placed,
        None if the attempt was claimed before (never dialled again, never finalised here)."""
        job = self.job
        call_id = call_id_for(job.job_id, receiver.id, attempt)
        if not self.store.claim_attempt(
            job.job_id, receiver.id, attempt, call_id, moment, self.run
        ):
            log.error("attempt %s was claimed before: not dialling it again", call_id)
            return None
        try:
            prompts = self.speech.prompts(receiver)
            session = CallSession.new(job, receiver, attempt, prompts, now=moment)
            session.number_key = number_key  # an opt-out in the call lists the number by it
        except Exception as exc:
            log.exception("call %s: cannot prepare the call", call_id)
            return CallResult(
                job_id=job.job_id,
                receiver_id=receiver.id,
                status=CallStatus.FAILED,
                attempts=attempt,
                call_at=moment,
                error=f"cannot prepare the call: {exc}",
            )
        self.store.create(session)
        return CallRequest(job, receiver, attempt, call_id, moment)

    # --- resume ---------------------------------------------------------------------------------

    def resume(self) -> dict[str, CallResult]:
        """Final results already stored, and those intake decided (the do-not-call list);
        everyone else is queued for their next attempt."""
        job = self.job
        released = self.store.release_undialled(job.job_id, self.run)
        if released:
            log.info("job %s: %d claimed attempt(s) were never dialled", job.job_id, released)
        done = {r.receiver_id: r for r in self.store.results(job.job_id)}
        attempts: dict[str, list[AttemptRow]] = {}
        for row in self.store.attempts(job.job_id):
            attempts.setdefault(row.receiver_id, []).append(row)
        decided = intake_results(job)  # on the do-not-call list: never dialled
        for receiver in job.receivers:
            if receiver.id in done:
                continue
            rows = attempts.get(receiver.id, [])
            if not rows and receiver.id in decided:
                done[receiver.id], _ = self.store.record_result(decided[receiver.id], self.run)
                continue
            if not rows:
                self.schedule(receiver.id, 1, self.now)
                continue
            last = rows[-1]
            if last.outcome is None:
                result, retryable = self.interrupted(last)
                ended = self.now
            else:
                assert last.result is not None
                result, retryable = last.result, last.outcome.retryable
                ended = self.offset(last.result.call_at or self.t0) + (
                    last.result.duration_seconds or 0.0
                )
            if retryable and last.attempt < job.settings.max_attempts:
                if last.outcome is None:
                    self.land(result, final=False)
                self.schedule(receiver.id, last.attempt + 1, ended + retry_delay(job.settings))
            else:
                stored, _ = self.store.finish_attempt(result, final=True, run=self.run)
                done[receiver.id] = stored
        return done

    def interrupted(self, row: AttemptRow) -> tuple[CallResult, bool]:
        """The outcome of an attempt dialled by a run that died mid-call; never dialled again."""
        session = self.store.get(row.call_id)
        if session is not None and session.result is not None:
            return session.result, session.result.status.retryable
        moment = self.at(self.now)
        if session is not None and session.connected_at is not None:
            # Answers so far kept (DropCall); nothing answered is NoHuman, which may be retried.
            cut = session.end_with(CallStatus.DROP_CALL, "interrupted", moment)
            return cut, cut.status.retryable
        result = CallResult(
            job_id=self.job.job_id,
            receiver_id=row.receiver_id,
            status=CallStatus.FAILED,
            error="interrupted",
            attempts=row.attempt,
            call_at=datetime.fromisoformat(row.dialled_at or row.claimed_at),
        )
        return result, True

    # --- the end --------------------------------------------------------------------------------

    def finish(self) -> list[CallResult]:
        job = self.job
        by_receiver = {r.receiver_id: r for r in self.store.results(job.job_id)}
        results = [by_receiver[r.id] for r in job.receivers if r.id in by_receiver]
        if len(results) < len(job.receivers):  # only if an attempt was claimed by another run
            log.error(
                "job %s: %d receiver(s) have no result yet",
                job.job_id,
                len(job.receivers) - len(results),
            )
            self.store.release_lease(job.job_id, self.run)
            return results
        state = JobState.CANCELLED if self.cancel.is_set() else JobState.FINISHED
        engine = self.engine
        # Before the job is marked ended (a crash here resumes into the same texts, each sent
        # once) and before the report, which has their column.
        texted = engine.text_unreached(
            job, results, self.run, self.at(self.now), cancelled=state is JobState.CANCELLED
        )
        self.store.finish_job(job.job_id, state, self.run)
        report = (
            engine.report_writer(job, results, engine.report_dir)
            if engine.report_dir is not None
            else ReportFiles("", "", "")
        )
        if sms_due(job, cancelled=state is JobState.CANCELLED):
            report = replace(report, sms=SmsTally.of(texted.values()))
        engine.last_report = report
        engine.notify("on_job_finished", job, results, report)
        return results


class LazySpeech:
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
