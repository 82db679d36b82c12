"""The local engine: runs a call job with the AWS state machine's semantics, in virtual time.

A discrete-event scheduler (`backend.local.job_run`): each call occupies one of `cap` slots for
its *simulated* duration (never slept); a heap of call-end events advances a virtual clock kept
in the store. Calls that start at the same virtual instant run together on a thread pool.

- One run owns a job: `run` takes the job's lease (pid, host, heartbeat) or raises `JobBusy`
  naming the live owner; a stale lease (dead process, or no heartbeat for
  `lease_stale_seconds`) is taken over. A run that loses its lease stops (`LeaseLost`) without
  writing. A heartbeat thread renews the lease and picks up a cancel requested by another process.
- Receivers on the do-not-call list when the run starts (`dnc.mark_do_not_call`, the intake
  rule) end as `NotCallable` (`do-not-call`) at once, without a call or a wait for their hours.
- Per receiver: calling hours and the deadline are checked in virtual time
  (`calling_rules.next_call_time`): outside their hours the receiver waits (the clock jumps to the
  opening, nothing spins); one not called by the deadline (`deadline_hours` after the job's first
  start) ends as `Expired`;
  each attempt is claimed in SQLite, then the dial guards run (a guard may end the attempt
  without a call), then the dial fact is recorded, then the call is placed.
- A call longer than its time-out (`call_time.call_timeout`: the setting, or derived from the job)
  is cut by the domain's one rule, `CallSession.timed_out`: the answers given by then are kept.
- Retryable statuses are tried again `retry_delay_seconds` later, up to `max_attempts`.
- A dialer exception is a `Failed` result for that attempt, never a lost receiver.
- Exactly one final result per receiver is written, and listeners hear of it once.

After the last result and before the report: one SMS to each person not reached, when the job
has an `sms_template` and was not cancelled (`domain.sms`), through `sms_sender` (default: the
simulated gateway) into the outbox table, each intent recorded before the message leaves.

Cancellation: receivers not yet dialled (or waiting for a retry) end as `Cancelled`; calls in
flight finish and are not retried.

Resume (same job id, same SQLite file): receivers with a final result are not called again (their
results are replayed to the listeners); a claim that was never dialled is released (it did not
use up an attempt); an attempt dialled without an outcome (a crash mid-call) is never re-dialled:
it becomes that attempt's outcome from its session (the flow's result if it finished, `DropCall`
"interrupted" with the answers so far if the person had picked up — `NoHuman` if nothing was
answered yet — else `Failed` "interrupted"), and a new attempt follows
`retry_delay_seconds` later if attempts remain and the person was not reached. Pending retries
keep their delay: the virtual clock continues from where the last run stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.domain.call_time import call_timeout
from backend.domain.dnc import DialVerdict, check_dial, do_not_call_result, mark_do_not_call
from backend.domain.models import CallJob, CallResult, CallStatus, Receiver
from backend.domain.ports import ReportFiles, ResultListener
from backend.domain.session import CallSession, call_id_for
from backend.domain.sms import SmsResult, SmsSender, text_the_unreached
from backend.local.calls import CallRequest, Dialer, DialOutcome, PeopleSource, people_for
from backend.local.job_run import Clock, JobRun, ReportWriter, RunStats
from backend.local.lease import HEARTBEAT_SECONDS, STALE_AFTER_SECONDS, LeaseLost, RunId
from backend.local.sms import SimulatedSmsGateway, StoreOutbox
from backend.local.store import SqliteStore, StoreError

__all__ = [
    "CallRequest",
    "DialGuard",
    "DialOutcome",
    "Dialer",
    "LocalEngine",
    "PeopleSource",
    "RunStats",
    "people_for",
]

if TYPE_CHECKING:
    from backend.local.dnc import SqliteDoNotCall

log = logging.getLogger(__name__)

# Runs just before a call is dialled; a result ends the attempt without a call (e.g. the
# number is on the do-not-call list), None lets the call go ahead.
DialGuard = Callable[[CallRequest], CallResult | None]


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        report_writer: ReportWriter | None = None,
        guards: Sequence[DialGuard] = (),
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        lease_stale_seconds: float = STALE_AFTER_SECONDS,
        dnc: SqliteDoNotCall | None = None,
        sms_sender: SmsSender | None = None,
    ) -> None:
        from backend.local.dnc import SqliteDoNotCall

        # The do-not-call list and daily dial counts: next to the job database by default.
        self.dnc = dnc if dnc is not None else SqliteDoNotCall.beside(store.path)
        if dialer is None:
            if people is None:
                raise ValueError("LocalEngine needs simulated people or a dialer")
            from backend.local.dialer import SimulatorDialer

            dialer = SimulatorDialer(store, people, opt_outs=self.dnc)
        self.store = store
        self.dialer = dialer
        self.listeners = list(listeners)
        self.report_dir = report_dir
        self.clock = clock
        self.concurrency = concurrency
        self.worker_threads = worker_threads
        # default: the report with the SMS results of the outbox
        self.report_writer = report_writer or self._write_report
        self.sms_sender: SmsSender = sms_sender or SimulatedSmsGateway()
        self.guards = list(guards)
        self.heartbeat_seconds = heartbeat_seconds
        self.lease_stale_seconds = lease_stale_seconds
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
            if row is not None and row.state().over:
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
        """Calls not yet dialled end as Cancelled; calls in flight finish. Works across
        processes: the run owning the job sees the request within a heartbeat."""
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
        """Run (or resume) the job to the end; returns one result per receiver, in job order.

        Raises `JobBusy` if another live run owns the job, `LeaseLost` if one takes it over.
        """
        cancel = threading.Event()
        with self._lock:
            if job.job_id in self._active:
                raise RuntimeError(f"job {job.job_id} is already running")
            self._active[job.job_id] = cancel
        run = RunId.this_process()
        try:
            # Intake's do-not-call rule again as the job starts: the list may have changed since
            # the job was read; the marked receivers end NotCallable without a call (JobRun).
            job = mark_do_not_call(job, self.dnc)
            self.store.upsert_job(job)
            taken = self.store.acquire_lease(job.job_id, run, self.lease_stale_seconds)
            if taken is not None:
                log.warning(
                    "job %s: taking over from a stale run (%s)", job.job_id, taken.describe()
                )
            return self._run_leased(job, run, cancel)
        finally:
            with self._lock:
                self._active.pop(job.job_id, None)

    def _run_leased(self, job: CallJob, run: RunId, cancel: threading.Event) -> list[CallResult]:
        lost = threading.Event()
        if self.store.cancel_requested(job.job_id):
            cancel.set()
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat,
            args=(job.job_id, run, cancel, lost, stop),
            name=f"lease-{job.job_id}",
            daemon=True,
        )
        beat.start()
        try:
            job_run = JobRun(self, job, run, cancel, lost)
            try:
                return job_run.execute()
            finally:
                self.last_stats = job_run.stats
        except BaseException:
            # Let the next run start at once (a killed process cannot: its lease goes stale).
            with suppress(StoreError):
                self.store.release_lease(job.job_id, run)
            raise
        finally:
            stop.set()
            beat.join()

    def _heartbeat(
        self,
        job_id: str,
        run: RunId,
        cancel: threading.Event,
        lost: threading.Event,
        stop: threading.Event,
    ) -> None:
        while not stop.wait(self.heartbeat_seconds):
            try:
                if not self.store.heartbeat(job_id, run):
                    lost.set()
                    return
                if self.store.cancel_requested(job_id):
                    cancel.set()
            except StoreError as error:  # the run's own writes will report it
                log.warning("job %s: heartbeat failed: %s", job_id, error)

    # --- one call -------------------------------------------------------------------------------

    def dial_all(
        self,
        pool: ThreadPoolExecutor | None,
        requests: list[CallRequest],
        run: RunId,
        clock_seconds: float,
    ) -> list[tuple[CallResult, float]]:
        """Place calls starting together (`clock_seconds`: the job's virtual time now)."""
        if not requests:
            return []
        if pool is None or len(requests) == 1:
            return [self._dial_one(r, run, clock_seconds) for r in requests]
        futures = [pool.submit(self._dial_one, r, run, clock_seconds) for r in requests]
        return [f.result() for f in futures]

    def respect(
        self, job: CallJob, receiver: Receiver, attempt: int, moment: datetime
    ) -> CallResult | datetime | str:
        """The do-not-call list and daily cap (`dnc.check_dial`) just before an attempt is
        claimed: a final NotCallable result, the moment to try again (the number had its calls
        today), or the number's key (the call may go ahead)."""
        check = check_dial(
            job, receiver, call_id_for(job.job_id, receiver.id, attempt), moment, self.dnc, self.dnc
        )
        if check.verdict is DialVerdict.CAPPED and check.wait_until is not None:
            return check.wait_until
        if check.verdict is DialVerdict.DO_NOT_CALL:  # listed after intake: the backstop
            return do_not_call_result(job.job_id, receiver.id, attempt - 1)
        return check.number_key

    def _before_dial(
        self, request: CallRequest, run: RunId, clock_seconds: float
    ) -> CallResult | None:
        """The guards, then the dial fact; a result ends the attempt without a call."""
        for guard in self.guards:
            blocked = guard(request)
            if blocked is not None:
                return blocked
        job_id = request.job.job_id
        if not self.store.record_dial(
            job_id,
            request.receiver.id,
            request.attempt,
            request.call_id,
            request.started_at,
            run,
            clock_seconds=clock_seconds,
        ):  # the attempt is not this run's to dial: stop, write nothing
            raise LeaseLost(job_id, self.store.lease(job_id))
        return None

    def _dial_one(
        self, request: CallRequest, run: RunId, clock_seconds: float
    ) -> tuple[CallResult, float]:
        """Place one call and turn how it ended into that attempt's result."""
        blocked = self._before_dial(request, run, clock_seconds)
        if blocked is not None:
            return blocked, 0.0
        outcome: DialOutcome | None = None
        error = ""
        try:
            outcome = self.dialer.dial(request)
        except Exception as exc:
            log.exception("call %s: the dialer failed", request.call_id)
            error = f"dialer error: {type(exc).__name__}: {exc}"
        session = self.store.get(request.call_id)
        if session is None:  # only if the store lost it: still one result
            lost = CallResult(
                job_id=request.job.job_id,
                receiver_id=request.receiver.id,
                status=CallStatus.FAILED,
                error="call session lost",
                attempts=request.attempt,
                call_at=request.started_at,
            )
            return lost, 0.0
        timeout = float(call_timeout(request.job))
        if outcome is None:
            duration = 0.0
            result = session.end_with(CallStatus.FAILED, error, request.started_at)
        else:
            duration = min(max(0.0, float(outcome.duration_seconds)), timeout)
            result = self.ended(session, outcome, request.started_at, timeout)
            if outcome.transcript:
                self.store.save_transcript(
                    request.call_id,
                    request.job.job_id,
                    request.receiver.id,
                    request.attempt,
                    outcome.transcript,
                )
        result = replace(result, call_at=request.started_at, duration_seconds=duration)
        session.result = result
        try:
            self.store.save(session)
        except Exception:  # the result is carried by the engine; the session is only a record
            log.warning("call %s: session not saved", request.call_id)
        return result, duration

    @staticmethod
    def ended(
        session: CallSession, outcome: DialOutcome, started: datetime, timeout: float
    ) -> CallResult:
        """The attempt's result from how the call ended; a call over `timeout` is cut there."""
        if outcome.duration_seconds <= timeout:
            end = started + timedelta(seconds=max(0.0, outcome.duration_seconds))
            return session.end_from_disconnect(outcome.disconnect_reason, outcome.connected, end)
        return session.timed_out(started + timedelta(seconds=timeout))

    # --- after the calls -------------------------------------------------------------------------

    def text_unreached(
        self,
        job: CallJob,
        results: Sequence[CallResult],
        run: RunId,
        now: datetime,
        *,
        cancelled: bool,
    ) -> dict[str, SmsResult]:
        """One SMS to each unreached person (domain.sms rules), recorded in the outbox."""
        return text_the_unreached(
            job,
            results,
            outbox=StoreOutbox(self.store, run),
            sender=self.sms_sender,
            dnc=self.dnc,
            now=now,
            cancelled=cancelled,
        )

    def _write_report(
        self, job: CallJob, results: Sequence[CallResult], out_dir: Path
    ) -> ReportFiles:
        from backend.domain.report import write_report

        return write_report(job, results, out_dir, self.store.sms_results(job.job_id))

    # --- listeners ------------------------------------------------------------------------------

    def notify(self, method: str, *args: Any) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, method)(*args)
            except Exception:  # one broken listener must not stop the calls
                log.exception("listener %r failed in %s", listener, method)
