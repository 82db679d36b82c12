"""One SQLite file holding the local engine's state: jobs (with their lease and virtual clock),
attempt claims, dial facts, results, sessions, transcripts. WAL mode; one connection shared by
the engine's threads behind a lock.

Guarantees the engine builds on:
- every write of a run is guarded by the job's lease: a run that no longer owns the job
  (`LeaseLost`) writes nothing, so it never overwrites another run's attempts or results;
- `claim_attempt` inserts (job, receiver, attempt) under a UNIQUE key before dialing;
- `record_dial` writes the dial fact (UNIQUE per attempt) just before the call leaves: a claim
  without a dial was never rung and is released on resume, so it does not use up an attempt;
- `results` has (job_id, receiver_id) as primary key: exactly one final result per receiver;
- `finish_attempt` writes the attempt's outcome and, if final, the result in one transaction;
- `claim_sms` records the intent to text a person (UNIQUE per job and receiver) before the
  message leaves, `finish_sms` its outcome: nobody is texted twice for one job;
- a `sqlite3` error leaves as `StoreError`, whose message names the file and what to do.
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
from backend.domain.record_json import dumps
from backend.domain.session import CallSession, StaleSession
from backend.domain.sms import INTERRUPTED, SmsResult, SmsStatus
from backend.local.lease import STALE_AFTER_SECONDS, JobBusy, Lease, LeaseLost, RunId
from backend.local.sqlite_db import LockedSqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    status TEXT NOT NULL,              -- JobState: running | finished | cancelled
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    lease_run TEXT,                    -- the run owning the job (NULL: nobody)
    lease_pid INTEGER,
    lease_host TEXT,
    lease_since TEXT,
    lease_heartbeat TEXT,
    virtual_start TEXT,                -- the virtual clock: its origin ...
    virtual_seconds REAL NOT NULL DEFAULT 0  -- ... and how far it has run
);
CREATE TABLE IF NOT EXISTS attempts (
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    outcome TEXT,                      -- CallStatus value; NULL while the call runs
    result TEXT,                       -- CallResult JSON of this attempt
    run_id TEXT,                       -- the run that claimed it
    PRIMARY KEY (job_id, receiver_id, attempt)
);
CREATE TABLE IF NOT EXISTS dials (     -- facts: written just before each call leaves
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    dialled_at TEXT NOT NULL,          -- virtual time of the call
    recorded_at TEXT NOT NULL,         -- wall-clock time of the write
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
CREATE TABLE IF NOT EXISTS sms (       -- the simulated outbox: the intent before the message
    job_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    body TEXT NOT NULL,
    claimed_at TEXT NOT NULL,          -- virtual time of the intent
    run_id TEXT NOT NULL,
    outcome TEXT,                      -- SmsResult JSON; NULL: sending (or interrupted)
    PRIMARY KEY (job_id, receiver_id)
);
"""


# Columns added since the first release; old files get them on open (`_migrate`).
_ADDED_COLUMNS = {
    "jobs": (
        "lease_run TEXT",
        "lease_pid INTEGER",
        "lease_host TEXT",
        "lease_since TEXT",
        "lease_heartbeat TEXT",
        "virtual_start TEXT",
        "virtual_seconds REAL NOT NULL DEFAULT 0",
    ),
    "attempts": ("run_id TEXT",),
}


class StoreError(RuntimeError):
    """The job database cannot be used; the message names the file and what to do."""

    def __init__(self, path: Path, error: sqlite3.Error) -> None:
        self.path = path
        self.error = error
        super().__init__(_explain(path, error))


def _explain(path: Path, error: sqlite3.Error) -> str:
    text = str(error).lower()
    if "readonly" in text or "read-only" in text:
        return (
            f"the job database {path} is read-only: make the file and its folder writable, "
            "or give another file with --db"
        )
    if "full" in text:
        return (
            f"the disk holding the job database {path} is full: free some space, then run "
            "the same command again to resume (nobody is called twice)"
        )
    if "locked" in text or "busy" in text:
        return (
            f"the job database {path} is locked by another program: close it (or wait), "
            "then run the command again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"{path} is not a usable job database ({error}): give another file with --db "
            "(or move this one away)"
        )
    if "unable to open" in text:
        return f"cannot open the job database {path}: check the path and its folder's permissions"
    return f"the job database {path} failed: {error}"


@dataclass(frozen=True, slots=True)
class JobRow:
    job_id: str
    name: str
    status: str
    cancel_requested: bool
    created_at: str
    updated_at: str
    receivers: int
    lease: Lease | None = None

    def state(self, now: datetime | None = None) -> JobState:
        """The stored state; a running job that no live run owns is INTERRUPTED."""
        stored = JobState.parse(self.status)
        if stored is not JobState.RUNNING:
            return stored
        live = self.lease is not None and self.lease.is_live(now or datetime.now(UTC))
        return JobState.RUNNING if live else JobState.INTERRUPTED


@dataclass(frozen=True, slots=True)
class AttemptRow:
    job_id: str
    receiver_id: str
    attempt: int
    call_id: str
    claimed_at: str
    outcome: CallStatus | None
    result: CallResult | None
    dialled_at: str | None = None  # None: claimed, never dialled


@dataclass(frozen=True, slots=True)
class DialRow:
    receiver_id: str
    attempt: int
    call_id: str
    run_id: str
    dialled_at: str


@dataclass(frozen=True, slots=True)
class SmsRow:
    """One message of the outbox: its text, when it was claimed, what became of it."""

    receiver_id: str
    body: str
    claimed_at: str
    result: SmsResult  # Failed "interrupted" for a claim whose outcome was never written


@dataclass(frozen=True, slots=True)
class VirtualClock:
    """The job's virtual time: where it started, and how far it has run (seconds)."""

    start: datetime
    seconds: float


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


def _lease(row: Sequence[Any]) -> Lease | None:
    run_id, pid, host, since, heartbeat = row
    if run_id is None:
        return None
    return Lease(
        run_id,
        int(pid),
        str(host),
        datetime.fromisoformat(since),
        datetime.fromisoformat(heartbeat),
    )


_LEASE_COLUMNS = "lease_run, lease_pid, lease_host, lease_since, lease_heartbeat"


class SqliteStore(LockedSqlite):
    """The local engine's state; also the local `SessionStore`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.Error as error:
            raise StoreError(self.path, error) from error
        except OSError as error:
            reason = error.strerror or str(error)
            opening = sqlite3.OperationalError(f"unable to open: {reason}")
            raise StoreError(self.path, opening) from error

    def _migrate(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column.split()[0] not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
                    if table == "attempts":
                        # Files from before dial facts: every claim there was dialled.
                        self._db.execute(
                            "INSERT OR IGNORE INTO dials (job_id, receiver_id, attempt, call_id,"
                            " run_id, dialled_at, recorded_at) SELECT job_id, receiver_id,"
                            " attempt, call_id, '', claimed_at, claimed_at FROM attempts"
                        )

    @classmethod
    def from_settings(cls) -> SqliteStore:
        """The store at `Settings().db_path` (`CALLOUTS_DB`, default `.callouts/callouts.db`)."""
        from backend.settings import Settings

        return cls(Settings().db_path)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with super()._tx() as db:
                yield db
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as error:
            raise StoreError(self.path, error) from error

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as error:
                raise StoreError(self.path, error) from error

    # --- jobs -----------------------------------------------------------------------------------

    def upsert_job(self, job: CallJob) -> bool:
        """Record a job (True), or leave a known one as it is (False)."""
        now = _now()
        with self._tx() as db:
            row = db.execute("SELECT status FROM jobs WHERE job_id = ?", (job.job_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (job_id, job, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (job.job_id, job.model_dump_json(), JobState.RUNNING.value, now, now),
                )
                return True
            return False

    def get_job(self, job_id: str) -> CallJob | None:
        rows = self._query("SELECT job FROM jobs WHERE job_id = ?", (job_id,))
        return CallJob.model_validate_json(rows[0][0]) if rows else None

    def job_row(self, job_id: str) -> JobRow | None:
        rows = self._job_rows("WHERE job_id = ?", (job_id,))
        return rows[0] if rows else None

    def jobs(self) -> list[JobRow]:
        return self._job_rows("ORDER BY created_at", ())

    def _job_rows(self, where: str, args: Sequence[Any]) -> list[JobRow]:
        rows = self._query(
            "SELECT job_id, job, status, cancel_requested, created_at, updated_at, "
            f"{_LEASE_COLUMNS} FROM jobs {where}",
            args,
        )
        out = []
        for job_id, job_json, status, cancel, created, updated, *lease in rows:
            data = json.loads(job_json)
            out.append(
                JobRow(
                    job_id,
                    str(data.get("name") or ""),
                    status,
                    bool(cancel),
                    created,
                    updated,
                    len(data.get("receivers") or ()),
                    _lease(lease),
                )
            )
        return out

    def finish_job(self, job_id: str, state: JobState, run: RunId) -> None:
        """Mark the job over and give up its lease (only by the run owning it)."""
        with self._tx() as db:
            self._check_lease(db, job_id, run)
            db.execute(
                f"UPDATE jobs SET status = ?, updated_at = ?, {_NO_LEASE} WHERE job_id = ?",
                (state.value, _now(), job_id),
            )

    def request_cancel(self, job_id: str) -> bool:
        """Flag a running job for cancellation; False if unknown or already over."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE jobs SET cancel_requested = 1, updated_at = ?"
                " WHERE job_id = ? AND status = ?",
                (_now(), job_id, JobState.RUNNING.value),
            )
            return cursor.rowcount > 0

    def cancel_requested(self, job_id: str) -> bool:
        rows = self._query("SELECT cancel_requested FROM jobs WHERE job_id = ?", (job_id,))
        return bool(rows and rows[0][0])

    # --- the lease ------------------------------------------------------------------------------

    def acquire_lease(
        self, job_id: str, run: RunId, stale_after: float = STALE_AFTER_SECONDS
    ) -> Lease | None:
        """Make `run` own the job; raises `JobBusy` naming a live owner. Returns the stale
        lease taken over, if any."""
        now = datetime.now(UTC)
        with self._tx() as db:
            row = db.execute(
                f"SELECT {_LEASE_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise KeyError(job_id)
            holder = _lease(row)
            other = holder is not None and holder.run_id != run.run_id
            if holder is not None and other and holder.is_live(now, stale_after):
                raise JobBusy(job_id, holder)
            db.execute(
                "UPDATE jobs SET lease_run = ?, lease_pid = ?, lease_host = ?, lease_since = ?,"
                " lease_heartbeat = ? WHERE job_id = ?",
                (run.run_id, run.pid, run.host, now.isoformat(), now.isoformat(), job_id),
            )
            return holder if other else None

    def heartbeat(self, job_id: str, run: RunId) -> bool:
        """Renew the lease; False if `run` no longer owns the job."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE jobs SET lease_heartbeat = ? WHERE job_id = ? AND lease_run = ?",
                (_now(), job_id, run.run_id),
            )
            return cursor.rowcount > 0

    def release_lease(self, job_id: str, run: RunId) -> None:
        """Give the job up (a run that stops early); a no-op if `run` does not own it."""
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET {_NO_LEASE} WHERE job_id = ? AND lease_run = ?",
                (job_id, run.run_id),
            )

    def lease(self, job_id: str) -> Lease | None:
        rows = self._query(f"SELECT {_LEASE_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,))
        return _lease(rows[0]) if rows else None

    @staticmethod
    def _check_lease(db: sqlite3.Connection, job_id: str, run: RunId) -> None:
        row = db.execute(
            f"SELECT {_LEASE_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
        holder = _lease(row) if row is not None else None
        if holder is None or holder.run_id != run.run_id:
            raise LeaseLost(job_id, holder)

    # --- the virtual clock ----------------------------------------------------------------------

    def clock(self, job_id: str, start: datetime) -> VirtualClock:
        """The job's virtual clock; `start` becomes its origin the first time."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET virtual_start = ? WHERE job_id = ? AND virtual_start IS NULL",
                (start.isoformat(), job_id),
            )
            origin, seconds = db.execute(
                "SELECT virtual_start, virtual_seconds FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        return VirtualClock(datetime.fromisoformat(origin), float(seconds))

    @staticmethod
    def _advance(db: sqlite3.Connection, job_id: str, seconds: float | None) -> None:
        if seconds is not None:
            db.execute(
                "UPDATE jobs SET virtual_seconds = MAX(virtual_seconds, ?) WHERE job_id = ?",
                (seconds, job_id),
            )

    # --- attempts, dials and results ------------------------------------------------------------

    def claim_attempt(
        self,
        job_id: str,
        receiver_id: str,
        attempt: int,
        call_id: str,
        at: datetime,
        run: RunId,
    ) -> bool:
        """Claim one attempt before dialing; False if it was claimed before (never dial then)."""
        try:
            with self._tx() as db:
                self._check_lease(db, job_id, run)
                db.execute(
                    "INSERT INTO attempts (job_id, receiver_id, attempt, call_id, claimed_at,"
                    " run_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (job_id, receiver_id, attempt, call_id, at.isoformat(), run.run_id),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def record_dial(
        self,
        job_id: str,
        receiver_id: str,
        attempt: int,
        call_id: str,
        at: datetime,
        run: RunId,
        clock_seconds: float | None = None,
    ) -> bool:
        """The fact that this attempt is being dialled, written before the call leaves.

        False (do not dial) unless `run` claimed the attempt and it was never dialled;
        `LeaseLost` if `run` no longer owns the job.
        """
        try:
            with self._tx() as db:
                self._check_lease(db, job_id, run)
                owned = db.execute(
                    "SELECT 1 FROM attempts WHERE job_id = ? AND receiver_id = ? AND attempt = ?"
                    " AND run_id = ? AND outcome IS NULL",
                    (job_id, receiver_id, attempt, run.run_id),
                ).fetchone()
                if owned is None:
                    return False
                db.execute(
                    "INSERT INTO dials (job_id, receiver_id, attempt, call_id, run_id,"
                    " dialled_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (job_id, receiver_id, attempt, call_id, run.run_id, at.isoformat(), _now()),
                )
                self._advance(db, job_id, clock_seconds)
        except sqlite3.IntegrityError:
            return False
        return True

    def release_undialled(self, job_id: str, run: RunId) -> int:
        """Forget claims that were never dialled (and their sessions): nobody was rung, so
        the attempt is not used up. Only by the run owning the job."""
        with self._tx() as db:
            self._check_lease(db, job_id, run)
            undialled = (
                " FROM attempts a WHERE a.job_id = ? AND a.outcome IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM dials d WHERE d.job_id = a.job_id"
                " AND d.receiver_id = a.receiver_id AND d.attempt = a.attempt)"
            )
            db.execute(
                f"DELETE FROM sessions WHERE call_id IN (SELECT a.call_id{undialled})", (job_id,)
            )
            cursor = db.execute(
                f"DELETE FROM attempts WHERE rowid IN (SELECT a.rowid{undialled})", (job_id,)
            )
            return cursor.rowcount

    def dials(self, job_id: str) -> list[DialRow]:
        rows = self._query(
            "SELECT receiver_id, attempt, call_id, run_id, dialled_at FROM dials"
            " WHERE job_id = ? ORDER BY receiver_id, attempt",
            (job_id,),
        )
        return [DialRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def attempts(self, job_id: str) -> list[AttemptRow]:
        rows = self._query(
            "SELECT a.job_id, a.receiver_id, a.attempt, a.call_id, a.claimed_at, a.outcome,"
            " a.result, d.dialled_at FROM attempts a LEFT JOIN dials d ON d.job_id = a.job_id"
            " AND d.receiver_id = a.receiver_id AND d.attempt = a.attempt"
            " WHERE a.job_id = ? ORDER BY a.receiver_id, a.attempt",
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
                CallResult.from_json(r[6]) if r[6] else None,
                r[7],
            )
            for r in rows
        ]

    def finish_attempt(
        self, result: CallResult, *, final: bool, run: RunId, clock_seconds: float | None = None
    ) -> tuple[CallResult, bool]:
        """Record an attempt's outcome and, if `final`, the receiver's result, atomically.

        Returns (the receiver's stored final result or `result`, whether a new final result
        was written). A second final result for a receiver is never written; `LeaseLost` (and
        nothing written) if `run` no longer owns the job.
        """
        with self._tx() as db:
            self._check_lease(db, result.job_id, run)
            db.execute(
                "UPDATE attempts SET outcome = ?, result = ?, run_id = ?"
                " WHERE job_id = ? AND receiver_id = ? AND attempt = ?",
                (
                    result.status.value,
                    dumps(result.to_json()),
                    run.run_id,
                    result.job_id,
                    result.receiver_id,
                    result.attempts,
                ),
            )
            self._advance(db, result.job_id, clock_seconds)
            if not final:
                return result, False
            return self._insert_result(db, result)

    def record_result(self, result: CallResult, run: RunId) -> tuple[CallResult, bool]:
        """Write a final result that had no dialled attempt (cancelled, not callable)."""
        with self._tx() as db:
            self._check_lease(db, result.job_id, run)
            return self._insert_result(db, result)

    @staticmethod
    def _insert_result(db: sqlite3.Connection, result: CallResult) -> tuple[CallResult, bool]:
        existing = db.execute(
            "SELECT result FROM results WHERE job_id = ? AND receiver_id = ?",
            (result.job_id, result.receiver_id),
        ).fetchone()
        if existing is not None:
            return CallResult.from_json(existing[0]), False
        (seq,) = db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM results WHERE job_id = ?", (result.job_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO results (job_id, receiver_id, status, result, seq) VALUES (?, ?, ?, ?, ?)",
            (
                result.job_id,
                result.receiver_id,
                result.status.value,
                dumps(result.to_json()),
                seq,
            ),
        )
        return result, True

    def results(self, job_id: str) -> list[CallResult]:
        """Final results in the order they landed."""
        rows = self._query("SELECT result FROM results WHERE job_id = ? ORDER BY seq", (job_id,))
        return [CallResult.from_json(r[0]) for r in rows]

    def counts(self, job_id: str) -> dict[str, int]:
        rows = self._query(
            "SELECT status, COUNT(*) FROM results WHERE job_id = ? GROUP BY status", (job_id,)
        )
        return {str(status): int(n) for status, n in rows}

    # --- SMS outbox -------------------------------------------------------------------------------

    def claim_sms(self, job_id: str, receiver_id: str, body: str, at: datetime, run: RunId) -> bool:
        """Record the intent to text `receiver_id`; False if it was recorded before."""
        with self._tx() as db:
            self._check_lease(db, job_id, run)
            cursor = db.execute(
                "INSERT OR IGNORE INTO sms (job_id, receiver_id, body, claimed_at, run_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (job_id, receiver_id, body, at.isoformat(), run.run_id),
            )
            return cursor.rowcount == 1

    def finish_sms(self, result: SmsResult, run: RunId) -> None:
        """Write the outcome of a claimed message (once: a written outcome is kept)."""
        with self._tx() as db:
            self._check_lease(db, result.job_id, run)
            db.execute(
                "UPDATE sms SET outcome = ? WHERE job_id = ? AND receiver_id = ? "
                "AND outcome IS NULL",
                (result.model_dump_json(), result.job_id, result.receiver_id),
            )

    def sms_outcome(self, job_id: str, receiver_id: str) -> SmsResult | None:
        rows = self._query(
            "SELECT outcome FROM sms WHERE job_id = ? AND receiver_id = ?", (job_id, receiver_id)
        )
        if not rows or rows[0][0] is None:
            return None
        return SmsResult.model_validate_json(rows[0][0])

    def sms_rows(self, job_id: str) -> list[SmsRow]:
        """The job's outbox in the order the messages were claimed."""
        rows = self._query(
            "SELECT receiver_id, body, claimed_at, outcome FROM sms WHERE job_id = ? "
            "ORDER BY rowid",
            (job_id,),
        )
        return [
            SmsRow(
                receiver_id,
                body,
                claimed_at,
                SmsResult.model_validate_json(outcome)
                if outcome is not None
                else SmsResult(
                    job_id=job_id,
                    receiver_id=receiver_id,
                    status=SmsStatus.FAILED,
                    reason=INTERRUPTED,
                    at=datetime.fromisoformat(claimed_at),
                ),
            )
            for receiver_id, body, claimed_at, outcome in rows
        ]

    def sms_results(self, job_id: str) -> dict[str, SmsResult]:
        """receiver id -> what became of their SMS (the report's `sms` column)."""
        return {row.receiver_id: row.result for row in self.sms_rows(job_id)}

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
                        dumps(session.to_json()),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise StaleSession(f"session {session.call_id} exists") from exc

    def get(self, call_id: str) -> CallSession | None:
        rows = self._query("SELECT data FROM sessions WHERE call_id = ?", (call_id,))
        return CallSession.from_json(rows[0][0]) if rows else None

    def save(self, session: CallSession) -> None:
        expected = session.version
        session.version = expected + 1
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE sessions SET version = ?, data = ? WHERE call_id = ? AND version = ?",
                (session.version, dumps(session.to_json()), session.call_id, expected),
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


_NO_LEASE = (
    "lease_run = NULL, lease_pid = NULL, lease_host = NULL, lease_since = NULL,"
    " lease_heartbeat = NULL"
)
