"""The Lex V2 bot files: CloudFormation shape, the contract's names, what each bot understands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.domain.answers import normalise_answer
from backend.domain.models import QuestionType
from backend.flows import (
    BOT_FILES,
    LEX_BOTS_DIR,
    FlowFileError,
    bot_definitions,
    load_bot,
)
from backend.local.simulator import BotLibrary
from backend.local.simulator.slot_values import parse_date, parse_number, parse_time

REFERENCE = date(2026, 11, 28)  # a Saturday
BOTS = bot_definitions()
LIBRARY = BotLibrary(BOTS, reference_date=REFERENCE)

ANSWER_INTENTS = {
    QuestionType.OK: {"OkIntent"},
    QuestionType.YES_NO: {"YesIntent", "NoIntent"},
    QuestionType.MULTIPLE_CHOICE: {"ChoiceIntent"},
    QuestionType.NUMBER: {"NumberIntent"},
    QuestionType.DATE: {"DateIntent"},
    QuestionType.TIME: {"TimeIntent"},
}
SLOT_TYPES = {
    QuestionType.MULTIPLE_CHOICE: "ChoiceLetter",
    QuestionType.NUMBER: "AMAZON.Number",
    QuestionType.DATE: "AMAZON.Date",
    QuestionType.TIME: "AMAZON.Time",
}


def test_one_file_per_question_type() -> None:
    assert set(BOTS) == set(QuestionType)
    assert sorted(path.name for path in LEX_BOTS_DIR.glob("*.json")) == sorted(BOT_FILES.values())


@pytest.mark.parametrize("question_type", list(QuestionType), ids=lambda q: q.key)
@pytest.mark.parametrize("locale_id", ["en_US", "es_US"])
def test_bot_is_a_cloudformation_bot_locale(question_type: QuestionType, locale_id: str) -> None:
    """Every locale of every bot (en_US as written, the others generated) has the contract's
    intents, slots and a "stop" that works."""
    bot = BOTS[question_type]
    raw = json.loads(bot.path.read_text())
    assert set(raw) == {"Name", "Description", "BotLocales", "Callouts"}
    assert bot.cfn_properties()["BotLocales"][0] == raw["BotLocales"][0]
    assert [loc["LocaleId"] for loc in bot.cfn_properties()["BotLocales"]] == ["en_US", "es_US"]
    locale = bot.locales[locale_id]
    assert locale["LocaleId"] == locale_id
    assert 0 < locale["NluConfidenceThreshold"] <= 1
    names = [intent["Name"] for intent in locale["Intents"]]
    assert set(names) == ANSWER_INTENTS[question_type] | {
        "OptOutIntent",
        "RepeatIntent",
        "FallbackIntent",
    }
    assert len(names) == len(set(names))
    by_name: dict[str, dict[str, Any]] = {intent["Name"]: intent for intent in locale["Intents"]}
    assert by_name["RepeatIntent"]["ParentIntentSignature"] == "AMAZON.RepeatIntent"
    assert by_name["FallbackIntent"]["ParentIntentSignature"] == "AMAZON.FallbackIntent"
    for built_in in ("RepeatIntent", "FallbackIntent"):
        assert "SampleUtterances" not in by_name[built_in]  # Lex rejects them on built-ins
    opt_out = by_name["OptOutIntent"]  # "stop" in every bot, and the star key
    opt_out_utterances = {item["Utterance"] for item in opt_out["SampleUtterances"]}
    assert {"stop", "*"} <= opt_out_utterances
    assert {"stop calling me", "remove me", "unsubscribe"} <= opt_out_utterances or {
        "alto",
        "no me llame",
        "quíteme de la lista",
    } <= opt_out_utterances
    assert "Slots" not in opt_out
    for name in ANSWER_INTENTS[question_type]:
        intent = by_name[name]
        utterances = [item["Utterance"] for item in intent["SampleUtterances"]]
        assert utterances
        assert len(utterances) == len({u.lower() for u in utterances})
        if question_type in SLOT_TYPES:
            (slot,) = intent["Slots"]
            assert slot["Name"] == "answer"
            assert slot["SlotTypeName"] == SLOT_TYPES[question_type]
            assert slot["ValueElicitationSetting"]["SlotConstraint"] == "Required"
            assert slot["ValueElicitationSetting"]["PromptSpecification"]["MessageGroupsList"]
            assert intent["SlotPriorities"] == [{"Priority": 1, "SlotName": "answer"}]
            assert all("{answer}" in u or not u.count("{") for u in utterances)
        else:
            assert "Slots" not in intent
    assert raw["Callouts"]["AliasPlaceholder"] == f"{question_type.key}BotAliasArn"
    assert raw["Callouts"]["KeypadHint"]


def test_choice_letter_slot_type() -> None:
    (slot_type,) = BOTS[QuestionType.MULTIPLE_CHOICE].locale["SlotTypes"]
    assert slot_type["Name"] == "ChoiceLetter"
    assert slot_type["ValueSelectionSetting"] == {"ResolutionStrategy": "TOP_RESOLUTION"}
    values = [entry["SampleValue"]["Value"] for entry in slot_type["SlotTypeValues"]]
    assert values == ["A", "B", "C", "D", "E"]
    synonyms = BOTS[QuestionType.MULTIPLE_CHOICE].slot_types["ChoiceLetter"]
    assert {"A A", "letter a", "option a", "1"} <= set(synonyms["A"])
    assert "5" in synonyms["E"]


SPOKEN: list[tuple[QuestionType, str, str, str | None]] = [
    # the original Lex V1 bots' utterances
    (QuestionType.OK, "okay", "OkIntent", None),
    (QuestionType.OK, "oh ok", "OkIntent", None),
    (QuestionType.OK, "ok", "OkIntent", None),
    (QuestionType.OK, "Oh, OK.", "OkIntent", None),
    (QuestionType.YES_NO, "yes I do", "YesIntent", None),
    (QuestionType.YES_NO, "yup", "YesIntent", None),
    (QuestionType.YES_NO, "Yeah", "YesIntent", None),
    (QuestionType.YES_NO, "sure", "YesIntent", None),
    (QuestionType.YES_NO, "correct", "YesIntent", None),
    (QuestionType.YES_NO, "no", "NoIntent", None),
    (QuestionType.YES_NO, "nope", "NoIntent", None),
    (QuestionType.YES_NO, "No, I don't", "NoIntent", None),
    (QuestionType.MULTIPLE_CHOICE, "A", "ChoiceIntent", "A"),
    (QuestionType.MULTIPLE_CHOICE, "A A", "ChoiceIntent", "A"),
    (QuestionType.MULTIPLE_CHOICE, "b please", "ChoiceIntent", "B"),
    (QuestionType.MULTIPLE_CHOICE, "I choose C", "ChoiceIntent", "C"),
    (QuestionType.MULTIPLE_CHOICE, "option d", "ChoiceIntent", "D"),
    (QuestionType.MULTIPLE_CHOICE, "letter E", "ChoiceIntent", "E"),
    (QuestionType.MULTIPLE_CHOICE, "the second one", "ChoiceIntent", "B"),
    (QuestionType.NUMBER, "twelve", "NumberIntent", "12"),
    (QuestionType.NUMBER, "three point five", "NumberIntent", "3.5"),
    (QuestionType.NUMBER, "it is 42", "NumberIntent", "42"),
    (QuestionType.NUMBER, "one hundred and five", "NumberIntent", "105"),
    (QuestionType.DATE, "2026-11-30", "DateIntent", "2026-11-30"),
    (QuestionType.DATE, "today", "DateIntent", "2026-11-28"),
    (QuestionType.DATE, "tomorrow", "DateIntent", "2026-11-29"),
    (QuestionType.DATE, "next monday", "DateIntent", "2026-11-30"),
    (QuestionType.DATE, "30 November", "DateIntent", "2026-11-30"),
    (QuestionType.DATE, "on the 1st of December", "DateIntent", "2026-12-01"),
    (QuestionType.DATE, "January 5th", "DateIntent", "2027-01-05"),
    (QuestionType.TIME, "3 pm", "TimeIntent", "15:00"),
    (QuestionType.TIME, "15:30", "TimeIntent", "15:30"),
    (QuestionType.TIME, "half past three", "TimeIntent", "03:30"),
    (QuestionType.TIME, "noon", "TimeIntent", "12:00"),
    (QuestionType.TIME, "at 10 a.m.", "TimeIntent", "10:00"),
    (QuestionType.TIME, "quarter to five in the afternoon", "TimeIntent", "16:45"),
]


@pytest.mark.parametrize(
    ("question_type", "utterance", "intent", "answer"),
    SPOKEN,
    ids=[f"{q.key}-{u}" for q, u, _, _ in SPOKEN],
)
def test_spoken_answers(
    question_type: QuestionType, utterance: str, intent: str, answer: str | None
) -> None:
    result = LIBRARY.match(question_type, utterance)
    assert result.intent == intent
    assert result.slots.get("answer") == answer
    # and the core turns what Lex gives into a canonical answer
    assert normalise_answer(question_type, result.intent, result.slots) is not None


KEYPAD = [
    (QuestionType.OK, "1", "OkIntent", None),
    (QuestionType.YES_NO, "1", "YesIntent", None),
    (QuestionType.YES_NO, "2", "NoIntent", None),
    (QuestionType.MULTIPLE_CHOICE, "3", "ChoiceIntent", "C"),
    (QuestionType.NUMBER, "42", "NumberIntent", "42"),
    (QuestionType.DATE, "20261224", "DateIntent", "2026-12-24"),
    (QuestionType.TIME, "0930", "TimeIntent", "09:30"),
]


@pytest.mark.parametrize(("question_type", "digits", "intent", "answer"), KEYPAD)
def test_keypad_answers(
    question_type: QuestionType, digits: str, intent: str, answer: str | None
) -> None:
    result = LIBRARY.match(question_type, digits)
    assert (result.intent, result.slots.get("answer")) == (intent, answer)


@pytest.mark.parametrize("question_type", list(QuestionType), ids=lambda q: q.key)
@pytest.mark.parametrize("utterance", ["repeat", "say that again", "Pardon?", "what", "sorry"])
def test_every_bot_understands_repeat(question_type: QuestionType, utterance: str) -> None:
    assert LIBRARY.match(question_type, utterance).intent == "RepeatIntent"


@pytest.mark.parametrize(
    ("question_type", "utterance"),
    [
        (QuestionType.OK, "banana"),
        (QuestionType.YES_NO, "maybe"),
        (QuestionType.YES_NO, "3"),
        (QuestionType.MULTIPLE_CHOICE, "F"),
        (QuestionType.MULTIPLE_CHOICE, "6"),
        (QuestionType.NUMBER, "lots"),
        (QuestionType.DATE, "the 31st of February"),
        (QuestionType.TIME, "25:00"),
        (QuestionType.TIME, "whenever"),
    ],
)
def test_anything_else_is_fallback(question_type: QuestionType, utterance: str) -> None:
    result = LIBRARY.match(question_type, utterance)
    assert result.intent == "FallbackIntent"
    assert normalise_answer(question_type, result.intent, result.slots) is None


def test_a_bot_only_knows_its_own_answers() -> None:
    assert LIBRARY.match(QuestionType.OK, "A").intent == "FallbackIntent"
    assert LIBRARY.match(QuestionType.NUMBER, "yes").intent == "FallbackIntent"


def test_number_parser() -> None:
    assert parse_number("minus two") == "-2"
    assert parse_number("1,000") == "1000"
    assert parse_number("a hundred") == "100"
    assert parse_number("twenty one") == "21"
    assert parse_number("point") is None
    assert parse_number("") is None


def test_date_parser_is_relative_to_the_reference_date() -> None:
    assert parse_date("monday", date(2026, 11, 30)) == "2026-11-30"
    assert parse_date("next monday", date(2026, 11, 30)) == "2026-12-07"
    assert parse_date("11/30/2026", REFERENCE) == "2026-11-30"
    assert parse_date("30 November", date(2026, 12, 1)) == "2027-11-30"
    assert parse_date("whenever", REFERENCE) is None


def test_time_parser() -> None:
    assert parse_time("midnight") == "00:00"
    assert parse_time("twelve am") == "00:00"
    assert parse_time("seven in the evening") == "19:00"
    assert parse_time("ten o'clock") == "10:00"
    assert parse_time("three thirty") == "03:30"


def test_bad_bot_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"Name": "x"}))
    with pytest.raises(FlowFileError, match=r"ok.json: not a bot definition"):
        load_bot(path)


def test_bot_file_for_the_wrong_type_is_refused(tmp_path: Path) -> None:
    for question_type, filename in BOT_FILES.items():
        source = BOTS[question_type].path if filename != "ok.json" else BOTS[QuestionType.TIME].path
        (tmp_path / filename).write_text(source.read_text())
    with pytest.raises(FlowFileError, match=r"ok\.json: Callouts\.QuestionType is 'Time'"):
        bot_definitions(tmp_path)


def test_bots_are_valid_cloudformation() -> None:
    """cfn-lint checks every property name, type and enum against the AWS::Lex::Bot schema."""
    cfnlint_api = pytest.importorskip("cfnlint.api")
    resources = {}
    for question_type, bot in BOTS.items():
        properties = bot.cfn_properties() | {
            "RoleArn": "arn:aws:iam::123456789012:role/lex",
            "DataPrivacy": {"ChildDirected": False},
            "IdleSessionTTLInSeconds": 300,
            "AutoBuildBotLocales": True,
        }
        resources[f"Bot{question_type.key}"] = {"Type": "AWS::Lex::Bot", "Properties": properties}
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    matches = cfnlint_api.lint(json.dumps(template), regions=["us-east-1"])
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("question_type", list(QuestionType))
@pytest.mark.parametrize(
    "utterance",
    ["9" * 5_000, "it is " + "nine " * 2_000, "a" * 20_000, "the answer is " + "x y " * 5_000],
    ids=["digits", "words", "letters", "phrase"],
)
def test_absurdly_long_utterances_are_not_understood_and_never_raise(
    question_type: QuestionType, utterance: str
) -> None:
    assert LIBRARY.match(question_type, utterance).intent == "FallbackIntent"


def test_a_keypad_number_up_to_lex_dtmf_max_length_is_a_number() -> None:
    assert parse_number("7" * 1024) == "7" * 1024
    assert parse_number("7" * 1025) is None
