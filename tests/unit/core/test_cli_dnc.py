"""`callouts dnc add | remove | list | import | export` and the preview's do-not-call count."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.domain.dnc import is_listed
from backend.local.dnc import SqliteDoNotCall

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLOUTS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALLOUTS_DB", raising=False)
    return tmp_path / "home"


def listed(home: Path, number: str) -> bool:
    return is_listed(SqliteDoNotCall.beside(home / "callouts.db"), number)


def test_add_list_remove_never_show_the_number(home: Path) -> None:
    added = runner.invoke(app, ["dnc", "add", "9123 4567", "--prefix", "+852"])
    assert added.exit_code == 0, added.output
    assert "+852****4567: added" in added.output
    assert listed(home, "+85291234567")
    again = runner.invoke(app, ["dnc", "add", "+852 9123 4567"])
    assert "already on the list" in again.output
    shown = runner.invoke(app, ["dnc", "list"])
    assert shown.exit_code == 0
    key = SqliteDoNotCall.beside(home / "callouts.db").key("+85291234567")
    assert key in shown.output
    assert "91234567" not in shown.output
    assert "cli" in shown.output
    assert "1 number(s)" in shown.output
    removed = runner.invoke(app, ["dnc", "remove", "+85291234567"])
    assert "removed" in removed.output
    assert not listed(home, "+85291234567")
    assert "empty" in runner.invoke(app, ["dnc", "list"]).output


def test_a_bad_number_adds_nothing_and_says_why(home: Path) -> None:
    result = runner.invoke(app, ["dnc", "add", "+85291234567", "call me maybe"])
    assert result.exit_code == 1
    assert "letters" in result.output
    assert not listed(home, "+85291234567")


def test_import_a_csv_with_a_phone_column_and_report_bad_lines(tmp_path: Path, home: Path) -> None:
    source = tmp_path / "opt_outs.csv"
    source.write_text("name,phone_number\nAnn,91234567\nBob,not a number\nCy,+447400123456\n")
    result = runner.invoke(app, ["dnc", "import", str(source), "--prefix", "852"])
    assert result.exit_code == 1  # one line could not be read: said, with its line
    assert "2 number(s) added" in result.output
    assert "opt_outs.csv, line 3" in result.output
    assert listed(home, "+85291234567")
    assert listed(home, "+447400123456")


def test_import_one_number_per_line_then_export_hashes(tmp_path: Path, home: Path) -> None:
    source = tmp_path / "numbers.txt"
    source.write_text("+85291234567\n\n+85261234567\n")
    assert runner.invoke(app, ["dnc", "import", str(source)]).exit_code == 0
    exported = runner.invoke(app, ["dnc", "export"])
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert len(rows) == 2
    assert {r["source"] for r in rows} == {"import:numbers.txt"}
    assert "91234567" not in exported.output
    target = tmp_path / "out.csv"
    assert runner.invoke(app, ["dnc", "export", str(target)]).exit_code == 0
    assert target.read_text().splitlines()[0] == "hash,added_at,source"


def test_preview_says_how_many_receivers_are_on_the_list(home: Path) -> None:
    plain = runner.invoke(app, ["preview", str(EXAMPLE)])
    assert plain.exit_code == 0
    assert "do-not-call" not in plain.output
    assert not (home / "donotcall.key").exists()  # a preview creates nothing
    from backend.domain.intake import read_workbook

    job = read_workbook(EXAMPLE).job
    assert job is not None
    numbers = [r.phone_number for r in job.receivers[:2]]
    assert runner.invoke(app, ["dnc", "add", *numbers]).exit_code == 0
    result = runner.invoke(app, ["preview", str(EXAMPLE)])
    assert result.exit_code == 0
    assert f"2 of {len(job.receivers)} receiver(s) are on the do-not-call list" in result.output
