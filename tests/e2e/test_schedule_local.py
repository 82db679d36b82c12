"""Scheduled jobs on this machine: `run --at` (waiting on the wall clock, or in virtual time),
the schedule store and the local scheduler, and `callouts schedule add | list | cancel`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.domain.intake import read_workbook
from backend.domain.models import CallJob
from backend.local.engine import LocalEngine
from backend.local.schedules import LocalScheduler, SqliteScheduleStore
from backend.local.simulator import load_answers_csv
from backend.local.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"
ANSWERS = ROOT / "examples" / "answers.csv"
HK = ZoneInfo("Asia/Hong_Kong")

runner = CliRunner()


def _next_monday_10_hk(after: datetime) -> datetime:
    day = after.astimezone(HK).date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=HK)


def _workbook(tmp_path: Path, **settings: str) -> Path:
    book = openpyxl.load_workbook(EXAMPLE)
    for key, value in settings.items():
        book["Configures"].append([key, value])
    path = tmp_path / "job.xlsx"
    book.save(path)
    return path


def _call_times(out: Path) -> list[str]:
    (report,) = out.glob("*.json")
    return sorted(r["call_at"] for r in json.loads(report.read_text())["results"] if r["call_at"])


def test_run_at_a_future_time_without_waiting_starts_then_in_virtual_time(tmp_path: Path) -> None:
    at = _next_monday_10_hk(datetime.now(UTC))
    out = tmp_path / "out"
    args = ["run", str(EXAMPLE), "--answers", str(ANSWERS), "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--db", str(tmp_path / "c.db"), "--at", at.isoformat(), "--no-wait"]
    )
    assert result.exit_code == 0, result.output
    assert "Waiting" not in result.output
    times = _call_times(out)
    assert times[0] == f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


class FakeWallClock:
    """The wall clock of `run --at`: sleeping moves it on (no real wait)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_run_at_waits_on_the_wall_clock_with_a_cancel_hint_then_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.cli.run as run_module
    import backend.local.engine as engine_module

    start = _next_monday_10_hk(datetime.now(UTC))
    clock = FakeWallClock(start - timedelta(minutes=5))
    monkeypatch.setattr(engine_module, "utc_now", clock)
    monkeypatch.setattr(run_module, "sleep", clock.sleep)
    # The job's own start_at setting, read in its zone.
    job = _workbook(tmp_path, timezone="Asia/Hong_Kong", start_at=f"{start:%Y-%m-%d %H:%M}")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "run",
            str(job),
            "--answers",
            str(ANSWERS),
            "--out",
            str(out),
            "--db",
            str(tmp_path / "c.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        f"Waiting until Mon {start:%d %b %Y} 10:00 Asia/Hong_Kong (Ctrl-C to cancel)"
        in result.output
    )
    assert sum(clock.slept) == pytest.approx(300)
    assert _call_times(out)[0] >= f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def test_a_repeating_job_is_not_run_but_sent_to_the_scheduler(tmp_path: Path) -> None:
    at = _next_monday_10_hk(datetime.now(UTC))
    job = _workbook(tmp_path, start_at=at.isoformat(), repeat="weekly 2 times")
    result = runner.invoke(app, ["run", str(job), "--db", str(tmp_path / "c.db")])
    assert result.exit_code == 1
    assert "callouts schedule add" in result.output


def _scheduled_job(start: datetime, repeat: str) -> CallJob:
    book = openpyxl.load_workbook(EXAMPLE)
    book["Configures"].append(["start_at", start.isoformat()])
    book["Configures"].append(["repeat", repeat])
    path = Path(str(EXAMPLE))  # only for its name
    import io

    raw = io.BytesIO()
    book.save(raw)
    result = read_workbook(raw.getvalue(), filename=path.name, now=start - timedelta(days=1))
    assert result.job is not None, result.problems
    return result.job


def test_the_local_scheduler_starts_each_occurrence_once_at_its_time_in_virtual_time(
    tmp_path: Path,
) -> None:
    first = _next_monday_10_hk(datetime.now(UTC))
    job = _scheduled_job(first, "daily 3 times")
    schedules = SqliteScheduleStore.beside(tmp_path / "jobs.db")
    schedule, added = schedules.add(job)
    assert added
    assert schedules.add(job)[1] is False  # the same job kept once
    store = SqliteStore(tmp_path / "jobs.db")
    people = load_answers_csv(ANSWERS)
    results: dict[str, list[str]] = {}

    def start(occurrence: CallJob, at: datetime) -> None:
        engine = LocalEngine(store, people, report_dir=None, clock=lambda: at)
        ran = engine.run(occurrence)
        results[occurrence.job_id] = sorted(f"{r.call_at:%Y-%m-%dT%H:%M}" for r in ran if r.call_at)

    scheduler = LocalScheduler(schedules, start)
    assert scheduler.tick(first - timedelta(minutes=1)) == []
    [started] = scheduler.tick(first)
    assert scheduler.tick(first + timedelta(minutes=2)) == []  # ticking again starts nothing
    assert started.job_id == f"{schedule.schedule_id}-{first.astimezone(UTC):%Y%m%dT%H%MZ}"
    assert results[started.job_id][0] == f"{first.astimezone(UTC):%Y-%m-%dT%H:%M}"
    assert scheduler.next_time(first) == first + timedelta(days=1)

    # The second occurrence comes while nothing runs; by the third it is over an hour late.
    third = first + timedelta(days=2)
    assert [j.job_id for j in scheduler.tick(third)] == [
        f"{schedule.schedule_id}-{third.astimezone(UTC):%Y%m%dT%H%MZ}"
    ]
    recorded = schedules.started(schedule.schedule_id)
    assert [missed for _, _, missed in recorded] == [False, True, False]
    assert len(results) == 2
    assert store.job_row(started.job_id) is not None


def test_a_cancelled_schedule_starts_nothing(tmp_path: Path) -> None:
    first = _next_monday_10_hk(datetime.now(UTC))
    schedules = SqliteScheduleStore.beside(tmp_path / "jobs.db")
    schedule, _ = schedules.add(_scheduled_job(first, "daily 3 times"))
    assert schedules.cancel(schedule.schedule_id, by="U1")
    assert not schedules.cancel(schedule.schedule_id)
    started: list[str] = []
    scheduler = LocalScheduler(schedules, lambda job, at: started.append(job.job_id))
    assert scheduler.tick(first) == []
    assert started == []
    assert scheduler.next_time(first) is None


def test_schedule_add_list_cancel_from_the_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    at = _next_monday_10_hk(datetime.now(UTC))
    added = runner.invoke(
        app,
        ["schedule", "add", str(EXAMPLE), "--at", f"{at:%Y-%m-%d} 10:00", "--repeat",
         "weekly on monday,thursday 4 times", "--db", db],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Scheduled " in added.output
    assert "weekly on mon,thu 4 times (4 occurrences)" in added.output
    listed = runner.invoke(app, ["schedule", "list", "--db", db])
    assert listed.exit_code == 0, listed.output
    schedule_id = added.output.split("Scheduled ")[1].split()[0]
    assert schedule_id.startswith("call-job-")
    assert f"Mon {at:%d %b} 10:00" in listed.output
    cancelled = runner.invoke(app, ["schedule", "cancel", schedule_id, "--db", db])
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled" in cancelled.output
    again = runner.invoke(app, ["schedule", "list", "--db", db])
    assert "No schedules" in again.output
    unknown = runner.invoke(app, ["schedule", "cancel", "nope", "--db", db])
    assert unknown.exit_code == 1
    past = runner.invoke(
        app, ["schedule", "add", str(EXAMPLE), "--at", "2020-01-06 10:00", "--db", db]
    )
    assert past.exit_code == 1
    assert "in the past" in past.output
