"""Scheduled and recurring jobs on a laptop: a SQLite schedule store and the scheduler that starts
each occurrence (used by the local Slack bot's scheduler thread and `callouts schedule run`).

The store (`schedules.db`, next to the job database) keeps each schedule's job (under the
schedule's id) and one row per occurrence started. Starting an
occurrence is a claim (`INSERT OR IGNORE` of (schedule, time)): two schedulers, or one that
ticks twice, start it once, and the occurrence's job id (`schedule.occurrence_job_id`) is the
same every time. An occurrence more than `MISSED_AFTER` late (nothing was running at its time)
is recorded as missed instead of calling people hours late.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.domain.models import CallJob
from backend.domain.ports import ScheduledJob
from backend.domain.schedule import Schedule, occurrence_job, schedule_of, template_job
from backend.local.sqlite_db import LockedSqlite

MISSED_AFTER = timedelta(hours=1)
FILE_NAME = "schedules.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    schedule_id TEXT PRIMARY KEY,
    job_json TEXT NOT NULL,        -- the job each occurrence copies
    start_at TEXT NOT NULL,        -- the first start, ISO with offset
    repeat TEXT,                   -- the canonical repeat rule, NULL: once
    created_at TEXT NOT NULL,
    created_by TEXT,
    cancelled_at TEXT,
    cancelled_by TEXT
);
CREATE TABLE IF NOT EXISTS occurrences (
    schedule_id TEXT NOT NULL,
    at TEXT NOT NULL,              -- the occurrence's time, UTC ISO
    job_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    missed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (schedule_id, at)
);
"""


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    schedule: Schedule
    job: CallJob  # the schedule's job: each occurrence is a copy under its own id
    created_by: str | None
    cancelled: bool

    @property
    def schedule_id(self) -> str:
        return self.schedule.schedule_id


class SqliteScheduleStore(LockedSqlite):
    """The schedules of this machine (WAL, one locked connection, like the job store)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def beside(cls, db_path: Path) -> SqliteScheduleStore:
        """The store next to a job database file (or in memory for `:memory:`)."""
        if str(db_path) == ":memory:":
            return cls(":memory:")
        return cls(Path(db_path).parent / FILE_NAME)

    def add(self, job: CallJob, now: datetime | None = None) -> tuple[Schedule, bool]:
        """Keep the job's schedule; False when it was kept before (the same job added again)."""
        schedule = schedule_of(job)
        if schedule is None:
            raise ValueError(f"job {job.job_id} has no start_at: it is not a scheduled job")
        kept = template_job(job)
        with self._tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO schedules (schedule_id, job_json, start_at, repeat, "
                "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    schedule.schedule_id,
                    kept.model_dump_json(),
                    schedule.start.isoformat(),
                    schedule.rule.text if schedule.rule else None,
                    (now or datetime.now(UTC)).isoformat(),
                    job.created_by,
                ),
            )
        return schedule, cursor.rowcount > 0

    def get(self, schedule_id: str) -> StoredSchedule | None:
        with self._lock:
            row = self._db.execute(
                "SELECT job_json, start_at, repeat, created_by, cancelled_at FROM schedules "
                "WHERE schedule_id = ?",
                (schedule_id,),
            ).fetchone()
        return None if row is None else _stored(schedule_id, *row)

    def schedules(self, include_cancelled: bool = False) -> list[StoredSchedule]:
        with self._lock:
            rows = self._db.execute(
                "SELECT schedule_id, job_json, start_at, repeat, created_by, cancelled_at "
                "FROM schedules ORDER BY start_at, schedule_id"
            ).fetchall()
        found = [_stored(*row) for row in rows]
        return [s for s in found if include_cancelled or not s.cancelled]

    def cancel(self, schedule_id: str, by: str | None = None, now: datetime | None = None) -> bool:
        """No further occurrence starts; False when there is no such schedule still active."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE schedules SET cancelled_at = ?, cancelled_by = ? "
                "WHERE schedule_id = ? AND cancelled_at IS NULL",
                ((now or datetime.now(UTC)).isoformat(), by, schedule_id),
            )
        return cursor.rowcount > 0

    def claim(
        self, schedule_id: str, at: datetime, job_id: str, now: datetime, missed: bool
    ) -> bool:
        """Record the occurrence as started (or missed); False when it was already."""
        with self._tx() as db:
            active = db.execute(
                "SELECT 1 FROM schedules WHERE schedule_id = ? AND cancelled_at IS NULL",
                (schedule_id,),
            ).fetchone()
            if active is None:
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO occurrences (schedule_id, at, job_id, started_at, missed) "
                "VALUES (?, ?, ?, ?, ?)",
                (schedule_id, at.astimezone(UTC).isoformat(), job_id, now.isoformat(), int(missed)),
            )
        return cursor.rowcount > 0

    def started(self, schedule_id: str) -> list[tuple[datetime, str, bool]]:
        """The occurrences recorded: (time, job id, missed), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, job_id, missed FROM occurrences WHERE schedule_id = ? ORDER BY at",
                (schedule_id,),
            ).fetchall()
        return [(datetime.fromisoformat(at), str(job), bool(m)) for at, job, m in rows]


def _stored(
    schedule_id: str,
    job_json: str,
    start_at: str,
    repeat: str | None,
    created_by: str | None,
    cancelled_at: str | None,
) -> StoredSchedule:
    job = CallJob.model_validate_json(job_json)
    settings = job.settings.model_copy(
        update={"start_at": datetime.fromisoformat(start_at), "repeat": repeat}
    )
    schedule = schedule_of(job.model_copy(update={"settings": settings}))
    assert schedule is not None
    assert schedule.schedule_id == schedule_id
    return StoredSchedule(schedule, job, created_by, cancelled_at is not None)


class LocalScheduleBook:
    """`ports.ScheduleBook` over the local store (the local bot's schedules)."""

    def __init__(self, store: SqliteScheduleStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def add(self, job: CallJob) -> bool:
        return self.store.add(job, self.clock())[1]

    def scheduled(self) -> list[ScheduledJob]:
        views = [self._view(stored) for stored in self.store.schedules()]
        active = [view for view in views if view.next_at is not None]
        return sorted(active, key=lambda view: (view.next_at, view.schedule_id))

    def find(self, schedule_id: str) -> ScheduledJob | None:
        stored = self.store.get(schedule_id)
        return None if stored is None else self._view(stored)

    def cancel(self, schedule_id: str, by: str | None = None) -> bool:
        return self.store.cancel(schedule_id, by, self.clock())

    def _view(self, stored: StoredSchedule) -> ScheduledJob:
        now = self.clock()
        upcoming = None if stored.cancelled else stored.schedule.next_after(now)
        return ScheduledJob(
            schedule_id=stored.schedule_id,
            description=stored.schedule.describe(),
            state=stored.schedule.state(now, stored.cancelled).value,
            next_at=upcoming,
            created_by=stored.created_by,
            receivers=len(stored.job.receivers),
        )


# Starts one occurrence's job (the local engine, and the chat card for a bot).
StartOccurrence = Callable[[CallJob, datetime], None]


class LocalScheduler:
    """Starts due occurrences: `tick(now)` from a thread (`run_forever`) or a test's clock."""

    def __init__(self, store: SqliteScheduleStore, start: StartOccurrence) -> None:
        self.store = store
        self.start = start

    def due(self, now: datetime) -> list[tuple[StoredSchedule, datetime]]:
        """(schedule, occurrence) pairs whose time has come and that were not started."""
        found: list[tuple[StoredSchedule, datetime]] = []
        for stored in self.store.schedules():
            done = {at for at, _, _ in self.store.started(stored.schedule_id)}
            for at in stored.schedule.occurrences():
                if at > now:
                    break
                if at.astimezone(UTC) not in done:
                    found.append((stored, at))
        return sorted(found, key=lambda pair: pair[1])

    def tick(self, now: datetime) -> list[CallJob]:
        """Start every due occurrence once (a late one is only recorded as missed)."""
        started: list[CallJob] = []
        for stored, at in self.due(now):
            job = occurrence_job(stored.job, stored.schedule_id, at)
            missed = now - at > MISSED_AFTER
            if not self.store.claim(stored.schedule_id, at, job.job_id, now, missed) or missed:
                continue
            self.start(job, at.astimezone(UTC))
            started.append(job)
        return started

    def next_time(self, now: datetime) -> datetime | None:
        """The next occurrence of any active schedule after `now` (None: nothing scheduled)."""
        found = [s.schedule.next_after(now) for s in self.store.schedules()]
        times = [at for at in found if at is not None]
        return min(times) if times else None

    def run_forever(
        self, stop: threading.Event, clock: Callable[[], datetime], poll_seconds: float = 30.0
    ) -> None:
        """Tick until `stop` is set, waking at least every `poll_seconds` (new schedules)."""
        while not stop.is_set():
            now = clock()
            self.tick(now)
            upcoming = self.next_time(now)
            wait = poll_seconds
            if upcoming is not None:
                wait = max(0.5, min(poll_seconds, (upcoming - clock()).total_seconds()))
            stop.wait(wait)
