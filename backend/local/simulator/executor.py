"""The phone simulator: runs a contact-flow file action by action against a simulated person.

It does what Amazon Connect does with the flow, in-process and without sleeping:
InvokeLambdaFunction calls the function registered for the flow's `LambdaFunctionARN` with a
Connect-shaped event and keeps the returned flat map as `$.External`; ConnectParticipantWithLexBot
plays the prompt, takes the person's next utterance and matches it against the bot's definition
(`$.Lex.IntentName`, `$.Lex.Slots.answer`), or takes the NoMatchingError branch for a person
whose bot fails; GetParticipantInput (keypad, no bot) takes the person's next input when it is a
key one of its conditions names (pressed while the flow listens), else times out and leaves the
input for the next prompt; an action type it does not know stops the call with an error, never a
skip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from backend.domain.voices import DEFAULT_LANGUAGE, DEFAULT_VOICE, SUPPORTED_LANGUAGES, VOICES
from backend.flows import ACTION_RULES, TEXT_TO_SPEECH_ENGINES, check_flow, is_known_reference
from backend.local.simulator.connect_event import SimulatedLambdaContext, contact_flow_event
from backend.local.simulator.lex import FALLBACK_INTENT, REPEAT_INTENT, BotLibrary, LexResult
from backend.local.simulator.outcome import (
    CONTACT_FLOW_DISCONNECT,
    CUSTOMER_DISCONNECT,
    TELECOM_BUSY,
    TELECOM_NUMBER_INVALID,
    TELECOM_UNANSWERED,
    CallOutcome,
    TranscriptLine,
    spoken_text,
)
from backend.local.simulator.people import SimulatedPerson

FlowFunction = Callable[[dict[str, Any], Any], Any]

# Simulated time (never slept).
SECONDS_PER_WORD = 0.4
SECONDS_PER_ANSWER = 2.0
SILENCE_SECONDS = 5.0  # the bot's input timeout
RING_SECONDS = 6.0  # ringing before a person picks up
NO_ANSWER_SECONDS = 30.0
BUSY_SECONDS = 2.0
INVALID_SECONDS = 1.0
LAMBDA_SECONDS = 0.05

_KEYPAD = re.compile(r"^[0-9*#]+$")
_PLACEHOLDER = re.compile(r"^\$\{([^}]+)\}$")


class FlowExecutionError(RuntimeError):
    """The flow cannot be run as written (unknown action, missing branch or function)."""


class _HungUp(Exception):
    pass


@dataclass
class _Call:
    contact_id: str
    attributes: dict[str, str]
    person: SimulatedPerson
    phone_number: str | None
    external: dict[str, str] = field(default_factory=dict)
    lex: LexResult | None = None
    transcript: list[TranscriptLine] = field(default_factory=list)
    duration: float = RING_SECONDS
    next_utterance: int = 0
    answers_given: int = 0  # bot turns with an answer intent (not silence, Repeat or Fallback)
    voice: str = DEFAULT_VOICE
    language: str = DEFAULT_LANGUAGE  # the contact's LanguageCode: the bots' locale
    loops: dict[str, int] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)

    def say(self, prompt: str) -> None:
        text = spoken_text(prompt)
        self.transcript.append(TranscriptLine("system", text))
        self.duration += SECONDS_PER_WORD * len(text.split())

    def hang_up_now(self) -> bool:
        limit = self.person.hang_up_after
        return limit is not None and self.answers_given >= limit

    def upcoming(self) -> str:
        """The person's next utterance, not yet taken ("" when they have no more)."""
        utterances = self.person.utterances
        return utterances[self.next_utterance] if self.next_utterance < len(utterances) else ""

    def take_utterance(self) -> str:
        utterances = self.person.utterances
        if self.next_utterance >= len(utterances):
            return ""
        self.next_utterance += 1
        return utterances[self.next_utterance - 1]


class PhoneSimulator:
    """Runs calls through one flow with the bots of a BotLibrary and the flow's functions.

    `functions` maps a flow's `LambdaFunctionARN` to a callable `(event, context) -> dict`: by
    placeholder name (`CallFlowFunctionArn` for `${CallFlowFunctionArn}`) or by the literal ARN.
    """

    def __init__(
        self,
        flow: Mapping[str, Any],
        bots: BotLibrary,
        functions: Mapping[str, FlowFunction],
        *,
        check: bool = True,
        max_steps: int = 1_000,
    ) -> None:
        if check:
            problems = check_flow(flow)
            if problems:
                raise FlowExecutionError("the flow has problems: " + "; ".join(problems))
        actions = flow.get("Actions", [])
        self._actions: dict[str, Mapping[str, Any]] = {
            action["Identifier"]: action for action in actions if isinstance(action, Mapping)
        }
        self._start = str(flow.get("StartAction", ""))
        self.bots = bots
        self.functions = dict(functions)
        self.max_steps = max_steps
        self._current: _Call | None = None

    @property
    def elapsed_seconds(self) -> float:
        """Simulated seconds since the current call was dialled (0 between calls): the flow's
        functions read it to stamp what happens during the call in virtual time."""
        return self._current.duration if self._current is not None else 0.0

    def call(
        self,
        contact_id: str,
        attributes: dict[str, str],
        person: SimulatedPerson,
        *,
        phone_number: str | None = None,
    ) -> CallOutcome:
        """Dial one person and run the flow until it disconnects or the person hangs up."""
        if person.pickup == "no_answer":
            return CallOutcome(
                False,
                TELECOM_UNANSWERED,
                [TranscriptLine("system", "(no answer)")],
                NO_ANSWER_SECONDS,
            )
        if person.pickup == "busy":
            return CallOutcome(
                False, TELECOM_BUSY, [TranscriptLine("system", "(busy)")], BUSY_SECONDS
            )
        if person.pickup == "invalid":
            return CallOutcome(
                False,
                TELECOM_NUMBER_INVALID,
                [TranscriptLine("system", "(number not in service)")],
                INVALID_SECONDS,
            )
        call = _Call(contact_id, dict(attributes), person, phone_number)
        self._current = call
        try:
            reason = self._run(call)
        except _HungUp:
            call.transcript.append(TranscriptLine("person", "(hangs up)"))
            reason = CUSTOMER_DISCONNECT
        finally:
            self._current = None
        return CallOutcome(
            True,
            reason,
            call.transcript,
            round(call.duration, 2),
            call.path,
            call.voice,
            call.language,
        )

    # ------------------------------------------------------------------ the flow

    def _run(self, call: _Call) -> str:
        identifier = self._start
        for _ in range(self.max_steps):
            action = self._actions.get(identifier)
            if action is None:
                raise FlowExecutionError(f"the flow goes to {identifier!r}, which does not exist")
            call.path.append(identifier)
            action_type = str(action.get("Type"))
            if action_type == "DisconnectParticipant":
                return CONTACT_FLOW_DISCONNECT
            step = self._steps.get(action_type)
            if step is None or action_type not in ACTION_RULES:
                raise FlowExecutionError(
                    f"{identifier}: the simulator cannot run action type {action_type!r}"
                )
            identifier = step(self, call, identifier, action)
        raise FlowExecutionError(f"the flow ran {self.max_steps} actions without ending the call")

    def _resolve(self, call: _Call, value: Any) -> str:
        if not isinstance(value, str) or not value.startswith("$."):
            return str(value)
        if not is_known_reference(value):
            raise FlowExecutionError(f"the simulator cannot read {value!r}")
        if value == "$.ContactId":
            return call.contact_id
        if value == "$.Channel":
            return "VOICE"
        if value == "$.InitiationMethod":
            return "OUTBOUND"
        root, _, name = value[2:].partition(".")
        if root == "External":
            return call.external.get(name, "")
        if root == "Attributes":
            return call.attributes.get(name, "")
        lex = call.lex or LexResult("")
        if name == "IntentName":
            return lex.intent
        if name.startswith("Slots."):
            return lex.slots.get(name.removeprefix("Slots."), None) or ""
        raise FlowExecutionError(f"the simulator cannot read {value!r}")

    @staticmethod
    def _next(identifier: str, action: Mapping[str, Any]) -> str:
        target = action.get("Transitions", {}).get("NextAction")
        if not isinstance(target, str):
            raise FlowExecutionError(f"{identifier}: no NextAction")
        return target

    @staticmethod
    def _error(identifier: str, action: Mapping[str, Any], error_type: str) -> str:
        for branch in action.get("Transitions", {}).get("Errors", []):
            if branch.get("ErrorType") == error_type:
                return str(branch["NextAction"])
        raise FlowExecutionError(f"{identifier}: no branch for error {error_type}")

    @staticmethod
    def _condition(action: Mapping[str, Any], value: str) -> str | None:
        for branch in action.get("Transitions", {}).get("Conditions", []):
            condition = branch.get("Condition", {})
            operands = condition.get("Operands", [])
            if operands and _holds(str(condition.get("Operator")), value, str(operands[0])):
                return str(branch["NextAction"])
        return None

    def _plain(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        return self._next(identifier, action)

    def _set_voice(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        """Connect refuses an unknown voice or engine: the NoMatchingError branch."""
        parameters = action.get("Parameters", {})
        voice = self._resolve(call, parameters.get("TextToSpeechVoice", ""))
        engine = self._resolve(call, parameters.get("TextToSpeechEngine", "Neural"))
        if voice not in VOICES or engine not in TEXT_TO_SPEECH_ENGINES:
            return self._error(identifier, action, "NoMatchingError")
        call.voice = voice
        return self._next(identifier, action)

    def _update_contact_data(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        """The contact's language (Connect's "Set language attribute"): an unsupported one is
        the NoMatchingError branch."""
        language = self._resolve(call, action.get("Parameters", {}).get("LanguageCode", ""))
        if language not in SUPPORTED_LANGUAGES:
            return self._error(identifier, action, "NoMatchingError")
        call.language = language
        return self._next(identifier, action)

    def _update_attributes(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        attributes = action.get("Parameters", {}).get("Attributes", {})
        for key, value in attributes.items():
            call.attributes[str(key)] = self._resolve(call, value)
        return self._next(identifier, action)

    def _compare(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        value = self._resolve(call, action.get("Parameters", {}).get("ComparisonValue"))
        target = self._condition(action, value)
        return (
            target if target is not None else self._error(identifier, action, "NoMatchingCondition")
        )

    def _loop(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        text = self._resolve(call, action.get("Parameters", {}).get("LoopCount", "0"))
        if not text.strip().isdigit():
            raise FlowExecutionError(f"{identifier}: LoopCount {text!r} is not a whole number")
        count = int(text)
        done = call.loops.get(identifier, 0) >= count
        call.loops[identifier] = 0 if done else call.loops.get(identifier, 0) + 1
        target = self._condition(action, "DoneLooping" if done else "ContinueLooping")
        return target if target is not None else self._next(identifier, action)

    def _message(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        parameters = action.get("Parameters", {})
        call.say(self._resolve(call, parameters.get("SSML", parameters.get("Text", ""))))
        if call.hang_up_now():
            raise _HungUp
        return self._next(identifier, action)

    def _invoke(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        parameters = action.get("Parameters", {})
        arn = str(parameters.get("LambdaFunctionARN", ""))
        placeholder = _PLACEHOLDER.match(arn)
        function = self.functions.get(placeholder.group(1) if placeholder else arn)
        if function is None:
            raise FlowExecutionError(f"{identifier}: no function registered for {arn!r}")
        invocation = {
            str(key): self._resolve(call, value)
            for key, value in parameters.get("LambdaInvocationAttributes", {}).items()
        }
        call.duration += LAMBDA_SECONDS
        try:
            event = contact_flow_event(
                call.contact_id, call.attributes, call.phone_number, invocation
            )
            response = function(event, SimulatedLambdaContext())
        except Exception:  # Connect sees a failed invocation: the error branch
            return self._error(identifier, action, "NoMatchingError")
        response_type = parameters.get("ResponseValidation", {}).get("ResponseType", "STRING_MAP")
        if not isinstance(response, Mapping) or (
            response_type == "STRING_MAP"
            and not all(isinstance(k, str) and isinstance(v, str) for k, v in response.items())
        ):
            return self._error(identifier, action, "NoMatchingError")
        call.external = {str(key): str(value) for key, value in response.items()}
        return self._next(identifier, action)

    def _lex(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        parameters = action.get("Parameters", {})
        alias = str(parameters.get("LexV2Bot", {}).get("AliasArn", ""))
        try:
            question_type = self.bots.question_type_for(alias)
        except KeyError as error:
            raise FlowExecutionError(f"{identifier}: {error.args[0]}") from error
        try:
            matcher = self.bots.matcher(question_type, call.language)
        except KeyError:  # the bot has no locale for the contact's language: Lex refuses
            return self._error(identifier, action, "NoMatchingError")
        call.say(self._resolve(call, parameters.get("SSML", parameters.get("Text", ""))))
        if call.hang_up_now():
            raise _HungUp
        if call.person.bot_fails:  # Lex errs: what the person does next is left to the flow
            call.lex = LexResult("")
            call.duration += SILENCE_SECONDS
            call.transcript.append(TranscriptLine("system", "(the bot does not answer)"))
            return self._error(identifier, action, "NoMatchingError")
        utterance = call.take_utterance()
        if utterance.strip() == "?":
            utterance = "repeat"
        if not utterance.strip():
            call.lex = LexResult("")
            call.duration += SILENCE_SECONDS
            call.transcript.append(TranscriptLine("person", "(silence)"))
            return self._error(identifier, action, "InputTimeLimitExceeded")
        keypad = bool(_KEYPAD.match(utterance.strip()))
        heard = utterance.strip().rstrip("#") if keypad else utterance
        result = matcher.match(heard)
        call.lex = result
        if result.intent not in (REPEAT_INTENT, FALLBACK_INTENT):
            call.answers_given += 1
        call.duration += SECONDS_PER_ANSWER
        call.transcript.append(
            TranscriptLine(
                "person",
                f"[keypad] {utterance.strip()}" if keypad else utterance,
                intent=result.intent,
                answer=result.slots.get("answer"),
            )
        )
        target = self._condition(action, result.intent)
        return (
            target if target is not None else self._error(identifier, action, "NoMatchingCondition")
        )

    def _keypad(self, call: _Call, identifier: str, action: Mapping[str, Any]) -> str:
        """GetParticipantInput without a bot: a key the action branches on, pressed while the
        flow listens, takes that branch; anything else (speech, silence, another key) is the
        person's answer to the next prompt, so the listener times out without taking it."""
        parameters = action.get("Parameters", {})
        prompt = parameters.get("SSML", parameters.get("Text"))
        if prompt is not None:
            call.say(self._resolve(call, prompt))
            if call.hang_up_now():
                raise _HungUp
        key = call.upcoming().strip()
        target = self._condition(action, key) if _KEYPAD.match(key) else None
        if target is None:
            call.duration += float(self._resolve(call, parameters["InputTimeLimitSeconds"]))
            return self._error(identifier, action, "InputTimeLimitExceeded")
        call.take_utterance()
        call.duration += SECONDS_PER_ANSWER
        call.transcript.append(TranscriptLine("person", f"[keypad] {key}"))
        return target

    _steps: ClassVar[dict[str, Callable[[PhoneSimulator, _Call, str, Mapping[str, Any]], str]]] = {
        "UpdateFlowLoggingBehavior": _plain,
        "UpdateContactTextToSpeechVoice": _set_voice,
        "UpdateContactData": _update_contact_data,
        "UpdateContactAttributes": _update_attributes,
        "Compare": _compare,
        "Loop": _loop,
        "MessageParticipant": _message,
        "InvokeLambdaFunction": _invoke,
        "ConnectParticipantWithLexBot": _lex,
        "GetParticipantInput": _keypad,
    }


def _holds(operator: str, value: str, operand: str) -> bool:
    if operator == "Equals":
        return value == operand
    if operator == "StartsWith":
        return value.startswith(operand)
    if operator == "Contains":
        return operand in value
    try:
        number, limit = float(value), float(operand)
    except ValueError:
        return False
    return {
        "NumberGreaterThan": number > limit,
        "NumberLessThan": number < limit,
        "NumberGreaterOrEqualTo": number >= limit,
        "NumberLessOrEqualTo": number <= limit,
    }.get(operator, False)
