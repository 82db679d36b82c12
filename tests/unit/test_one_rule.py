"""One name, one rule: the job-state vocabulary and the retry rule each have a single source."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_type_hints

from backend.domain.job_state import JobState
from backend.domain.models import CallStatus
from backend.domain.session import FlowAction
from bot.core.state import CardState

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "backend" / "statemachine" / "callouts.asl.json"

# --- CallStatus.retryable is the state machine's retry choice ----------------------------------


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from _states(state[nested])
        for branch in state.get("Branches", []):
            yield from _states(branch)


def _status_comparisons(rule: Any) -> Iterator[str]:
    if isinstance(rule, dict):
        if str(rule.get("Variable", "")).endswith("result.status") and "StringEquals" in rule:
            yield str(rule["StringEquals"])
        for value in rule.values():
            yield from _status_comparisons(value)
    elif isinstance(rule, list):
        for item in rule:
            yield from _status_comparisons(item)


def asl_retried_statuses(definition: dict[str, Any]) -> set[str]:
    """Statuses the state machine's Choice rules send to another attempt (the rules that compare
    the call's result status)."""
    found: set[str] = set()
    for state in _states(definition):
        if state.get("Type") == "Choice":
            for choice in state.get("Choices", []):
                found.update(_status_comparisons(choice))
    return found


def test_the_state_machine_retries_exactly_the_retryable_statuses() -> None:
    definition = json.loads(ASL.read_text(encoding="utf-8"))
    retryable = {status.value for status in CallStatus if status.retryable}
    assert asl_retried_statuses(definition) == retryable
    assert "NoHuman" in retryable


def test_the_retry_check_sees_a_status_missing_from_the_choice() -> None:
    definition = json.loads(ASL.read_text(encoding="utf-8"))
    text = json.dumps(definition).replace('"StringEquals": "NoHuman"', '"StringEquals": "Busy"')
    assert "NoHuman" not in asl_retried_statuses(json.loads(text))


# --- one job-state vocabulary -----------------------------------------------------------------

_WORDS = {"queued", "running", "finished", "cancelled", "cancelling", "failed", "rejected"}
_WORDS |= {"stopped", "interrupted"}
_SQL_WORD = re.compile(r"'(" + "|".join(sorted(_WORDS)) + r")'", re.IGNORECASE)
# Literals that look like job states but name something else.
_ALLOWED = {
    ("backend/domain/job_state.py", "*"): "the vocabulary itself",
    ("bot/core/state.py", "cancelling"): "a card-only display state",
    ("bot/core/state.py", "rejected"): "a card-only display state",
    ("backend/aws/dialing.py", "cancelled"): "a dial outcome",
    ("backend/aws/dialing.py", "failed"): "a dial outcome",
    ("backend/aws/execution_events.py", "FAILED"): "a Step Functions execution status",
    ("bot/core/stream.py", "FAILED"): "a Step Functions execution status",
    ("backend/aws/starter.py", "RUNNING"): "a Step Functions execution status filter",
    ("backend/aws/rejections.py", "rejected"): "a key of the rejection event",
    ("backend/aws/reporting.py", "cancelled"): "a key of the report event",
    ("backend/handlers/intake_upload.py", "queued"): "a key of the upload response",
    ("backend/cli/run.py", "finished"): "a word in a sentence shown to the user",
    ("backend/local/job_run.py", "interrupted"): "the error text of a call cut by a crash",
    ("backend/domain/schedule.py", "cancelled"): "a schedule's state (ScheduleState)",
    ("backend/domain/sms.py", "failed"): "a key of the SMS tally (sent, failed, skipped)",
}


def job_state_literals(path: Path) -> set[str]:
    """String literals in `path` that spell a job state (or a quoted one inside SQL)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        value = node.value
        if value.lower() in _WORDS and value in (value.lower(), value.upper()):
            found.add(value)
        found.update(match.group(1) for match in _SQL_WORD.finditer(value))
    return found


def test_job_states_are_spelled_only_in_the_domain_enum() -> None:
    sources = sorted([*ROOT.glob("backend/**/*.py"), *ROOT.glob("bot/**/*.py")])
    stray = []
    for path in sources:
        name = path.relative_to(ROOT).as_posix()
        if (name, "*") in _ALLOWED:
            continue
        stray += [
            f"{name}: {literal!r}"
            for literal in sorted(job_state_literals(path))
            if (name, literal) not in _ALLOWED
        ]
    assert not stray, "use backend.domain.job_state.JobState instead of: " + ", ".join(stray)


def test_the_literal_check_finds_a_stray_state(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'state = "running"\nsql = "UPDATE jobs SET status = \'finished\'"\nok = "Cancelled"\n',
        encoding="utf-8",
    )
    assert job_state_literals(sample) == {"running", "finished"}


def test_every_job_state_has_a_card_state() -> None:
    assert {CardState.of(state) for state in JobState} <= set(CardState)
    assert CardState.of(JobState.RUNNING).value == JobState.RUNNING.value
    assert CardState.of(JobState.CANCELLED) is CardState.FINISHED
    assert CardState.of(JobState.FAILED) is CardState.STOPPED
    assert JobState.parse("RUNNING") is JobState.RUNNING  # the jobs table wrote upper case
    assert CardState.parse("CANCELLING") is CardState.CANCELLING


# --- the contact flow handles every action the flow Lambda returns -----------------------------


def test_the_contact_flow_branches_on_every_flow_action() -> None:
    flow = json.loads((ROOT / "contact_flows" / "outbound_call.json").read_text(encoding="utf-8"))
    [check] = [
        action
        for action in flow["Actions"]
        if action["Type"] == "Compare"
        and action["Parameters"]["ComparisonValue"] == "$.External.action"
    ]
    branches = {
        operand
        for condition in check["Transitions"]["Conditions"]
        for operand in condition["Condition"]["Operands"]
    }
    assert branches == set(get_args(get_type_hints(FlowAction)["action"]))
