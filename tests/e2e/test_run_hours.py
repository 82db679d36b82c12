"""`callouts run --start-at`, `callouts preview --start-at` and `validate` warnings, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from backend.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"
ANSWERS = ROOT / "examples" / "answers.csv"

runner = CliRunner()


def _call_times(report_json: Path) -> dict[str, str]:
    data = json.loads(report_json.read_text())
    return {r["receiver_id"]: r["call_at"] for r in data["results"]}


def _run(tmp_path: Path, *extra: str) -> tuple[str, Path]:
    out = tmp_path / "out"
    args = ["run", str(EXAMPLE), "--answers", str(ANSWERS), "--out", str(out)]
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "c.db"), *extra])
    assert result.exit_code == 0, result.output
    (report,) = out.glob("*.json")
    return result.output, report


def test_a_start_outside_hours_waits_for_the_window_in_virtual_time(tmp_path: Path) -> None:
    # Saturday 23:30 in Hong Kong: Sunday is closed, so calls start Monday 09:00 HK.
    output, report = _run(tmp_path, "--start-at", "2026-11-28T23:30+08:00")
    assert "8 of 8 people are outside their hours now" in output
    assert "calling starts Mon 30 Nov 01:00 UTC (in 33 h 30 min)" in output
    times = _call_times(report)
    assert min(times.values()) == "2026-11-30T01:00:00Z"
    assert all("2026-11-30T01:00:00Z" <= t < "2026-11-30T12:00:00Z" for t in times.values())


def test_a_deadline_before_the_window_expires_everyone(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(EXAMPLE)
    book["Configures"].append(["deadline_hours", 5])
    job = tmp_path / "short.xlsx"
    book.save(job)
    out = tmp_path / "out"
    args = ["run", str(job), "--simulate", "random", "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--db", str(tmp_path / "d.db"), "--start-at", "2026-11-28T23:30+08:00"]
    )
    assert result.exit_code == 0, result.output
    assert "Expired 8" in result.output
    (report,) = out.glob("*.json")
    statuses = {r["status"] for r in json.loads(report.read_text())["results"]}
    assert statuses == {"Expired"}


def test_preview_counts_at_the_given_time_and_validate_warns(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", str(EXAMPLE), "--start-at", "2026-12-02T10:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "0 of 8 people are outside their hours now; calling starts now" in result.output
    assert "This is a call from Harbour View Primary School." in result.output
    book = openpyxl.load_workbook(EXAMPLE)
    sheet = book["Configures"]
    for row in range(sheet.max_row, 0, -1):
        if sheet.cell(row=row, column=1).value == "organisation":
            sheet.delete_rows(row)
    bare = tmp_path / "bare.xlsx"
    book.save(bare)
    result = runner.invoke(app, ["validate", str(bare)])
    assert result.exit_code == 0, result.output
    assert "Warning: sheet Configures" in result.output
    assert "organisation is not set" in result.output


def test_a_bad_start_at_is_refused_without_a_traceback() -> None:
    result = runner.invoke(app, ["preview", str(EXAMPLE), "--at", "tomorrow"])
    assert result.exit_code == 1
    assert "is not a time Callouts can read" in result.output
    assert "Traceback" not in result.output
