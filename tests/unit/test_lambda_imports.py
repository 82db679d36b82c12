"""Each Lambda's cold import stays light: heavy modules only where that function uses them.

Every handler named in template.yaml is imported in a fresh interpreter (as Lambda does) and the
heavy modules it pulled in are compared with what that function is allowed. The contact flow's
Lambda runs between a person's answer and the next question: it gets none of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEAVY = (
    "openpyxl",
    "xlsxwriter",
    "jinja2",
    "aws_xray_sdk",
    "boto3",
    "botocore.client",  # botocore's client machinery (and its documentation modules)
    "pandas",
    "slack_sdk",
    "slack_bolt",
)
# The X-Ray SDK patches botocore when a Tracer is made: every traced function imports it.
_TRACED = {"aws_xray_sdk", "botocore.client"}
ALLOWED: dict[str, set[str]] = {
    # The voice path: botocore only when the first turn makes its clients (backend/aws/clients.py).
    "backend.handlers.connect_flow": set(),
    "backend.handlers.dialer": {*_TRACED, "jinja2"},  # it renders each call's prompts
    # Powertools idempotency (the DynamoDB persistence layer) imports boto3.
    "backend.handlers.contact_events": {*_TRACED, "boto3"},
    "backend.handlers.execution_events": _TRACED,
    "backend.handlers.call_timeout": _TRACED,
    "backend.handlers.sweeper": _TRACED,
    "backend.handlers.report": _TRACED,  # xlsxwriter only once it writes a report
    "backend.handlers.sms": _TRACED,  # jinja2 only once it renders a text
    "backend.handlers.start_job": {*_TRACED, "openpyxl", "jinja2"},
    "backend.handlers.intake_upload": {*_TRACED, "openpyxl", "jinja2"},
    "bot.slack.lambda_handler": {"boto3", "botocore.client", "slack_sdk", "slack_bolt"},
    "bot.notifier_handler": {"boto3", "botocore.client", "slack_sdk", "slack_bolt", "openpyxl"},
    "bot.teams.lambda_handler": set(),  # the SDK, boto3 and the bot load on the first event
}
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "test-function",
    "POWERTOOLS_SERVICE_NAME": "callouts",
}


def _handler_modules() -> list[str]:
    text = (ROOT / "template.yaml").read_text()
    return sorted(
        {
            line.split("Handler:", 1)[1].strip().rsplit(".", 1)[0]
            for line in text.splitlines()
            if line.strip().startswith("Handler:")
        }
    )


def _heavy_imports(module: str) -> set[str]:
    code = (
        f"import json, sys; import {module}; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    return set(json.loads(_last_line_of(code, timeout=120)))


def _last_line_of(code: str, timeout: int) -> str:
    """Run `code` in a fresh interpreter with a Lambda's environment; its last printed line."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **LAMBDA_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_every_function_of_the_template_is_classified() -> None:
    assert set(_handler_modules()) == set(ALLOWED)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_a_cold_import_pulls_in_only_the_heavy_modules_the_function_uses(module: str) -> None:
    heavy = _heavy_imports(module)
    assert heavy <= ALLOWED[module], f"{module} imports {sorted(heavy - ALLOWED[module])}"


def test_the_check_sees_a_heavy_import() -> None:
    # The check itself can fail: a module known to import openpyxl is caught.
    assert "openpyxl" in _heavy_imports("backend.handlers.intake_upload")


def test_the_voice_path_bench_drives_whole_calls_through_the_handler() -> None:
    # Not timed: the bench prints the figures; this keeps it working as the handler changes.
    code = "from bench.voice_path import warm_turns_ms; print(len(warm_turns_ms(3)))"
    assert _last_line_of(code, timeout=300) == "14"  # two calls of seven turns after the first


def test_the_voice_path_loads_no_phone_number_metadata() -> None:
    # phonenumbers is about a seventh of the flow's cold import: its log scrubbing loads it only
    # once a line holds a number (backend/aws/observability.py).
    code = "import sys, backend.handlers.connect_flow; print('phonenumbers' in sys.modules)"
    assert _last_line_of(code, timeout=120) == "False"
