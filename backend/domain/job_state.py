"""One vocabulary for the state of a call job, for every runner and every front end: the local
store, the AWS jobs table and the chat cards (which add display-only states of their own, mapped
from these: bot.core.state.CardState)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job is.

    QUEUED, RUNNING, FINISHED, CANCELLED, FAILED and STOPPED are stored; INTERRUPTED is derived for
    display: a job stored as RUNNING that no live run owns (its process died or was stopped),
    resumed by running it again.
    """

    QUEUED = "queued"  # accepted, not started yet (AWS: waiting in the job queue)
    RUNNING = "running"  # calls are being placed (or will be, after a resume)
    FINISHED = "finished"  # every receiver has its one final result and the report was written
    CANCELLED = "cancelled"  # someone cancelled it; receivers not dialled ended as Cancelled
    FAILED = "failed"  # the runner itself failed (or timed out) before its report
    STOPPED = "stopped"  # refused or stopped by the system (e.g. StopExecution)
    INTERRUPTED = "interrupted"  # derived: RUNNING with no live run

    @property
    def over(self) -> bool:
        """Whether the job will place no more calls (a stored, final state)."""
        return self in ENDED

    @classmethod
    def parse(cls, text: str) -> JobState:
        """A stored state, whatever its case (the jobs table wrote `RUNNING` before)."""
        return cls(text.strip().lower())


ENDED: frozenset[JobState] = frozenset(
    {JobState.FINISHED, JobState.CANCELLED, JobState.FAILED, JobState.STOPPED}
)
