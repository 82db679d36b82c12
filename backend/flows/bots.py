"""Lex V2 bots as data: one bot per question type, read from `lex_bots/`.

Each file holds the bot in `AWS::Lex::Bot` property names (`Name`, `Description`, `BotLocales`),
plus a `Callouts` block that CloudFormation never sees (keypad hint, built-in utterances used by
the phone simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from backend.domain.models import QuestionType
from backend.flows.files import LEX_BOTS_DIR, FlowFileError, bot_alias_placeholder, read_json

BOT_FILES: dict[QuestionType, str] = {
    QuestionType.OK: "ok.json",
    QuestionType.YES_NO: "yes_no.json",
    QuestionType.MULTIPLE_CHOICE: "multiple_choice.json",
    QuestionType.NUMBER: "number.json",
    QuestionType.DATE: "date.json",
    QuestionType.TIME: "time.json",
}


@dataclass(frozen=True)
class IntentDefinition:
    name: str
    parent_signature: str | None
    utterances: tuple[str, ...]
    slots: dict[str, str] = field(default_factory=dict)  # slot name -> slot type name


@dataclass(frozen=True)
class BotDefinition:
    """One Lex V2 bot (one locale) as read from `lex_bots/`."""

    question_type: QuestionType
    name: str
    description: str
    locale: dict[str, Any]  # the AWS::Lex::Bot BotLocale, CloudFormation property names
    keypad_hint: str
    built_in_utterances: dict[str, tuple[str, ...]]
    path: Path

    @property
    def alias_placeholder(self) -> str:
        return bot_alias_placeholder(self.question_type)

    @property
    def intents(self) -> tuple[IntentDefinition, ...]:
        intents = []
        for intent in self.locale.get("Intents", []):
            slots = {slot["Name"]: slot["SlotTypeName"] for slot in intent.get("Slots", [])}
            utterances = tuple(item["Utterance"] for item in intent.get("SampleUtterances", []))
            intents.append(
                IntentDefinition(
                    name=intent["Name"],
                    parent_signature=intent.get("ParentIntentSignature"),
                    utterances=utterances + self.built_in_utterances.get(intent["Name"], ()),
                    slots=slots,
                )
            )
        return tuple(intents)

    @property
    def slot_types(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Custom slot types: name -> {value: synonyms}."""
        return {
            slot_type["Name"]: {
                entry["SampleValue"]["Value"]: tuple(
                    synonym["Value"] for synonym in entry.get("Synonyms", [])
                )
                for entry in slot_type.get("SlotTypeValues", [])
            }
            for slot_type in self.locale.get("SlotTypes", [])
        }

    def cfn_properties(self) -> dict[str, Any]:
        """The bot-specific part of `AWS::Lex::Bot` Properties (the template adds role, TTL...)."""
        return {"Name": self.name, "Description": self.description, "BotLocales": [self.locale]}


def load_bot(path: Path | str) -> BotDefinition:
    """Read one bot file; FlowFileError names the file and the missing field."""
    file = Path(path)
    data = read_json(file)
    try:
        callouts = data["Callouts"]
        question_type = QuestionType.parse(callouts["QuestionType"])
        if question_type is None:
            raise FlowFileError(f"{file.name}: unknown Callouts.QuestionType")
        (locale,) = data["BotLocales"]
        return BotDefinition(
            question_type=question_type,
            name=data["Name"],
            description=data.get("Description", ""),
            locale=locale,
            keypad_hint=callouts.get("KeypadHint", ""),
            built_in_utterances={
                name: tuple(items) for name, items in callouts.get("BuiltInUtterances", {}).items()
            },
            path=file,
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, FlowFileError):
            raise
        raise FlowFileError(
            f"{file.name}: not a bot definition ({error!r}); it needs Name, one BotLocales entry "
            "and Callouts.QuestionType"
        ) from error


def bot_definitions(directory: Path | str = LEX_BOTS_DIR) -> dict[QuestionType, BotDefinition]:
    """Every question type's bot, read from `lex_bots/` (cached per directory)."""
    return dict(_bot_definitions(str(Path(directory).resolve())))


@cache
def _bot_definitions(directory: str) -> tuple[tuple[QuestionType, BotDefinition], ...]:
    bots: dict[QuestionType, BotDefinition] = {}
    for question_type, filename in BOT_FILES.items():
        bot = load_bot(Path(directory) / filename)
        if bot.question_type is not question_type:
            raise FlowFileError(
                f"{filename}: Callouts.QuestionType is {bot.question_type.value!r}, "
                f"expected {question_type.value!r}"
            )
        bots[question_type] = bot
    return tuple(bots.items())
