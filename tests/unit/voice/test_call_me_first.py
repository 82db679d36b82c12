"""Call me first on the simulator: `callouts test-call` plays person #1's call, stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.domain.call_me_first import (
    RefusedTestCall,
    is_test_call,
    number_key_for_test,
    requester_number,
    session_for_test,
)
from backend.domain.dnc import add_number, is_listed
from backend.domain.intake import read_workbook
from backend.domain.models import CallStatus
from backend.local.call_me_first import simulate_test_call
from backend.local.dnc import SqliteDoNotCall
from backend.local.simulator import SimulatedPerson, answering_person

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLOUTS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALLOUTS_DB", raising=False)
    return tmp_path / "home"


def example_job():  # type: ignore[no-untyped-def]
    job = read_workbook(EXAMPLE.read_bytes(), filename="call_job.xlsx").job
    assert job is not None
    return job


def test_the_session_is_person_ones_call_marked_as_a_test() -> None:
    job = example_job()
    session = session_for_test(job, "+85291234567", "abc123def456", NOW)
    assert session.test
    assert is_test_call(session.call_id)
    assert session.receiver_id == job.receivers[0].id
    assert "Chan Tai Man" in session.greeting
    assert len(session.questions) == len(job.questions)


def test_the_number_is_read_with_the_jobs_prefix_and_refused_when_unreadable() -> None:
    job = example_job()
    assert requester_number(job, "5123 4567") == "+85251234567"
    with pytest.raises(RefusedTestCall, match="letters"):
        requester_number(job, "call me")
    with pytest.raises(RefusedTestCall, match="give the number"):
        requester_number(job, " ")


def test_a_listed_number_is_refused(home: Path) -> None:
    dnc = SqliteDoNotCall.beside(home / "callouts.db")
    add_number(dnc, "+85291234567", "cli")
    with pytest.raises(RefusedTestCall, match="do-not-call"):
        number_key_for_test(dnc, "+85291234567")
    assert number_key_for_test(dnc, "+85261234567") == dnc.key("+85261234567")


def test_the_simulated_call_runs_the_real_flow() -> None:
    job = example_job()
    played = simulate_test_call(job, "+85291234567", answering_person(job), NOW)
    result = played.outcome.result
    assert result.status is CallStatus.CALL_COMPLETED
    assert result.answers[:3] == ("OK", "Yes", "A")
    assert played.outcome.masked_to == "+852****4567"
    said = [line.text for line in played.transcript if line.speaker == "system"]
    assert "Chan Tai Man" in said[0]
    assert "Not part of the job's results" in played.outcome.summary()


def test_a_stop_in_a_test_call_goes_on_the_list(home: Path) -> None:
    job = example_job()
    dnc = SqliteDoNotCall.beside(home / "callouts.db")
    key = number_key_for_test(dnc, "+85291234567")
    person = SimulatedPerson("answer", ["okay", "stop"])
    played = simulate_test_call(job, "+85291234567", person, NOW, opt_outs=dnc, number_key=key)
    assert played.outcome.result.status is CallStatus.OPTED_OUT
    assert is_listed(dnc, "+85291234567")


def test_cli_prints_the_transcript_and_stores_nothing(home: Path) -> None:
    result = runner.invoke(app, ["test-call", str(EXAMPLE), "--to", "+852 9123 4567"])
    assert result.exit_code == 0, result.output
    assert "Callouts: " in result.output
    assert "Person:   okay" in result.output
    assert "Outcome: Test call to +852****4567" in result.output
    assert "CallCompleted" in result.output
    assert "91234567" not in result.output
    status = runner.invoke(app, ["status"])  # the job database was never written
    assert "No jobs" in status.output


def test_cli_scripted_answers(tmp_path: Path) -> None:
    said = runner.invoke(app, ["test-call", str(EXAMPLE), "--to", "91234567", "--say", "ok|no"])
    assert said.exit_code == 0, said.output
    assert "OK | No" in said.output
    busy = runner.invoke(app, ["test-call", str(EXAMPLE), "--to", "91234567", "--pickup", "busy"])
    assert "Busy" in busy.output
    answers = tmp_path / "answers.csv"
    answers.write_text("receiver_id,pickup,answers\ntest,answer,okay|yes|B\n")
    scripted = runner.invoke(
        app, ["test-call", str(EXAMPLE), "--to", "91234567", "--answers", str(answers)]
    )
    assert scripted.exit_code == 0, scripted.output
    assert "OK | Yes | B" in scripted.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "not a number"], "letters"),
        (["--to", "+999 1"], "Nobody was called"),
        (["--to", "91234567", "--pickup", "maybe"], "--pickup"),
    ],
)
def test_cli_bad_input_exits_1_without_a_call(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["test-call", str(EXAMPLE), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Person:" not in result.output


def test_cli_refuses_a_listed_number(home: Path) -> None:
    assert runner.invoke(app, ["dnc", "add", "+85291234567"]).exit_code == 0
    result = runner.invoke(app, ["test-call", str(EXAMPLE), "--to", "+85291234567"])
    assert result.exit_code == 1
    assert "do-not-call" in result.output
    assert "Person:" not in result.output
