"""The call-job model: one name for one thing across workbook, engine, report and Slack.

The per-call records live in pydantic-free modules for the contact flow's cold start
(backend/domain/results.py says why) and are re-exported here: `CallResult` and `CallStatus`
(backend/domain/results.py), `QuestionType` (backend/domain/question_types.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from backend.domain import voices, zones
from backend.domain.question_types import QuestionType as QuestionType
from backend.domain.repeat import ScheduleError, parse_repeat
from backend.domain.results import CallResult as CallResult
from backend.domain.results import CallStatus as CallStatus
from backend.domain.weekdays import ALL_DAYS, DEFAULT_DAYS, Weekday

# Receivers in one job: the Distributed Map, its ResultWriter and the report are sized for it.
MAX_RECEIVERS = 100_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Question(_Frozen):
    template: str = Field(
        description="Jinja2 template of what is asked; receiver fields are variables."
    )
    type: QuestionType
    translations: dict[str, str] = Field(
        default_factory=dict,
        description="The template in other languages, by BCP-47 code (es-US): the workbook's "
        "question_template:es-US column.",
    )


class Receiver(_Frozen):
    id: str = Field(min_length=1)
    phone_number: str = Field(description="E.164, e.g. +85212345678", pattern=r"^\+[1-9]\d{6,14}$")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Extra receiver columns in workbook order: template variables.",
    )


def window_problem(start: str, end: str) -> str | None:
    """Why `start`-`end` ("HH:MM") cannot be a calling window, or None.

    Overnight windows (`20:00-08:00`) are refused on purpose: a reversed window is far more
    often a typo than a wish to phone people at 3 a.m. `24:00` is allowed as an end.
    """
    try:
        (h1, m1), (h2, m2) = ((int(p) for p in t.split(":")) for t in (start, end))
    except ValueError:
        return "should be two times like 09:00-20:00"
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 > 0):
        return "is not a time of day: use hours 00-23 (an end of 24:00 is allowed), minutes 00-59"
    if (h1, m1) == (h2, m2):
        return "starts and ends at the same time: give a later end, such as 09:00-20:00"
    if (h1, m1) > (h2, m2):
        return (
            "runs overnight (its end is before its start): calls start only within one day, "
            "so write the first time before the second, such as 09:00-20:00"
        )
    return None


class CallingWindow(_Frozen):
    """Local hours and days in which calls may start, in each receiver's own time zone.

    On by default (09:00-20:00, Monday to Saturday); `CallingWindow.ANY` (`calling_window: any`)
    is the explicit way to allow every hour of every day. The rules are in calling_rules.py.
    """

    start: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$")
    end: str = Field(default="20:00", pattern=r"^\d{2}:\d{2}$")
    days: tuple[Weekday, ...] = Field(default=DEFAULT_DAYS, min_length=1)

    @field_validator("days")
    @classmethod
    def _week_order(cls, value: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        return tuple(day for day in Weekday if day in value)

    @model_validator(mode="after")
    def _real_window(self) -> CallingWindow:
        why = window_problem(self.start, self.end)
        if why:
            raise PydanticCustomError(
                "calling_window", "calling_window '{shown}' {why}", {"shown": self.span, "why": why}
            )
        return self

    @property
    def span(self) -> str:
        return f"{self.start}-{self.end}"

    @property
    def always(self) -> bool:
        return self.start == "00:00" and self.end == "24:00" and self.days == ALL_DAYS


ANY_TIME = "any"  # the setting value that turns calling hours off


def setting_bounds(name: str) -> tuple[int, int]:
    """(lowest, highest) a `JobSettings` number may be: forms and the CLI offer these."""
    low = high = None
    for rule in JobSettings.model_fields[name].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    if low is None or high is None:
        raise KeyError(f"JobSettings.{name} has no bounds")
    return int(low), int(high)


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
    deadline_hours: int = Field(
        default=168,
        ge=1,
        le=720,
        description="Hours after the job starts when everyone still unreached ends as Expired.",
    )
    max_calls_per_day: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Most calls one number gets per local day, across every job (docs/respect.md).",
    )
    allowed_countries: tuple[str, ...] = Field(
        default=(), description="ISO 3166 region codes such as HK, GB; empty allows every country."
    )
    calling_window: CallingWindow = Field(
        default=CallingWindow(),
        description="Local hours and days calls may start; 'any' allows every hour of every day; "
        "null means the default.",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone used for receivers whose zone is not known from their number or "
        "their own 'timezone' column; default UTC.",
    )
    organisation: str = Field(
        default="", max_length=200, description="Who is calling: said first in every call."
    )
    callback_number: str = Field(
        default="",
        max_length=40,
        description="Number people can call back, said in the ending (E.164 after intake).",
    )
    voice: str = Field(
        default=voices.DEFAULT_VOICE,
        description="Amazon Polly voice the contact flow speaks with: a neural voice "
        "(backend/domain/voices.py); people whose language it does not speak hear their "
        "language's default voice.",
    )
    # --- per-person language (issue 13 part 5) ---
    language: str = Field(
        default=voices.DEFAULT_LANGUAGE,
        description="BCP-47 language of the job's templates and of every receiver whose "
        "'language' column is empty (backend/domain/voices.py lists the supported ones).",
    )
    # Scheduled and recurring jobs (issue 13 part 3): the rules are in backend/domain/schedule.py.
    start_at: datetime | None = Field(
        default=None,
        description="When the job starts (ISO time with an offset; intake also reads forms such "
        "as 'tomorrow 18:00' in the job's timezone); null: at once. A job with start_at becomes "
        "a schedule: each occurrence runs as its own job (docs/schedule.md).",
    )
    repeat: str | None = Field(
        default=None,
        description="How the job repeats from start_at: daily, weekdays, weekly, weekly on "
        "monday,thursday; optionally 'until 2027-03-31' or '10 times'. Null: once.",
    )

    @field_validator("start_at")
    @classmethod
    def _aware_start(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise PydanticCustomError(
                "start_at", "start_at needs a time zone offset, such as 2026-12-07T18:00+08:00"
            )
        return value

    @field_validator("repeat")
    @classmethod
    def _known_repeat(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return parse_repeat(value).text
        except ScheduleError as error:
            raise PydanticCustomError("repeat", "{why}", {"why": str(error)}) from None

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

    @field_validator("calling_window", mode="before")
    @classmethod
    def _window_or_any(cls, value: Any) -> Any:
        if value is None:
            return CallingWindow()
        if isinstance(value, str) and value.strip().lower() == ANY_TIME:
            return CallingWindow(start="00:00", end="24:00", days=ALL_DAYS)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not zones.known_zone(value):
            raise PydanticCustomError(
                "timezone", "timezone '{zone}' {why}", {"zone": value, "why": zones.ZONE_PROBLEM}
            )
        return value


ChatPlatform = Literal["slack", "teams"]

# Keys of the Slack-only origin stored before ChatOrigin (old queued jobs and job records).
_LEGACY_ORIGIN_KEYS = {"thread_ts": "thread_ref", "card_ts": "card_ref"}


class ChatOrigin(_Frozen):
    """Where a job started in a chat (Slack or Teams): its card and results go back there.

    Slack: `team_id` the workspace, `channel_id` the channel (or DM), `user_id` the Slack user,
    `thread_ref`/`card_ref` message timestamps. Teams: `tenant_id` the Entra tenant, `team_id`
    the team ("" in a chat), `channel_id` the conversation id, `user_id` the Entra object id,
    `thread_ref`/`card_ref` activity ids, `service_url` the Bot Connector URL to post back to.
    A stored Slack origin of before (`thread_ts`, `card_ts`, no platform) loads as Slack.
    """

    platform: ChatPlatform = "slack"
    team_id: str = ""
    tenant_id: str | None = None
    channel_id: str
    user_id: str
    thread_ref: str | None = Field(
        default=None, description="The message the job's thread hangs from (upload, form)."
    )
    card_ref: str | None = Field(default=None, description="The job card message, once posted.")
    service_url: str | None = Field(default=None, description="Teams: Bot Connector base URL.")

    @model_validator(mode="before")
    @classmethod
    def _legacy_slack_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(key in data for key in _LEGACY_ORIGIN_KEYS):
            data = {_LEGACY_ORIGIN_KEYS.get(key, key): value for key, value in data.items()}
        return data


LANGUAGE_COLUMN = "language"  # the receiver column naming a person's language
TRANSLATED_KEYS = ("greeting", "ending", "voicemail_message")  # job templates with translations
# The one job-id rule (intake, CLI, chat): 1-80 letters, digits, '.', '_' or '-'.
JOB_ID_MAX = 80
JOB_ID_PATTERN = rf"^[A-Za-z0-9_.-]{{1,{JOB_ID_MAX}}}$"
JOB_ID = re.compile(JOB_ID_PATTERN)
JOB_ID_RULE = f"1-{JOB_ID_MAX} letters, digits, '.', '_' or '-'"


class CallJob(_Frozen):
    """A call job: the JSON form of this model is the job-queue message (see schemas/)."""

    job_id: str = Field(min_length=1, max_length=JOB_ID_MAX, pattern=JOB_ID_PATTERN)
    name: str = ""
    greeting: str = ""
    ending: str = ""
    voicemail_message: str = Field(
        default="",
        description="Template said before hanging up on a voicemail or silence (NoHuman); "
        "empty: hang up without a word.",
    )
    phone_prefix: str = Field(default="", pattern=r"^\+?\d{0,4}$")
    # SMS to the unreached (issue 13 part 4, docs/sms.md)
    sms_template: str = Field(
        default="",
        description="Template of the one SMS sent after the job to each person not reached "
        "(NoAnswer, Busy, NoHuman, Expired); plain text, at most 1,600 characters rendered; "
        "empty: no SMS.",
    )
    questions: tuple[Question, ...] = ()
    receivers: tuple[Receiver, ...] = ()
    extra_columns: tuple[str, ...] = Field(
        default=(), description="Names of the extra receiver columns, in workbook order."
    )
    settings: JobSettings = JobSettings()
    origin: ChatOrigin | None = None
    created_by: str | None = None
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="greeting / ending / voicemail_message in other languages, by BCP-47 code: "
        "{'es-US': {'greeting': ..., 'ending': ...}} (Configures keys greeting:es-US, ...).",
    )
    # Do-not-call receivers marked at intake (issue 11, docs/respect.md; dnc.mark_do_not_call)
    do_not_call: tuple[str, ...] = Field(
        default=(),
        description="Ids of the receivers whose number was on the do-not-call list when the job "
        "was taken in: each ends NotCallable (error do-not-call) without a call. Intake sets it "
        "from the deployment's list and each runner sets it again as the job starts.",
    )

    @model_validator(mode="after")
    def _marked_receivers_exist(self) -> CallJob:
        if self.do_not_call:
            unknown = set(self.do_not_call) - {receiver.id for receiver in self.receivers}
            if unknown:
                raise ValueError(f"do_not_call names unknown receiver ids: {sorted(unknown)[:5]}")
        return self

    @property
    def to_call(self) -> tuple[Receiver, ...]:
        """The receivers the job may call: all but those marked do-not-call at intake."""
        if not self.do_not_call:
            return self.receivers
        marked = set(self.do_not_call)
        return tuple(receiver for receiver in self.receivers if receiver.id not in marked)

    def language_of(self, receiver: Receiver) -> str:
        """The person's language: their 'language' column, else the job's language."""
        written = receiver.fields.get(LANGUAGE_COLUMN, "").strip()
        return (voices.canonical_language(written) if written else None) or self.settings.language

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the job's calls speak, the job's own first."""
        found = dict.fromkeys([self.settings.language])
        found.update(dict.fromkeys(self.language_of(receiver) for receiver in self.receivers))
        return tuple(found)

    def receiver(self, receiver_id: str) -> Receiver:
        for receiver in self.receivers:
            if receiver.id == receiver_id:
                return receiver
        raise KeyError(receiver_id)
