"""The contact flow's Lambda logic: one invocation at the start and one per bot turn.

Input: a Connect flow event (`Details.ContactData.Attributes.call_id`,
`Details.Parameters.event` = start | answer | silence | opt_out (the flow's own keypad listener
heard `*` after the bot failed or timed out), `intent`, `answer`, and the `turn` and
`question_number` of the previous response, echoed back by the flow).
Output: the flat string map `{"action", "prompt", "question_type", "question_number", "turn",
"voice", "language"}`. A retried invocation (same turn) gets the same response and records
nothing twice.
It never raises: an unknown call id or a malformed event ends the call politely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from backend.domain.opt_out import OPT_OUT_SOURCE
from backend.domain.phrases import phrases, speak
from backend.domain.results import CallStatus
from backend.domain.session import (
    CallCompletion,
    CallSession,
    SessionStore,
    StaleSession,
)
from backend.domain.voices import DEFAULT_LANGUAGE, DEFAULT_VOICE

log = logging.getLogger(__name__)

ERROR_PROMPT = speak(phrases(DEFAULT_LANGUAGE).error)  # the call's language is not known here
ERROR_RESPONSE: dict[str, str] = {
    "action": "end",
    "prompt": ERROR_PROMPT,
    "question_type": "",
    "question_number": "",
    "turn": "",
    "voice": DEFAULT_VOICE,
    "language": DEFAULT_LANGUAGE,
}


class BadFlowEvent(ValueError):
    pass


class OptOutList(Protocol):
    """Where an opt-out goes at once: the do-not-call list (`dnc.DoNotCallList.add_key`)."""

    def add_key(self, key: str, source: str, now: datetime | None = None) -> bool: ...


def record_opt_out(session: CallSession, opt_outs: OptOutList | None, now: datetime) -> None:
    """Put an opted-out call's number on the do-not-call list (idempotent, never raises)."""
    if session.result is None or session.result.status is not CallStatus.OPTED_OUT:
        return
    if opt_outs is None or session.number_key is None:
        log.error("call %s opted out but has no do-not-call list to go on", session.call_id)
        return
    try:
        opt_outs.add_key(session.number_key, OPT_OUT_SOURCE, now)
    except Exception:
        log.exception(
            "call %s: the opt-out could not be put on the do-not-call list", session.call_id
        )


@dataclass(frozen=True)
class FlowEvent:
    call_id: str
    kind: Literal["start", "answer", "silence", "opt_out"]
    intent: str | None = None
    answer: str | None = None
    turn: str | None = None
    question_number: str | None = None


def parse_flow_event(event: Any) -> FlowEvent:
    """The call id and parameters of a Connect Lambda event; BadFlowEvent when unusable."""
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
    if kind not in ("start", "answer", "silence", "opt_out"):
        raise BadFlowEvent(f"unknown Parameters.event {str(kind)[:40]!r}")

    def text(name: str) -> str | None:
        value = params.get(name)
        return value if isinstance(value, str) and value else None

    return FlowEvent(
        call_id, kind, text("intent"), text("answer"), text("turn"), text("question_number")
    )


def handle_flow_event(
    event: Any,
    store: SessionStore,
    completion: CallCompletion,
    now: Callable[[], datetime] | None = None,
    opt_outs: OptOutList | None = None,
) -> dict[str, str]:
    """Advance the call session by one flow step and say what the flow does next.

    A person who says "stop" ends the call as `OptedOut`: the number goes on `opt_outs` (the
    do-not-call list) before the result is delivered.
    """
    try:
        flow_event = parse_flow_event(event)
    except BadFlowEvent as exc:
        log.warning("malformed flow event: %s", exc)
        return dict(ERROR_RESPONSE)
    call_id = flow_event.call_id
    clock = now or (lambda: datetime.now(UTC))
    try:
        for _ in range(3):  # optimistic lock: re-read and re-apply on a concurrent write
            session = store.get(call_id)
            if session is None:
                log.warning("flow event for unknown call %s", call_id)
                return dict(ERROR_RESPONSE)
            turn = session.turn
            action = session.handle(
                flow_event.kind,
                flow_event.intent,
                flow_event.answer,
                turn=flow_event.turn,
                question_number=flow_event.question_number,
                now=clock(),
            )
            if session.turn == turn:  # a retry or an event after the end: nothing changed
                return action.to_map()
            try:
                store.save(session)
            except StaleSession:
                continue
            if session.result is not None:
                record_opt_out(session, opt_outs, clock())
                try:
                    completion.complete(session, session.result)
                except Exception:  # the disconnect path / task timeout will finish the task
                    log.exception("completing call %s failed", call_id)
            return action.to_map()
        log.error("call %s: session kept changing under us", call_id)
    except Exception:
        log.exception("flow event for call %s failed", call_id)
    return dict(ERROR_RESPONSE)
