"""One table: Amazon Connect `DisconnectReason` (+ whether the callee answered) -> CallStatus.

Used by the local engine (simulated calls) and by the AWS disconnect handler (`DescribeContact`).
An unknown reason is `Failed` with the raw value kept in the error.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.models import CallStatus


@dataclass(frozen=True, slots=True)
class Disposition:
    status: CallStatus
    error: str | None = None


# reason -> (status if the callee never answered, status if they answered)
_TABLE: dict[str, tuple[CallStatus, CallStatus]] = {
    "CUSTOMER_DISCONNECT": (CallStatus.NO_ANSWER, CallStatus.DROP_CALL),
    "CONTACT_FLOW_DISCONNECT": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "AGENT_DISCONNECT": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "THIRD_PARTY_DISCONNECT": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "API": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "TELECOM_UNANSWERED": (CallStatus.NO_ANSWER, CallStatus.DROP_CALL),
    "TELECOM_TIMEOUT": (CallStatus.NO_ANSWER, CallStatus.DROP_CALL),
    "EXPIRED": (CallStatus.NO_ANSWER, CallStatus.DROP_CALL),
    "TELECOM_BUSY": (CallStatus.BUSY, CallStatus.DROP_CALL),
    "TELECOM_NUMBER_INVALID": (CallStatus.NOT_CALLABLE, CallStatus.DROP_CALL),
    "OUTBOUND_DESTINATION_ENDPOINT_ERROR": (CallStatus.NOT_CALLABLE, CallStatus.DROP_CALL),
    "TELECOM_ORIGINATOR_CANCEL": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "TELECOM_POOR_QUALITY": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "TELECOM_PROBLEM": (CallStatus.FAILED, CallStatus.DROP_CALL),
    "OUTBOUND_RESOURCE_ERROR": (CallStatus.FAILED, CallStatus.FAILED),
    "OUTBOUND_ATTEMPT_FAILED": (CallStatus.FAILED, CallStatus.FAILED),
}

# Reasons that are the normal way a person ends a call or does not pick up: no error text.
_QUIET = frozenset(
    {
        "CUSTOMER_DISCONNECT",
        "TELECOM_UNANSWERED",
        "TELECOM_BUSY",
        "TELECOM_NUMBER_INVALID",
    }
)

KNOWN_REASONS: frozenset[str] = frozenset(_TABLE)


def status_for(reason: str | None, connected: bool) -> Disposition:
    """Map a disconnect reason to the status of a call that did not reach the end of the flow."""
    key = (reason or "").strip().upper()
    statuses = _TABLE.get(key)
    if statuses is None:
        return Disposition(CallStatus.FAILED, f"unknown disconnect reason: {reason or '(none)'}")
    status = statuses[1] if connected else statuses[0]
    error = None if key in _QUIET else f"disconnected: {key}"
    return Disposition(status, error)
