"""100,000 receivers in one AWS job: payloads, execution history and the report Lambda's work.

Printed, never asserted. Limits: Step Functions payloads (state input/output) 256 KB, 25,000
history events per execution; Lambda 10 GB memory, 15 min. The Distributed Map runs one child
execution per receiver, so the history limit applies per child; the parent's history holds the
Map run's events, not one per item. With ResultWriter the Map's output is a pointer to S3 (its
manifest), not an array with one entry per child.

The report Lambda's work is measured in a subprocess (its own peak memory): 100,000 results-table
items read back (`results.result_from_item`) and the xlsx/JSON/CSV report written.

Run alone: .venv/bin/python -m bench.aws_scale
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

RECEIVERS = 100_000
PAYLOAD_LIMIT = 256 * 1024
REPO = Path(__file__).resolve().parents[1]
ASL = REPO / "backend" / "statemachine" / "callouts.asl.json"

# History events per state type (Step Functions' documented event sequence).
EVENTS = {"Task": 5, "Task.waitForTaskToken": 6, "Choice": 2, "Pass": 2, "Wait": 2}


def _compact(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def payloads() -> None:
    from backend.aws.tasks import call_tasks
    from bench.aws_lines import make_job

    job = make_job(RECEIVERS)
    started = time.perf_counter()
    tasks = call_tasks(job)
    elapsed = time.perf_counter() - started
    old_output = _compact([{}] * RECEIVERS)  # one {} per child: the Map's output without a writer
    crossing = PAYLOAD_LIMIT // len(b"{},")
    manifest = {
        "MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:" + "x" * 120,
        "ResultWriterDetails": {"Bucket": "b" * 63, "Key": "map-runs/" + "k" * 80},
    }
    token = "t" * 1024  # task tokens are opaque; about 700-1000 characters in practice
    message = {
        "task_token": token,
        "job_id": job.job_id,
        "receiver_id": "r99999",
        "attempt": 1,
        "heartbeat_seconds": 300,
    }
    print(
        f"call tasks in S3: {_compact(tasks) / 1e6:.1f} MB for {RECEIVERS:,} receivers "
        f"(built and sorted by calling window in {elapsed:.2f} s)"
    )
    print(
        f"largest child input: {max(_compact(t) for t in tasks)} B; calls-queue message "
        f"with a 1 KB token: {_compact(message)} B (limits 256 KB)"
    )
    print(
        f"Map output without ResultWriter: {old_output / 1024:.0f} KB (crosses 256 KB at "
        f"{crossing:,} receivers); with ResultWriter: ResultPath null, the writer's pointer "
        f"is {_compact(manifest)} B"
    )


def history() -> None:
    asl = json.loads(ASL.read_text())
    states = asl["States"]["CallReceivers"]["ItemProcessor"]["States"]
    dial = EVENTS["Task.waitForTaskToken"] + EVENTS["Choice"]
    save = EVENTS["Task"]
    one = 2 + dial + save  # ExecutionStarted/Succeeded + Dial + Outcome + SaveResult
    retry = dial + EVENTS["Pass"] + EVENTS["Wait"]  # NextAttempt + RetryDelay + Dial again
    window = dial + EVENTS["Wait"]  # WaitForCallingWindow + Dial again
    missing = {"Dial", "Outcome", "NextAttempt", "RetryDelay", "WaitForCallingWindow"} - set(states)
    if missing:
        raise SystemExit(f"the ASL changed: {sorted(missing)} missing; update this model")
    worst = one + 9 * retry + 10 * window  # 10 attempts, a window wait before each
    print(
        f"history per child execution: {one} events for one call, +{retry} per retry, "
        f"+{window} per calling-window wait; worst case (10 attempts, 10 waits) {worst} "
        "(limit 25,000)"
    )
    print(
        "parent execution: about 30 events whatever the number of receivers (Map run events, "
        "report, SNS, EventBridge)"
    )


_REPORT_CHILD = """
import json, sys, tempfile, time, resource
from pathlib import Path
from bench.aws_lines import make_job
from backend.aws.results import result_from_item, result_item
from backend.domain.models import CallResult, CallStatus
from backend.domain.report import write_report
job = make_job(int(sys.argv[1]))
statuses = [CallStatus.CALL_COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.DROP_CALL]
items = [result_item(CallResult(job_id=job.job_id, receiver_id=r.id, status=statuses[n % 4],
         answers=("OK",) if n % 4 == 0 else (), attempts=1)) for n, r in enumerate(job.receivers)]
started, cpu = time.perf_counter(), time.process_time()
results = [result_from_item(item) for item in items]
with tempfile.TemporaryDirectory() as d:
    write_report(job, results, Path(d))
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def report() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _REPORT_CHILD, str(RECEIVERS)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"report Lambda work for {RECEIVERS:,} results: {figures['cpu']:.1f} s CPU "
        f"({figures['seconds']:.1f} s wall at load {os.getloadavg()[0]:.1f}), "
        f"peak {figures['mb']:.0f} MB (function: 1,536 MB, about 0.9 vCPU, 300 s; the "
        "results-table query adds about 100 pages of 1 MB)"
    )


def main() -> None:
    payloads()
    history()
    report()


if __name__ == "__main__":
    main()
