"""The phone simulator driven through every branch of contact_flows/outbound_call.json."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.speech import Prompts
from backend.flows import load_flow
from backend.local.simulator import (
    CONTACT_FLOW_DISCONNECT,
    CUSTOMER_DISCONNECT,
    TELECOM_BUSY,
    TELECOM_NUMBER_INVALID,
    TELECOM_UNANSWERED,
    BotLibrary,
    CallOutcome,
    FlowExecutionError,
    PhoneSimulator,
    SimulatedPerson,
    TranscriptLine,
    spoken_text,
)

REFERENCE = date(2026, 11, 28)
BOTS = BotLibrary.load(reference_date=REFERENCE)
FLOW = load_flow()
SORRY = "Sorry, something went wrong on our side"


class ScriptedFlowFunction:
    """A stand-in for the flow Lambda that follows the voice contract in CONTRACTS.md.

    Asks the questions in order (the first prompt starts with the greeting), re-asks on
    Repeat/Fallback/silence at most twice, then moves on with no answer; "end" carries the ending.
    """

    def __init__(self, *types: QuestionType) -> None:
        self.types = types
        self.received: list[dict[str, str]] = []
        self.events: list[dict[str, Any]] = []
        self.answers: dict[str, list[tuple[str, str] | None]] = {}
        self._state: dict[str, tuple[int, int]] = {}
        self.turns: dict[str, int] = {}
        self.voice = "Joanna"
        self.language = "en-US"

    def prompt(self, index: int) -> str:
        return f"<speak>Question {index + 1}, a {self.types[index].value} question.</speak>"

    def _ask(
        self, call_id: str, index: int, retries: int, greeting: bool = False
    ) -> dict[str, str]:
        self._state[call_id] = (index, retries)
        self.turns[call_id] = self.turns.get(call_id, 0) + 1
        turn = {"turn": str(self.turns[call_id]), "voice": self.voice, "language": self.language}
        if index >= len(self.types):
            return {
                "action": "end",
                "prompt": "<speak>Thank you &amp; goodbye.</speak>",
                "question_type": "",
                "question_number": "",
                **turn,
            }
        prompt = self.prompt(index)
        if greeting:
            prompt = "<speak>Hello Chan Tai Man.</speak>" + prompt
        return {
            "action": "ask",
            "prompt": prompt,
            "question_type": self.types[index].key,
            "question_number": str(index + 1),
            **turn,
        }

    def __call__(self, event: dict[str, Any], context: object) -> dict[str, str]:
        self.events.append(copy.deepcopy(event))
        details = event["Details"]
        parameters = dict(details["Parameters"])
        self.received.append(parameters)
        call_id = details["ContactData"]["Attributes"]["call_id"]
        if parameters["event"] == "start":
            self.answers[call_id] = []
            return self._ask(call_id, 0, 0, greeting=True)
        index, retries = self._state[call_id]
        if parameters["event"] == "opt_out":  # the flow heard `*` itself: end the call
            return self._ask(call_id, len(self.types), 0)
        intent = parameters.get("intent", "")
        if parameters["event"] == "silence" or intent in {"RepeatIntent", "FallbackIntent"}:
            if retries < 2:
                return self._ask(call_id, index, retries + 1)
            self.answers[call_id].append(None)
            return self._ask(call_id, index + 1, 0)
        self.answers[call_id].append((intent, parameters.get("answer", "")))
        return self._ask(call_id, index + 1, 0)


def simulate(
    function: Any, person: SimulatedPerson, flow: dict[str, Any] | None = None
) -> CallOutcome:
    simulator = PhoneSimulator(flow or FLOW, BOTS, {"CallFlowFunctionArn": function})
    return simulator.call("contact-1", {"call_id": "call-1"}, person, phone_number="+85291234567")


def said(outcome: CallOutcome) -> list[tuple[str, str]]:
    return [(line.speaker, line.text) for line in outcome.transcript]


def heard(outcome: CallOutcome) -> list[tuple[str | None, str | None]]:
    return [(line.intent, line.answer) for line in outcome.transcript if line.speaker == "person"]


ALL_TYPES = tuple(QuestionType)


def test_every_question_type_by_speech() -> None:
    function = ScriptedFlowFunction(*ALL_TYPES)
    person = SimulatedPerson(
        utterances=[
            "oh ok",
            "yes I do",
            "A A",
            "three point five",
            "next monday",
            "half past three",
        ]
    )
    outcome = simulate(function, person)
    assert outcome.connected
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    assert said(outcome)[0] == (
        "system",
        "Hello Chan Tai Man. Question 1, a OK question.",
    )
    assert said(outcome)[1] == ("person", "oh ok")
    assert said(outcome)[-1] == ("system", "Thank you & goodbye.")
    assert heard(outcome) == [
        ("OkIntent", None),
        ("YesIntent", None),
        ("ChoiceIntent", "A"),
        ("NumberIntent", "3.5"),
        ("DateIntent", "2026-11-30"),
        ("TimeIntent", "03:30"),
    ]
    assert function.answers["call-1"] == [
        ("OkIntent", ""),
        ("YesIntent", ""),
        ("ChoiceIntent", "A"),
        ("NumberIntent", "3.5"),
        ("DateIntent", "2026-11-30"),
        ("TimeIntent", "03:30"),
    ]
    assert function.received[0] == {"event": "start"}
    assert function.received[3] == {
        "event": "answer",
        "intent": "ChoiceIntent",
        "answer": "A",
        "turn": "3",  # echoed from the previous response
        "question_number": "3",
    }
    assert outcome.duration_seconds > 6 * 2


def test_every_question_type_by_keypad() -> None:
    function = ScriptedFlowFunction(*ALL_TYPES)
    person = SimulatedPerson(utterances=["1", "2#", "4", "42#", "20261224#", "0930#"])
    outcome = simulate(function, person)
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    assert [text for speaker, text in said(outcome) if speaker == "person"] == [
        "[keypad] 1",
        "[keypad] 2#",
        "[keypad] 4",
        "[keypad] 42#",
        "[keypad] 20261224#",
        "[keypad] 0930#",
    ]
    assert function.answers["call-1"] == [
        ("OkIntent", ""),
        ("NoIntent", ""),
        ("ChoiceIntent", "D"),
        ("NumberIntent", "42"),
        ("DateIntent", "2026-12-24"),
        ("TimeIntent", "09:30"),
    ]


@pytest.mark.parametrize("ask_again", ["?", "repeat", "say that again"])
def test_repeat_re_asks_the_same_question(ask_again: str) -> None:
    function = ScriptedFlowFunction(QuestionType.YES_NO)
    outcome = simulate(function, SimulatedPerson(utterances=[ask_again, "yup"]))
    prompts = [text for speaker, text in said(outcome) if speaker == "system"]
    assert prompts[0].endswith("Question 1, a Yes/No question.")
    assert prompts[1] == "Question 1, a Yes/No question."
    assert heard(outcome) == [("RepeatIntent", None), ("YesIntent", None)]
    assert function.received[1] == {
        "event": "answer",
        "intent": "RepeatIntent",
        "answer": "",
        "turn": "1",
        "question_number": "1",
    }
    assert function.answers["call-1"] == [("YesIntent", "")]


def test_fallback_twice_then_the_answer_is_kept() -> None:
    function = ScriptedFlowFunction(QuestionType.MULTIPLE_CHOICE, QuestionType.OK)
    person = SimulatedPerson(utterances=["banana", "the letter zed", "I choose C", "okay"])
    outcome = simulate(function, person)
    assert heard(outcome) == [
        ("FallbackIntent", None),
        ("FallbackIntent", None),
        ("ChoiceIntent", "C"),
        ("OkIntent", None),
    ]
    assert function.answers["call-1"] == [("ChoiceIntent", "C"), ("OkIntent", "")]
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT


def test_fallback_three_times_moves_on_without_an_answer() -> None:
    function = ScriptedFlowFunction(QuestionType.NUMBER, QuestionType.OK)
    person = SimulatedPerson(utterances=["lots", "many", "heaps", "ok"])
    outcome = simulate(function, person)
    questions = [text for speaker, text in said(outcome) if "Question 1" in text]
    assert len(questions) == 3
    assert function.answers["call-1"] == [None, ("OkIntent", "")]


def test_silence_takes_the_timeout_branch() -> None:
    function = ScriptedFlowFunction(QuestionType.DATE)
    outcome = simulate(function, SimulatedPerson(utterances=["", "tomorrow"]))
    assert said(outcome)[1] == ("person", "(silence)")
    assert function.received[1] == {"event": "silence", "turn": "1", "question_number": "1"}
    assert function.answers["call-1"] == [("DateIntent", "2026-11-29")]


def test_a_person_who_runs_out_of_words_stays_silent() -> None:
    function = ScriptedFlowFunction(QuestionType.OK, QuestionType.OK)
    outcome = simulate(function, SimulatedPerson(utterances=["ok"]))
    assert [p["event"] for p in function.received] == [
        "start",
        "answer",
        "silence",
        "silence",
        "silence",
    ]
    assert function.answers["call-1"] == [("OkIntent", ""), None]
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT


def test_hang_up_midway() -> None:
    function = ScriptedFlowFunction(QuestionType.OK, QuestionType.YES_NO, QuestionType.TIME)
    person = SimulatedPerson(utterances=["ok", "yes", "noon"], hang_up_after=1)
    outcome = simulate(function, person)
    assert outcome.connected
    assert outcome.disconnect_reason == CUSTOMER_DISCONNECT
    assert said(outcome)[-2:] == [
        ("system", "Question 2, a Yes/No question."),
        ("person", "(hangs up)"),
    ]
    assert [p["event"] for p in function.received] == ["start", "answer"]
    assert function.answers["call-1"] == [("OkIntent", "")]


def test_hang_up_straight_after_picking_up() -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    outcome = simulate(function, SimulatedPerson(utterances=["ok"], hang_up_after=0))
    assert outcome.disconnect_reason == CUSTOMER_DISCONNECT
    assert function.answers["call-1"] == []


@pytest.mark.parametrize(
    ("pickup", "reason", "text"),
    [
        ("no_answer", TELECOM_UNANSWERED, "(no answer)"),
        ("busy", TELECOM_BUSY, "(busy)"),
        ("invalid", TELECOM_NUMBER_INVALID, "(number not in service)"),
    ],
)
def test_calls_that_never_connect_do_not_run_the_flow(pickup: Any, reason: str, text: str) -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    outcome = simulate(function, SimulatedPerson(pickup=pickup, utterances=["ok"]))
    assert not outcome.connected
    assert outcome.disconnect_reason == reason
    assert said(outcome) == [("system", text)]
    assert function.received == []


def test_the_function_gets_a_connect_event() -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    simulate(function, SimulatedPerson(utterances=["ok"]))
    event = function.events[0]
    assert event["Name"] == "ContactFlowEvent"
    contact = event["Details"]["ContactData"]
    assert contact["Attributes"] == {"call_id": "call-1"}
    assert contact["ContactId"] == "contact-1"
    assert contact["Channel"] == "VOICE"
    assert contact["InitiationMethod"] == "OUTBOUND"
    assert contact["CustomerEndpoint"] == {"Address": "+85291234567", "Type": "TELEPHONE_NUMBER"}
    assert event["Details"]["Parameters"] == {"event": "start"}


def test_a_failing_function_ends_the_call_with_an_apology() -> None:
    def broken(event: dict[str, Any], context: object) -> dict[str, str]:
        raise RuntimeError("DynamoDB is down")

    outcome = simulate(broken, SimulatedPerson(utterances=["ok"]))
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    assert len(outcome.transcript) == 1
    assert outcome.transcript[0].text.startswith(SORRY)


@pytest.mark.parametrize(
    "response",
    [
        {"action": "ask", "prompt": "<speak>Q</speak>", "question_number": 1},  # not a string map
        ["ask"],
        {"action": "dance", "prompt": "<speak>Q</speak>"},
        {"action": "ask", "prompt": "<speak>Q</speak>", "question_type": "Colour"},
    ],
    ids=["not-string-map", "not-a-map", "unknown-action", "unknown-question-type"],
)
def test_bad_function_responses_end_the_call_cleanly(response: Any) -> None:
    outcome = simulate(lambda event, context: response, SimulatedPerson(utterances=["ok"]))
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    assert outcome.transcript[-1].text.startswith(SORRY)
    assert all(line.speaker == "system" for line in outcome.transcript)


def test_unknown_action_type_is_an_error_not_a_skip() -> None:
    flow = copy.deepcopy(FLOW)
    next(a for a in flow["Actions"] if a["Identifier"] == "set-voice")["Type"] = "SetVoiceFancy"
    with pytest.raises(FlowExecutionError, match="the flow has problems"):
        PhoneSimulator(flow, BOTS, {"CallFlowFunctionArn": ScriptedFlowFunction()})
    unchecked = PhoneSimulator(
        flow, BOTS, {"CallFlowFunctionArn": ScriptedFlowFunction()}, check=False
    )
    with pytest.raises(FlowExecutionError, match="cannot run action type 'SetVoiceFancy'"):
        unchecked.call("c", {"call_id": "x"}, SimulatedPerson(utterances=["ok"]))


def test_a_flow_function_that_is_not_registered_is_an_error() -> None:
    simulator = PhoneSimulator(FLOW, BOTS, {})
    with pytest.raises(FlowExecutionError, match="no function registered"):
        simulator.call("c", {"call_id": "x"}, SimulatedPerson(utterances=["ok"]))


def test_rendered_flows_run_with_functions_and_bots_by_arn() -> None:
    flow = copy.deepcopy(FLOW)
    arn = "arn:aws:lambda:eu-west-2:123456789012:function:callflow"
    alias = "arn:aws:lex:eu-west-2:123456789012:bot-alias/BOT/ALIAS"
    for item in flow["Actions"]:
        if item["Type"] == "InvokeLambdaFunction":
            item["Parameters"]["LambdaFunctionARN"] = arn
        if item["Identifier"] == "ask-ok":
            item["Parameters"]["LexV2Bot"]["AliasArn"] = alias
    bots = BotLibrary(BOTS.bots, REFERENCE, alias_arns={alias: QuestionType.OK})
    function = ScriptedFlowFunction(QuestionType.OK)
    outcome = PhoneSimulator(flow, bots, {arn: function}).call(
        "c", {"call_id": "call-1"}, SimulatedPerson(utterances=["okay"])
    )
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    assert function.answers["call-1"] == [("OkIntent", "")]


def test_a_flow_that_never_ends_is_stopped() -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    flow = copy.deepcopy(FLOW)
    for item in flow["Actions"]:
        if item["Identifier"] == "say-ending":
            item["Transitions"] = {
                "NextAction": "say-ending",
                "Errors": [{"NextAction": "hang-up", "ErrorType": "NoMatchingError"}],
            }
    simulator = PhoneSimulator(flow, BOTS, {"CallFlowFunctionArn": function}, max_steps=50)
    with pytest.raises(FlowExecutionError, match="ran 50 actions"):
        simulator.call("c", {"call_id": "call-1"}, SimulatedPerson(utterances=["ok"]))


def test_an_intent_without_a_condition_still_reaches_the_function() -> None:
    flow = copy.deepcopy(FLOW)
    ask_ok = next(a for a in flow["Actions"] if a["Identifier"] == "ask-ok")
    ask_ok["Transitions"]["Conditions"] = [
        c for c in ask_ok["Transitions"]["Conditions"] if c["Condition"]["Operands"] != ["OkIntent"]
    ]
    function = ScriptedFlowFunction(QuestionType.OK)
    outcome = simulate(function, SimulatedPerson(utterances=["okay"]), flow)
    assert function.answers["call-1"] == [("OkIntent", "")]  # via the NoMatchingCondition branch
    assert outcome.path[outcome.path.index("ask-ok") + 1] == "invoke-answer"


def test_the_scenarios_cover_every_action_of_the_flow() -> None:
    def broken(event: dict[str, Any], context: object) -> dict[str, str]:
        raise RuntimeError("down")

    speech = SimulatedPerson(utterances=["", "ok", "yes", "B", "7", "tomorrow", "noon"])
    unknown_voice = ScriptedFlowFunction(QuestionType.OK)
    unknown_voice.voice = "Bob"
    outcomes = [
        simulate(ScriptedFlowFunction(*ALL_TYPES), speech),
        simulate(broken, SimulatedPerson()),
        simulate(unknown_voice, SimulatedPerson(utterances=["ok"])),
        # the bot fails and the flow hears the opt-out key itself
        simulate(
            ScriptedFlowFunction(QuestionType.OK), SimulatedPerson(utterances=["*"], bot_fails=True)
        ),
    ]
    visited = {identifier for outcome in outcomes for identifier in outcome.path}
    assert visited == {action["Identifier"] for action in FLOW["Actions"]}
    assert outcomes[0].path[:6] == [
        "logging-on",
        "invoke-start",
        "set-voice",
        "set-language",
        "check-action",
        "check-question-type",
    ]
    assert outcomes[0].path[-2:] == ["say-ending", "hang-up"]
    assert outcomes[1].path[-2:] == ["say-sorry", "hang-up"]


LOOP_FLOW: dict[str, Any] = {
    "Version": "2019-10-30",
    "StartAction": "remember",
    "Actions": [
        {
            "Identifier": "remember",
            "Type": "UpdateContactAttributes",
            "Parameters": {"Attributes": {"greeting": "Hi there"}},
            "Transitions": {
                "NextAction": "three-times",
                "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}],
            },
        },
        {
            "Identifier": "three-times",
            "Type": "Loop",
            "Parameters": {"LoopCount": "3"},
            "Transitions": {
                "NextAction": "bye",
                "Conditions": [
                    {
                        "NextAction": "say-hi",
                        "Condition": {"Operator": "Equals", "Operands": ["ContinueLooping"]},
                    },
                    {
                        "NextAction": "bye",
                        "Condition": {"Operator": "Equals", "Operands": ["DoneLooping"]},
                    },
                ],
            },
        },
        {
            "Identifier": "say-hi",
            "Type": "MessageParticipant",
            "Parameters": {"Text": "$.Attributes.greeting"},
            "Transitions": {
                "NextAction": "three-times",
                "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}],
            },
        },
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    ],
}


def test_loop_and_contact_attributes() -> None:
    outcome = PhoneSimulator(LOOP_FLOW, BOTS, {}).call("c", {}, SimulatedPerson())
    assert said(outcome) == [("system", "Hi there")] * 3
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT


def test_duration_is_simulated_from_words_and_answers() -> None:
    short = simulate(ScriptedFlowFunction(QuestionType.OK), SimulatedPerson(utterances=["ok"]))
    longer = simulate(
        ScriptedFlowFunction(QuestionType.OK, QuestionType.OK),
        SimulatedPerson(utterances=["ok", "ok"]),
    )
    assert 0 < short.duration_seconds < longer.duration_seconds
    again = simulate(ScriptedFlowFunction(QuestionType.OK), SimulatedPerson(utterances=["ok"]))
    assert again.duration_seconds == short.duration_seconds


def test_spoken_text_strips_ssml() -> None:
    assert spoken_text('<speak>Hi <break time="1s"/> O&apos;Neil</speak>') == "Hi O'Neil"
    assert TranscriptLine("system", "x") == TranscriptLine("system", "x")


# ------------------------------------------------------------ against the real flow Lambda logic


class _MemoryStore:
    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}

    def create(self, session: Any) -> None:
        self.sessions[session.call_id] = json.dumps(session.to_json())

    def get(self, call_id: str) -> Any:
        from backend.domain.session import CallSession

        raw = self.sessions.get(call_id)
        return CallSession.from_json(raw) if raw else None

    def save(self, session: Any) -> None:
        self.sessions[session.call_id] = json.dumps(session.to_json())


class _Completion:
    def __init__(self) -> None:
        self.results: list[CallResult] = []

    def complete(self, session: Any, result: CallResult) -> None:
        self.results.append(result)


def test_against_the_real_flow_handler() -> None:
    call_flow = pytest.importorskip("backend.domain.call_flow")
    session_module = pytest.importorskip("backend.domain.session")
    types = (QuestionType.YES_NO, QuestionType.MULTIPLE_CHOICE, QuestionType.DATE)
    job = CallJob(
        job_id="job-voice",
        questions=tuple(Question(template=f"q{i}", type=t) for i, t in enumerate(types)),
        receivers=(Receiver(id="r1", phone_number="+85291234567"),),
    )
    prompts = Prompts(
        "<speak>Hello.</speak>",
        ("<speak>Coming?</speak>", "<speak>Which?</speak>", "<speak>When?</speak>"),
        "<speak>Bye.</speak>",
    )
    now = datetime(2026, 11, 28, 10, tzinfo=UTC)
    session = session_module.CallSession.new(job, job.receivers[0], 1, prompts, now=now)
    store, completion = _MemoryStore(), _Completion()
    store.create(session)

    def function(event: dict[str, Any], context: object) -> dict[str, str]:
        result: dict[str, str] = call_flow.handle_flow_event(
            event, store, completion, now=lambda: now
        )
        return result

    person = SimulatedPerson(utterances=["pardon", "yes I do", "um", "letter b", "tomorrow"])
    outcome = simulate_with(function, person, session.call_id)
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT
    prompts_said = [text for speaker, text in said(outcome) if speaker == "system"]
    assert prompts_said[0].startswith("Hello.")
    assert prompts_said[-1] == "Bye."
    (result,) = completion.results
    assert result.status is CallStatus.CALL_COMPLETED
    assert result.answers == ("Yes", "B", "2026-11-29")


def simulate_with(function: Any, person: SimulatedPerson, call_id: str) -> CallOutcome:
    simulator = PhoneSimulator(FLOW, BOTS, {"CallFlowFunctionArn": function})
    return simulator.call("contact-9", {"call_id": call_id}, person)


# ------------------------------------------------------------ voice, transcripts, hang-ups


def test_the_voice_named_by_the_start_response_is_set() -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    function.voice = "Amy"
    outcome = simulate(function, SimulatedPerson(utterances=["ok"]))
    assert outcome.voice == "Amy"
    assert "set-default-voice" not in outcome.path


@pytest.mark.parametrize("voice", ["Bob", "", "amy"])
def test_a_voice_connect_would_refuse_falls_back_to_the_default(voice: str) -> None:
    function = ScriptedFlowFunction(QuestionType.OK)
    function.voice = voice
    outcome = simulate(function, SimulatedPerson(utterances=["ok"]))
    assert outcome.voice == "Joanna"
    assert outcome.path[2:6] == ["set-voice", "set-default-voice", "set-language", "check-action"]
    assert function.answers["call-1"] == [("OkIntent", "")]  # the call goes on
    assert outcome.disconnect_reason == CONTACT_FLOW_DISCONNECT


def test_the_transcript_holds_every_prompt_and_every_reply_in_order() -> None:
    function = ScriptedFlowFunction(QuestionType.YES_NO, QuestionType.NUMBER)
    person = SimulatedPerson(utterances=["?", "yes", "", "many", "12#"])
    outcome = simulate(function, person)
    assert said(outcome) == [
        ("system", "Hello Chan Tai Man. Question 1, a Yes/No question."),
        ("person", "repeat"),  # "?" is the answers file's shorthand for it
        ("system", "Question 1, a Yes/No question."),
        ("person", "yes"),
        ("system", "Question 2, a Number question."),
        ("person", "(silence)"),
        ("system", "Question 2, a Number question."),
        ("person", "many"),
        ("system", "Question 2, a Number question."),
        ("person", "[keypad] 12#"),
        ("system", "Thank you & goodbye."),
    ]
    assert heard(outcome) == [
        ("RepeatIntent", None),
        ("YesIntent", None),
        (None, None),
        ("FallbackIntent", None),
        ("NumberIntent", "12"),
    ]


def real_call(
    types: tuple[QuestionType, ...],
    person: SimulatedPerson,
    voice: str = "Joanna",
    voicemail: str = "",
) -> tuple[CallOutcome, Any, _Completion]:
    """One call through the real flow Lambda logic; returns the outcome, session and completion."""
    from backend.domain.call_flow import handle_flow_event
    from backend.domain.models import JobSettings
    from backend.domain.session import CallSession

    job = CallJob(
        job_id="job-hang",
        questions=tuple(Question(template=f"q{i}", type=t) for i, t in enumerate(types)),
        receivers=(Receiver(id="r1", phone_number="+85291234567"),),
        settings=JobSettings(voice=voice),
    )
    prompts = Prompts(
        "<speak>Hello.</speak>",
        tuple(f"<speak>Question {i + 1}?</speak>" for i in range(len(types))),
        "<speak>Bye.</speak>",
        voicemail,
    )
    now = datetime(2026, 11, 28, 10, tzinfo=UTC)
    session = CallSession.new(job, job.receivers[0], 1, prompts, now=now)
    store, completion = _MemoryStore(), _Completion()
    store.create(session)

    def function(event: dict[str, Any], context: object) -> dict[str, str]:
        return handle_flow_event(event, store, completion, now=lambda: now)

    outcome = simulate_with(function, person, session.call_id)
    return outcome, store.get(session.call_id), completion


@pytest.mark.parametrize("k", [0, 1, 2])
def test_hanging_up_after_k_answers_keeps_exactly_k_answers(k: int) -> None:
    types = (QuestionType.OK, QuestionType.YES_NO, QuestionType.MULTIPLE_CHOICE)
    # A repeat and a misunderstanding along the way are not answers.
    person = SimulatedPerson(utterances=["?", "ok", "banana", "yes", "B"], hang_up_after=k)
    outcome, session, completion = real_call(types, person)
    assert outcome.disconnect_reason == CUSTOMER_DISCONNECT
    assert completion.results == []  # the flow never reached the end
    result = session.end_from_disconnect(outcome.disconnect_reason, outcome.connected)
    if k == 0:  # picked up and hung up before answering anything (docs/statuses.md)
        assert (result.status, result.answers) == (CallStatus.NO_HUMAN, ())
    else:
        assert result.status is CallStatus.DROP_CALL
        expected = ("OK", "Yes", "B")[:k]
        assert result.answers == expected + (None,) * (3 - k)
    assert [line.text for line in outcome.transcript][-1] == "(hangs up)"


@pytest.mark.parametrize("pickup", ["voicemail", "silent"])
def test_a_voicemail_or_a_silent_person_ends_early_as_no_human(pickup: Any) -> None:
    types = (QuestionType.YES_NO, QuestionType.NUMBER, QuestionType.DATE)
    outcome, session, completion = real_call(types, SimulatedPerson(pickup=pickup))
    (result,) = completion.results
    assert result.status is CallStatus.NO_HUMAN
    assert result.answers == ()
    # two turns on the first question, then a silent hang-up: no ending, no third question
    assert outcome.path[-2:] == ["check-action", "hang-up"]
    assert "say-ending" not in outcome.path
    asked = [text for speaker, text in said(outcome) if speaker == "system"]
    assert asked == ["Hello. Question 1?", "Sorry, I didn't catch that. Question 1?"]
    assert outcome.duration_seconds < 60
    assert session.end_from_disconnect(outcome.disconnect_reason, True) == result


def test_the_voicemail_message_is_left_before_hanging_up() -> None:
    outcome, _, completion = real_call(
        (QuestionType.OK,),
        SimulatedPerson(pickup="voicemail"),
        voicemail="<speak>This is your school. We will call again.</speak>",
    )
    assert completion.results[0].status is CallStatus.NO_HUMAN
    assert outcome.path[-2:] == ["say-ending", "hang-up"]
    assert said(outcome)[-1] == ("system", "This is your school. We will call again.")


def test_an_answering_machine_greeting_is_understood_by_no_bot() -> None:
    from backend.local.simulator.people import VOICEMAIL_GREETING

    for question_type in QuestionType:
        assert BOTS.match(question_type, VOICEMAIL_GREETING).intent == "FallbackIntent"


def test_hanging_up_during_the_ending_keeps_the_completed_call() -> None:
    types = (QuestionType.OK,)
    outcome, session, completion = real_call(
        types, SimulatedPerson(utterances=["ok"], hang_up_after=1)
    )
    (result,) = completion.results
    assert result.status is CallStatus.CALL_COMPLETED
    assert session.end_from_disconnect(outcome.disconnect_reason, True) == result


def test_the_real_handler_sets_the_jobs_voice() -> None:
    outcome, _, completion = real_call(
        (QuestionType.OK,), SimulatedPerson(utterances=["ok"]), voice="Brian"
    )
    assert outcome.voice == "Brian"
    assert completion.results[0].answers == ("OK",)


@pytest.mark.parametrize("count", ["three", "", "$.External.missing"])
def test_a_loop_count_that_is_not_a_number_is_a_flow_error(count: str) -> None:
    flow = copy.deepcopy(LOOP_FLOW)
    flow["Actions"][1]["Parameters"]["LoopCount"] = count
    simulator = PhoneSimulator(flow, BOTS, {}, check=False)
    with pytest.raises(FlowExecutionError, match="three-times: LoopCount"):
        simulator.call("c", {}, SimulatedPerson())


def test_the_checker_refuses_a_static_loop_count_that_is_not_a_number() -> None:
    flow = copy.deepcopy(LOOP_FLOW)
    flow["Actions"][1]["Parameters"]["LoopCount"] = "three"
    with pytest.raises(FlowExecutionError, match="LoopCount must be a whole number"):
        PhoneSimulator(flow, BOTS, {})
