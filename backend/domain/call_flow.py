"""The contact flow's Lambda logic: one invocation at the start and one per bot turn.

Input: a Connect flow event (`Details.ContactData.Attributes.call_id`,
`Details.Parameters.event` = start | answer | silence, `intent`, `answer`).
Output: the flat string map `{"action", "prompt", "question_type", "question_number"}`.
It never raises: an unknown call id or a malformed event ends the call politely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from backend.domain.session import (
    CallCompletion,
    CallSession,
    FlowAction,
    SessionStore,
    StaleSession,
)

log = logging.getLogger(__name__)

ERROR_PROMPT = "<speak>Sorry, something went wrong. Goodbye.</speak>"
ERROR_RESPONSE: dict[str, str] = {
    "action": "end",
    "prompt": ERROR_PROMPT,
    "question_type": "",
    "question_number": "",
}


class BadFlowEvent(ValueError):
    pass


def parse_flow_event(event: Any) -> tuple[str, str, str | None, str | None]:
    """(call_id, kind, intent, answer) from a Connect Lambda event."""
    if not isinstance(event, Mapping):
        raise BadFlowEvent("event is not an object")
    details = event.get("Details")
    if not isinstance(details, Mapping):
        raise BadFlowEvent("Details missing")
    contact = details.get("ContactData") or {}
    if not isinstance(contact, Mapping):
        raise BadFlowEvent("ContactData is not an object")
    attributes = contact.get("Attributes") or {}
    params = details.get("Parameters") or {}
    if not isinstance(attributes, Mapping) or not isinstance(params, Mapping):
        raise BadFlowEvent("Attributes or Parameters is not an object")
    call_id = attributes.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise BadFlowEvent("contact attribute call_id missing")
    kind = params.get("event")
    if kind not in ("start", "answer", "silence"):
        raise BadFlowEvent(f"unknown Parameters.event {kind!r}")
    intent = params.get("intent")
    answer = params.get("answer")
    return (
        call_id,
        kind,
        intent if isinstance(intent, str) and intent else None,
        answer if isinstance(answer, str) and answer else None,
    )


def _apply(
    session: CallSession, kind: str, intent: str | None, answer: str | None, now: datetime
) -> FlowAction:
    if kind == "start":
        return session.start(now)
    if kind == "silence":
        return session.record_silence(now)
    return session.record_answer(intent, answer, now)


def handle_flow_event(
    event: Any,
    store: SessionStore,
    completion: CallCompletion,
    now: Callable[[], datetime] | None = None,
) -> dict[str, str]:
    """Advance the call session by one flow step and say what the flow does next."""
    try:
        call_id, kind, intent, answer = parse_flow_event(event)
    except BadFlowEvent as exc:
        log.warning("malformed flow event: %s", exc)
        return dict(ERROR_RESPONSE)
    clock = now or (lambda: datetime.now(UTC))
    try:
        for _ in range(3):  # optimistic lock: re-read and re-apply on a concurrent write
            session = store.get(call_id)
            if session is None:
                log.warning("flow event for unknown call %s", call_id)
                return dict(ERROR_RESPONSE)
            was_finished = session.finished
            action = _apply(session, kind, intent, answer, clock())
            if was_finished:
                return action.to_map()
            try:
                store.save(session)
            except StaleSession:
                continue
            if session.result is not None:
                try:
                    completion.complete(session, session.result)
                except Exception:  # the disconnect path / task timeout will finish the task
                    log.exception("completing call %s failed", call_id)
            return action.to_map()
        log.error("call %s: session kept changing under us", call_id)
    except Exception:
        log.exception("flow event for call %s failed", call_id)
    return dict(ERROR_RESPONSE)
