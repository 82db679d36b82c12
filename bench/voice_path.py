"""The voice path: cold import of the contact flow's Lambda and its warm turn.

The flow Lambda runs between a person's answer and the next question (Connect allows at most
8 s), so a cold start is silence on the line. Figures (printed, never asserted):

- cold import: `import backend.handlers.connect_flow` in a fresh interpreter, the best of
  several runs (Lambda-like environment variables set; target <= 250 ms);
- first clients: what the first turn of an on-demand container adds (botocore, two clients),
  and the import of a provisioned (or SnapStart) container, which makes them at init;
- warm turn: one `connect_flow.handler` invocation (Powertools logger and metrics included) on
  a real `DynamoSessionStore` and `StepFunctionsCompletion` over in-memory fake clients, for
  every turn of many six-question calls: p50 and p99 (target p99 <= 15 ms).

Run alone: .venv/bin/python -m bench.voice_path
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_IMPORT_MS, TARGET_TURN_P99_MS = 250.0, 15.0
IMPORT_RUNS, CALLS = 7, 300
FLOW_MODULE = "backend.handlers.connect_flow"

# What the function sees on Lambda (template Globals), without touching AWS.
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench-CallFlowFunction",
    "POWERTOOLS_SERVICE_NAME": "callouts",
    "POWERTOOLS_METRICS_NAMESPACE": "Callouts",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "CALLOUTS_DATA_BUCKET": "bench-data",
    "CALLOUTS_JOBS_TABLE": "bench-jobs",
    "CALLOUTS_RESULTS_TABLE": "bench-results",
    "CALLOUTS_SESSIONS_TABLE": "bench-sessions",
    "CALLOUTS_IDEMPOTENCY_TABLE": "bench-idempotency",
    "CALLOUTS_JOB_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench.fifo",
}

_IMPORT_SNIPPET = (
    "import time; t, c = time.perf_counter(), time.process_time(); import {module}; "
    "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
)


# What the first turn adds once per container: botocore, imported when the flow's clients are made.
_FIRST_CLIENTS_SNIPPET = (
    "import backend.handlers.connect_flow; import time; from backend.aws import clients; "
    "t, c = time.perf_counter(), time.process_time(); "
    "clients.client('dynamodb'); clients.client('stepfunctions'); "
    "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
)


def first_clients_ms() -> tuple[float, float]:
    """(wall, CPU) milliseconds the first turn spends importing botocore and making the flow
    Lambda's two clients (DynamoDB, Step Functions), in a fresh interpreter; no request sent."""
    return _fresh(_FIRST_CLIENTS_SNIPPET)


def provisioned_init_ms() -> tuple[float, float]:
    """(wall, CPU) milliseconds of the flow module's import when Lambda runs the init before any
    call (provisioned concurrency, SnapStart): the clients are made there, not by a caller."""
    return _fresh(
        _IMPORT_SNIPPET.format(module=FLOW_MODULE),
        AWS_LAMBDA_INITIALIZATION_TYPE="provisioned-concurrency",
    )


def import_ms(module: str = FLOW_MODULE) -> tuple[float, float]:
    """(wall, CPU) milliseconds to import `module` in a fresh interpreter (bytecode cached).

    CPU time leaves out the time the process waited for a core, which on a shared machine can be
    most of the wall time; on an idle machine (or in a Lambda's init) the two are close.
    """
    return _fresh(_IMPORT_SNIPPET.format(module=module))


def _fresh(code: str, **env: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **LAMBDA_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


class FakeDynamoDB:
    """get_item / put_item with the session store's version condition, in a dict."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.get(Key["call_id"]["S"])
        return {"Item": item} if item else {}

    def put_item(self, TableName: str, Item: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        stored = self.items.get(Item["call_id"]["S"])
        expected = kwargs.get("ExpressionAttributeValues", {}).get(":v", {}).get("N")
        if expected is not None and (stored is None or stored["version"]["N"] != expected):
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": ""}}, "PutItem"
            )
        self.items[Item["call_id"]["S"]] = Item
        return {}

    def update_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.items.setdefault(Key["call_id"]["S"], dict(Key))  # marks (completion_sent): kept
        return {}


class FakeSfn:
    def __init__(self) -> None:
        self.successes = 0

    def send_task_success(self, taskToken: str, output: str) -> dict[str, Any]:
        self.successes += 1
        return {}


class Context:
    function_name = "bench-CallFlowFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-CallFlowFunction"
    aws_request_id = "bench"


def _event(call_id: str, parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {"Attributes": {"call_id": call_id}, "Channel": "VOICE"},
            "Parameters": parameters,
        },
    }


ANSWERS = (
    ("OkIntent", ""),
    ("YesIntent", ""),
    ("ChoiceIntent", "B"),
    ("NumberIntent", "3"),
    ("DateIntent", "2026-12-01"),
    ("TimeIntent", "15:30"),
)


def warm_turns_ms(calls: int = CALLS) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds of every handler invocation of `calls` six-question calls."""
    os.environ.update(LAMBDA_ENV)
    from backend.aws.completion import StepFunctionsCompletion
    from backend.aws.sessions import DynamoSessionStore
    from backend.domain.intake import read_workbook
    from backend.domain.speech import Speech
    from backend.domain.workbook_template import write_example
    from backend.handlers import connect_flow

    raw = io.BytesIO()
    write_example(raw)
    job = read_workbook(raw.getvalue(), filename="bench.xlsx").job
    if job is None or len(job.questions) != len(ANSWERS):
        raise RuntimeError("the example workbook no longer has six questions: adapt the bench")
    receiver, speech = job.receivers[0], Speech(job)
    store, sfn = DynamoSessionStore(FakeDynamoDB(), "sessions"), FakeSfn()
    completion = StepFunctionsCompletion(sfn, store)
    connect_flow.session_store = lambda: store  # type: ignore[assignment]
    connect_flow.completion = lambda: completion  # type: ignore[assignment]
    timings: list[tuple[float, float]] = []
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Powertools: "no application metrics" on ask turns
        for attempt in range(1, calls + 1):
            _one_call(job, receiver, speech, store, attempt, timings)
    if sfn.successes != calls:
        raise RuntimeError(f"{sfn.successes} of {calls} calls completed: the bench is wrong")
    return timings[len(ANSWERS) + 1 :]  # the first call warms caches, as a container's first


def _one_call(
    job: Any, receiver: Any, speech: Any, store: Any, attempt: int, timings: list[Any]
) -> None:
    """Start, then answer six questions: one handler invocation timed per turn."""
    from backend.domain.session import CallSession
    from backend.handlers import connect_flow

    prompts, now = speech.prompts(receiver), datetime.now(UTC)
    session = CallSession.new(job, receiver, attempt, prompts, now=now, task_token="b")  # noqa: S106
    store.create(session)
    events = [{"event": "start"}] + [
        {"event": "answer", "intent": i, "answer": a} for i, a in ANSWERS
    ]
    context = Context()
    for parameters in events:
        started, cpu = time.perf_counter(), time.thread_time()
        connect_flow.handler(_event(session.call_id, parameters), context)
        timings.append(((time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000))


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def main() -> None:
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall times include waiting for one)")
    imports = [import_ms() for _ in range(IMPORT_RUNS)]
    wall = statistics.median(w for w, _ in imports)
    cpu = statistics.median(c for _, c in imports)
    print(
        f"cold import of {FLOW_MODULE}, median of {IMPORT_RUNS} fresh interpreters: "
        f"CPU {cpu:.0f} ms, wall {wall:.0f} ms   target <= {TARGET_IMPORT_MS:.0f} ms "
        f"[{_mark(cpu <= TARGET_IMPORT_MS)}] ({cpu / TARGET_IMPORT_MS:.2f}x the target)"
    )
    first = [first_clients_ms() for _ in range(3)]
    print(
        f"  then the first turn imports botocore and makes its 2 clients, once per container: "
        f"CPU {statistics.median(c for _, c in first):.0f} ms, "
        f"wall {statistics.median(w for w, _ in first):.0f} ms"
    )
    warm = [provisioned_init_ms() for _ in range(3)]
    print(
        f"  with provisioned concurrency or SnapStart the init makes them before any call: "
        f"CPU {statistics.median(c for _, c in warm):.0f} ms, "
        f"wall {statistics.median(w for w, _ in warm):.0f} ms, and no turn waits for them"
    )
    turns = warm_turns_ms()
    walls, cpus = [w for w, _ in turns], [c for _, c in turns]
    print(
        f"warm turn (handler + DynamoSessionStore + completion on in-memory fakes, "
        f"{len(turns):,} turns of {CALLS - 1} six-question calls):\n"
        f"  CPU p50 {statistics.median(cpus):.2f} ms, p99 {_p99(cpus):.2f} ms; "
        f"wall p50 {statistics.median(walls):.2f} ms, p99 {_p99(walls):.2f} ms   "
        f"target p99 <= {TARGET_TURN_P99_MS:.0f} ms [{_mark(_p99(cpus) <= TARGET_TURN_P99_MS)}]"
    )


if __name__ == "__main__":
    main()
