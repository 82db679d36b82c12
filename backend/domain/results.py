"""What one call came to: `CallStatus` and `CallResult`, exactly one final result per person.

Stdlib dataclasses, not pydantic models, on purpose: the contact flow's Lambda runs between a
person's answer and the next question, and importing pydantic and building its models was most
of that Lambda's cold import (silence on the line; bench.voice_path prints it). So the per-call
records (these, `QuestionType`, `CallSession`) are pydantic-free and check their own invariants
and JSON (backend/domain/record_json.py); the job models in `backend.domain.models` stay
pydantic (rich intake errors) and re-export these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from backend.domain.record_json import (
    FieldError,
    integer,
    items,
    json_object,
    member,
    number,
    optional_moment,
    optional_moment_json,
    optional_text,
    text,
)


class CallStatus(StrEnum):
    """The one status enum used by engines, report, chat cards and metrics.

    Each status means one thing (docs/statuses.md is the one place that says what):
    """

    CALL_COMPLETED = "CallCompleted"  # reached the end of the call and answered a question
    DROP_CALL = "DropCall"  # answered but did not finish: partial answers are kept
    NO_ANSWER = "NoAnswer"
    BUSY = "Busy"
    NO_HUMAN = "NoHuman"  # voicemail or silence: nothing recognised for the first question
    NOT_CALLABLE = "NotCallable"
    OPTED_OUT = "OptedOut"  # said "stop" during the call: on the do-not-call list from then on
    EXPIRED = "Expired"  # still unreached when the job's deadline passed
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def retryable(self) -> bool:
        """Whether another attempt may reach the person later."""
        return self in (CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.NO_HUMAN)

    @property
    def reached(self) -> bool:
        """Whether a person picked up and spoke with the call."""
        return self in (CallStatus.CALL_COMPLETED, CallStatus.DROP_CALL, CallStatus.OPTED_OUT)

    @property
    def textable(self) -> bool:
        """Whether a person whose job ended with this status gets the job's SMS (docs/sms.md):
        rung without reaching anyone (NoAnswer, Busy, NoHuman) or still unreached when the
        deadline passed (Expired). Never the reached, opted out, not callable, failed or
        cancelled."""
        return self.retryable or self is CallStatus.EXPIRED


def call_status(value: Any, field: str = "status") -> CallStatus:
    """A `CallStatus` from its JSON value; FieldError naming the statuses otherwise."""
    return member(CallStatus, value, field, "a call status")


_RESULT_FIELDS = (
    "job_id",
    "receiver_id",
    "status",
    "answers",
    "error",
    "call_at",
    "attempts",
    "duration_seconds",
)

_RESULT_REQUIRED = {"job_id", "receiver_id", "status"}


@dataclass(frozen=True, slots=True)
class CallResult:
    """Exactly one final result per receiver and job.

    `answers`: the canonical answer per question, in question order; None = no answer.
    """

    job_id: str
    receiver_id: str
    status: CallStatus
    answers: tuple[str | None, ...] = ()
    error: str | None = None
    call_at: datetime | None = None
    attempts: int = 1
    duration_seconds: float = 0.0

    def __post_init__(self) -> None:
        text(self.job_id, "job_id")
        text(self.receiver_id, "receiver_id")
        if not isinstance(self.status, CallStatus):
            raise FieldError("status", f"must be a CallStatus, not {self.status!r}")
        if isinstance(self.answers, list):  # as the pydantic model took it: kept as a tuple
            object.__setattr__(self, "answers", tuple(self.answers))
        if not isinstance(self.answers, tuple):
            raise FieldError("answers", f"must be a tuple, not {type(self.answers).__name__}")
        for index, answer in enumerate(self.answers):
            optional_text(answer, f"answers[{index}]")
        optional_text(self.error, "error")
        if self.call_at is not None and not isinstance(self.call_at, datetime):
            raise FieldError("call_at", f"must be a datetime, not {type(self.call_at).__name__}")
        integer(self.attempts, "attempts", minimum=0)
        # A whole number of seconds is kept as a float, as the JSON always has it.
        object.__setattr__(
            self, "duration_seconds", number(self.duration_seconds, "duration_seconds", 0)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "receiver_id": self.receiver_id,
            "status": self.status.value,
            "answers": list(self.answers),
            "error": self.error,
            "call_at": optional_moment_json(self.call_at),
            "attempts": self.attempts,
            "duration_seconds": self.duration_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> CallResult:
        """Read what `to_json` wrote (an object or its JSON text); FieldError names a bad field."""
        raw = json_object(
            data, "a call result", _RESULT_FIELDS, {"job_id", "receiver_id", "status"}
        )
        answers = items(raw.get("answers", []), "answers")
        return cls(
            job_id=raw["job_id"],  # the types of the fields passed as they are: __post_init__
            receiver_id=raw["receiver_id"],
            status=call_status(raw["status"]),
            answers=tuple(answers),
            error=raw.get("error"),
            call_at=optional_moment(raw.get("call_at"), "call_at"),
            attempts=raw.get("attempts", 1),
            duration_seconds=raw.get("duration_seconds", 0.0),
        )
