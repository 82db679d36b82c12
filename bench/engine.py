"""Local engine benchmarks (printed, never asserted).

1. A 10,000-receiver simulated job, concurrency 50, random people (fixed seed), through the real
   contact flow, Lex matcher, flow Lambda logic and SQLite store: wall time (target < 60 s),
   calls per second, engine overhead per call (wall time not spent inside simulated calls or
   writing the report).
2. Call-slot utilisation = busy slot time / (cap x makespan), in virtual time, for 1,000
   receivers, cap 10 and random call lengths (target >= 95%).
3. Kill and resume (the local fault suite's scenario, in one process): a 2,000-receiver job whose
   run dies three times at random calls, then resumes to the end. Prints the rings the dialer saw,
   the dial facts in the store, the final results, and the checks of the fault suite (rings per
   attempt, dials per person, one result per receiver, calls cut by the deaths).
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backend.domain.models import (
    CallJob,
    CallResult,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.ports import ReportFiles
from backend.local.calls import CallRequest, Dialer, DialOutcome
from backend.local.engine import LocalEngine
from backend.local.store import SqliteStore

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
SEED = 20261128


def make_job(job_id: str, receivers: int, concurrency: int) -> CallJob:
    types = list(QuestionType)
    return CallJob(
        job_id=job_id,
        greeting="Hello {{ name }}, this is your school calling.",
        ending="Thank you {{ name }}, goodbye.",
        questions=tuple(
            Question(template=f"Question {i + 1} for {{{{ name }}}}?", type=t)
            for i, t in enumerate(types)
        ),
        receivers=tuple(
            Receiver(
                id=f"R{i:05d}",
                phone_number=f"+8525{i:07d}",
                fields={"name": f"Person {i}", "class": f"{i % 6 + 1}A"},
            )
            for i in range(receivers)
        ),
        extra_columns=("name", "class"),
        settings=JobSettings(concurrency=concurrency, max_receivers=receivers),
    )


@dataclass
class TimedDialer:
    inner: Dialer
    seconds: float = 0.0
    calls: int = 0

    def dial(self, request: CallRequest) -> DialOutcome:
        started = time.perf_counter()
        try:
            return self.inner.dial(request)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


@dataclass
class RandomLengthDialer:
    """Every call is answered; lengths uniform in 20-180 simulated seconds."""

    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def dial(self, request: CallRequest) -> DialOutcome:
        return DialOutcome(True, "CUSTOMER_DISCONNECT", self.rng.uniform(20, 180))


def bench_full_job(receivers: int = 10_000, concurrency: int = 50) -> None:
    from backend.local.dialer import SimulatorDialer
    from backend.local.simulator import random_people

    job = make_job("bench-engine", receivers, concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        dialer = TimedDialer(SimulatorDialer(store, random_people(job, SEED)))
        report_seconds = 0.0

        def timed_report(job: CallJob, results: list[CallResult], out: Path) -> ReportFiles:
            nonlocal report_seconds
            from backend.domain.report import write_report

            started = time.perf_counter()
            try:
                return write_report(job, results, out)
            finally:
                report_seconds = time.perf_counter() - started

        engine = LocalEngine(
            store,
            report_dir=Path(tmp) / "out",
            clock=lambda: T0,
            dialer=dialer,
            report_writer=timed_report,  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        results = engine.run(job)
        wall = time.perf_counter() - started
    stats = engine.last_stats
    overhead = (wall - dialer.seconds - report_seconds) / max(1, dialer.calls)
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status.value] = statuses.get(result.status.value, 0) + 1
    print(f"full job: {receivers} receivers x {len(job.questions)} questions, cap {concurrency}")
    print(f"  wall time          {wall:8.2f} s   (target < 60 s)")
    print(f"  calls placed       {dialer.calls:8d}   ({dialer.calls / wall:.0f} calls/s)")
    print(f"  in simulated calls {dialer.seconds:8.2f} s   (flow + Lex matcher + flow Lambda)")
    print(f"  report             {report_seconds:8.2f} s")
    print(f"  engine overhead    {overhead * 1000:8.3f} ms per call (scheduler + SQLite)")
    print(
        f"  virtual makespan   {stats.makespan_seconds / 3600:8.2f} h, "
        f"slot utilisation {stats.utilisation:.1%}"
    )
    print(f"  results            {len(results)}: {statuses}")


def bench_utilisation(receivers: int = 1_000, cap: int = 10) -> None:
    job = make_job("bench-slots", receivers, cap)
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine(
            SqliteStore(Path(tmp) / "slots.db"),
            report_dir=None,
            clock=lambda: T0,
            dialer=RandomLengthDialer(SEED),
            worker_threads=1,
        )
        started = time.perf_counter()
        engine.run(job)
        wall = time.perf_counter() - started
    stats = engine.last_stats
    print(f"slot utilisation: {receivers} receivers, cap {cap}, call lengths 20-180 s")
    print(f"  busy slot time     {stats.busy_slot_seconds:10.0f} s")
    print(f"  makespan           {stats.makespan_seconds:10.0f} s (virtual)")
    print(f"  utilisation        {stats.utilisation:10.1%}   (target >= 95%)")
    print(f"  max concurrent     {stats.max_concurrent:10d}")
    print(f"  wall time          {wall:10.2f} s")


class _Death(BaseException):
    """The process dying mid-call: not an Exception, so nothing in the engine catches it."""


@dataclass
class DyingDialer:
    """Counts every ring (an independent record) and dies on the `die_at`-th call."""

    inner: Dialer
    die_at: int | None = None
    rings: dict[tuple[str, int], int] = field(default_factory=dict)
    calls: int = 0

    def dial(self, request: CallRequest) -> DialOutcome:
        key = (request.receiver.id, request.attempt)
        self.rings[key] = self.rings.get(key, 0) + 1
        self.calls += 1
        if self.calls == self.die_at:
            raise _Death
        return self.inner.dial(request)


def bench_kill_and_resume(receivers: int = 2_000, deaths: int = 3) -> None:
    from backend.local.dialer import SimulatorDialer
    from backend.local.simulator import random_people

    job = make_job("bench-kills", receivers, 10)
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "kills.db")
        dialer = DyingDialer(SimulatorDialer(store, random_people(job, SEED)))
        runs = 0
        started = time.perf_counter()
        while True:
            runs += 1
            dialer.calls = 0
            dialer.die_at = rng.randint(200, 800) if runs <= deaths else None
            engine = LocalEngine(store, report_dir=None, clock=lambda: T0, dialer=dialer)
            try:
                results = engine.run(job)
                break
            except _Death:
                continue
        wall = time.perf_counter() - started
        dials = store.dials(job.job_id)
        attempts = store.attempts(job.job_id)
    per_person: dict[str, int] = {}
    for dial in dials:
        per_person[dial.receiver_id] = per_person.get(dial.receiver_id, 0) + 1
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status.value] = statuses.get(result.status.value, 0) + 1
    interrupted = sum(1 for r in results if r.error == "interrupted")
    print(f"kill and resume: {receivers} receivers, {deaths} deaths at random calls, {runs} runs")
    print(
        f"  rings (dialer)     {sum(dialer.rings.values()):8d}   max per attempt "
        f"{max(dialer.rings.values())} (must be 1)"
    )
    print(
        f"  dial facts (store) {len(dials):8d}   max per person {max(per_person.values())} "
        f"(max_attempts {job.settings.max_attempts})"
    )
    print(f"  claims             {len(attempts):8d}   (undialled claims released on resume)")
    print(
        f"  final results      {len(results):8d}   distinct receivers "
        f"{len({r.receiver_id for r in results})} (must be {receivers})"
    )
    print(f"  cut by a death     {interrupted:8d}   (at most {deaths} x cap 10)")
    print(f"  statuses           {statuses}")
    print(f"  wall time          {wall:8.2f} s")


def main() -> None:
    bench_utilisation()
    bench_kill_and_resume()
    bench_full_job()


if __name__ == "__main__":
    main()
