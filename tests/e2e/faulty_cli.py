"""`callouts` for the local fault suite, run as `python -m tests.e2e.faulty_cli ARGS`.

- `CALLOUTS_TEST_RING_LOG=PATH`: the phone simulator appends `ring CALL_ID` when it starts a call
  and `end CALL_ID` when the call is over, with unbuffered appends that survive a SIGKILL: a
  record of who was rung that the engine under test does not write.
- `CALLOUTS_TEST_SQLITE_FAULT=KIND:N` (KIND `full` or `readonly`): the job database fails every
  write after the first N, as SQLite does when the disk fills up or the file turns read-only.

Ctrl-C (SIGINT) is always a KeyboardInterrupt here, as in a terminal: a test suite started as a
background job of a non-interactive shell (`make test &`, nohup) runs with SIGINT ignored, every
child inherits that, and Python then leaves SIGINT ignored: the kill would do nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import types
from typing import Any

from backend.local.simulator import executor

_ERRORS = {
    "full": "database or disk is full",
    "readonly": "attempt to write a readonly database",
}
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _log_rings(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    real = executor.PhoneSimulator.call

    def call(self: Any, contact_id: str, *args: Any, **kwargs: Any) -> Any:
        os.write(fd, f"ring {contact_id}\n".encode())
        outcome = real(self, contact_id, *args, **kwargs)
        os.write(fd, f"end {contact_id}\n".encode())
        return outcome

    executor.PhoneSimulator.call = call  # type: ignore[method-assign]


class _FailingConnection:
    def __init__(self, connection: sqlite3.Connection, message: str, allowed: int) -> None:
        self._connection = connection
        self._message = message
        self._allowed = allowed

    def execute(self, sql: str, args: Any = ()) -> Any:
        if sql.lstrip().upper().startswith(_WRITES):
            if self._allowed <= 0:
                raise sqlite3.OperationalError(self._message)
            self._allowed -= 1
        return self._connection.execute(sql, args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def _fail_writes(spec: str) -> None:
    kind, _, count = spec.partition(":")
    message, allowed = _ERRORS[kind], int(count)
    from backend.local import store

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        return _FailingConnection(real_connect(*args, **kwargs), message, allowed)

    faulty = types.ModuleType("sqlite3")
    faulty.__dict__.update(vars(sqlite3))
    faulty.connect = connect  # type: ignore[attr-defined]
    store.sqlite3 = faulty  # type: ignore[attr-defined]


def main() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("CALLOUTS_TEST_RING_LOG"):
        _log_rings(os.environ["CALLOUTS_TEST_RING_LOG"])
    if os.environ.get("CALLOUTS_TEST_SQLITE_FAULT"):
        _fail_writes(os.environ["CALLOUTS_TEST_SQLITE_FAULT"])
    from backend.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
