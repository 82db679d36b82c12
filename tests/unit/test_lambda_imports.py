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
# The flow Lambda also keeps out what every other function may load: pydantic (importing it and
# building models was most of the flow's cold start: the per-call records are dataclasses,
# backend/domain/results.py) and importlib.metadata (pydantic's plugin loader pulls it in).
VOICE_PATH_FORBIDDEN = ("pydantic", "importlib.metadata")
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
    return _loaded(module, HEAVY)


def _loaded(module: str, names: tuple[str, ...]) -> set[str]:
    """Which of `names` a fresh interpreter has loaded after importing `module`."""
    code = (
        f"import json, sys; import {module}; "
        f"print(json.dumps([m for m in {list(names)!r} if m in sys.modules]))"
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


def test_the_voice_path_imports_no_pydantic() -> None:
    assert _loaded("backend.handlers.connect_flow", VOICE_PATH_FORBIDDEN) == set()


def test_the_pydantic_check_sees_pydantic() -> None:
    # The check itself can fail: the job models are pydantic.
    assert "pydantic" in _loaded("backend.domain.models", VOICE_PATH_FORBIDDEN)


def test_a_whole_call_through_the_flow_handler_loads_no_pydantic() -> None:
    # The first turns build the flow's services (session store, completion): they stay
    # pydantic-free too, or the first call would pay for it instead of the import.
    code = (
        "import json, os, sys; from datetime import UTC, datetime; "
        "os.environ.update(POWERTOOLS_METRICS_NAMESPACE='Callouts', CALLOUTS_SESSIONS_TABLE='s'); "
        "from backend.handlers import connect_flow; from backend.aws import clients, wiring; "
        "from bench.voice_path import Context, FakeDynamoDB, FakeSfn, _event; "
        "from backend.domain.question_types import QuestionType as Q; "
        "from backend.domain.session import CallSession, SessionQuestion; "
        "fakes = {'dynamodb': FakeDynamoDB(), 'stepfunctions': FakeSfn()}; "
        "clients.client = fakes.__getitem__; "
        "wiring.session_store().create(CallSession(call_id='j:r:1', job_id='j', "
        "receiver_id='r', attempt=1, greeting='Hi', questions=[SessionQuestion('Q?', Q.YES_NO)], "
        "ending='Bye', started_at=datetime.now(UTC), task_token='t')); "
        "turns = [{'event': 'start'}, {'event': 'answer', 'intent': 'YesIntent'}]; "
        "ends = [connect_flow.handler(_event('j:r:1', t), Context())['action'] for t in turns]; "
        "loaded = [m for m in ('pydantic', 'importlib.metadata') if m in sys.modules]; "
        "print(json.dumps([ends, fakes['stepfunctions'].successes, loaded]))"
    )
    assert json.loads(_last_line_of(code, timeout=120)) == [["ask", "end"], 1, []]


@pytest.mark.parametrize(
    ("initialization", "clients_at_import"),
    [("on-demand", False), ("provisioned-concurrency", True), ("snap-start", True), (None, False)],
)
def test_a_flow_lambda_initialised_ahead_of_calls_makes_its_clients_at_import(
    initialization: str | None, clients_at_import: bool
) -> None:
    # Provisioned concurrency and SnapStart run the init before any call: botocore is paid
    # there, not by the first caller. On demand the init is a caller's wait: clients stay lazy.
    setting = f"os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'] = {initialization!r}; "
    code = (
        "import json, os, sys; "
        + (setting if initialization else "os.environ.pop('AWS_LAMBDA_INITIALIZATION_TYPE', 0); ")
        + "os.environ['CALLOUTS_SESSIONS_TABLE'] = 'sessions'; "
        "import backend.handlers.connect_flow; from backend.aws import clients; "
        "made = clients.client.cache_info().currsize; "
        "print(json.dumps(['botocore.client' in sys.modules, made]))"
    )
    made = json.loads(_last_line_of(code, timeout=120))
    assert made == ([True, 2] if clients_at_import else [False, 0])


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
