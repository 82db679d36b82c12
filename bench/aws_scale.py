"""100,000 receivers in one AWS job: payloads, execution history and the report Lambda's work.

Printed, never asserted. Limits: Step Functions payloads (state input/output) 256 KB, 25,000
history events per execution; Lambda 10 GB memory, 15 min. The Distributed Map runs one child
execution per receiver, so the history limit applies per child; the parent's history holds the
Map run's events, not one per item. With ResultWriter the Map's output is a pointer to S3 (its
manifest), not an array with one entry per child.

The report Lambda's work is measured in a subprocess (its own peak memory): `ReportWriter.write`
on 100,000 results-table items served in 1 MB pages as DynamoDB gives them (made as they are
read), the xlsx/JSON/CSV report written and handed to a fake S3.

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
import json, os, sys, time, resource
from bench.aws_lines import make_job
from backend.aws.reporting import ReportWriter
from backend.aws.results import ResultsTable, result_item
from backend.domain.models import CallResult, CallStatus
job = make_job(int(sys.argv[1]))
statuses = [CallStatus.CALL_COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.DROP_CALL]

class Dynamo:  # the results table's query: pages of about 1 MB, made as they are read
    def get_paginator(self, name):
        return self
    def paginate(self, **_):
        page, size = [], 0
        for n, r in enumerate(job.receivers):
            item = result_item(CallResult(job_id=job.job_id, receiver_id=r.id,
                               status=statuses[n % 4], answers=("OK",) if n % 4 == 0 else (),
                               attempts=1))
            page.append(item)
            size += len(item["result"]["S"]) + 80
            if size >= 1_000_000:
                yield {"Items": page}
                page, size = [], 0
        yield {"Items": page}

class S3:
    sizes = {}
    def upload_file(self, path, bucket, key, ExtraArgs):
        self.sizes[key] = os.path.getsize(path)
    def generate_presigned_url(self, *_, **__):
        return "https://example.invalid/report"

class Jobs:
    def cancel_requested(self, job_id):
        return False
    def set_state(self, job_id, state):
        return None  # the job's state is not what this bench measures

class Store:
    bucket = "bench"
    def load(self, job_id):
        return job

s3 = S3()
writer = ReportWriter(s3, Jobs(), Store(), ResultsTable(Dynamo(), "results"), 3600)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started, cpu = time.perf_counter(), time.process_time()
report = writer.write(job.job_id)
assert report["results"] == len(job.receivers), report["results"]
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "job_mb": before, "files_mb": sum(s3.sizes.values()) / 1e6}))
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
        f"report Lambda (ReportWriter.write: results-table pages of 1 MB read as they come, "
        f"xlsx/JSON/CSV written, {figures['files_mb']:.0f} MB uploaded) for {RECEIVERS:,} "
        f"results: {figures['cpu']:.1f} s CPU ({figures['seconds']:.1f} s wall at load "
        f"{os.getloadavg()[0]:.1f}), peak {figures['mb']:.0f} MB of which the job and imports "
        f"{figures['job_mb']:.0f} MB (function: 1,536 MB, about 0.9 vCPU, 300 s)"
    )


def main() -> None:
    payloads()
    history()
    report()


if __name__ == "__main__":
    main()
