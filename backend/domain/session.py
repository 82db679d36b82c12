"""The state of one call (one attempt to reach one receiver) and what the contact flow does next.

`call_id` is `f"{job_id}:{receiver_id}:{attempt}"`: unique per attempt, readable in logs, and the
same value the dialer uses as Connect's `ClientToken`. It is the only contact attribute.

The session is JSON-serialisable (`to_json` / `from_json`) so the AWS adapter can keep it in
DynamoDB and the local engine in SQLite. `version` is bumped by the store on every save
(optimistic locking). `task_token` is AWS-only and never goes into contact attributes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from backend.domain.answers import ANSWER_SLOT, normalise_answer
from backend.domain.disconnects import status_for
from backend.domain.opt_out import is_opt_out
from backend.domain.phrases import phrases, speak
from backend.domain.question_types import QuestionType
from backend.domain.record_json import (
    FieldError,
    flag,
    integer,
    items,
    json_object,
    member,
    moment,
    moment_json,
    optional_moment,
    optional_moment_json,
    optional_text,
    text,
)
from backend.domain.results import CallResult, CallStatus
from backend.domain.voices import DEFAULT_LANGUAGE, DEFAULT_VOICE, voice_for

if TYPE_CHECKING:
    from backend.domain.models import CallJob, Receiver

MAX_REASKS = 2  # Repeat/Fallback/silence re-ask a question at most twice, then move on

SORRY = phrases(DEFAULT_LANGUAGE).sorry  # said before a question is asked again

_SPEAK = re.compile(r"^\s*<speak>(.*)</speak>\s*$", re.DOTALL)


def call_id_for(job_id: str, receiver_id: str, attempt: int) -> str:
    return f"{job_id}:{receiver_id}:{attempt}"


def join_ssml(*parts: str) -> str:
    """Join `<speak>` documents (or plain text) into one `<speak>` document."""
    inner = []
    for part in parts:
        match = _SPEAK.match(part)
        text = (match.group(1) if match else part).strip()
        if text:
            inner.append(text)
    return "<speak>" + " ".join(inner) + "</speak>"


class StaleSession(Exception):
    """The session changed in the store since it was read (optimistic lock lost)."""


class PromptSet(Protocol):
    """What `speech.Speech.prompts(receiver)` returns."""

    @property
    def greeting(self) -> str: ...
    @property
    def questions(self) -> Sequence[str]: ...
    @property
    def ending(self) -> str: ...
    @property
    def voicemail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FlowAction:
    """What the contact flow does next: ask a question, say the ending (or the voicemail message)
    and hang up, or hang up without a word (`hangup`: a voicemail or silence and no message).

    `turn` counts the flow events the session has applied; the flow echoes it back with the next
    event, so a retried invocation (same turn) is answered again without being applied twice.
    `voice` (the Polly voice) and `language` (the BCP-47 code Connect gives the Lex bot as its
    locale) are the person's, set by the flow after the start event.
    """

    action: Literal["ask", "end", "hangup"]
    prompt: str
    question_type: str = ""
    question_number: str = ""
    turn: str = ""
    voice: str = ""
    language: str = ""

    def to_map(self) -> dict[str, str]:
        return {
            "action": self.action,
            "prompt": self.prompt,
            "question_type": self.question_type,
            "question_number": self.question_number,
            "turn": self.turn,
            "voice": self.voice,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class SessionQuestion:
    prompt: str
    type: QuestionType

    def to_json(self) -> dict[str, str]:
        return {"prompt": self.prompt, "type": self.type.value}

    @classmethod
    def from_json(cls, data: Any) -> SessionQuestion:
        raw = json_object(data, "a session question", ("prompt", "type"), {"prompt", "type"})
        kind = member(QuestionType, raw["type"], "type", "a question type")
        return cls(text(raw["prompt"], "prompt"), kind)


SessionStatus = Literal["dialing", "in_progress", "ended"]
_SESSION_STATUSES: tuple[SessionStatus, ...] = get_args(SessionStatus)


@dataclass(slots=True)
class CallSession:
    """One attempt's call, kept by the session store between the flow's turns.

    A stdlib dataclass, not a pydantic model: the contact flow's Lambda loads and saves it on
    every turn and imports no pydantic (its cold start; backend/domain/results.py says why).
    `to_json` / `from_json` are its stored form: every field, datetimes as ISO 8601 with their
    offset, the result nested; a stored session that does not read back raises FieldError.
    """

    call_id: str
    job_id: str
    receiver_id: str
    attempt: int
    greeting: str
    questions: list[SessionQuestion]
    ending: str
    started_at: datetime
    voicemail: str = ""  # said before hanging up on a voicemail or silence (NoHuman)
    voice: str = DEFAULT_VOICE
    language: str = DEFAULT_LANGUAGE  # the person's: prompts, bot locale, answer words
    no_input_limit: int = 2
    index: int = 0
    answers: list[str | None] = field(default_factory=list)
    answered_at: list[datetime] = field(default_factory=list)  # when each answer was recorded
    retries: int = 0
    no_inputs: int = 0  # consecutive turns on the first question with nothing recognised
    status: SessionStatus = "dialing"
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    task_token: str | None = None
    number_key: str | None = None  # the do-not-call list's hash of the number (for an opt-out)
    test: bool = False  # a "Call me first" test call: never a job result (domain/test_call.py)
    transcript: list[str] = field(default_factory=list)
    result: CallResult | None = None
    turn: int = 0  # flow events applied (see FlowAction.turn)
    last_response: dict[str, str] | None = None  # what the last applied event answered
    version: int = 0

    def __post_init__(self) -> None:
        integer(self.attempt, "attempt", minimum=1)
        integer(self.no_input_limit, "no_input_limit", minimum=1)

    @classmethod
    def new(
        cls,
        job: CallJob,
        receiver: Receiver,
        attempt: int,
        prompts: PromptSet,
        *,
        now: datetime | None = None,
        task_token: str | None = None,
    ) -> CallSession:
        """A session for one attempt; prompts are rendered once, at dial time."""
        if len(prompts.questions) != len(job.questions):
            raise ValueError("one prompt per question is needed")
        return cls(
            call_id=call_id_for(job.job_id, receiver.id, attempt),
            job_id=job.job_id,
            receiver_id=receiver.id,
            attempt=attempt,
            greeting=prompts.greeting,
            questions=[
                SessionQuestion(prompt=p, type=q.type)
                for p, q in zip(prompts.questions, job.questions, strict=True)
            ],
            ending=prompts.ending,
            voicemail=prompts.voicemail,
            voice=voice_for(job.language_of(receiver), job.settings.voice),
            language=job.language_of(receiver),
            no_input_limit=job.settings.no_input_limit,
            started_at=now or datetime.now(UTC),
            task_token=task_token,
        )

    # --- the contact flow's operations ---------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.result is not None

    def handle(
        self,
        kind: Literal["start", "answer", "silence", "opt_out"],
        intent: str | None = None,
        slot: str | None = None,
        *,
        turn: str | None = None,
        question_number: str | None = None,
        now: datetime | None = None,
    ) -> FlowAction:
        """One flow event, applied at most once.

        An event whose echoed `turn` is not the session's current turn, or whose echoed
        `question_number` is not the question being asked, is a retry of one already applied
        (Connect re-invokes a Lambda that timed out): it gets the same response again and changes
        nothing. Events without them (an older flow) are applied as they come.
        """
        if self.finished:
            return self._end_action()
        if self.status == "in_progress" and (
            kind == "start" or self._is_replay(turn, question_number)
        ):
            return self._replay()
        if kind == "start":
            return self.start(now)
        if kind == "silence":
            return self.record_silence(now)
        if kind == "opt_out":  # the flow itself heard the opt-out key (the bot failed or timed out)
            return self.opt_out(now)
        return self.record_answer(intent, slot, now)

    def start(self, now: datetime | None = None) -> FlowAction:
        """The person answered: greeting + first question (or the ending if there is none)."""
        if self.finished:
            return self._end_action()
        if self.status == "in_progress":  # a repeated start: say the same again
            return self._replay()
        self.status = "in_progress"
        self.connected_at = now or datetime.now(UTC)
        if not self.questions:
            self.finish(now)
            return self._respond(FlowAction("end", join_ssml(self.greeting, self.ending)))
        action = self._ask(0)
        return self._respond(replace(action, prompt=join_ssml(self.greeting, action.prompt)))

    def record_answer(
        self, intent: str | None, slot: str | None, now: datetime | None = None
    ) -> FlowAction:
        """One bot turn on the current question; `intent=None` is silence (like Fallback)."""
        if self.finished:
            return self._end_action()
        if self.status == "dialing":  # an answer before start: the start event was lost
            return self.start(now)
        if is_opt_out(intent, slot):
            return self.opt_out(now)
        question = self.questions[self.index]
        answer = normalise_answer(question.type, intent, {ANSWER_SLOT: slot or None}, self.language)
        repeat = (intent or "").lower().startswith("repeat")
        if self._nobody_there(answer, repeat):
            self._close(CallStatus.NO_HUMAN, None, now)
            return self._respond(self._end_action())
        if answer is None and self.retries < MAX_REASKS:
            self.retries += 1
            action = self._ask(self.index)
            sorry = phrases(self.language).sorry
            prompt = action.prompt if repeat else join_ssml(sorry, action.prompt)
            return self._respond(replace(action, prompt=prompt))
        self.answers.append(answer)
        self.answered_at.append(now or datetime.now(UTC))
        self.index += 1
        self.retries = 0
        if self.index >= len(self.questions):
            self.finish(now)
            return self._respond(self._end_action())
        return self._respond(self._ask(self.index))

    def opt_out(self, now: datetime | None = None) -> FlowAction:
        """The person asked to stop ("stop", or `*` heard by the bot or by the flow itself):
        `OptedOut` with the answers so far; the flow says the confirmation and hangs up."""
        if self.finished:
            return self._end_action()
        if self.connected_at is None:  # the start event was lost: they did pick up
            self.connected_at = now or datetime.now(UTC)
        self._close(CallStatus.OPTED_OUT, None, now)
        return self._respond(self._end_action())

    def record_silence(self, now: datetime | None = None) -> FlowAction:
        return self.record_answer(None, None, now)

    def _nobody_there(self, answer: str | None, repeat: bool) -> bool:
        """Count a no-input on the first question; True once `no_input_limit` came in a row.

        Silence and speech the bot did not understand (a voicemail greeting, a beep) are
        no-inputs; asking to repeat is a person, and resets the count.
        """
        if self.index != 0 or self.answers:
            return False
        if answer is not None or repeat:
            self.no_inputs = 0
            return False
        self.no_inputs += 1
        return self.no_inputs >= self.no_input_limit

    def finish(self, now: datetime | None = None) -> CallResult:
        """The flow reached its end: `CallCompleted`, or `NoHuman` if no question was answered
        (idempotent)."""
        if self.result is not None:
            return self.result
        return self._close(CallStatus.CALL_COMPLETED, None, now)

    def end_from_disconnect(
        self, reason: str | None, connected: bool, now: datetime | None = None
    ) -> CallResult:
        """The call ended before the flow did: status from the disconnects table (idempotent).

        Raises `disconnects.ReasonNotYetKnown`, changing nothing, when `reason` is missing.
        """
        if self.result is not None:
            return self.result
        connected = connected or self.connected_at is not None
        disposition = status_for(reason, connected)
        return self._close(disposition.status, disposition.error, now)

    def end_with(
        self, status: CallStatus, error: str | None, now: datetime | None = None
    ) -> CallResult:
        """End for a reason of the engine's own (timeout, dialer error, interrupted)."""
        if self.result is not None:
            return self.result
        return self._close(status, error, now)

    def timed_out(self, now: datetime) -> CallResult:
        """The call outlived its time-out at `now`: its result as of that moment (idempotent).

        The one rule for both runners (docs/statuses.md): answers given by `now` are kept
        (`DropCall`); a call picked up with nothing answered is `NoHuman`; a call never picked
        up is `Failed`. A result the flow reached by `now` stands. Anything the session
        recorded after `now` is dropped: the local engine runs a call to its end before it
        applies the time-out, while on AWS nothing can come later than `now`.
        """
        if self.result is not None and (self.ended_at is None or self.ended_at <= now):
            return self.result
        self.result = None
        kept = sum(1 for moment in self.answered_at if moment <= now)
        del self.answers[kept:], self.answered_at[kept:]
        self.index = kept
        if self.connected_at is not None and self.connected_at > now:
            self.connected_at = None
        seconds = max(0, int((now - self.started_at).total_seconds()))
        error = f"timed out after {seconds} s"
        if self.connected_at is None:
            return self._close(CallStatus.FAILED, f"{error}, before the call was answered", now)
        return self._close(CallStatus.DROP_CALL, error, now)

    # --- helpers ---------------------------------------------------------------------------------

    def _ask(self, index: int) -> FlowAction:
        question = self.questions[index]
        return FlowAction("ask", question.prompt, question.type.key, str(index + 1))

    def _end_action(self) -> FlowAction:
        """The ending; for NoHuman the voicemail message, or a silent hang-up without one;
        for OptedOut the confirmation that nobody will call again."""
        turn, voice, language = str(self.turn), self.voice, self.language
        if self.result is not None and self.result.status is CallStatus.OPTED_OUT:
            confirmation = speak(phrases(self.language).opt_out_confirmation)
            return FlowAction("end", confirmation, turn=turn, voice=voice, language=language)
        if self.result is not None and self.result.status is CallStatus.NO_HUMAN:
            if self.voicemail:
                prompt = join_ssml(self.voicemail)
                return FlowAction("end", prompt, turn=turn, voice=voice, language=language)
            return FlowAction("hangup", "", turn=turn, voice=voice, language=language)
        return FlowAction("end", join_ssml(self.ending), turn=turn, voice=voice, language=language)

    def _respond(self, action: FlowAction) -> FlowAction:
        """Stamp an applied event's response with the next turn and remember it for retries."""
        self.turn += 1
        action = replace(action, turn=str(self.turn), voice=self.voice, language=self.language)
        self.last_response = action.to_map()
        return action

    def _replay(self) -> FlowAction:
        if self.last_response is None:  # a session stored before turns existed
            return replace(
                self._ask(self.index),
                turn=str(self.turn),
                voice=self.voice,
                language=self.language,
            )
        return FlowAction(**self.last_response)  # type: ignore[arg-type]

    def _is_replay(self, turn: str | None, question_number: str | None) -> bool:
        if turn is not None and turn.isdigit():
            return int(turn) != self.turn
        if question_number is not None and question_number.isdigit():
            return int(question_number) != self.index + 1
        return False

    def _close(self, status: CallStatus, error: str | None, now: datetime | None) -> CallResult:
        self.ended_at = now or datetime.now(UTC)
        self.status = "ended"
        status = self._reached_status(status)
        answers: tuple[str | None, ...] = ()
        if status.reached:
            answers = tuple(self.answers) + (None,) * (len(self.questions) - len(self.answers))
        duration = max(0.0, (self.ended_at - self.started_at).total_seconds())
        self.result = CallResult(
            job_id=self.job_id,
            receiver_id=self.receiver_id,
            status=status,
            answers=answers,
            error=error,
            call_at=self.started_at,
            attempts=self.attempt,
            duration_seconds=duration,
        )
        return self.result

    def _reached_status(self, status: CallStatus) -> CallStatus:
        """A call picked up but with no question answered is `NoHuman`, not `CallCompleted` or
        `DropCall` (docs/statuses.md); a job without questions completes on its greeting."""
        if status not in (CallStatus.CALL_COMPLETED, CallStatus.DROP_CALL) or not self.questions:
            return status
        if any(answer is not None for answer in self.answers):
            return status
        return CallStatus.NO_HUMAN

    def to_json(self) -> dict[str, Any]:
        """The stored form: every field, in the order the pydantic model of before wrote them
        (`from_json` reads both)."""
        return {
            "call_id": self.call_id,
            "job_id": self.job_id,
            "receiver_id": self.receiver_id,
            "attempt": self.attempt,
            "greeting": self.greeting,
            "questions": [question.to_json() for question in self.questions],
            "ending": self.ending,
            "voicemail": self.voicemail,
            "voice": self.voice,
            "language": self.language,
            "no_input_limit": self.no_input_limit,
            "index": self.index,
            "answers": list(self.answers),
            "answered_at": [moment_json(moment) for moment in self.answered_at],
            "retries": self.retries,
            "no_inputs": self.no_inputs,
            "status": self.status,
            "started_at": moment_json(self.started_at),
            "connected_at": optional_moment_json(self.connected_at),
            "ended_at": optional_moment_json(self.ended_at),
            "task_token": self.task_token,
            "number_key": self.number_key,
            "test": self.test,
            "transcript": list(self.transcript),
            "result": None if self.result is None else self.result.to_json(),
            "turn": self.turn,
            "last_response": None if self.last_response is None else dict(self.last_response),
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> CallSession:
        """Read a stored session; FieldError names the field of a corrupt one."""
        raw = json_object(data, "a call session", _SESSION_FIELDS, _SESSION_REQUIRED)
        get = raw.get
        return cls(
            call_id=text(raw["call_id"], "call_id"),
            job_id=text(raw["job_id"], "job_id"),
            receiver_id=text(raw["receiver_id"], "receiver_id"),
            attempt=integer(raw["attempt"], "attempt", minimum=1),
            greeting=text(raw["greeting"], "greeting"),
            questions=_questions(raw["questions"]),
            ending=text(raw["ending"], "ending"),
            voicemail=text(get("voicemail", ""), "voicemail"),
            voice=text(get("voice", DEFAULT_VOICE), "voice"),
            language=text(get("language", DEFAULT_LANGUAGE), "language"),
            no_input_limit=integer(get("no_input_limit", 2), "no_input_limit", minimum=1),
            index=integer(get("index", 0), "index"),
            answers=[
                optional_text(answer, f"answers[{number}]")
                for number, answer in enumerate(items(get("answers", []), "answers"))
            ],
            answered_at=[
                moment(when, f"answered_at[{number}]")
                for number, when in enumerate(items(get("answered_at", []), "answered_at"))
            ],
            retries=integer(get("retries", 0), "retries"),
            no_inputs=integer(get("no_inputs", 0), "no_inputs"),
            status=_session_status(get("status", "dialing")),
            started_at=moment(raw["started_at"], "started_at"),
            connected_at=optional_moment(get("connected_at"), "connected_at"),
            ended_at=optional_moment(get("ended_at"), "ended_at"),
            task_token=optional_text(get("task_token"), "task_token"),
            number_key=optional_text(get("number_key"), "number_key"),
            test=flag(get("test", False), "test"),
            transcript=[
                text(line, f"transcript[{number}]")
                for number, line in enumerate(items(get("transcript", []), "transcript"))
            ],
            result=_nested_result(get("result")),
            turn=integer(get("turn", 0), "turn"),
            last_response=_last_response(get("last_response")),
            version=integer(get("version", 0), "version"),
        )


_SESSION_FIELDS = tuple(CallSession.__dataclass_fields__)
_SESSION_REQUIRED = {
    name
    for name, spec in CallSession.__dataclass_fields__.items()
    if spec.default is MISSING and spec.default_factory is MISSING
}


def _questions(value: Any) -> list[SessionQuestion]:
    questions = []
    for number, item in enumerate(items(value, "questions")):
        try:
            questions.append(SessionQuestion.from_json(item))
        except FieldError as error:
            raise error.within(f"questions[{number}]") from None
    return questions


def _session_status(value: Any) -> SessionStatus:
    for status in _SESSION_STATUSES:
        if value == status:
            return status
    raise FieldError("status", f"{str(value)[:40]!r} is not one of {', '.join(_SESSION_STATUSES)}")


def _nested_result(value: Any) -> CallResult | None:
    if value is None:
        return None
    try:
        return CallResult.from_json(value)
    except FieldError as error:
        raise error.within("result") from None


def _last_response(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FieldError("last_response", f"must be an object, not {type(value).__name__}")
    return {
        text(key, "last_response"): text(item, f"last_response.{key}")
        for key, item in value.items()
    }


class SessionStore(Protocol):
    """Where call sessions live: SQLite locally, DynamoDB on AWS."""

    def create(self, session: CallSession) -> None:
        """Store a new session; raises `StaleSession` if its call id already exists."""
        ...

    def get(self, call_id: str) -> CallSession | None: ...

    def save(self, session: CallSession) -> None:
        """Write if the stored version is `session.version`, then bump it; else `StaleSession`."""
        ...


class CallCompletion(Protocol):
    """Delivers the final result of a call (AWS: SendTaskSuccess; local: the engine)."""

    def complete(self, session: CallSession, result: CallResult) -> None: ...
