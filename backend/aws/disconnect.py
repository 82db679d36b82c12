"""Connect DISCONNECTED events: the call's line is free; end its task if the flow did not.

The event is the one sure sign that the call is over, so the line is released here first, never
on the flow's last answer (the ending is still playing then). A finished session whose result
was never delivered (`completion_sent` unset) is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.connect import ConnectDialer
from backend.aws.lines import LineLeases
from backend.aws.sessions import DynamoSessionStore
from backend.domain.models import CallResult, CallStatus
from backend.domain.session import CallCompletion, StaleSession

log = logging.getLogger(__name__)

_NOT_FOUND = "Amazon Connect has no record of the contact (DescribeContact: ResourceNotFound)"


@dataclass
class DisconnectHandler:
    sessions: DynamoSessionStore
    connect: ConnectDialer
    completion: CallCompletion
    lines: LineLeases
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, event: Mapping[str, Any]) -> CallResult | None:
        """The result sent for this contact, or None (not ours, or the flow completed it)."""
        detail = event.get("detail") or {}
        if detail.get("eventType") != "DISCONNECTED" or not detail.get("contactId"):
            return None
        contact_id = str(detail["contactId"])
        call_id = self.sessions.call_for_contact(contact_id)
        if call_id is None:
            # The event can overtake the dialer's link (a number that fails within a second):
            # the contact's own attributes say whether it is one of our calls.
            call_id = self.connect.call_id_of(contact_id)
            if call_id is None:
                log.info("contact %s is not a Callouts call", contact_id)
                return None
            self.sessions.link_contact(contact_id, call_id)
        if self.lines.release(call_id):
            log.info("call %s released its line", call_id)
        # Throttling and other errors raise: the asynchronous invocation is retried (the
        # idempotency record is released), and the task timeout stays the backstop.
        found = True
        try:
            reason, connected = self.connect.disconnect_details(contact_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            found, reason, connected = False, None, False
        for _ in range(3):
            session, sent = self.sessions.load(call_id)
            if session is None:
                return None
            if session.result is not None:
                if sent:
                    return None
                log.warning("call %s: sending its undelivered result again", call_id)
                self.completion.complete(session, session.result)
                return session.result
            if found:  # no DisconnectReason yet raises ReasonNotYetKnown: Lambda retries
                result = session.end_from_disconnect(reason, connected, self.clock())
            elif session.connected_at is not None:  # answered: keep the answers given
                result = session.end_with(CallStatus.DROP_CALL, _NOT_FOUND, self.clock())
            else:
                result = session.end_with(CallStatus.FAILED, _NOT_FOUND, self.clock())
            try:
                self.sessions.save(session)
            except StaleSession:
                continue  # the flow moved on meanwhile: read again
            self.completion.complete(session, result)
            return result
        log.error("call %s kept changing while ending it", call_id)
        return None
