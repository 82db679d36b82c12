"""`callouts run` on the example workbook with the example answers, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"
ANSWERS = ROOT / "examples" / "answers.csv"

runner = CliRunner()

EXPECTED = {
    "1": ("CallCompleted", 1, ["OK", "Yes", "A", "2", "2026-11-30", "15:30"]),
    "2": ("CallCompleted", 1, ["OK", "No", "C", "0", "2026-12-05", "09:00"]),
    "3": ("CallCompleted", 2, ["OK", "Yes", "B", "3", "2026-12-04", "16:30"]),
    "4": ("Busy", 2, []),
    "5": ("DropCall", 1, ["OK", "No", None, None, None, None]),
    "6": ("NotCallable", 1, []),
    "S07": ("CallCompleted", 1, ["OK", None, "C", "4", "2026-12-01", "12:00"]),
    "S08": ("CallCompleted", 2, ["OK", "Yes", "E", "7", "2026-11-30", "19:00"]),
}


def _results(report_json: Path) -> dict[str, dict[str, object]]:
    data = json.loads(report_json.read_text())
    return {r["receiver_id"]: r for r in data["results"]}


@pytest.fixture
def ran(tmp_path: Path) -> tuple[Path, Path, str]:
    out, db = tmp_path / "out", tmp_path / "callouts.db"
    result = runner.invoke(
        app,
        ["run", str(EXAMPLE), "--answers", str(ANSWERS), "--out", str(out), "--db", str(db)],
    )
    assert result.exit_code == 0, result.output
    return out, db, result.output


def test_run_the_example_job(ran: tuple[Path, Path, str]) -> None:
    out, _, output = ran
    reports = sorted(out.glob("*.json"))
    assert len(reports) == 1
    results = _results(reports[0])
    got = {rid: (r["status"], r["attempts"], r["answers"]) for rid, r in results.items()}
    assert got == EXPECTED
    assert {p.suffix for p in out.iterdir()} == {".xlsx", ".json", ".csv"}
    # streamed lines and summary; phone numbers masked
    assert "+852****5432" in output
    assert "+85298765432" not in output
    assert "NotCallable" in output
    assert "Done: 8 of 8" in output


def test_rerun_resumes_without_calling_anyone(ran: tuple[Path, Path, str]) -> None:
    out, db, _ = ran
    job_id = next(out.glob("*.json")).stem
    again = runner.invoke(
        app,
        ["run", str(EXAMPLE), "--answers", str(ANSWERS), "--out", str(out), "--db", str(db)],
    )
    assert again.exit_code == 0, again.output
    assert "nobody already called is called again" in again.output
    status = runner.invoke(app, ["status", job_id, "--db", str(db)])
    assert status.exit_code == 0
    assert "finished, 8 of 8 done" in status.output
    listing = runner.invoke(app, ["status", "--db", str(db)])
    assert job_id in listing.output
    transcript = runner.invoke(app, ["transcript", job_id, "3", "--db", str(db)])
    assert transcript.exit_code == 0, transcript.output
    assert "Attempt 1: NoAnswer" in transcript.output
    assert "Attempt 2: CallCompleted" in transcript.output
    assert "RepeatIntent" in transcript.output
    # exactly two attempts were ever claimed for receiver 3, across both runs
    from backend.local.store import SqliteStore

    attempts = [a for a in SqliteStore(db).attempts(job_id) if a.receiver_id == "3"]
    assert [a.attempt for a in attempts] == [1, 2]


def test_random_simulation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(EXAMPLE), "--simulate", "random", "--seed", "7", "--concurrency", "3"]
    result = runner.invoke(app, [*args, "--out", str(out), "--db", str(tmp_path / "r.db")])
    assert result.exit_code == 0, result.output
    results = _results(next(out.glob("*.json")))
    assert set(results) == set(EXPECTED)
    assert all(r["status"] for r in results.values())


def test_invalid_workbook_dials_nobody(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("id,phone\n1,2\n")
    db = tmp_path / "bad.db"
    result = runner.invoke(app, ["run", str(bad), "--db", str(db), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert not db.exists()


def test_bad_answers_file_is_reported(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("receiver_id,attempt,pickup,answers\n1,zero,sometimes,ok\n")
    db = tmp_path / "a.db"
    result = runner.invoke(app, ["run", str(EXAMPLE), "--answers", str(answers), "--db", str(db)])
    assert result.exit_code == 1
    assert "row 2" in result.output
    assert not db.exists()


def test_unknown_job_and_receiver(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    assert runner.invoke(app, ["status", "nope", "--db", db]).exit_code == 1
    assert runner.invoke(app, ["transcript", "nope", "1", "--db", db]).exit_code == 1


def _run(tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    db = tmp_path / "guard.db"
    args = ["run", str(EXAMPLE), "--answers", str(ANSWERS), "--db", str(db), *extra]
    result = runner.invoke(app, args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output, db


def _dialled(db: Path) -> int:
    from backend.local.store import SqliteStore

    if not db.exists():
        return 0
    store = SqliteStore(db)
    return sum(len(store.attempts(job.job_id)) for job in store.jobs())


@pytest.mark.parametrize("value", ["0", "-1", "1001"])
def test_concurrency_out_of_range_exits_1_and_dials_nobody(tmp_path: Path, value: str) -> None:
    code, output, db = _run(tmp_path, "--concurrency", value, "--out", str(tmp_path / "o"))
    assert code == 1
    assert "--concurrency" in output
    assert "1 to 1000" in output
    assert _dialled(db) == 0


def test_out_pointing_at_a_file_is_refused_before_anyone_is_called(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("not a directory")
    code, output, db = _run(tmp_path, "--out", str(target))
    assert code == 1
    assert "report.txt" in output
    assert "directory" in output
    assert _dialled(db) == 0


def test_out_inside_a_file_is_refused_before_anyone_is_called(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("not a directory")
    code, output, db = _run(tmp_path, "--out", str(target / "sub"))
    assert code == 1
    assert "cannot write the report" in output
    assert _dialled(db) == 0


def test_bad_job_id_message_is_plain(tmp_path: Path) -> None:
    code, output, db = _run(tmp_path, "--job-id", "bad id!")
    assert code == 1
    assert "letters, digits" in output
    assert "pydantic" not in output
    assert _dialled(db) == 0


def test_status_and_transcript_of_a_missing_database_create_nothing(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "x.db"
    listing = runner.invoke(app, ["status", "--db", str(db)])
    assert listing.exit_code == 0
    assert "No jobs" in listing.output
    assert runner.invoke(app, ["transcript", "j", "1", "--db", str(db)]).exit_code == 1
    assert not db.parent.exists()


def test_transcript_of_an_unknown_receiver_lists_the_ids(ran: tuple[Path, Path, str]) -> None:
    out, db, _ = ran
    job_id = next(out.glob("*.json")).stem
    result = runner.invoke(app, ["transcript", job_id, "nobody", "--db", str(db)])
    assert result.exit_code == 1
    assert "no receiver 'nobody'" in result.output
    assert "S07" in result.output


def _big_workbook(path: Path, receivers: int) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    config = book.active
    assert config is not None
    config.title = "Configures"
    for row in (
        ("Key", "Value"),
        ("greeting", "Hi {{ name }}"),
        ("ending", "Bye"),
        ("phone_prefix", "+852"),
        ("max_attempts", 3),
    ):
        config.append(row)
    questions = book.create_sheet("Questions")
    questions.append(("question_template", "question_type"))
    questions.append(("Coming?", "Yes/No"))
    people = book.create_sheet("Receivers")
    people.append(("id", "phone_number", "name"))
    for index in range(receivers):
        people.append((f"R{index}", 51000000 + index, f"Person {index}"))
    book.save(path)


def test_a_killed_run_resumes_calling_nobody_twice(tmp_path: Path) -> None:
    """A real `callouts run` process killed mid-job, then run again: one result per receiver."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    job_file, db, out = tmp_path / "big.xlsx", tmp_path / "k.db", tmp_path / "out"
    people = 600  # killed after 50 results: far more than a 0.1 s poll lets through
    _big_workbook(job_file, people)
    args = ["run", str(job_file), "--simulate", "random", "--concurrency", "5"]
    args += ["--db", str(db), "--out", str(out)]
    code = "from backend.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # until some results are stored (at most ~60 s)
            if process.poll() is not None:
                break
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        (stored,) = conn.execute("SELECT COUNT(*) FROM results").fetchone()
                except sqlite3.OperationalError:
                    stored = 0
                if stored >= 50:
                    break
            time.sleep(0.1)
        killed_mid_job = process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert killed_mid_job, "the run finished before it could be killed: make the job bigger"
    with sqlite3.connect(db) as conn:
        (before,) = conn.execute("SELECT COUNT(*) FROM results").fetchone()
    assert 0 < before < people

    status = runner.invoke(app, ["status", "--db", str(db)])
    assert "interrupted" in status.output  # killed: nobody owns the job any more

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT receiver_id FROM results").fetchall()
        # Dial facts, written before each call leaves: nobody dialled more than max_attempts
        # times, nor for an attempt after their final one, and every final attempt dialled.
        most = conn.execute(
            "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM dials GROUP BY receiver_id)"
        ).fetchone()[0]
        after_final = conn.execute(
            "SELECT COUNT(*) FROM dials d JOIN results r ON r.job_id = d.job_id"
            " AND r.receiver_id = d.receiver_id"
            " WHERE d.attempt > json_extract(r.result, '$.attempts')"
        ).fetchone()[0]
        final_undialled = conn.execute(
            "SELECT COUNT(*) FROM results r WHERE NOT EXISTS (SELECT 1 FROM dials d"
            " WHERE d.job_id = r.job_id AND d.receiver_id = r.receiver_id"
            " AND d.attempt = json_extract(r.result, '$.attempts'))"
        ).fetchone()[0]
        unfinished = conn.execute("SELECT COUNT(*) FROM attempts WHERE outcome IS NULL").fetchone()
    assert sorted(r[0] for r in rows) == sorted(f"R{i}" for i in range(people))
    assert most <= 3
    assert after_final == 0
    assert final_undialled == 0
    assert unfinished == (0,)
    report = json.loads(next(out.glob("*.json")).read_text())
    assert len(report["results"]) == people


def test_answers_option_pointing_at_a_directory_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    result = runner.invoke(app, ["run", str(EXAMPLE), "--answers", str(tmp_path), "--db", str(db)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "not a file" in result.output
    assert not db.exists()


def test_semicolon_answers_file_gets_a_separator_hint(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("receiver_id;attempt;pickup;hang_up_after;answers\n1;1;answer;;ok\n")
    db = tmp_path / "s.db"
    result = runner.invoke(app, ["run", str(EXAMPLE), "--answers", str(answers), "--db", str(db)])
    assert result.exit_code == 1
    assert "';'" in result.output
    assert "comma" in result.output
    assert not db.exists()


def test_receivers_missing_from_the_answers_file_are_named(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("receiver_id,attempt,pickup,hang_up_after,answers\n1,1,answer,,ok|yes\n")
    args = ["run", str(EXAMPLE), "--answers", str(answers), "--db", str(tmp_path / "m.db")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "7 receiver(s) are not in answers.csv" in result.output


def test_reusing_a_job_id_for_another_workbook_is_refused(
    ran: tuple[Path, Path, str], tmp_path: Path
) -> None:
    import openpyxl

    out, db, _ = ran
    job_id = next(out.glob("*.json")).stem
    changed = tmp_path / "changed.xlsx"
    book = openpyxl.load_workbook(EXAMPLE)
    book["Receivers"]["B2"] = "+852 5999 0000"  # receiver 1 gets another phone number
    book.save(changed)
    before = _attempt_count(db, job_id)
    args = ["run", str(changed), "--answers", str(ANSWERS), "--db", str(db), "--job-id", job_id]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "different" in result.output
    assert "--job-id" in result.output
    assert _attempt_count(db, job_id) == before


def _attempt_count(db: Path, job_id: str) -> int:
    from backend.local.store import SqliteStore

    return len(SqliteStore(db).attempts(job_id))


@pytest.mark.parametrize("command", [["status"], ["run", str(EXAMPLE)]])
def test_a_bad_environment_setting_is_named_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("CALLOUTS_CONCURRENCY", "abc")
    monkeypatch.setenv("CALLOUTS_DB", str(tmp_path / "e.db"))
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "CALLOUTS_CONCURRENCY" in result.output
    assert not (tmp_path / "e.db").exists()


def test_retry_calls_the_unreached_again_as_a_new_job(ran: tuple[Path, Path, str]) -> None:
    from backend.domain.retry import retry_job_id

    out, db, _ = ran
    job_id = next(out.glob("*.json")).stem
    args = ["retry", job_id, "--answers", str(ANSWERS), "--db", str(db), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    retry_id = retry_job_id(job_id, ["4"])  # the one Busy receiver; the same id as Slack's
    assert f"Retrying 1 unreached receiver(s) of job {job_id} as job {retry_id}" in result.output
    retried = _results(out / f"{retry_id}.json")
    assert list(retried) == ["4"]
    assert retried["4"]["status"] == "Busy"
    listing = runner.invoke(app, ["status", "--db", str(db)]).output
    assert job_id in listing
    assert retry_id in listing
    # Asking again resumes the same retry job: nobody is called again.
    from backend.local.store import SqliteStore

    before = len(SqliteStore(db).dials(retry_id))
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert len(SqliteStore(db).dials(retry_id)) == before


def _interrupted_job(tmp_path: Path) -> tuple[Path, str]:
    """A job whose run died mid-call after two results (the process is gone, the job not over)."""
    from datetime import UTC, datetime

    from backend.local.calls import CallRequest, DialOutcome
    from backend.local.engine import LocalEngine
    from backend.local.store import SqliteStore
    from tests.unit.voice.test_engine import Crash, make_job

    class DiesOnTheThirdCall:
        calls = 0

        def dial(self, request: CallRequest) -> DialOutcome:
            self.calls += 1
            if self.calls == 3:
                raise Crash
            return DialOutcome(False, "TELECOM_UNANSWERED", 30.0)

    db = tmp_path / "i.db"
    engine = LocalEngine(
        SqliteStore(db),
        report_dir=None,
        clock=lambda: datetime(2026, 11, 28, 2, tzinfo=UTC),
        dialer=DiesOnTheThirdCall(),
        concurrency=1,
    )
    with pytest.raises(Crash):
        engine.run(make_job(5, max_attempts=1))
    return db, "job-e"


def test_status_cancel_and_retry_of_an_interrupted_job(tmp_path: Path) -> None:
    db, job_id = _interrupted_job(tmp_path)
    status = runner.invoke(app, ["status", job_id, "--db", str(db)])
    assert "interrupted (run it again to resume, or cancel it), 2 of 5 done" in status.output
    refused = runner.invoke(app, ["retry", job_id, "--db", str(db)])
    assert refused.exit_code == 1
    assert f"callouts cancel {job_id}" in refused.output

    out = tmp_path / "out"
    cancel = runner.invoke(app, ["cancel", job_id, "--db", str(db), "--out", str(out)])
    assert cancel.exit_code == 0, cancel.output
    assert "cancelled (it was interrupted)" in cancel.output
    results = _results(out / f"{job_id}.json")
    statuses = {rid: r["status"] for rid, r in results.items()}
    assert statuses == {
        "r0": "NoAnswer",
        "r1": "NoAnswer",
        "r2": "Failed",  # rung when the process died: never rung again
        "r3": "Cancelled",
        "r4": "Cancelled",
    }
    assert results["r2"]["error"] == "interrupted"
    assert (
        "cancelled, 5 of 5 done" in runner.invoke(app, ["status", job_id, "--db", str(db)]).output
    )
    again = runner.invoke(app, ["cancel", job_id, "--db", str(db)])
    assert again.exit_code == 0
    assert "already cancelled" in again.output

    retry = runner.invoke(app, ["retry", job_id, "--db", str(db), "--out", str(out)])
    assert retry.exit_code == 0, retry.output
    assert "Retrying 5 unreached receiver(s)" in retry.output


def test_cancel_of_an_unknown_job_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cancel", "nope", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "no job 'nope'" in result.output


def test_a_file_that_is_not_a_job_database_is_named_plainly(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: " * 200)
    result = runner.invoke(app, ["status", "--db", str(notes)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{notes} is not a usable job database" in result.output
