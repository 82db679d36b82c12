"""What the small local SQLite stores (schedules, do-not-call list) share: one connection behind
a lock, and write transactions that take the database lock at once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class LockedSqlite:
    """Mixin: the subclass sets `_db` (its connection, autocommit) and `_lock` in `__init__`."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            finally:
                # Whatever ended the block early (an error, a failed COMMIT, a Ctrl-C landing
                # between two statements): the shared connection never stays in a transaction,
                # where every later BEGIN on it would fail.
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):  # SQLite may have rolled back already
                        self._db.execute("ROLLBACK")
