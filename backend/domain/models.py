"""The call-job model: one name for one thing across workbook, engine, report and Slack."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from backend.domain import voices

# Receivers in one job: the Distributed Map, its ResultWriter and the report are sized for it.
MAX_RECEIVERS = 100_000


class QuestionType(StrEnum):
    """How a question is answered; each type has its own Lex V2 bot."""

    OK = "OK"
    YES_NO = "Yes/No"
    MULTIPLE_CHOICE = "Multiple Choice"
    NUMBER = "Number"
    DATE = "Date"
    TIME = "Time"

    @property
    def key(self) -> str:
        """Identifier-safe name for bots, flow branches and files: `YesNo`."""
        return re.sub(r"[^A-Za-z]", "", self.value.title()) if self is not QuestionType.OK else "OK"

    @classmethod
    def parse(cls, text: str) -> QuestionType | None:
        """Match a workbook/modal value case-, space- and punctuation-insensitively."""
        wanted = _squash(text)
        for member in cls:
            if wanted in {_squash(member.value), _squash(member.key)}:
                return member
        return _QUESTION_TYPE_ALIASES.get(wanted)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_QUESTION_TYPE_ALIASES = {
    "yn": QuestionType.YES_NO,
    "mc": QuestionType.MULTIPLE_CHOICE,
    "choice": QuestionType.MULTIPLE_CHOICE,
    "multiplechoices": QuestionType.MULTIPLE_CHOICE,
    "okay": QuestionType.OK,
}


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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Question(_Frozen):
    template: str = Field(
        description="Jinja2 template of what is asked; receiver fields are variables."
    )
    type: QuestionType


class Receiver(_Frozen):
    id: str = Field(min_length=1)
    phone_number: str = Field(description="E.164, e.g. +85212345678", pattern=r"^\+[1-9]\d{6,14}$")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Extra receiver columns in workbook order: template variables.",
    )


class CallingWindow(_Frozen):
    """Local hours in which calls may start, in the receiver's time zone (or `timezone`)."""

    start: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    end: str = Field(default="21:00", pattern=r"^\d{2}:\d{2}$")
    timezone: str | None = Field(
        default=None, description="IANA zone; default: the zone of each receiver's phone number."
    )


class JobSettings(_Frozen):
    """Optional Configures-sheet settings, with the engine's defaults."""

    max_attempts: int = Field(default=2, ge=1, le=10)
    retry_delay_seconds: int = Field(default=300, ge=0, le=86_400)
    call_timeout_seconds: int | None = Field(
        default=None,
        ge=30,
        le=3_600,
        description="Longest a call may take before it is cut (its answers are kept); default: "
        "derived from the job (backend/domain/call_time.py, docs/statuses.md).",
    )
    no_input_limit: int = Field(
        default=2,
        ge=1,
        le=3,
        description="Consecutive no-inputs (silence or nothing understood) on the first question "
        "after which the call ends as NoHuman (voicemail or silence); at most 3, the tries a "
        "question gets.",
    )
    concurrency: int = Field(default=10, ge=1, le=1_000)
    max_receivers: int = Field(default=10_000, ge=1, le=MAX_RECEIVERS)  # a guard: raise it
    max_calls_per_day: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Most calls one number gets per local day, across every job (docs/respect.md).",
    )
    allowed_countries: tuple[str, ...] = Field(
        default=(), description="ISO 3166 region codes such as HK, GB; empty allows every country."
    )
    calling_window: CallingWindow | None = None
    voice: str = Field(
        default=voices.DEFAULT_VOICE,
        description="Amazon Polly voice the contact flow speaks with: an English voice with a "
        "neural variant (backend/domain/voices.py).",
    )
    language: str = Field(
        default=voices.DEFAULT_LANGUAGE,
        description="Lex V2 locale of the answer bots; en-US is the only one they have.",
    )

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, value: str) -> str:
        voice = voices.canonical_voice(value)
        if voice is None:
            raise PydanticCustomError("voice", voices.VOICE_PROBLEM)
        return voice

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        language = voices.canonical_language(value)
        if language is None:
            raise PydanticCustomError("language", voices.LANGUAGE_PROBLEM)
        return language


class SlackOrigin(_Frozen):
    """Where a job started in Slack: results go back to this thread."""

    team_id: str
    channel_id: str
    user_id: str
    thread_ts: str | None = None
    card_ts: str | None = None


class CallJob(_Frozen):
    """A call job: the JSON form of this model is the job-queue message (see schemas/)."""

    job_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = ""
    greeting: str = ""
    ending: str = ""
    voicemail_message: str = Field(
        default="",
        description="Template said before hanging up on a voicemail or silence (NoHuman); "
        "empty: hang up without a word.",
    )
    phone_prefix: str = Field(default="", pattern=r"^\+?\d{0,4}$")
    questions: tuple[Question, ...] = ()
    receivers: tuple[Receiver, ...] = ()
    extra_columns: tuple[str, ...] = Field(
        default=(), description="Names of the extra receiver columns, in workbook order."
    )
    settings: JobSettings = JobSettings()
    origin: SlackOrigin | None = None
    created_by: str | None = None

    def receiver(self, receiver_id: str) -> Receiver:
        for receiver in self.receivers:
            if receiver.id == receiver_id:
                return receiver
        raise KeyError(receiver_id)


class CallResult(_Frozen):
    """Exactly one final result per receiver and job."""

    job_id: str
    receiver_id: str
    status: CallStatus
    answers: tuple[str | None, ...] = Field(
        default=(),
        description="Canonical answer per question, in question order; None = no answer.",
    )
    error: str | None = None
    call_at: datetime | None = None
    attempts: int = Field(default=1, ge=0)
    duration_seconds: float = Field(default=0.0, ge=0)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
