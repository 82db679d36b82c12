"""A Ctrl-C can land between any two statements of a local write: the SQLite connection the
engine's threads share must never be left inside a transaction (every later write would fail:
"cannot start a transaction within a transaction")."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from backend.domain.intake import read_workbook
from backend.local.dnc import SqliteDoNotCall
from backend.local.store import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "call_job.xlsx"


class InterruptAfter:
    """The connection, with a KeyboardInterrupt once right after `statement` ran."""

    def __init__(self, db: sqlite3.Connection, statement: str) -> None:
        self.db, self.statement, self.fired = db, statement, False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self.db.execute(sql, *args)
        if sql.startswith(self.statement) and not self.fired:
            self.fired = True
            raise KeyboardInterrupt
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


@pytest.mark.parametrize("statement", ["BEGIN IMMEDIATE", "INSERT", "COMMIT"])
def test_the_job_store_survives_an_interrupt_anywhere_in_a_write(
    tmp_path: Path, statement: str
) -> None:
    store = SqliteStore(tmp_path / "callouts.db")
    job = read_workbook(EXAMPLE).job
    assert job is not None
    real = store._db
    store._db = InterruptAfter(real, statement)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        store.upsert_job(job)
    assert not real.in_transaction
    store._db = real
    store.upsert_job(job)  # the next write works
    assert store.get_job(job.job_id) == job


def test_the_do_not_call_list_survives_an_interrupt_after_begin(tmp_path: Path) -> None:
    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    real = dnc._db
    dnc._db = InterruptAfter(real, "BEGIN IMMEDIATE")  # type: ignore[assignment]
    key = dnc.key("+85251234567")
    with pytest.raises(KeyboardInterrupt):
        dnc.add_key(key, "test")
    assert not real.in_transaction
    dnc._db = real
    assert dnc.add_key(key, "test")
    assert dnc.listed_keys([key]) == {key}
