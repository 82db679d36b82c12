"""The one vocabulary for the state of a job, used by the local store, the AWS jobs table and the
chat cards (which add display-only states of their own, mapped from these)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "QUEUED"  # accepted, not started yet
    RUNNING = "RUNNING"  # calls are being made (or the job waits to resume)
    FINISHED = "FINISHED"  # every receiver has a result and the report was written
    CANCELLED = "CANCELLED"  # cancelled; the report was written with what was done
    FAILED = "FAILED"  # the run failed or timed out before its report
    STOPPED = "STOPPED"  # stopped from outside (e.g. StopExecution) before its report

    @property
    def ended(self) -> bool:
        """Over: never started, dialled or ended again."""
        return self in ENDED

    @classmethod
    def parse(cls, text: str) -> JobState:
        """A stored state, whatever its case (older local databases wrote `running`)."""
        return cls(text.strip().upper())


ENDED: frozenset[JobState] = frozenset(
    {JobState.FINISHED, JobState.CANCELLED, JobState.FAILED, JobState.STOPPED}
)
