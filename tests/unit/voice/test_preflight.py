"""`call_files_problems`: the check a run makes before anyone is called."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from backend.flows import LEX_BOTS_DIR, OUTBOUND_CALL_FLOW
from backend.flows.preflight import call_files_problems


def test_the_shipped_flow_and_bots_are_sound() -> None:
    assert call_files_problems() == []


def test_a_missing_flow_is_named(tmp_path: Path) -> None:
    problems = call_files_problems(tmp_path / "outbound_call.json", LEX_BOTS_DIR)
    assert problems == [f"{tmp_path / 'outbound_call.json'}: file not found"]


def test_a_flow_that_is_not_json_or_not_sound_is_named(tmp_path: Path) -> None:
    flow = tmp_path / "outbound_call.json"
    flow.write_text("{ not json")
    (problem,) = call_files_problems(flow, LEX_BOTS_DIR)
    assert problem.startswith("outbound_call.json: invalid JSON at line 1")
    data = json.loads(OUTBOUND_CALL_FLOW.read_text())
    data["Version"] = "1999-01-01"
    flow.write_text(json.dumps(data))
    (problem,) = call_files_problems(flow, LEX_BOTS_DIR)
    assert problem.startswith("outbound_call.json: Version must be")


def test_a_missing_or_broken_bot_is_named(tmp_path: Path) -> None:
    bots = tmp_path / "lex_bots"
    shutil.copytree(LEX_BOTS_DIR, bots)
    (bots / "yes_no.json").unlink()
    (problem,) = call_files_problems(OUTBOUND_CALL_FLOW, bots)
    assert problem == f"{bots / 'yes_no.json'}: file not found"
    (bots / "yes_no.json").write_text('{"Name": "x"}')
    (problem,) = call_files_problems(OUTBOUND_CALL_FLOW, bots)
    assert "yes_no.json" in problem
    assert "not a bot definition" in problem
