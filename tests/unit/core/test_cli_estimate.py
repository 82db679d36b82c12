"""`callouts estimate` and the estimate lines of `callouts preview`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "call_job.xlsx"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLOUTS_HOME", str(tmp_path / "home"))
    for name in ("CALLOUTS_DB", "CALLOUTS_PRICES_FILE", "CALLOUTS_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def test_estimate_prints_both_lines_and_the_breakdown() -> None:
    result = runner.invoke(app, ["estimate", str(EXAMPLE), "--start-at", "2026-12-01T10:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "Expected duration: about " in result.output
    assert "Expected cost: about $" in result.output
    for item in ("Connect", "telephony", "Lex", "Polly", "Lambda", "Step Functions", "DynamoDB"):
        assert item in result.output
    assert "total" in result.output
    assert "not confirmed online" in result.output


def test_prices_file_and_answer_rate_change_the_figures(tmp_path: Path) -> None:
    base = runner.invoke(app, ["estimate", str(EXAMPLE), "--start-at", "2026-12-01T10:00+08:00"])
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"connect_per_minute": 10.0}))
    dear = runner.invoke(
        app,
        ["estimate", str(EXAMPLE), "--prices", str(prices), "--start-at", "2026-12-01T10:00+08:00"],
    )
    assert dear.exit_code == 0, dear.output
    assert "$10" in dear.output
    assert dear.output != base.output
    lower = runner.invoke(app, ["estimate", str(EXAMPLE), "--answer-rate", "0.3"])
    assert lower.exit_code == 0, lower.output


def test_a_bad_prices_file_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"connect_per_minute": "cheap"}')
    monkeypatch.setenv("CALLOUTS_PRICES_FILE", str(prices))
    result = runner.invoke(app, ["estimate", str(EXAMPLE)])
    assert result.exit_code == 1
    assert "connect_per_minute" in result.output
    assert "Traceback" not in result.output


def test_a_job_with_problems_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "job.json"
    bad.write_text(json.dumps({"job_id": "x", "greeting": "hi", "receivers": []}))
    result = runner.invoke(app, ["estimate", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_preview_shows_expected_duration_and_cost() -> None:
    result = runner.invoke(app, ["preview", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Expected duration: about " in result.output
    assert "Expected cost: about $" in result.output
    assert "Cost breakdown" in result.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--concurrency", "0", "--concurrency 0"), ("--answer-rate", "1.5", "--answer-rate 1.5")],
)
def test_an_option_out_of_range_exits_1(option: str, value: str, message: str) -> None:
    result = runner.invoke(app, ["estimate", str(EXAMPLE), option, value])
    assert result.exit_code == 1
    assert message in result.output
