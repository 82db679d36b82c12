"""Slack-side state: previewed jobs waiting for Start, start claims, and job cards.

The parsed job is stored here between the preview and the Start click (keyed by job id): a button
value holds only the job id. `claim_start` is atomic so a double click, a Slack retry or a
re-uploaded identical file starts a job once. Locally this is a small SQLite file; on AWS
`bot.aws_state.DynamoBotState` implements the same protocol.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from backend.domain.models import CallJob, CallResult, CallStatus

RUNNING = "running"
CANCELLING = "cancelling"
FINISHED = "finished"


@dataclass
class PendingJob:
    """A job shown in a preview, not started yet."""

    job: dict[str, Any]  # job_to_json form
    team_id: str
    channel_id: str
    user_id: str
    thread_ts: str | None = None  # the upload message (preview is posted in its thread)
    preview_ts: str | None = None
    filename: str | None = None
    created_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> PendingJob:
        return cls(**json.loads(raw))


@dataclass
class JobCard:
    """The job card message and the running counts it shows (kept here, not recomputed)."""

    job_id: str
    name: str
    team_id: str
    channel_id: str
    user_id: str
    card_ts: str | None
    thread_ts: str | None
    total: int
    questions: list[str]
    state: str = RUNNING
    statuses: dict[str, str] = field(default_factory=dict)  # receiver id -> CallStatus value
    tallies: list[dict[str, int]] = field(default_factory=list)  # per question: answer -> count
    report_posted: bool = False
    retry_of: str | None = None
    created_at: float = field(default_factory=time.time)

    @classmethod
    def for_job(cls, job: CallJob, card_ts: str | None = None) -> JobCard:
        origin = job.origin
        if origin is None:
            raise ValueError(f"job {job.job_id} did not come from Slack")
        return cls(
            job_id=job.job_id,
            name=job.name or job.job_id,
            team_id=origin.team_id,
            channel_id=origin.channel_id,
            user_id=origin.user_id,
            card_ts=card_ts or origin.card_ts,
            thread_ts=origin.thread_ts,
            total=len(job.receivers),
            questions=[q.template for q in job.questions],
            tallies=[{} for _ in job.questions],
        )

    @property
    def done(self) -> int:
        return len(self.statuses)

    def counts(self) -> Counter[str]:
        return Counter(self.statuses.values())

    def add(self, result: CallResult) -> bool:
        """Count a result once; False for a repeat (streams deliver at least once)."""
        if result.receiver_id in self.statuses:
            return False
        self.statuses[result.receiver_id] = result.status.value
        while len(self.tallies) < len(result.answers):
            self.tallies.append({})
        for index, answer in enumerate(result.answers):
            key = answer if answer is not None else ""
            self.tallies[index][key] = self.tallies[index].get(key, 0) + 1
        return True

    def unreached(self) -> list[str]:
        """Receivers a retry may reach: not reached, and their number is callable."""
        skip = {CallStatus.CALL_COMPLETED, CallStatus.DROP_CALL, CallStatus.NOT_CALLABLE}
        return [rid for rid, status in self.statuses.items() if CallStatus(status) not in skip]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> JobCard:
        return cls(**json.loads(raw))


class BotState(Protocol):
    def save_pending(self, job_id: str, pending: PendingJob) -> None: ...

    def pending(self, job_id: str) -> PendingJob | None: ...

    def claim_start(self, job_id: str, user_id: str) -> bool:
        """True for the first caller only (atomic)."""
        ...

    def release_start(self, job_id: str) -> None:
        """Undo a claim when the submit failed, so Start can be clicked again."""
        ...

    def save_card(self, card: JobCard) -> None: ...

    def card(self, job_id: str) -> JobCard | None: ...

    def recent_cards(self, channel_id: str, limit: int = 5) -> list[JobCard]: ...


class SqliteBotState:
    """BotState in one SQLite file (or in memory): the local bot and the tests."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(
                """
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS pending (job_id TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS starts (job_id TEXT PRIMARY KEY, user_id TEXT, at REAL);
                CREATE TABLE IF NOT EXISTS cards (
                    job_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, created_at REAL NOT NULL,
                    value TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS cards_by_channel ON cards (channel_id, created_at);
                """
            )

    def save_pending(self, job_id: str, pending: PendingJob) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending (job_id, value) VALUES (?, ?)",
                (job_id, pending.to_json()),
            )

    def pending(self, job_id: str) -> PendingJob | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM pending WHERE job_id = ?", (job_id,)
            ).fetchone()
        return PendingJob.from_json(row[0]) if row else None

    def claim_start(self, job_id: str, user_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO starts (job_id, user_id, at) VALUES (?, ?, ?)",
                (job_id, user_id, time.time()),
            )
            return cursor.rowcount == 1

    def release_start(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM starts WHERE job_id = ?", (job_id,))

    def save_card(self, card: JobCard) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cards (job_id, channel_id, created_at, value) "
                "VALUES (?, ?, ?, ?)",
                (card.job_id, card.channel_id, card.created_at, card.to_json()),
            )

    def card(self, job_id: str) -> JobCard | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM cards WHERE job_id = ?", (job_id,)).fetchone()
        return JobCard.from_json(row[0]) if row else None

    def recent_cards(self, channel_id: str, limit: int = 5) -> list[JobCard]:
        with self._lock:
            rows = self._db.execute(
                "SELECT value FROM cards WHERE channel_id = ? ORDER BY created_at DESC LIMIT ?",
                (channel_id, limit),
            ).fetchall()
        return [JobCard.from_json(row[0]) for row in rows]
