"""Properties of the local engine over random jobs, people and settings (hypothesis):
a listed number is never dialled, an opt-out holds in the same call and in every later job,
and no number gets more dials in one local day than its cap. Dials are counted by a recorder
around the dialer, not from the rows the engine writes."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.dnc import add_number, call_day
from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.ports import ReportFiles
from backend.local.dialer import SimulatorDialer
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import CallRequest, LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore
from tests.fakes.dialer import RecordingDialer

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Hong Kong
NUMBERS = ("+85291230001", "+85291230002", "+85291230003", "+85291230004")
BEHAVIOURS = {
    "completes": SimulatedPerson(utterances=["ok", "yes"]),
    "says_stop": SimulatedPerson(utterances=["ok", "stop calling me"]),
    "presses_star": SimulatedPerson(utterances=["*"]),
    "no_answer": SimulatedPerson(pickup="no_answer"),
    "busy": SimulatedPerson(pickup="busy"),
}


def fake_report(job: CallJob, results: Sequence[CallResult], out: Path) -> ReportFiles:
    return ReportFiles.in_dir(out, job.job_id)


def make_job(index: int, picks: Sequence[int], attempts: int, delay: int, cap: int) -> CallJob:
    return CallJob(
        job_id=f"job-{index}",
        greeting="Hello",
        ending="Bye",
        questions=(
            Question(template="Got it?", type=QuestionType.OK),
            Question(template="Coming?", type=QuestionType.YES_NO),
        ),
        receivers=tuple(Receiver(id=f"r{n}", phone_number=NUMBERS[n]) for n in sorted(picks)),
        settings=JobSettings(
            max_attempts=attempts, retry_delay_seconds=delay, max_calls_per_day=cap
        ),
    )


job_specs = st.lists(
    st.tuples(
        st.sets(st.integers(min_value=0, max_value=3), min_size=1),  # which numbers it calls
        st.integers(min_value=1, max_value=4),  # max_attempts
        st.sampled_from([0, 600, 7_200, 40_000]),  # retry_delay_seconds
        st.integers(min_value=1, max_value=3),  # max_calls_per_day
        st.lists(st.sampled_from(sorted(BEHAVIOURS)), min_size=4, max_size=4),  # per number
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=job_specs, listed=st.sets(st.integers(min_value=0, max_value=3), max_size=2))
def test_listed_and_opted_out_numbers_are_never_dialled_and_caps_hold(
    specs: list[tuple[set[int], int, int, int, list[str]]], listed: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        db = Path(directory) / "callouts.db"
        store = SqliteStore(db)
        dnc = SqliteDoNotCall.beside(db)
        for n in listed:
            add_number(dnc, NUMBERS[n], "test")
        refused = {NUMBERS[n] for n in listed}  # numbers no dial may reach from now on
        dials: list[CallRequest] = []
        for index, (picks, attempts, delay, cap, behaviours) in enumerate(specs):
            job = make_job(index, sorted(picks), attempts, delay, cap)
            people = {f"r{n}": [BEHAVIOURS[behaviours[n]]] for n in range(4)}
            recorder = RecordingDialer(SimulatorDialer(store, people, opt_outs=dnc))
            engine = LocalEngine(
                store,
                dialer=recorder,
                dnc=dnc,
                report_dir=Path(directory),
                clock=lambda: T0,
                report_writer=fake_report,
            )
            results = {r.receiver_id: r for r in engine.run(job)}
            assert set(results) == {r.id for r in job.receivers}  # one result each
            dialled = [r.receiver.phone_number for r in recorder.dials]
            assert not refused & set(dialled)
            for receiver in job.receivers:
                result = results[receiver.id]
                if result.status is CallStatus.OPTED_OUT:
                    # honoured in the same call: its last dial, never retried
                    assert dialled.count(receiver.phone_number) == result.attempts
                    refused.add(receiver.phone_number)
                if receiver.phone_number in {NUMBERS[n] for n in listed}:
                    assert result.status is CallStatus.NOT_CALLABLE
                    assert result.error == "do-not-call"
            dials += recorder.dials
            per_day = Counter(
                (d.receiver.phone_number, call_day(d.receiver.phone_number, d.started_at)[0])
                for d in dials
            )
            caps = [spec[3] for spec in specs[: index + 1]]
            assert max(per_day.values(), default=0) <= max(caps)
            # each job's own dials never take a number past that job's cap on that day
            for (number, day), count in per_day.items():
                mine = sum(
                    1
                    for d in recorder.dials
                    if d.receiver.phone_number == number
                    and call_day(number, d.started_at)[0] == day
                )
                assert mine == 0 or count <= cap or count - mine < cap
        store.close()
        dnc.close()
