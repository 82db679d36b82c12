"""Intake marks do-not-call receivers `NotCallable (do-not-call)`: the domain rule, the readers,
the CLI (validate, preview, run on a workbook and a JSON job) and the local engine, counting dials
from the dialer's own record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.domain.dnc import DO_NOT_CALL, add_number, mark_do_not_call, remove_number
from backend.domain.intake import job_from_json, job_to_json, read_workbook
from backend.domain.models import CallJob, CallStatus
from backend.local.dialer import SimulatorDialer
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore
from tests.fakes.dialer import RecordingDialer

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"
ANSWERS = ["okay", "yes", "B", "three", "the fourth of December 2026", "half past four p m"]
MONDAY_NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 in Hong Kong
SUNDAY_NOON = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # no calls on Sundays by default


def example() -> CallJob:
    job = read_workbook(EXAMPLE).job
    assert job is not None
    return job


@pytest.fixture
def dnc(tmp_path: Path) -> SqliteDoNotCall:
    return SqliteDoNotCall.beside(tmp_path / "home" / "callouts.db")


def engine(
    tmp_path: Path, dnc: SqliteDoNotCall, now: datetime = MONDAY_NOON
) -> tuple[LocalEngine, RecordingDialer]:
    store = SqliteStore(tmp_path / "home" / "callouts.db")
    person = SimulatedPerson(utterances=ANSWERS)
    dialer = RecordingDialer(
        SimulatorDialer(store, lambda job: {r.id: [person] for r in job.receivers}, opt_outs=dnc)
    )
    built = LocalEngine(
        store, dialer=dialer, report_dir=tmp_path / "out", clock=lambda: now, dnc=dnc
    )
    return built, dialer


# --- the rule and the readers ---------------------------------------------------------------


def test_every_reader_marks_the_listed_receivers_and_the_list_decides(
    dnc: SqliteDoNotCall,
) -> None:
    job = example()
    listed = job.receivers[1]
    add_number(dnc, listed.phone_number, "test")
    from_workbook = read_workbook(EXAMPLE, dnc=dnc).job
    from_json = job_from_json(job_to_json(job), dnc=dnc).job
    assert from_workbook is not None
    assert from_json is not None
    assert from_workbook.do_not_call == from_json.do_not_call == (listed.id,)
    assert job.do_not_call == ()  # without a list nothing is marked
    # The mark travels with the job (the chat's Start, the queue) and is kept without a list...
    assert job_from_json(job_to_json(from_workbook)).job == from_workbook
    # ...and the list as it is now decides whenever intake runs with it.
    remove_number(dnc, listed.phone_number)
    assert mark_do_not_call(from_workbook, dnc).do_not_call == ()
    assert job_from_json(job_to_json(from_workbook), dnc=dnc).job == job


def test_a_json_job_naming_an_unknown_receiver_in_do_not_call_is_a_problem() -> None:
    payload = {**job_to_json(example()), "do_not_call": ["nobody"]}
    result = job_from_json(payload)
    assert result.job is None
    assert [p.field for p in result.problems] == ["do_not_call"]
    assert "nobody" in result.problems[0].message


# --- the local engine -------------------------------------------------------------------------


def test_a_listed_receiver_ends_at_the_start_not_after_waiting_for_their_hours(
    tmp_path: Path, dnc: SqliteDoNotCall
) -> None:
    """On a Sunday with a one-hour deadline nobody can be called: the listed receiver is
    NotCallable from intake, not Expired like the others (the dial-time check never runs)."""
    job = example()
    job = job.model_copy(update={"settings": job.settings.model_copy(update={"deadline_hours": 1})})
    add_number(dnc, job.receivers[1].phone_number, "test")
    run, dialer = engine(tmp_path, dnc, SUNDAY_NOON)
    results = {r.receiver_id: (r.status, r.error) for r in run.run(job)}
    assert results.pop(job.receivers[1].id) == (CallStatus.NOT_CALLABLE, DO_NOT_CALL)
    assert {status for status, _ in results.values()} == {CallStatus.EXPIRED}
    assert dialer.rung == []


def test_the_engine_ends_listed_receivers_at_start_and_never_rings_them(
    tmp_path: Path, dnc: SqliteDoNotCall
) -> None:
    job = example()
    listed = {job.receivers[0].id, job.receivers[3].id}
    for receiver in job.receivers:
        if receiver.id in listed:
            add_number(dnc, receiver.phone_number, "test")
    run, dialer = engine(tmp_path, dnc)
    results = {r.receiver_id: r for r in run.run(job)}  # the job as read, without marks
    for rid in listed:
        assert (results[rid].status, results[rid].error, results[rid].attempts) == (
            CallStatus.NOT_CALLABLE,
            DO_NOT_CALL,
            0,
        )
    numbers = {r.id: r.phone_number for r in job.receivers}
    assert not {numbers[rid] for rid in listed} & set(dialer.rung)
    assert len(dialer.rung) == len(job.receivers) - len(listed)
    assert {r.status for rid, r in results.items() if rid not in listed} == {
        CallStatus.CALL_COMPLETED
    }
    # A second run of the job (resumed: nothing left) and a new job with the same people.
    again, second = engine(tmp_path, dnc)
    assert {r.receiver_id: r for r in again.run(job)} == results
    assert second.rung == []
    other = job.model_copy(update={"job_id": "second-run"})
    later, third = engine(tmp_path, dnc)
    repeat = {r.receiver_id: (r.status, r.error, r.attempts) for r in later.run(other)}
    assert repeat == {rid: (r.status, r.error, r.attempts) for rid, r in results.items()}
    assert len(third.rung) == len(dialer.rung)


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLOUTS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALLOUTS_DB", raising=False)
    return tmp_path / "home"


def _json_job(tmp_path: Path) -> Path:
    path = tmp_path / "job.json"
    path.write_text(json.dumps({**job_to_json(example()), "job_id": "json-job"}))
    return path


def test_validate_and_preview_say_how_many_are_marked_for_a_workbook_and_a_json_job(
    tmp_path: Path, home: Path, dnc: SqliteDoNotCall
) -> None:
    job = example()
    add_number(dnc, job.receivers[2].phone_number, "test")
    line = f"1 of {len(job.receivers)} receiver(s) are on the do-not-call list"
    for job_file in (EXAMPLE, _json_job(tmp_path)):
        for command in ("validate", "preview"):
            result = runner.invoke(app, [command, str(job_file)])
            assert result.exit_code == 0, result.output
            assert line in result.output, (command, job_file.name)
    remove_number(dnc, job.receivers[2].phone_number)
    assert "do-not-call list" not in runner.invoke(app, ["validate", str(EXAMPLE)]).output


def _run(job_file: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["run", str(job_file), "--simulate", "random", "--out", str(out), "--no-wait"]
    )
    assert result.exit_code == 0, result.output
    (report,) = out.glob("*.json")
    rows: dict[str, Any] = {
        r["receiver_id"]: r for r in json.loads(report.read_text(encoding="utf-8"))["results"]
    }
    return rows


def test_callouts_run_reports_the_listed_receiver_not_callable_and_a_rerun_is_identical(
    tmp_path: Path, home: Path, dnc: SqliteDoNotCall
) -> None:
    job = example()
    listed = job.receivers[4]
    add_number(dnc, listed.phone_number, "test")
    for job_file in (EXAMPLE, _json_job(tmp_path)):
        first = _run(job_file, tmp_path / job_file.stem / "a")
        row = first[listed.id]
        assert (row["status"], row["error"], row["attempts"]) == ("NotCallable", DO_NOT_CALL, 0)
        rerun = _run(job_file, tmp_path / job_file.stem / "b")
        assert rerun == first
        store = SqliteStore(home / "callouts.db")
        job_id = next(iter(first.values()))["job_id"]
        dialled = {row.receiver_id for row in store.attempts(job_id)}
        assert listed.id not in dialled
        assert dialled == {r.id for r in job.receivers} - {listed.id}


def test_the_preview_counts_and_estimates_only_the_people_it_will_call(
    dnc: SqliteDoNotCall,
) -> None:
    from bot.core.preview import preview_of
    from bot.core.state import SqliteBotState

    everyone = read_workbook(EXAMPLE)
    job = everyone.job
    assert job is not None
    add_number(dnc, job.receivers[0].phone_number, "test")
    add_number(dnc, job.receivers[1].phone_number, "test")

    def calls_line(preview: Any) -> str:
        return next(line for line in preview.extra_lines if line.startswith("Expected duration"))

    before = preview_of(everyone, title="picnic", state=SqliteBotState(), now=MONDAY_NOON)
    after = preview_of(
        read_workbook(EXAMPLE), title="picnic", state=SqliteBotState(), dnc=dnc, now=MONDAY_NOON
    )
    total = len(job.receivers)
    assert (before.calls, after.calls, after.do_not_call) == (total, total - 2, 2)
    assert f"of {total - 2} people are outside" in after.hours
    # the estimate's expected calls scale with the people called, not with the rows
    expected = [
        float(calls_line(p).split("(")[1].split(" calls")[0].replace(",", ""))
        for p in (before, after)
    ]
    assert expected[1] == pytest.approx(expected[0] * (total - 2) / total, abs=0.5)  # shown whole
