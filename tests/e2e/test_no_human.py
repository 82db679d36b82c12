"""Voicemail machines and silent people, through the real flow on the local engine: they end as
NoHuman, are tried again, and are counted in the report, the summary and the Slack card."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from backend.domain.models import (
    CallJob,
    CallStatus,
    ChatOrigin,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.local.dialer import SimulatorDialer
from backend.local.engine import CallRequest, DialOutcome, LocalEngine
from backend.local.simulator import SimulatedPerson, load_answers_csv
from backend.local.store import SqliteStore
from bot.core.state import JobCard
from bot.slack.views import card_blocks

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong


@dataclass
class CountingDialer:
    """Counts the dials that reach the simulator, independently of the engine's own records."""

    inner: SimulatorDialer
    dials: Counter[str] = field(default_factory=Counter)
    durations: dict[tuple[str, int], float] = field(default_factory=dict)

    def dial(self, request: CallRequest) -> DialOutcome:
        self.dials[request.receiver.id] += 1
        outcome = self.inner.dial(request)
        self.durations[(request.receiver.id, request.attempt)] = outcome.duration_seconds
        return outcome


def make_job(**settings: object) -> CallJob:
    ids = ("machine-then-person", "silent", "machine", "person")
    return CallJob(
        job_id="no-human",
        greeting="Hello {{ name }}, this is your school.",
        ending="Thank you, goodbye.",
        voicemail_message="This is your school calling {{ name }}; we will call again.",
        questions=(
            Question(template="Say OK if you got this.", type=QuestionType.OK),
            Question(template="Are you coming?", type=QuestionType.YES_NO),
        ),
        receivers=tuple(
            Receiver(id=rid, phone_number=f"+8529123456{n}", fields={"name": rid.title()})
            for n, rid in enumerate(ids)
        ),
        settings=JobSettings.model_validate(
            {"max_attempts": 2, "retry_delay_seconds": 60, **settings}
        ),
        origin=ChatOrigin(team_id="T", channel_id="C", user_id="U"),
    )


PEOPLE = {
    "machine-then-person": [
        SimulatedPerson("voicemail"),
        SimulatedPerson(utterances=["ok", "yes"]),
    ],
    "silent": [SimulatedPerson("silent")],
    "machine": [SimulatedPerson("voicemail")],
    "person": [SimulatedPerson(utterances=["okay", "no"])],
}


def run(tmp_path: Path, people: dict[str, list[SimulatedPerson]]) -> tuple[LocalEngine, Any]:
    store = SqliteStore(tmp_path / "calls.db")
    dialer = CountingDialer(SimulatorDialer(store, people))
    engine = LocalEngine(store, dialer=dialer, report_dir=tmp_path / "out", clock=lambda: T0)
    return engine, dialer


def test_voicemail_and_silence_end_as_no_human_and_are_tried_again(tmp_path: Path) -> None:
    job = make_job()
    engine, dialer = run(tmp_path, PEOPLE)
    results = {r.receiver_id: r for r in engine.run(job)}

    assert {rid: (r.status, r.attempts, r.answers) for rid, r in results.items()} == {
        "machine-then-person": (CallStatus.CALL_COMPLETED, 2, ("OK", "Yes")),
        "silent": (CallStatus.NO_HUMAN, 2, ()),
        "machine": (CallStatus.NO_HUMAN, 2, ()),
        "person": (CallStatus.CALL_COMPLETED, 1, ("OK", "No")),
    }
    # dials counted at the dialer: every NoHuman was tried max_attempts times, no more
    assert dialer.dials == {"machine-then-person": 2, "silent": 2, "machine": 2, "person": 1}
    # a machine no longer hears every question three times: it is hung up on within a minute
    assert dialer.durations[("machine", 1)] < 60
    said = [
        line["text"]
        for row in engine.store.transcripts(job.job_id, "machine")
        for line in row.lines
    ]
    assert said[-1] == "This is your school calling Machine; we will call again."

    # the report, its summary and the Slack card count them
    report = engine.last_report
    assert report is not None
    data = json.loads(Path(report.json).read_text())
    assert data["summary"]["statuses"]["NoHuman"] == 2
    assert data["summary"]["statuses"]["CallCompleted"] == 2
    summary_sheet = load_workbook(report.xlsx, read_only=True)["Summary"]
    rows = {row[0]: row[1] for row in summary_sheet.iter_rows(values_only=True) if row}
    assert rows["NoHuman"] == 2
    assert "NoHuman" in Path(report.csv).read_text(encoding="utf-8-sig")
    card = JobCard.for_job(job)
    for result in results.values():
        card.add(result)
    card_text = json.dumps([block.to_dict() for block in card_blocks(card)])
    assert ":mailbox_with_mail: *NoHuman*: 2" in card_text
    assert sorted(card.unreached()) == ["machine", "silent"]  # Retry unreached calls them again


def test_voicemail_and_silent_people_from_an_answers_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "receiver_id,attempt,pickup,answers\n"
        "machine-then-person,1,voicemail,\n"
        "machine-then-person,2,answer,ok|yes\n"
        "silent,1,silent,\n"
        "machine,1,answering machine,\n"
        "person,1,,okay|no\n",
        encoding="utf-8",
    )
    engine, dialer = run(tmp_path, load_answers_csv(answers))
    statuses = {r.receiver_id: r.status for r in engine.run(make_job(max_attempts=1))}
    assert statuses == {
        "machine-then-person": CallStatus.NO_HUMAN,
        "silent": CallStatus.NO_HUMAN,
        "machine": CallStatus.NO_HUMAN,
        "person": CallStatus.CALL_COMPLETED,
    }
    assert sum(dialer.dials.values()) == 4
