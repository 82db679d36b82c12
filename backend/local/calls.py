"""What passes between the local engine and a dialer: one call request, how the call ended.

Kept apart from `engine.py` and `dialer.py` so each imports these types without importing the
other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backend.domain.models import CallJob, Receiver

PeopleSource = Any  # Mapping[str, Sequence[SimulatedPerson]] or Callable[[CallJob], that mapping]


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One attempt to dial: the session (with its call id) is already in the store."""

    job: CallJob
    receiver: Receiver
    attempt: int
    call_id: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class DialOutcome:
    """How a (simulated) call ended; `duration_seconds` is simulated time."""

    connected: bool
    disconnect_reason: str
    duration_seconds: float
    transcript: Sequence[Any] = ()


class Dialer(Protocol):
    """Places one call and returns when it has ended (in simulated time)."""

    def dial(self, request: CallRequest) -> DialOutcome: ...


def people_for(source: PeopleSource, job: CallJob) -> Mapping[str, Sequence[Any]]:
    """Resolve a people source (mapping or callable taking the job)."""
    if callable(source):
        resolved: Mapping[str, Sequence[Any]] = source(job)
        return resolved
    mapping: Mapping[str, Sequence[Any]] = source
    return mapping
