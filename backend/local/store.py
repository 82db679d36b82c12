"""One SQLite file holding the local engine's state: jobs, dial claims, results, sessions,
transcripts. WAL mode; one connection shared by the engine's threads behind a lock.

Guarantees the engine builds on:
- `claim_attempt` inserts (job, receiver, attempt) under a UNIQUE key before dialing, so the
  same attempt is never dialled twice, even across a crash and a resume;
- `results` has (job_id, receiver_id) as primary key: exactly one final result per receiver;
- `finish_attempt` writes the attempt's outcome and, if final, the result in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.domain.job_state import JobState
from backend.domain.models import CallJob, CallResult, CallStatus
from backend.domain.session import CallSession, StaleSession

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    status TEXT NOT NULL,              -- a JobState value (backend/domain/job_state.py)
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    outcome TEXT,                      -- CallStatus value; NULL while the call runs
    result TEXT,                       -- CallResult JSON of this attempt
    PRIMARY KEY (job_id, receiver_id, attempt)
);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (job_id, receiver_id)
);
CREATE TABLE IF NOT EXISTS sessions (
    call_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transcripts (
    call_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    lines TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transcripts_by_receiver ON transcripts (job_id, receiver_id);
"""


@dataclass(frozen=True, slots=True)
class JobRow:
    job_id: str
    name: str
    status: JobState
    cancel_requested: bool
    created_at: str
    updated_at: str
    receivers: int


@dataclass(frozen=True, slots=True)
class AttemptRow:
    job_id: str
    receiver_id: str
    attempt: int
    call_id: str
    claimed_at: str
    outcome: CallStatus | None
    result: CallResult | None


@dataclass(frozen=True, slots=True)
class TranscriptRow:
    call_id: str
    attempt: int
    lines: list[Any]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _line_json(line: Any) -> Any:
    if is_dataclass(line) and not isinstance(line, type):
        return asdict(line)
    if hasattr(line, "model_dump"):
        return line.model_dump(mode="json")
    if isinstance(line, str | dict):
        return line
    return str(line)


class SqliteStore:
    """The local engine's state; also the local `SessionStore`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls) -> SqliteStore:
        """The store at `Settings().db_path` (`CALLOUTS_DB`, default `.callouts/callouts.db`)."""
        from backend.settings import Settings

        return cls(Settings().db_path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # --- jobs -----------------------------------------------------------------------------------

    def upsert_job(self, job: CallJob) -> bool:
        """Record a job (True) or mark a known unfinished one running again (False)."""
        now = _now()
        with self._tx() as db:
            row = db.execute("SELECT status FROM jobs WHERE job_id = ?", (job.job_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (job_id, job, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (job.job_id, job.model_dump_json(), JobState.RUNNING, now, now),
                )
                return True
            return False

    def get_job(self, job_id: str) -> CallJob | None:
        rows = self._query("SELECT job FROM jobs WHERE job_id = ?", (job_id,))
        return CallJob.model_validate_json(rows[0][0]) if rows else None

    def job_row(self, job_id: str) -> JobRow | None:
        rows = [r for r in self.jobs() if r.job_id == job_id]
        return rows[0] if rows else None

    def jobs(self) -> list[JobRow]:
        rows = self._query(
            "SELECT job_id, job, status, cancel_requested, created_at, updated_at FROM jobs"
            " ORDER BY created_at"
        )
        out = []
        for job_id, job_json, status, cancel, created, updated in rows:
            data = json.loads(job_json)
            out.append(
                JobRow(
                    job_id,
                    str(data.get("name") or ""),
                    JobState.parse(status),
                    bool(cancel),
                    created,
                    updated,
                    len(data.get("receivers") or ()),
                )
            )
        return out

    def set_job_status(self, job_id: str, status: JobState) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = ?, updated_at = ? WHERE job_id = ?",
                (status.value, _now(), job_id),
            )

    def request_cancel(self, job_id: str) -> bool:
        """Flag a running job for cancellation; False if unknown or already over."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE jobs SET cancel_requested = 1, updated_at = ?"
                " WHERE job_id = ? AND upper(status) = ?",
                (_now(), job_id, JobState.RUNNING),
            )
            return cursor.rowcount > 0

    def cancel_requested(self, job_id: str) -> bool:
        rows = self._query("SELECT cancel_requested FROM jobs WHERE job_id = ?", (job_id,))
        return bool(rows and rows[0][0])

    # --- attempts and results -------------------------------------------------------------------

    def claim_attempt(
        self, job_id: str, receiver_id: str, attempt: int, call_id: str, at: datetime
    ) -> bool:
        """Claim one attempt before dialing; False if it was claimed before (never dial then)."""
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO attempts (job_id, receiver_id, attempt, call_id, claimed_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (job_id, receiver_id, attempt, call_id, at.isoformat()),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def attempts(self, job_id: str) -> list[AttemptRow]:
        rows = self._query(
            "SELECT job_id, receiver_id, attempt, call_id, claimed_at, outcome, result"
            " FROM attempts WHERE job_id = ? ORDER BY receiver_id, attempt",
            (job_id,),
        )
        return [
            AttemptRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                CallStatus(r[5]) if r[5] else None,
                CallResult.model_validate_json(r[6]) if r[6] else None,
            )
            for r in rows
        ]

    def finish_attempt(self, result: CallResult, *, final: bool) -> tuple[CallResult, bool]:
        """Record an attempt's outcome and, if `final`, the receiver's result, atomically.

        Returns (the receiver's stored final result or `result`, whether a new final result
        was written). A second final result for a receiver is never written.
        """
        with self._tx() as db:
            db.execute(
                "UPDATE attempts SET outcome = ?, result = ?"
                " WHERE job_id = ? AND receiver_id = ? AND attempt = ?",
                (
                    result.status.value,
                    result.model_dump_json(),
                    result.job_id,
                    result.receiver_id,
                    result.attempts,
                ),
            )
            if not final:
                return result, False
            return self._insert_result(db, result)

    def record_result(self, result: CallResult) -> tuple[CallResult, bool]:
        """Write a final result that had no dialled attempt (cancelled, not callable)."""
        with self._tx() as db:
            return self._insert_result(db, result)

    @staticmethod
    def _insert_result(db: sqlite3.Connection, result: CallResult) -> tuple[CallResult, bool]:
        existing = db.execute(
            "SELECT result FROM results WHERE job_id = ? AND receiver_id = ?",
            (result.job_id, result.receiver_id),
        ).fetchone()
        if existing is not None:
            return CallResult.model_validate_json(existing[0]), False
        (seq,) = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM results WHERE job_id = ?", (result.job_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO results (job_id, receiver_id, status, result, seq) VALUES (?, ?, ?, ?, ?)",
            (
                result.job_id,
                result.receiver_id,
                result.status.value,
                result.model_dump_json(),
                seq,
            ),
        )
        return result, True

    def results(self, job_id: str) -> list[CallResult]:
        """Final results in the order they landed."""
        rows = self._query("SELECT result FROM results WHERE job_id = ? ORDER BY seq", (job_id,))
        return [CallResult.model_validate_json(r[0]) for r in rows]

    def counts(self, job_id: str) -> dict[str, int]:
        rows = self._query(
            "SELECT status, COUNT(*) FROM results WHERE job_id = ? GROUP BY status", (job_id,)
        )
        return {str(status): int(n) for status, n in rows}

    # --- SessionStore ---------------------------------------------------------------------------

    def create(self, session: CallSession) -> None:
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO sessions (call_id, job_id, receiver_id, version, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        session.call_id,
                        session.job_id,
                        session.receiver_id,
                        session.version,
                        session.model_dump_json(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise StaleSession(f"session {session.call_id} exists") from exc

    def get(self, call_id: str) -> CallSession | None:
        rows = self._query("SELECT data FROM sessions WHERE call_id = ?", (call_id,))
        return CallSession.model_validate_json(rows[0][0]) if rows else None

    def save(self, session: CallSession) -> None:
        expected = session.version
        session.version = expected + 1
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE sessions SET version = ?, data = ? WHERE call_id = ? AND version = ?",
                (session.version, session.model_dump_json(), session.call_id, expected),
            )
            if cursor.rowcount == 0:
                session.version = expected
                raise StaleSession(f"session {session.call_id} changed since version {expected}")

    # --- transcripts ----------------------------------------------------------------------------

    def save_transcript(
        self, call_id: str, job_id: str, receiver_id: str, attempt: int, lines: Sequence[Any]
    ) -> None:
        payload = json.dumps([_line_json(line) for line in lines], default=str)
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO transcripts (call_id, job_id, receiver_id, attempt, lines)"
                " VALUES (?, ?, ?, ?, ?)",
                (call_id, job_id, receiver_id, attempt, payload),
            )

    def transcripts(self, job_id: str, receiver_id: str) -> list[TranscriptRow]:
        rows = self._query(
            "SELECT call_id, attempt, lines FROM transcripts"
            " WHERE job_id = ? AND receiver_id = ? ORDER BY attempt",
            (job_id, receiver_id),
        )
        return [TranscriptRow(r[0], r[1], json.loads(r[2])) for r in rows]
