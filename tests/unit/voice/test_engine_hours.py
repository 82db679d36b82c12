"""The local engine under calling hours and the deadline: nobody is dialled outside their hours,
every job ends by its deadline (no spinning), and every receiver gets exactly one result.

Dials are counted by the test's own dialer (an independent record), and judged by an oracle that
recomputes each person's local time with zoneinfo (tests/fakes/hours.py).
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.models import (
    CallingWindow,
    CallJob,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.local.engine import CallRequest, DialOutcome, LocalEngine
from backend.local.store import SqliteStore
from tests.fakes.hours import moments, oracle_open, receivers, windows

SAT_LATE = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # Saturday 22:00 in Hong Kong


@dataclass
class RecordingDialer:
    """Nobody answers (so every retry is tried); each dial is written down first."""

    dials: list[CallRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    busy: frozenset[str] = frozenset()

    def dial(self, request: CallRequest) -> DialOutcome:
        with self.lock:
            self.dials.append(request)
        reason = "TELECOM_BUSY" if request.receiver.id in self.busy else "TELECOM_UNANSWERED"
        return DialOutcome(False, reason, 30.0)


def make_job(people: tuple[Receiver, ...], job_settings: JobSettings) -> CallJob:
    return CallJob(
        job_id="hours",
        greeting="Hello",
        ending="Bye",
        questions=(Question(template="OK?", type=QuestionType.OK),),
        receivers=people,
        settings=job_settings,
    )


def run_bounded(job: CallJob, start: datetime, dialer: RecordingDialer, db: Path) -> LocalEngine:
    """Run the job in a thread; fail (instead of hanging) if it does not end within 60 s."""
    engine = LocalEngine(SqliteStore(db), report_dir=None, clock=lambda: start, dialer=dialer)
    thread = threading.Thread(target=engine.run, args=(job,), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the job did not end: the engine is spinning or waiting"
    return engine


def test_a_number_never_inside_its_hours_expires_at_the_deadline(tmp_path: Path) -> None:
    toll_free = Receiver(id="tf", phone_number="+18005550123")  # 40+ US zones
    hk = Receiver(id="hk", phone_number="+85291234567")
    job = make_job(
        (toll_free, hk),
        JobSettings(calling_window=CallingWindow(start="09:00", end="10:00"), deadline_hours=48),
    )
    dialer = RecordingDialer()
    engine = run_bounded(job, SAT_LATE, dialer, tmp_path / "e.db")
    results = {r.receiver_id: r for r in engine.store.results("hours")}
    assert results["tf"].status is CallStatus.EXPIRED
    assert results["tf"].attempts == 0
    assert [d.receiver.id for d in dialer.dials] == ["hk", "hk"]  # Monday 09:00 HK, then retry
    assert all(d.started_at < SAT_LATE + timedelta(hours=48) for d in dialer.dials)


def test_a_retry_that_would_fall_after_the_deadline_expires(tmp_path: Path) -> None:
    hk = Receiver(id="hk", phone_number="+85291234567")
    noon = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # Friday 12:00 in Hong Kong
    job = make_job(
        (hk,),
        JobSettings(max_attempts=3, retry_delay_seconds=7200, deadline_hours=3),
    )
    dialer = RecordingDialer()
    engine = run_bounded(job, noon, dialer, tmp_path / "e.db")
    (result,) = engine.store.results("hours")
    assert len(dialer.dials) == 2  # 12:00 and 14:00; the 16:00 retry is past the 15:00 deadline
    assert (result.status, result.attempts) == (CallStatus.EXPIRED, 2)


def test_default_hours_wait_in_virtual_time_over_sunday(tmp_path: Path) -> None:
    hk = Receiver(id="hk", phone_number="+85291234567")
    dialer = RecordingDialer()
    run_bounded(make_job((hk,), JobSettings(max_attempts=1)), SAT_LATE, dialer, tmp_path / "e.db")
    assert [d.started_at for d in dialer.dials] == [datetime(2026, 11, 30, 1, 0, tzinfo=UTC)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    people=st.lists(receivers(), min_size=1, max_size=4),
    window=windows(),
    start=moments,
    deadline_hours=st.integers(1, 240),
    max_attempts=st.integers(1, 4),
    retry_delay=st.sampled_from([0, 60, 3600, 6 * 3600, 86_400]),
    concurrency=st.integers(1, 3),
    data=st.data(),
)
def test_no_dial_outside_hours_and_every_job_ends_by_its_deadline(
    people: list[Receiver],
    window: CallingWindow,
    start: datetime,
    deadline_hours: int,
    max_attempts: int,
    retry_delay: int,
    concurrency: int,
    data: st.DataObject,
) -> None:
    people = [p.model_copy(update={"id": f"p{i}"}) for i, p in enumerate(people)]
    job_settings = JobSettings(
        calling_window=window,
        deadline_hours=deadline_hours,
        max_attempts=max_attempts,
        retry_delay_seconds=retry_delay,
        concurrency=concurrency,
    )
    busy = frozenset(data.draw(st.sets(st.sampled_from([p.id for p in people]))))
    dialer = RecordingDialer(busy=busy)
    deadline = start + timedelta(hours=deadline_hours)
    with tempfile.TemporaryDirectory() as folder:
        engine = run_bounded(
            make_job(tuple(people), job_settings), start, dialer, Path(folder) / "e.db"
        )
        results = engine.store.results("hours")
    assert sorted(r.receiver_id for r in results) == sorted(p.id for p in people)
    for dial in dialer.dials:
        assert start <= dial.started_at < deadline
        assert oracle_open(dial.receiver, job_settings, dial.started_at), dial.started_at
    for result in results:
        dialled = sum(1 for d in dialer.dials if d.receiver.id == result.receiver_id)
        assert dialled <= max_attempts
        if result.status is CallStatus.EXPIRED:
            assert dialled < max_attempts
    # the run ended: the last call started before the deadline and lasted 30 s
    assert engine.last_stats.makespan_seconds <= deadline_hours * 3600 + 30
