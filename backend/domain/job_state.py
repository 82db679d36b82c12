"""One vocabulary for the state of a call job, for every runner and every front end."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job is.

    RUNNING, FINISHED, CANCELLED, FAILED and STOPPED are stored; INTERRUPTED is derived for
    display: a job stored as RUNNING that no live run owns (its process died or was stopped),
    resumed by running it again.
    """

    RUNNING = "running"  # calls are being placed (or will be, after a resume)
    FINISHED = "finished"  # every receiver has its one final result
    CANCELLED = "cancelled"  # someone cancelled it; receivers not dialled ended as Cancelled
    FAILED = "failed"  # the runner itself failed; results so far are kept
    STOPPED = "stopped"  # refused or stopped by the system (e.g. rejected at intake)
    INTERRUPTED = "interrupted"  # derived: RUNNING with no live run

    @property
    def over(self) -> bool:
        """Whether the job will place no more calls (a stored, final state)."""
        return self in (JobState.FINISHED, JobState.CANCELLED, JobState.FAILED, JobState.STOPPED)
