"""A recording wrapper around the local simulated dialer: every dial the engine placed, written
down before the simulator plays it (the independent record fault and respect tests count from)."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.local.calls import CallRequest, DialOutcome
from backend.local.dialer import SimulatorDialer


@dataclass
class RecordingDialer:
    inner: SimulatorDialer
    dials: list[CallRequest] = field(default_factory=list)

    def dial(self, request: CallRequest) -> DialOutcome:
        self.dials.append(request)
        return self.inner.dial(request)

    @property
    def rung(self) -> list[str]:
        """The numbers rung, in order."""
        return [request.receiver.phone_number for request in self.dials]
