"""The local engine texts the unreached once, before the report; the CLI shows the outbox.

What was sent is counted from the gateway's side (tests/fakes/sms.py), not from the outbox.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.domain.intake import job_to_json
from backend.domain.models import CallJob, CallStatus, Question, QuestionType, Receiver
from backend.domain.sms import INTERRUPTED, SmsSender, SmsTally
from backend.local import engine as engine_module
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.sms import LANDLINE
from backend.local.store import SqliteStore
from tests.fakes.sms import RecordingSmsGateway

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 in Hong Kong
NUMBERS = {
    "r1": "+85251230001",  # answers
    "r2": "+85251230002",  # no answer
    "r3": "+85251230003",  # busy
    "r4": "+85221234567",  # no answer, a landline: the text fails
    "r5": "+85251230005",  # says stop
}
PEOPLE = {
    "r1": [SimulatedPerson(utterances=["yes"])],
    "r2": [SimulatedPerson(pickup="no_answer")],
    "r3": [SimulatedPerson(pickup="busy")],
    "r4": [SimulatedPerson(pickup="no_answer")],
    "r5": [SimulatedPerson(utterances=["stop"])],
}


def make_job(job_id: str = "sms-job") -> CallJob:
    return CallJob(
        job_id=job_id,
        greeting="Hello {{ name }}",
        ending="Bye",
        sms_template="Hi {{ name }}, we could not reach you. Call 2345 6789 & ask for Ann.",
        questions=(Question(template="Coming?", type=QuestionType.YES_NO),),
        receivers=tuple(
            Receiver(id=rid, phone_number=phone, fields={"name": rid.upper()})
            for rid, phone in NUMBERS.items()
        ),
        extra_columns=("name",),
    )


def engine_for(tmp_path: Path, gateway: SmsSender) -> LocalEngine:
    return LocalEngine(
        SqliteStore(tmp_path / "jobs.db"),
        PEOPLE,
        report_dir=tmp_path / "out",
        clock=lambda: T0,
        sms_sender=gateway,
    )


def test_the_unreached_get_one_text_each_and_the_report_says_so(tmp_path: Path) -> None:
    gateway = RecordingSmsGateway()
    engine = engine_for(tmp_path, gateway)
    job = make_job()
    results = {r.receiver_id: r.status for r in engine.run(job)}
    assert results == {
        "r1": CallStatus.CALL_COMPLETED,
        "r2": CallStatus.NO_ANSWER,
        "r3": CallStatus.BUSY,
        "r4": CallStatus.NO_ANSWER,
        "r5": CallStatus.OPTED_OUT,
    }
    assert gateway.texts() == [
        ("r2", "Hi R2, we could not reach you. Call 2345 6789 & ask for Ann."),
        ("r3", "Hi R3, we could not reach you. Call 2345 6789 & ask for Ann."),
    ]
    assert [(m.receiver_id, m.phone_number) for m in gateway.refused] == [("r4", NUMBERS["r4"])]
    labels = {rid: r.label for rid, r in engine.store.sms_results(job.job_id).items()}
    assert labels == {"r2": "Sent", "r3": "Sent", "r4": f"Failed: {LANDLINE}"}
    report = engine.last_report
    assert report is not None
    assert report.sms == SmsTally(sent=2, failed=1, skipped=0)
    with open(report.csv, encoding="utf-8-sig") as handle:
        rows = {row["receiver_id"]: row["sms"] for row in csv.DictReader(handle)}
    assert rows == {"r1": "", "r2": "Sent", "r3": "Sent", "r4": f"Failed: {LANDLINE}", "r5": ""}
    data = json.loads(Path(report.json).read_text())
    assert data["sms_summary"] == {"sent": 2, "failed": 1, "skipped": 0}
    assert [item["receiver_id"] for item in data["sms"]] == ["r2", "r3", "r4"]
    book = openpyxl.load_workbook(report.xlsx)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
    assert (summary["SMS sent"], summary["SMS failed"], summary["SMS skipped"]) == (2, 1, 0)
    results_sheet = book["Results"]
    assert [cell.value for cell in results_sheet[1]][-1] == "sms"

    # A second run of the same job texts nobody again and reports the same texts.
    again = RecordingSmsGateway()
    engine_for(tmp_path, again).run(job)
    assert again.requests == []
    assert {rid: r.label for rid, r in engine.store.sms_results(job.job_id).items()} == labels


def test_a_cancelled_job_texts_nobody(tmp_path: Path) -> None:
    gateway = RecordingSmsGateway()
    engine = engine_for(tmp_path, gateway)
    job = make_job("cancelled")
    engine.store.upsert_job(job)
    engine.store.request_cancel(job.job_id)
    results = engine.run(job)
    assert {r.status for r in results} == {CallStatus.CANCELLED}
    assert gateway.requests == []
    assert engine.store.sms_rows(job.job_id) == []


class _Crash(BaseException):
    pass


class CrashingCarrier:
    """Dies (like a killed process) while sending the first message."""

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        raise _Crash


def test_a_crash_mid_send_is_reported_and_never_resent(tmp_path: Path) -> None:
    job = make_job("crash")
    crashing = RecordingSmsGateway(CrashingCarrier())
    with pytest.raises(_Crash):
        engine_for(tmp_path, crashing).run(job)
    assert [m.receiver_id for m in crashing.requests] == ["r2"]
    gateway = RecordingSmsGateway()
    engine = engine_for(tmp_path, gateway)
    engine.run(job)
    assert [m.receiver_id for m in gateway.requests] == ["r3", "r4"]  # r2 never again
    assert [rid for rid, _ in gateway.texts()] == ["r3"]
    labels = {rid: r.label for rid, r in engine.store.sms_results(job.job_id).items()}
    assert labels["r2"] == f"Failed: {INTERRUPTED}"


def test_callouts_run_prints_the_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = RecordingSmsGateway()
    monkeypatch.setattr(engine_module, "SimulatedSmsGateway", lambda: gateway)
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job_to_json(make_job("cli-sms"))))
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "receiver_id,attempt,pickup,hang_up_after,answers\n"
        "r1,1,answer,,yes\nr2,1,no_answer,,\nr3,1,busy,,\nr4,1,no_answer,,\nr5,1,answer,,stop\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(job_file),
            "--answers",
            str(answers),
            "--out",
            str(tmp_path / "out"),
            "--db",
            str(tmp_path / "c.db"),
            "--start-at",
            T0.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "SMS (simulated outbox): Texted 2 people who were not reached; 1 failed." in (
        result.output
    )
    assert '"Hi R2, we could not reach you.' in result.output
    assert "+852****0002" in result.output
    assert "+85251230002" not in result.output
    assert f"Failed: {LANDLINE}" in result.output
    assert [rid for rid, _ in gateway.texts()] == ["r2", "r3"]  # what the output counts
    assert [m.receiver_id for m in gateway.refused] == ["r4"]
    # The Excel report rebuilt from the JSON keeps the sms column.
    [report_json] = (tmp_path / "out").glob("*.json")
    rebuilt = tmp_path / "again.xlsx"
    done = CliRunner().invoke(app, ["report", str(report_json), str(rebuilt)])
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(rebuilt)["Results"]
    header = [cell.value for cell in sheet[1]]
    sms = {row[1]: row[header.index("sms")] for row in sheet.iter_rows(2, values_only=True)}
    assert sms == {"r1": None, "r2": "Sent", "r3": "Sent", "r4": f"Failed: {LANDLINE}", "r5": None}


def test_preview_shows_the_text_of_the_first_person(tmp_path: Path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job_to_json(make_job("preview-sms"))))
    result = CliRunner().invoke(app, ["preview", str(job_file)])
    assert result.exit_code == 0, result.output
    assert "SMS if not reached" in result.output
    assert "Hi R1, we could not reach you. Call 2345 6789 & ask for Ann." in result.output
