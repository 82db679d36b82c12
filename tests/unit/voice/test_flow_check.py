"""The flow checker on every shipped flow file, and each of its rules shown to fire."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.domain.models import QuestionType
from backend.flows import (
    CONTACT_FLOWS_DIR,
    FLOW_PLACEHOLDERS,
    OUTBOUND_CALL_FLOW,
    FlowFileError,
    check_flow,
    flow_placeholders,
    load_flow,
    render_flow,
)

FLOW_FILES = sorted(CONTACT_FLOWS_DIR.glob("*.json"))


def action(flow: dict[str, Any], identifier: str) -> dict[str, Any]:
    return next(a for a in flow["Actions"] if a["Identifier"] == identifier)


@pytest.fixture
def flow() -> dict[str, Any]:
    return copy.deepcopy(load_flow())


def test_there_is_a_flow_file() -> None:
    assert OUTBOUND_CALL_FLOW in FLOW_FILES


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda path: path.name)
def test_every_flow_file_passes_the_checker(path: Path) -> None:
    assert check_flow(load_flow(path)) == []


def test_flow_uses_every_bot_and_only_known_placeholders() -> None:
    text = OUTBOUND_CALL_FLOW.read_text()
    assert flow_placeholders(text) == set(FLOW_PLACEHOLDERS)
    for question_type in QuestionType:
        assert "${" + f"{question_type.key}BotAliasArn" + "}" in text


def test_flow_shape_follows_the_voice_contract(flow: dict[str, Any]) -> None:
    lambdas = [a for a in flow["Actions"] if a["Type"] == "InvokeLambdaFunction"]
    events = sorted(a["Parameters"]["LambdaInvocationAttributes"]["event"] for a in lambdas)
    assert events == ["answer", "opt_out", "silence", "start"]
    for invoke in lambdas:
        assert invoke["Parameters"]["LambdaFunctionARN"] == "${CallFlowFunctionArn}"
        assert invoke["Parameters"]["ResponseValidation"] == {"ResponseType": "STRING_MAP"}
        assert invoke["Parameters"]["InvocationTimeLimitSeconds"] == "8"
    answer = action(flow, "invoke-answer")["Parameters"]["LambdaInvocationAttributes"]
    assert answer == {
        "event": "answer",
        "intent": "$.Lex.IntentName",
        "answer": "$.Lex.Slots.answer",
        "turn": "$.External.turn",
        "question_number": "$.External.question_number",
    }
    silence = action(flow, "invoke-silence")["Parameters"]["LambdaInvocationAttributes"]
    assert silence == {
        "event": "silence",
        "turn": "$.External.turn",
        "question_number": "$.External.question_number",
    }
    bots = [a for a in flow["Actions"] if a["Type"] == "ConnectParticipantWithLexBot"]
    assert len(bots) == len(QuestionType)
    for bot in bots:
        assert bot["Parameters"]["SSML"] == "$.External.prompt"
    # Nothing but the call id may ever go into contact attributes.
    assert not [a for a in flow["Actions"] if a["Type"] == "UpdateContactAttributes"]


def test_render_flow_substitutes_every_placeholder() -> None:
    values = {name: f"arn:aws:test:{name}" for name in FLOW_PLACEHOLDERS}
    rendered = render_flow(values)
    assert "${" not in rendered
    parsed = json.loads(rendered)
    assert action(parsed, "ask-yes-no")["Parameters"]["LexV2Bot"]["AliasArn"] == (
        "arn:aws:test:YesNoBotAliasArn"
    )
    assert action(parsed, "invoke-start")["Parameters"]["LambdaFunctionARN"] == (
        "arn:aws:test:CallFlowFunctionArn"
    )


def test_render_flow_names_missing_placeholders() -> None:
    with pytest.raises(FlowFileError, match="DateBotAliasArn"):
        render_flow({name: "x" for name in FLOW_PLACEHOLDERS if name != "DateBotAliasArn"})


def test_load_flow_reports_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"Version": ')
    with pytest.raises(FlowFileError, match=r"broken.json: invalid JSON at line 1"):
        load_flow(path)


def _remove_error(flow: dict[str, Any]) -> None:
    errors = action(flow, "ask-date")["Transitions"]["Errors"]
    errors[:] = [e for e in errors if e["ErrorType"] != "InputTimeLimitExceeded"]


def _orphan(flow: dict[str, Any]) -> None:
    orphan = copy.deepcopy(action(flow, "say-sorry"))
    orphan["Identifier"] = "orphan"
    flow["Actions"].append(orphan)


def _duplicate(flow: dict[str, Any]) -> None:
    flow["Actions"].append(copy.deepcopy(action(flow, "hang-up")))


def _rename(flow: dict[str, Any], old: str, new: str) -> None:
    for item in flow["Actions"]:
        if item["Identifier"] == old:
            item["Identifier"] = new
    text = json.dumps(flow["Actions"]).replace(f'"{old}"', f'"{new}"')
    flow["Actions"] = json.loads(text)


BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("version", lambda f: f.update(Version="2020-01-01"), "Version must be '2019-10-30'"),
    ("no start", lambda f: f.pop("StartAction"), "StartAction is missing"),
    ("bad start", lambda f: f.update(StartAction="nowhere"), "StartAction 'nowhere' is not"),
    ("no actions", lambda f: f.update(Actions=[]), "Actions must be a non-empty list"),
    ("duplicate id", _duplicate, "hang-up: Identifier is used by more than one action"),
    ("long id", lambda f: _rename(f, "say-sorry", "s" * 51), "longer than 50 characters"),
    ("bad chars", lambda f: _rename(f, "say-sorry", "say sorry!"), "may only hold letters"),
    (
        "missing target",
        lambda f: action(f, "set-voice")["Transitions"].update(NextAction="gone"),
        "set-voice: NextAction 'gone' does not exist",
    ),
    (
        "missing condition target",
        lambda f: action(f, "check-action")["Transitions"]["Conditions"][0].update(
            NextAction="gone"
        ),
        "check-action: condition 1 goes to 'gone'",
    ),
    (
        "missing error target",
        lambda f: action(f, "invoke-start")["Transitions"]["Errors"][0].update(NextAction="gone"),
        "invoke-start: error NoMatchingError goes to 'gone'",
    ),
    ("unreachable", _orphan, "orphan: unreachable from StartAction"),
    (
        "unknown type",
        lambda f: action(f, "set-voice").update(Type="TransferToQueue"),
        "set-voice: action type 'TransferToQueue' is not supported",
    ),
    (
        "no next action",
        lambda f: action(f, "logging-on")["Transitions"].pop("NextAction"),
        "logging-on: NextAction is missing",
    ),
    ("missing error branch", _remove_error, "ask-date: no branch for error InputTimeLimitExceeded"),
    (
        "foreign error type",
        lambda f: action(f, "check-action")["Transitions"]["Errors"].append(
            {"NextAction": "hang-up", "ErrorType": "InputTimeLimitExceeded"}
        ),
        "check-action: Compare never raises ErrorType 'InputTimeLimitExceeded'",
    ),
    (
        "terminal with transitions",
        lambda f: action(f, "hang-up")["Transitions"].update(NextAction="say-sorry"),
        "hang-up: DisconnectParticipant ends the call",
    ),
    (
        "unknown placeholder",
        lambda f: action(f, "ask-ok")["Parameters"]["LexV2Bot"].update(AliasArn="${OkBotArn}"),
        "unknown placeholder ${OkBotArn}",
    ),
    (
        "unknown reference",
        lambda f: action(f, "ask-ok")["Parameters"].update(SSML="$.Lex.SessionAttributes"),
        "ask-ok: '$.Lex.SessionAttributes'",
    ),
    (
        "bad operator",
        lambda f: action(f, "check-action")["Transitions"]["Conditions"][0]["Condition"].update(
            Operator="Matches"
        ),
        "unknown Operator 'Matches'",
    ),
    (
        "lambda time limit",
        lambda f: action(f, "invoke-start")["Parameters"].update(InvocationTimeLimitSeconds="30"),
        "InvocationTimeLimitSeconds must be",
    ),
    (
        "two prompts",
        lambda f: action(f, "say-sorry")["Parameters"].update(Text="hello"),
        "say-sorry: give only one of Text, SSML or PromptId",
    ),
    (
        "missing parameter",
        lambda f: action(f, "check-action")["Parameters"].pop("ComparisonValue"),
        "check-action: Compare needs the parameter ComparisonValue",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [(b[1], b[2]) for b in BREAKAGES],
    ids=[b[0] for b in BREAKAGES],
)
def test_each_rule_fires_on_a_broken_flow(
    flow: dict[str, Any], breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    breakage(flow)
    problems = check_flow(flow)
    assert any(expected in problem for problem in problems), problems


def test_not_an_object() -> None:
    assert check_flow([1, 2]) == [
        "the flow must be a JSON object with Version, StartAction and Actions"
    ]


def test_the_voice_is_the_one_the_start_response_names(flow: dict[str, Any]) -> None:
    assert action(flow, "invoke-start")["Transitions"]["NextAction"] == "set-voice"
    set_voice = action(flow, "set-voice")
    assert set_voice["Type"] == "UpdateContactTextToSpeechVoice"
    assert set_voice["Parameters"]["TextToSpeechVoice"] == "$.External.voice"
    assert set_voice["Transitions"]["NextAction"] == "set-language"
    # A voice Connect refuses falls back to the default rather than dropping the call.
    (error,) = set_voice["Transitions"]["Errors"]
    fallback = action(flow, error["NextAction"])
    assert fallback["Type"] == "UpdateContactTextToSpeechVoice"
    assert fallback["Parameters"]["TextToSpeechVoice"] == "Joanna"
    assert fallback["Transitions"]["NextAction"] == "set-language"


def test_the_language_is_the_one_the_start_response_names(flow: dict[str, Any]) -> None:
    """Connect's "Set language attribute": the contact's language is the bots' locale."""
    set_language = action(flow, "set-language")
    assert set_language["Type"] == "UpdateContactData"
    assert set_language["Parameters"] == {"LanguageCode": "$.External.language"}
    assert set_language["Transitions"]["NextAction"] == "check-action"
    (error,) = set_language["Transitions"]["Errors"]
    assert error["NextAction"] == "say-sorry"  # a bot in the wrong language would mishear


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("es-US", None),
        ("$.External.language", None),
        ("xx-YY", "set-language: LanguageCode 'xx-YY' is not a supported language"),
    ],
)
def test_static_languages_are_checked(flow: dict[str, Any], code: str, problem: str | None) -> None:
    action(flow, "set-language")["Parameters"]["LanguageCode"] = code
    problems = check_flow(flow)
    assert problems == [] if problem is None else any(problem in p for p in problems)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"TextToSpeechVoice": "Bob"}, "'Bob' is not a Polly neural voice of a supported language"),
        (
            {"TextToSpeechVoice": "Joanna", "TextToSpeechEngine": "Turbo"},
            "TextToSpeechEngine 'Turbo' is not one of",
        ),
        ({"TextToSpeechVoice": "$.External.voice", "TextToSpeechEngine": "Neural"}, None),
    ],
)
def test_static_voices_and_engines_are_checked(
    flow: dict[str, Any], parameters: dict[str, str], expected: str | None
) -> None:
    action(flow, "set-default-voice")["Parameters"] = parameters
    problems = check_flow(flow)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems
