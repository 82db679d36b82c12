"""Lex V2 bots as data: one bot per question type, read from `lex_bots/`.

Each file holds the bot in `AWS::Lex::Bot` property names (`Name`, `Description`, `BotLocales`),
plus a `Callouts` block that CloudFormation never sees (keypad hint, built-in utterances used by
the phone simulator).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
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


SOURCE_LOCALE = "en_US"  # the locale written out in full in each bot file


@dataclass(frozen=True)
class BotDefinition:
    """One Lex V2 bot (one question type) with every locale it has.

    The file holds the `en_US` locale in CloudFormation form; `Callouts.Locales` holds, per other
    locale, its sample utterances by intent, the slot prompt, the custom slot values and the
    built-in utterances; `load_bot` generates the full CloudFormation locale from the two.
    """

    question_type: QuestionType
    name: str
    description: str
    locales: dict[str, dict[str, Any]]  # LocaleId -> AWS::Lex::Bot BotLocale (CFN names)
    keypad_hint: str
    built_in_utterances: dict[str, dict[str, tuple[str, ...]]]  # LocaleId -> intent -> phrases
    path: Path

    @property
    def alias_placeholder(self) -> str:
        return bot_alias_placeholder(self.question_type)

    @property
    def locale(self) -> dict[str, Any]:
        """The source (`en_US`) locale."""
        return self.locales[SOURCE_LOCALE]

    @property
    def intents(self) -> tuple[IntentDefinition, ...]:
        return self.intents_in(SOURCE_LOCALE)

    @property
    def slot_types(self) -> dict[str, dict[str, tuple[str, ...]]]:
        return self.slot_types_in(SOURCE_LOCALE)

    def intents_in(self, locale_id: str) -> tuple[IntentDefinition, ...]:
        """The intents of one locale, with the simulator's utterances of built-in intents."""
        built_in = self.built_in_utterances.get(locale_id, {})
        intents = []
        for intent in self.locales[locale_id].get("Intents", []):
            slots = {slot["Name"]: slot["SlotTypeName"] for slot in intent.get("Slots", [])}
            utterances = tuple(item["Utterance"] for item in intent.get("SampleUtterances", []))
            intents.append(
                IntentDefinition(
                    name=intent["Name"],
                    parent_signature=intent.get("ParentIntentSignature"),
                    utterances=utterances + built_in.get(intent["Name"], ()),
                    slots=slots,
                )
            )
        return tuple(intents)

    def slot_types_in(self, locale_id: str) -> dict[str, dict[str, tuple[str, ...]]]:
        """Custom slot types of one locale: name -> {value: synonyms}."""
        return {
            slot_type["Name"]: {
                entry["SampleValue"]["Value"]: tuple(
                    synonym["Value"] for synonym in entry.get("Synonyms", [])
                )
                for entry in slot_type.get("SlotTypeValues", [])
            }
            for slot_type in self.locales[locale_id].get("SlotTypes", [])
        }

    def cfn_properties(self, locale_ids: Sequence[str] | None = None) -> dict[str, Any]:
        """The bot-specific part of `AWS::Lex::Bot` Properties (the template adds role, TTL...),
        with the given locales (default: all, the source locale first)."""
        chosen = list(self.locales) if locale_ids is None else list(locale_ids)
        return {
            "Name": self.name,
            "Description": self.description,
            "BotLocales": [self.locales[locale_id] for locale_id in chosen],
        }


def generate_locale(
    source: dict[str, Any], locale_id: str, table: dict[str, Any]
) -> dict[str, Any]:
    """The CloudFormation BotLocale `locale_id`: the source locale with the table's sample
    utterances (every intent that has them must be given), slot prompt and slot values."""
    locale = copy.deepcopy(source)
    locale["LocaleId"] = locale_id
    utterances: dict[str, list[str]] = table["Intents"]
    for intent in locale.get("Intents", []):
        if "SampleUtterances" in intent:
            intent["SampleUtterances"] = [{"Utterance": u} for u in utterances[intent["Name"]]]
        for slot in intent.get("Slots", []):
            groups = slot["ValueElicitationSetting"]["PromptSpecification"]["MessageGroupsList"]
            groups[:] = [{"Message": {"PlainTextMessage": {"Value": table["SlotPrompt"]}}}]
    values: dict[str, dict[str, list[str]]] = table.get("SlotTypeValues", {})
    for slot_type in locale.get("SlotTypes", []):
        synonyms = values[slot_type["Name"]]
        for entry in slot_type.get("SlotTypeValues", []):
            entry["Synonyms"] = [{"Value": v} for v in synonyms[entry["SampleValue"]["Value"]]]
    return locale


def load_bot(path: Path | str) -> BotDefinition:
    """Read one bot file; FlowFileError names the file and the missing field."""
    file = Path(path)
    data = read_json(file)
    try:
        callouts = data["Callouts"]
        question_type = QuestionType.parse(callouts["QuestionType"])
        if question_type is None:
            raise FlowFileError(f"{file.name}: unknown Callouts.QuestionType")
        (source,) = data["BotLocales"]
        if source["LocaleId"] != SOURCE_LOCALE:
            raise FlowFileError(f"{file.name}: BotLocales must hold the {SOURCE_LOCALE} locale")
        locales = {SOURCE_LOCALE: source}
        built_in = {SOURCE_LOCALE: _phrases(callouts.get("BuiltInUtterances", {}))}
        for locale_id, table in callouts.get("Locales", {}).items():
            locales[locale_id] = generate_locale(source, locale_id, table)
            built_in[locale_id] = _phrases(table.get("BuiltInUtterances", {}))
        return BotDefinition(
            question_type=question_type,
            name=data["Name"],
            description=data.get("Description", ""),
            locales=locales,
            keypad_hint=callouts.get("KeypadHint", ""),
            built_in_utterances=built_in,
            path=file,
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, FlowFileError):
            raise
        raise FlowFileError(
            f"{file.name}: not a bot definition ({error!r}); it needs Name, one BotLocales entry "
            "(en_US), Callouts.QuestionType, and for each Callouts.Locales entry the utterances "
            "of every intent, the slot prompt and the slot values"
        ) from error


def _phrases(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(items) for name, items in table.items()}


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
