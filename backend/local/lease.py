"""Who owns a local job: one run at a time holds its lease (run id, pid, host, heartbeat).

A lease is live while its heartbeat is recent and, on this host, its process exists. A second
`callouts run` of a job with a live lease refuses; a stale lease (the process died, or stopped
heartbeating, e.g. suspended with Ctrl-Z) is taken over, and the old run, if it wakes up, finds
the lease gone and stops without writing anything.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

HEARTBEAT_SECONDS = 1.0
STALE_AFTER_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RunId:
    """One run of one job in one process."""

    run_id: str
    pid: int
    host: str

    @classmethod
    def this_process(cls) -> RunId:
        return cls(uuid.uuid4().hex, os.getpid(), socket.gethostname())


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease as stored on the job."""

    run_id: str
    pid: int
    host: str
    since: datetime
    heartbeat: datetime

    def is_live(self, now: datetime, stale_after: float = STALE_AFTER_SECONDS) -> bool:
        if (now - self.heartbeat).total_seconds() > stale_after:
            return False
        return self.host != socket.gethostname() or pid_exists(self.pid)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, running since {self.since:%Y-%m-%d %H:%M:%S} UTC"


def pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class LeaseLost(RuntimeError):
    """This run no longer owns the job (another run took it over): it must stop writing."""

    def __init__(self, job_id: str, holder: Lease | None) -> None:
        self.job_id = job_id
        self.holder = holder
        by = f" by {holder.describe()}" if holder is not None else ""
        super().__init__(f"job {job_id} was taken over{by}: this run stopped")


class JobBusy(RuntimeError):
    """Another live run owns the job."""

    def __init__(self, job_id: str, holder: Lease) -> None:
        self.job_id = job_id
        self.holder = holder
        super().__init__(f"job {job_id} is already running ({holder.describe()})")
