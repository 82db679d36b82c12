"""Saying "stop" (or pressing star) in a call: OptedOut at once, and never called again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.domain.call_flow import handle_flow_event
from backend.domain.dnc import DO_NOT_CALL, is_listed
from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.opt_out import OPT_OUT_CONFIRMATION, OPT_OUT_SOURCE
from backend.domain.ports import ReportFiles
from backend.domain.session import CallSession
from backend.domain.speech import OPT_OUT_ANNOUNCEMENT, Prompts
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong
TYPES = (QuestionType.OK, QuestionType.YES_NO, QuestionType.NUMBER)


def make_job(job_id: str, *numbers: str) -> CallJob:
    return CallJob(
        job_id=job_id,
        greeting="Hello {{ name }}",
        ending="Bye",
        questions=tuple(Question(template=f"Q{i}", type=t) for i, t in enumerate(TYPES, 1)),
        receivers=tuple(
            Receiver(id=f"r{i}", phone_number=n, fields={"name": f"N{i}"})
            for i, n in enumerate(numbers, 1)
        ),
        extra_columns=("name",),
    )


class Completion:
    def __init__(self) -> None:
        self.results: list[CallResult] = []

    def complete(self, session: CallSession, result: CallResult) -> None:
        self.results.append(result)


def event(call_id: str, params: dict[str, str]) -> dict[str, Any]:
    return {"Details": {"ContactData": {"Attributes": {"call_id": call_id}}, "Parameters": params}}


def answer(call_id: str, previous: dict[str, str], intent: str, slot: str = "") -> Any:
    params = {"event": "answer", "intent": intent, "answer": slot}
    params.update(turn=previous["turn"], question_number=previous["question_number"])
    return event(call_id, params)


@pytest.mark.parametrize(("intent", "slot"), [("OptOutIntent", ""), ("FallbackIntent", "*")])
def test_stop_ends_the_call_keeps_the_answers_and_lists_the_number_at_once(
    tmp_path: Path, intent: str, slot: str
) -> None:
    store = SqliteStore(tmp_path / "s.db")
    dnc = SqliteDoNotCall.beside(tmp_path / "s.db")
    job = make_job("j1", "+85291234567")
    receiver = job.receivers[0]
    prompts = Prompts("<speak>Hi.</speak>", ("<speak>Q1</speak>",) * 3, "<speak>Bye.</speak>")
    session = CallSession.new(job, receiver, 1, prompts, now=T0)
    session.number_key = dnc.key(receiver.phone_number)
    store.create(session)
    done = Completion()

    def flow(e: Any) -> dict[str, str]:
        return handle_flow_event(e, store, done, now=lambda: T0, opt_outs=dnc)

    first = flow(event(session.call_id, {"event": "start"}))
    second = flow(answer(session.call_id, first, "OkIntent"))
    end = flow(answer(session.call_id, second, intent, slot))
    assert end["action"] == "end"
    assert end["prompt"] == OPT_OUT_CONFIRMATION
    (result,) = done.results
    assert result.status is CallStatus.OPTED_OUT
    assert result.answers == ("OK", None, None)  # the answers given before are kept
    assert is_listed(dnc, receiver.phone_number)
    (entry,) = dnc.entries()
    assert entry.source == OPT_OUT_SOURCE
    # Connect retrying the last invocation gets the confirmation again and records nothing
    assert flow(answer(session.call_id, second, intent, slot)) == end
    assert len(done.results) == 1


def test_an_opt_out_without_a_list_still_ends_the_call(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    job = make_job("j1", "+85291234567")
    prompts = Prompts("<speak>Hi.</speak>", ("<speak>Q</speak>",) * 3, "<speak>Bye.</speak>")
    session = CallSession.new(job, job.receivers[0], 1, prompts, now=T0)
    store.create(session)
    done = Completion()
    first = handle_flow_event(event(session.call_id, {"event": "start"}), store, done)
    end = handle_flow_event(answer(session.call_id, first, "OptOutIntent"), store, done)
    assert end["prompt"] == OPT_OUT_CONFIRMATION
    assert done.results[0].status is CallStatus.OPTED_OUT


class Listener:
    def __init__(self) -> None:
        self.results: list[CallResult] = []

    def on_job_started(self, job: CallJob) -> None:
        return None

    def on_result(self, job: CallJob, result: CallResult) -> None:
        self.results.append(result)

    def on_job_finished(
        self, job: CallJob, results: Sequence[CallResult], report: ReportFiles
    ) -> None:
        return None


def fake_report(job: CallJob, results: Sequence[CallResult], out: Path) -> ReportFiles:
    return ReportFiles.in_dir(out, job.job_id)


def run(tmp_path: Path, job: CallJob, people: dict[str, list[SimulatedPerson]]) -> LocalEngine:
    engine = LocalEngine(
        SqliteStore(tmp_path / "jobs.db"),
        people,
        listeners=[Listener()],
        report_dir=tmp_path / "out",
        clock=lambda: T0,
        report_writer=fake_report,
    )
    engine.run(job)
    return engine


def test_simulated_people_who_say_stop_are_opted_out_and_skipped_by_the_next_job(
    tmp_path: Path,
) -> None:
    numbers = ("+85291230001", "+85291230002", "+85291230003")
    people = {
        "r1": [SimulatedPerson(utterances=["ok", "stop calling me"])],
        "r2": [SimulatedPerson(utterances=["*"])],  # the star key
        "r3": [SimulatedPerson(utterances=["ok", "yes", "12#"])],
    }
    engine = run(tmp_path, make_job("first", *numbers), people)
    by_id = {r.receiver_id: r for r in engine.store.results("first")}
    assert by_id["r1"].status is CallStatus.OPTED_OUT
    assert by_id["r1"].answers == ("OK", None, None)
    assert by_id["r2"].status is CallStatus.OPTED_OUT
    assert by_id["r2"].answers == (None,) * 3
    assert by_id["r3"].status is CallStatus.CALL_COMPLETED
    transcript = engine.store.transcripts("first", "r1")[0].lines
    assert OPT_OUT_ANNOUNCEMENT in transcript[0]["text"]  # announced once, in the greeting
    assert "You will not be called again" in transcript[-1]["text"]
    # a second job with the same numbers: those who said stop are not dialled at all
    again = run(tmp_path, make_job("second", *numbers), people)
    second = {r.receiver_id: r for r in again.store.results("second")}
    assert second["r1"].status is CallStatus.NOT_CALLABLE
    assert second["r1"].error == DO_NOT_CALL
    assert second["r2"].status is CallStatus.NOT_CALLABLE
    assert second["r2"].attempts == 0
    assert second["r3"].status is CallStatus.CALL_COMPLETED
    dialled = {row.receiver_id for row in again.store.attempts("second")}
    assert dialled == {"r3"}
