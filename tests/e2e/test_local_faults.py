"""Local fault suite: real `callouts` processes killed, doubled and starved of disk.

Every check counts from records the engine under test does not write for itself: the phone
simulator's own ring log (`tests/e2e/faulty_cli.py`), the dial facts the store writes before a
call leaves, and a fault-free re-run of each call. The rules:
- nobody is rung twice for one attempt, nor more often than `max_attempts`, nor after their
  final result; every ring has a dial fact written before it;
- exactly one final result per receiver (in the store and in the report);
- the result is what happened on the call (equal to the fault-free call), or says "interrupted"
  for a call cut by a kill;
- retry delays hold across resumes (dial times from the dial facts).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from typer.testing import CliRunner

from backend.cli import app
from backend.domain.models import CallJob, CallResult, CallStatus
from backend.local.engine import LocalEngine
from backend.local.simulator import person_for, random_people
from backend.local.store import SqliteStore
from tests.e2e.test_local_run import _big_workbook

ROOT = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 3  # the workbook's setting
RETRY_DELAY = 300  # the default retry_delay_seconds
SEED = "7"

runner = CliRunner()


class Rings:
    """The ring log: (receiver, attempt) -> times rung, and the calls that were over."""

    def __init__(self, path: Path) -> None:
        self.rung: Counter[tuple[str, int]] = Counter()
        self.ended: set[tuple[str, int]] = set()
        lines = path.read_text().splitlines() if path.exists() else []
        for line in lines:
            kind, call_id = line.split(" ", 1)
            _, receiver_id, attempt = call_id.rsplit(":", 2)
            key = (receiver_id, int(attempt))
            if kind == "ring":
                self.rung[key] += 1
            else:
                self.ended.add(key)

    def __len__(self) -> int:
        return sum(self.rung.values())


def _cli(args: list[str], ring_log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "CALLOUTS_TEST_RING_LOG": str(ring_log), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.faulty_cli", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_rings(process: subprocess.Popen[bytes], ring_log: Path, count: int) -> bool:
    """Wait until the log holds `count` rings; False if the process ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if len(Rings(ring_log)) >= count:
            return True
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} rings after 120 s")


def _job(db: Path) -> CallJob:
    store = SqliteStore(db)
    (row,) = store.jobs()
    job = store.get_job(row.job_id)
    assert job is not None
    return job


def _dials(db: Path, job_id: str) -> dict[tuple[str, int], tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT receiver_id, attempt, run_id, dialled_at FROM dials WHERE job_id = ?",
            (job_id,),
        ).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def _final_results(db: Path, job_id: str) -> dict[str, CallResult]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT receiver_id, COUNT(*), MAX(result) FROM results WHERE job_id = ?"
            " GROUP BY receiver_id",
            (job_id,),
        ).fetchall()
    assert all(n == 1 for _, n, _ in rows), "a receiver has two final results"
    return {rid: CallResult.from_json(raw) for rid, _, raw in rows}


def _fault_free(
    job: CallJob, calls: set[tuple[str, int]], tmp: Path
) -> dict[tuple[str, int], CallResult]:
    """Each (receiver, attempt) call placed again, alone and without faults: what happens."""
    people = random_people(job, SEED)
    expected: dict[tuple[str, int], CallResult] = {}
    for attempt in sorted({a for _, a in calls}):
        ids = {rid for rid, a in calls if a == attempt}
        single = job.model_copy(
            update={
                "job_id": f"fault-free-{attempt}",
                "receivers": tuple(r for r in job.receivers if r.id in ids),
                "settings": job.settings.model_copy(update={"max_attempts": 1}),
            }
        )
        scripted = {rid: [person_for(people, rid, attempt)] for rid in ids}
        engine = LocalEngine(
            # Its own folder: a fresh do-not-call list (the faulted run's lies beside its db).
            SqliteStore(tmp / f"fault-free-{attempt}" / "calls.db"),
            scripted,
            report_dir=None,
            clock=lambda: datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
            worker_threads=1,
        )
        for result in engine.run(single):
            expected[(result.receiver_id, attempt)] = result
    return expected


def _interrupted_attempts(db: Path, job_id: str) -> set[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT receiver_id, attempt, result FROM attempts WHERE job_id = ?", (job_id,)
        ).fetchall()
    return {
        (rid, attempt)
        for rid, attempt, raw in rows
        if raw and CallResult.from_json(raw).error == "interrupted"
    }


def _check_outcomes(
    db: Path, ring_log: Path, out: Path, tmp: Path, *, cut_calls: int
) -> Counter[str]:
    """Every rule of the suite over a finished job; returns the count per status."""
    job = _job(db)
    rings = Rings(ring_log)
    dials = _dials(db, job.job_id)
    results = _final_results(db, job.job_id)
    receivers = {r.id for r in job.receivers}

    # Exactly one final result per receiver, in the store and in the report.
    assert set(results) == receivers
    report = json.loads(next(out.glob(f"{job.job_id}.json")).read_text())
    assert sorted(r["receiver_id"] for r in report["results"]) == sorted(receivers)

    # Nobody rung twice for one attempt, nor more than max_attempts times.
    assert max(rings.rung.values()) == 1
    per_person = Counter(rid for rid, _ in rings.rung)
    assert max(per_person.values()) <= MAX_ATTEMPTS
    with sqlite3.connect(db) as conn:
        too_many = conn.execute(
            "SELECT receiver_id, COUNT(*) FROM dials WHERE job_id = ? GROUP BY receiver_id"
            " HAVING COUNT(*) > ?",
            (job.job_id, MAX_ATTEMPTS),
        ).fetchall()
    assert too_many == []
    # Every ring had its dial fact first; a dial fact without a ring only where a kill fell
    # between the two.
    assert set(rings.rung) <= set(dials)
    assert len(set(dials) - set(rings.rung)) <= cut_calls

    # Never rung after the final result; every attempt before it was rung and not reached.
    expected = _fault_free(job, set(rings.rung), tmp)
    cut = _interrupted_attempts(db, job.job_id)
    interrupted = 0
    for rid, result in results.items():
        final = result.attempts
        assert not [a for r, a in rings.rung if r == rid and a > final], f"{rid} rung after"
        for earlier in range(1, final):
            assert (rid, earlier) in rings.rung
            if (rid, earlier) not in cut:  # a call whose end a kill hid may be retried
                assert expected[(rid, earlier)].status.retryable, f"{rid} reached, rung again"
        if result.status is CallStatus.CANCELLED:
            continue
        assert (rid, final) in rings.rung, f"{rid}: result for attempt {final}, never rung"
        what_happened = expected[(rid, final)]
        if result.error == "interrupted":
            interrupted += 1
            # Not picked up: Failed; picked up: DropCall with the answers so far, or NoHuman
            # (nothing answered yet), retried while attempts remain.
            assert result.status in (CallStatus.FAILED, CallStatus.DROP_CALL, CallStatus.NO_HUMAN)
            assert result.status is not CallStatus.NO_HUMAN or final == MAX_ATTEMPTS
        else:
            assert (result.status, result.answers) == (
                what_happened.status,
                what_happened.answers,
            ), rid
    assert interrupted <= cut_calls

    # Retry delays hold, and time never goes backwards, across every resume.
    for rid in receivers:
        times = [
            datetime.fromisoformat(dials[(rid, a)][1])
            for a in range(1, MAX_ATTEMPTS + 1)
            if (rid, a) in dials
        ]
        for before, after in pairwise(times):
            assert (after - before).total_seconds() >= RETRY_DELAY, rid
    return Counter(r.status.value for r in results.values())


def test_repeated_kills_at_random_moments_keep_every_outcome_true(tmp_path: Path) -> None:
    """A 2,000-person `callouts run` killed three times (SIGKILL, SIGINT, SIGKILL) at random
    moments, then run to the end."""
    rng = random.Random(20261201)
    job_file, db, out = tmp_path / "big.xlsx", tmp_path / "k.db", tmp_path / "out"
    ring_log = tmp_path / "rings.log"
    _big_workbook(job_file, 2000)
    concurrency = 10
    args = ["run", str(job_file), "--simulate", "random", "--seed", SEED]
    args += ["--concurrency", str(concurrency), "--db", str(db), "--out", str(out)]
    kills = [signal.SIGKILL, signal.SIGINT, signal.SIGKILL]
    for kill in kills:
        process = _cli(args, ring_log)
        try:
            target = len(Rings(ring_log)) + rng.randint(100, 500)
            assert _wait_for_rings(process, ring_log, target), "the run ended before the kill"
            time.sleep(rng.random() * 0.05)
            process.send_signal(kill)
        finally:
            _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr
        if kill is signal.SIGINT:
            assert process.returncode == 1
            assert b"run the same command again to resume" in stderr
    last = _cli(args, ring_log)
    _, stderr = last.communicate(timeout=300)
    assert last.returncode == 0, stderr.decode()

    counts = _check_outcomes(db, ring_log, out, tmp_path, cut_calls=len(kills) * concurrency)
    assert sum(counts.values()) == 2000
    assert counts["CallCompleted"] > 1000
    status = runner.invoke(app, ["status", "--db", str(db)])
    assert "finished" in status.output


def test_a_second_run_refuses_and_cancel_stops_the_first_from_another_process(
    tmp_path: Path,
) -> None:
    job_file, db, out = tmp_path / "two.xlsx", tmp_path / "two.db", tmp_path / "out"
    ring_log = tmp_path / "rings.log"
    _big_workbook(job_file, 1500)
    args = ["run", str(job_file), "--simulate", "random", "--seed", SEED]
    args += ["--concurrency", "2", "--db", str(db), "--out", str(out)]
    first = _cli(args, ring_log)
    try:
        assert _wait_for_rings(first, ring_log, 20), "the first run ended too soon"
        job_id = _job(db).job_id

        second = runner.invoke(app, args)
        assert second.exit_code == 1
        assert f"job {job_id} is already running (pid {first.pid} on" in second.output
        assert "callouts cancel" in second.output
        status = runner.invoke(app, ["status", job_id, "--db", str(db)])
        assert f"running (pid {first.pid}" in status.output

        cancel = runner.invoke(app, ["cancel", job_id, "--db", str(db)])
        assert cancel.exit_code == 0, cancel.output
        assert "Cancel requested" in cancel.output
        _, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, stderr.decode()

    # One run dialled: every dial fact is the first run's, and the rings match them.
    dials = _dials(db, job_id)
    assert len({run for run, _ in dials.values()}) == 1
    assert set(Rings(ring_log).rung) == set(dials)
    counts = _check_outcomes(db, ring_log, out, tmp_path, cut_calls=0)
    assert counts["Cancelled"] > 0
    assert sum(counts.values()) == 1500
    after = runner.invoke(app, ["status", job_id, "--db", str(db)])
    assert f"Job {job_id}: cancelled, 1500 of 1500 done" in after.output


def test_a_full_disk_or_read_only_database_stops_plainly_and_resumes(tmp_path: Path) -> None:
    job_file, db, out = tmp_path / "disk.xlsx", tmp_path / "disk.db", tmp_path / "out"
    ring_log = tmp_path / "rings.log"
    _big_workbook(job_file, 300)
    args = ["run", str(job_file), "--simulate", "random", "--seed", SEED]
    args += ["--concurrency", "4", "--db", str(db), "--out", str(out)]
    for fault, words in (("full:800", "is full"), ("readonly:0", "is read-only")):
        failing = _cli(args, ring_log, CALLOUTS_TEST_SQLITE_FAULT=fault)
        _, stderr = failing.communicate(timeout=120)
        message = stderr.decode()
        assert failing.returncode == 1
        assert "Traceback" not in message
        assert f"job database {db} {words}" in message
        assert "sqlite3" not in message
    assert len(Rings(ring_log)) > 0  # the disk filled up mid-job
    last = _cli(args, ring_log)
    _, stderr = last.communicate(timeout=120)
    assert last.returncode == 0, stderr.decode()
    # The disk-full run stopped with calls in progress: at most `concurrency` of them cut.
    counts = _check_outcomes(db, ring_log, out, tmp_path, cut_calls=4)
    assert sum(counts.values()) == 300
