"""Call me first and the preview's estimate, for every chat platform (no Slack or Teams SDK).

A requester asks for a test call of a previewed job ("Call me first" button, `/callout test`):
their number is asked for once, remembered per user (`NumberBook`) and shown masked only; the
call is placed by a `CallPlacer` (local: the simulator, answered at once; AWS: the job
queue, answered later by the notifier); the adapters render the `TestCallReply`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from backend.domain.call_me_first import (
    CallTestOutcome,
    RefusedTestCall,
    new_test_id,
    number_key_for_test,
    requester_number,
)
from backend.domain.dnc import DoNotCallList
from backend.domain.models import CallJob
from backend.domain.phones import mask_phone


def change_hint(invoke: str = "/callout") -> str:
    """How to change the remembered number, in the platform's way of calling the bot."""
    return f"change it with `{invoke} test number +852 5123 4567`"


class NumberBook(Protocol):
    """Each requester's own number (E.164; never shown in full) and last previewed job."""

    def test_number(self, user_key: str) -> str | None: ...
    def remember_test_number(self, user_key: str, e164: str) -> None: ...
    def last_preview(self, user_key: str) -> str | None: ...
    def remember_preview(self, user_key: str, job_id: str) -> None: ...


class CallPlacer(Protocol):
    """Places one test call: an outcome when it is over at once (simulator), None when it was
    queued and its outcome comes later (AWS)."""

    def place(
        self,
        job: CallJob,
        to: str,
        test_id: str,
        *,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        number_key: str | None,
    ) -> PlayedTestCall | None: ...


@dataclass(frozen=True)
class PlayedTestCall:
    outcome: CallTestOutcome
    transcript: Sequence[tuple[str, str]] = ()  # (speaker, text): what was said and heard


@dataclass(frozen=True)
class TestCallReply:
    """What the requester is told; `ask_number`: open the number form first; `finished`: the
    call was placed and is over (a simulated one), `text` is its outcome."""

    __test__ = False

    text: str
    ask_number: bool = False
    transcript: Sequence[tuple[str, str]] = field(default_factory=tuple)
    finished: bool = False


def user_key(platform: str, team: str, user: str) -> str:
    return f"{platform}#{team}#{user}"


def request_test_call(
    job: CallJob,
    *,
    key: str,
    book: NumberBook,
    placer: CallPlacer,
    dnc: DoNotCallList | None,
    origin: Mapping[str, Any] | None,
    requested_by: str | None,
    number: str | None = None,
    invoke: str = "/callout",
) -> TestCallReply:
    """Check the number (given now, else the remembered one), then place the call. `invoke`:
    the platform's way of calling the bot, for the hint on changing the number."""
    raw = number if number is not None else book.test_number(key)
    if raw is None:
        return TestCallReply("Which number should I call? Give your own number.", ask_number=True)
    try:
        to = requester_number(job, raw)
        number_key = number_key_for_test(dnc, to)
    except RefusedTestCall as refused:
        return TestCallReply(f"Test call not placed: {refused}.", ask_number=number is not None)
    if number is not None:
        book.remember_test_number(key, to)
    played = placer.place(
        job,
        to,
        new_test_id(),
        origin=origin,
        requested_by=requested_by,
        number_key=number_key,
    )
    masked = mask_phone(to)
    if played is None:
        return TestCallReply(
            f"Calling {masked} now with the prompts of person #1 of `{job.job_id}`: a test, "
            f"not part of the job. I will tell you here how it went ({change_hint(invoke)})."
        )
    return TestCallReply(
        f"{played.outcome.summary()} ({change_hint(invoke)})",
        transcript=tuple(played.transcript),
        finished=True,
    )


def number_problem(job: CallJob, raw: str) -> str | None:
    """Why a number typed in the form cannot be called (None: it can), for the field's error."""
    try:
        requester_number(job, raw)
    except RefusedTestCall as refused:
        return str(refused)
    return None


def estimate_lines(
    job: CallJob, now: datetime, max_lines: int | None = None
) -> tuple[str, str] | None:
    """`Expected duration: …` and `Expected cost: …` for a preview (None if not estimable).
    `max_lines`: the deployment's line budget (calls live at once across all jobs: the stack's
    `MaxConcurrentCalls`); a job never gets more lines than that, whatever its concurrency."""
    from backend.domain.estimate import estimate, job_lines

    try:
        found = estimate(job, now, concurrency=job_lines(job.settings, max_lines))
    except ValueError:
        return None
    return found.duration_line(), found.cost_line()


def outcome_text(detail: Mapping[str, Any], invoke: str = "/callout") -> str:
    """The chat text of a "Callout Test Call Finished" event (masked number only)."""
    summary = str(detail.get("summary") or "The test call ended.")
    if detail.get("refused"):
        return summary
    return f"{summary} ({change_hint(invoke)})"


class SqliteNumberBook:
    """`NumberBook` in the local bot's SQLite file."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS test_numbers (user_key TEXT PRIMARY KEY, value TEXT)"
            )

    def _get(self, key: str) -> dict[str, str]:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM test_numbers WHERE user_key = ?", (key,)
            ).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def _set(self, key: str, name: str, value: str) -> None:
        data = self._get(key)
        data[name] = value
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO test_numbers (user_key, value) VALUES (?, ?)",
                (key, json.dumps(data)),
            )

    def test_number(self, user_key: str) -> str | None:
        return self._get(user_key).get("number")

    def remember_test_number(self, user_key: str, e164: str) -> None:
        self._set(user_key, "number", e164)

    def last_preview(self, user_key: str) -> str | None:
        return self._get(user_key).get("last_job")

    def remember_preview(self, user_key: str, job_id: str) -> None:
        self._set(user_key, "last_job", job_id)


class SimulatedTestCalls:
    """`CallPlacer` of the local bot: the phone simulator plays the call at once."""

    def __init__(self, dnc: Any = None) -> None:
        self.dnc = dnc  # a "stop" in the test call goes on this list

    def place(
        self,
        job: CallJob,
        to: str,
        test_id: str,
        *,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        number_key: str | None,
    ) -> PlayedTestCall:
        from datetime import UTC

        from backend.local.call_me_first import simulate_test_call
        from backend.local.simulator import answering_person

        played = simulate_test_call(
            job,
            to,
            answering_person(job),
            datetime.now(UTC),
            opt_outs=self.dnc,
            number_key=number_key,
        )
        lines = tuple((str(line.speaker), str(line.text)) for line in played.transcript)
        return PlayedTestCall(played.outcome, lines)


class QueuedTestCalls:
    """`CallPlacer` on AWS: the job queue's test-call message (backend/aws/test_calls.py);
    the outcome comes back as the "Callout Test Call Finished" event."""

    def __init__(self, submitter: Any) -> None:
        self.submitter = submitter  # backend.aws.submitter.SqsJobSubmitter

    def place(
        self,
        job: CallJob,
        to: str,
        test_id: str,
        *,
        origin: Mapping[str, Any] | None,
        requested_by: str | None,
        number_key: str | None,
    ) -> PlayedTestCall | None:
        self.submitter.request_test_call(job, to, test_id, origin=origin, requested_by=requested_by)
        return None
