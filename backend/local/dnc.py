"""The do-not-call list and the daily dial counts on a laptop: one SQLite file and a key file.

Both live next to the job database (`donotcall.db` and `donotcall.key` in its folder). The key
file holds the per-deployment HMAC secret: created on first use with mode 0600, never printed.
The list holds only keyed hashes of numbers (`backend.domain.dnc.NumberHasher`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from backend.domain.dnc import DncEntry, NumberHasher
from backend.local.sqlite_db import LockedSqlite

KEY_BYTES = 32
KEEP_DIAL_DAYS = 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS do_not_call (
    number_key TEXT PRIMARY KEY,   -- HMAC-SHA256 of the E.164 number
    added_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dials (
    number_key TEXT NOT NULL,
    day TEXT NOT NULL,             -- the number's local date
    call_id TEXT NOT NULL,
    PRIMARY KEY (number_key, day, call_id)
);
"""


class DncKeyError(RuntimeError):
    """The key file exists but cannot be used (unreadable, too short, not hex)."""


def load_or_create_key(path: Path) -> bytes:
    """The secret in `path`, created (32 random bytes, hex, mode 0600) if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written to a private temporary file, then linked into place: another process never
        # reads a half-written key, and the first link wins.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".donotcall-key-")
        try:
            with os.fdopen(fd, "w") as file:  # mkstemp makes the file 0600
                file.write(secrets.token_hex(KEY_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    try:
        text = path.read_text().strip()
        secret = bytes.fromhex(text)
    except (OSError, ValueError) as error:
        raise DncKeyError(
            f"{path}: the do-not-call key file is not readable hex ({error}); restore it from a "
            "backup (a new key would forget every number on the list)"
        ) from error
    if len(secret) < KEY_BYTES // 2:
        raise DncKeyError(f"{path}: the do-not-call key is too short")
    return secret


class SqliteDoNotCall(LockedSqlite):
    """`DoNotCallList` and `DialCounter` in one SQLite file (WAL, one locked connection)."""

    def __init__(self, path: Path | str, secret: bytes) -> None:
        self._hasher = NumberHasher(secret)
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls) -> SqliteDoNotCall:
        """The list next to the job database (`CALLOUTS_DB` / `CALLOUTS_HOME`)."""
        from backend.settings import Settings

        return cls.beside(Settings().db_path)

    @classmethod
    def beside(cls, db_path: Path) -> SqliteDoNotCall:
        """The list next to a given job database file (or in memory for `:memory:`)."""
        if str(db_path) == ":memory:":
            return cls(":memory:", secrets.token_bytes(KEY_BYTES))
        directory = Path(db_path).parent
        dnc = cls(directory / "donotcall.db", load_or_create_key(directory / "donotcall.key"))
        dnc.forget_old_dials(datetime.now(UTC).date())
        return dnc

    @classmethod
    def existing(cls, db_path: Path) -> SqliteDoNotCall | None:
        """The list next to a job database if one was ever made (reading creates nothing)."""
        directory = Path(db_path).parent
        if not (directory / "donotcall.db").exists() or not (directory / "donotcall.key").exists():
            return None
        return cls.beside(db_path)

    # --- DoNotCallList --------------------------------------------------------------------------

    def key(self, phone_number: str) -> str:
        return self._hasher.key(phone_number)

    def add_key(self, key: str, source: str, now: datetime | None = None) -> bool:
        added = (now or datetime.now(UTC)).isoformat()
        with self._tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO do_not_call (number_key, added_at, source) VALUES (?, ?, ?)",
                (key, added, source),
            )
            return cursor.rowcount > 0

    def remove_key(self, key: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM do_not_call WHERE number_key = ?", (key,)).rowcount > 0

    def listed_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT number_key FROM do_not_call WHERE number_key IN ({marks})", chunk
                ).fetchall()
                found.update(str(row[0]) for row in rows)
        return found

    def entries(self) -> list[DncEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT number_key, added_at, source FROM do_not_call ORDER BY added_at, number_key"
            ).fetchall()
        return [DncEntry(str(k), datetime.fromisoformat(a), str(s)) for k, a, s in rows]

    # --- DialCounter ----------------------------------------------------------------------------

    def admit(self, key: str, day: str, call_id: str, cap: int) -> bool:
        with self._tx() as db:
            known = db.execute(
                "SELECT 1 FROM dials WHERE number_key = ? AND day = ? AND call_id = ?",
                (key, day, call_id),
            ).fetchone()
            if known is not None:
                return True
            (count,) = db.execute(
                "SELECT COUNT(*) FROM dials WHERE number_key = ? AND day = ?", (key, day)
            ).fetchone()
            if count >= cap:
                return False
            db.execute(
                "INSERT INTO dials (number_key, day, call_id) VALUES (?, ?, ?)",
                (key, day, call_id),
            )
            return True

    def forget_old_dials(self, today: date, keep_days: int = KEEP_DIAL_DAYS) -> int:
        """Drop dial counts of days long past (by the real date: a simulated job's virtual
        clock may run days ahead of it, and its counts must hold for the next job)."""
        cutoff = (today - timedelta(days=keep_days)).isoformat()
        with self._tx() as db:
            return db.execute("DELETE FROM dials WHERE day < ?", (cutoff,)).rowcount

    def dials(self, key: str, day: str) -> int:
        """Dials counted for a hashed number on a day (tests and `callouts dnc`)."""
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM dials WHERE number_key = ? AND day = ?", (key, day)
            ).fetchone()
        return int(count)
