"""One table: Amazon Connect `DisconnectReason` (+ whether the callee answered) -> CallStatus.

Used by the local engine (simulated calls) and by the AWS disconnect handler (`DescribeContact`).
The table covers every voice and outbound-campaign reason of the contact-record data model
(Connect admin guide, "Data model for Amazon Connect contact records"). An unknown reason is
`Failed` with the raw value kept in the error. A missing reason is not an outcome at all: Connect
fills it in shortly after the DISCONNECTED event, so `status_for` raises `ReasonNotYetKnown` and
the caller tries again later (the AWS handler raises, so Lambda retries the event).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.results import CallStatus


class ReasonNotYetKnown(LookupError):
    """The contact has no DisconnectReason yet: ask again later, decide nothing now."""


@dataclass(frozen=True, slots=True)
class Disposition:
    status: CallStatus
    error: str | None = None


_NO, _BUSY, _FAILED, _NOT_CALLABLE, _DROP = (
    CallStatus.NO_ANSWER,
    CallStatus.BUSY,
    CallStatus.FAILED,
    CallStatus.NOT_CALLABLE,
    CallStatus.DROP_CALL,
)

# reason -> (status if the callee never answered, status if they answered). A connected call
# that ended with no question answered becomes NoHuman in the session (docs/statuses.md).
_TABLE: dict[str, tuple[CallStatus, CallStatus]] = {
    # the person or the line ended the call
    "CUSTOMER_DISCONNECT": (_NO, _DROP),
    "THIRD_PARTY_DISCONNECT": (_FAILED, _DROP),
    "TELECOM_UNANSWERED": (_NO, _DROP),
    "TELECOM_TIMEOUT": (_NO, _DROP),  # 60 s of ringing
    "CUSTOMER_NEVER_ARRIVED": (_NO, _DROP),  # the callee's leg never connected
    "TELECOM_BUSY": (_BUSY, _DROP),
    "TELECOM_NUMBER_INVALID": (_NOT_CALLABLE, _DROP),
    "TELECOM_PROBLEM": (_FAILED, _DROP),
    "TELECOM_POOR_QUALITY": (_FAILED, _DROP),
    # networks flag our caller number as possible spam: retrying soon does not help, the
    # operator has to look at the number (see docs/voice.md)
    "TELECOM_POTENTIAL_BLOCKING": (_FAILED, _DROP),
    "TELECOM_ORIGINATOR_CANCEL": (_FAILED, _DROP),
    # our side ended the call
    "CONTACT_FLOW_DISCONNECT": (_FAILED, _DROP),
    "AGENT_DISCONNECT": (_FAILED, _DROP),
    "BARGED": (_FAILED, _DROP),
    "API": (_FAILED, _DROP),
    "OTHER": (_FAILED, _DROP),  # includes API-initiated disconnects (StopContact)
    # outbound campaigns
    "EXPIRED": (_NO, _DROP),
    "OUTBOUND_DESTINATION_ENDPOINT_ERROR": (_NOT_CALLABLE, _DROP),
    "OUTBOUND_RESOURCE_ERROR": (_FAILED, _FAILED),
    "OUTBOUND_ATTEMPT_FAILED": (_FAILED, _FAILED),
    "OUTBUND_PREVIEW_DISCARDED": (_FAILED, _FAILED),  # sic: Connect's own spelling
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
    """Map a disconnect reason to the status of a call that did not reach the end of the flow.

    Raises ReasonNotYetKnown when `reason` is missing or blank.
    """
    key = (reason or "").strip().upper()
    if not key:
        raise ReasonNotYetKnown("the contact has no DisconnectReason yet")
    statuses = _TABLE.get(key)
    if statuses is None:
        return Disposition(CallStatus.FAILED, f"unknown disconnect reason: {reason}")
    status = statuses[1] if connected else statuses[0]
    error = None if key in _QUIET else f"disconnected: {key}"
    return Disposition(status, error)
