"""A stand-in for the Lex V2 runtime: match an utterance against a bot definition from `lex_bots/`.

Matching is deliberately literal, so a test shows exactly which phrases the deployed bot is
expected to understand: an utterance matches a sample utterance after normalising case,
punctuation and spacing; `{answer}` in a sample utterance matches any phrase that is a value of the
slot's type (custom slot type values and synonyms, or the built-in AMAZON.Number / AMAZON.Date /
AMAZON.Time parsers). No match gives FallbackIntent, as Lex does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from backend.domain.models import QuestionType
from backend.domain.voices import DEFAULT_LANGUAGE, lex_locale
from backend.flows import LEX_BOTS_DIR, BotDefinition, IntentDefinition, bot_definitions
from backend.flows.bots import SOURCE_LOCALE
from backend.local.simulator.slot_values import parse_date, parse_number, parse_time
from backend.local.simulator.slot_values_es import parse_date_es, parse_number_es, parse_time_es

FALLBACK_INTENT = "FallbackIntent"
REPEAT_INTENT = "RepeatIntent"
_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class LexResult:
    """What Connect hands the flow after a bot turn: `$.Lex.IntentName` and `$.Lex.Slots`."""

    intent: str
    slots: dict[str, str | None] = field(default_factory=dict)  # interpretedValue per slot


def normalise(text: str) -> str:
    """Lower case, accents and apostrophes dropped (`Sí` and `si` match alike, as speech
    recognition spells them either way), punctuation but `: . / -` and the `*` key removed."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("’", "'").replace("'", ""))
    text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9:./\-* ]", " ", text)
    text = re.sub(r"(?<![0-9])[.](?![0-9])", " ", text)  # keep "3.5", drop sentence dots
    return " ".join(text.split())


@dataclass(frozen=True)
class _Pattern:
    intent: str
    regex: re.Pattern[str]
    slots: tuple[str, ...]
    literal_length: int


@dataclass(frozen=True)
class _BuiltInSlots:
    """The simulator's AMAZON.Number / Date / Time parsers of one locale."""

    number: Callable[[str], str | None]
    date: Callable[[str, date], str | None]
    time: Callable[[str], str | None]


BUILT_IN_SLOTS: dict[str, _BuiltInSlots] = {
    "en_US": _BuiltInSlots(parse_number, parse_date, parse_time),
    "es_US": _BuiltInSlots(parse_number_es, parse_date_es, parse_time_es),
}


class BotMatcher:
    """Matches utterances for one bot in one locale."""

    def __init__(
        self, bot: BotDefinition, reference_date: date, locale_id: str = SOURCE_LOCALE
    ) -> None:
        self.bot = bot
        self.reference_date = reference_date
        self.locale_id = locale_id
        self._slots = BUILT_IN_SLOTS[locale_id]
        intents = bot.intents_in(locale_id)
        self._intents: dict[str, IntentDefinition] = {intent.name: intent for intent in intents}
        self._literal: dict[str, str] = {}
        patterns: list[_Pattern] = []
        for intent in intents:
            for utterance in intent.utterances:
                if _SLOT.search(utterance):
                    patterns.append(self._compile(intent.name, utterance))
                else:
                    self._literal.setdefault(normalise(utterance), intent.name)
        # The most specific sample utterance first: "I choose {answer}" before "{answer}".
        self._patterns = sorted(patterns, key=lambda pattern: -pattern.literal_length)
        self._synonyms: dict[str, dict[str, str]] = {
            name: {
                normalise(phrase): value
                for value, synonyms in values.items()
                for phrase in (value, *synonyms)
            }
            for name, values in bot.slot_types_in(locale_id).items()
        }

    @staticmethod
    def _compile(intent: str, utterance: str) -> _Pattern:
        parts: list[str] = []
        slots: list[str] = []
        literal = 0
        position = 0
        for match in _SLOT.finditer(utterance):
            text = normalise(utterance[position : match.start()])
            if text:
                parts.append(re.escape(text))
                literal += len(text)
            parts.append(f"(?P<{match.group(1)}>.+?)")
            slots.append(match.group(1))
            position = match.end()
        tail = normalise(utterance[position:])
        if tail:
            parts.append(re.escape(tail))
            literal += len(tail)
        return _Pattern(intent, re.compile("^" + " ".join(parts) + "$"), tuple(slots), literal)

    def match(self, utterance: str) -> LexResult:
        """The intent and slot values Lex would return for one utterance (speech or keypad)."""
        text = normalise(utterance)
        if not text:
            return LexResult(FALLBACK_INTENT)
        intent_name = self._literal.get(text)
        if intent_name is not None:
            return self._result(intent_name, {})
        for pattern in self._patterns:
            found = pattern.regex.match(text)
            if found is None:
                continue
            values = {
                slot: self.resolve(self._intents[pattern.intent].slots.get(slot, ""), found[slot])
                for slot in pattern.slots
            }
            if all(value is not None for value in values.values()):
                return self._result(pattern.intent, values)
        return LexResult(FALLBACK_INTENT)

    def _result(self, intent_name: str, values: Mapping[str, str | None]) -> LexResult:
        slots: dict[str, str | None] = dict.fromkeys(self._intents[intent_name].slots)
        slots.update(values)
        return LexResult(intent_name, slots)

    def resolve(self, slot_type: str, phrase: str) -> str | None:
        """A phrase's interpretedValue for a slot type, or None if it is not a value of it."""
        if slot_type == "AMAZON.Number":
            return self._slots.number(phrase)
        if slot_type == "AMAZON.Date":
            return self._slots.date(phrase, self.reference_date)
        if slot_type == "AMAZON.Time":
            return self._slots.time(phrase)
        return self._synonyms.get(slot_type, {}).get(normalise(phrase))


class BotLibrary:
    """The bots of `lex_bots/`, found by question type or by the alias ARN a flow names, in the
    locale of the contact's language (as Connect asks Lex for the contact's LanguageCode)."""

    def __init__(
        self,
        bots: Mapping[QuestionType, BotDefinition],
        reference_date: date | None = None,
        alias_arns: Mapping[str, QuestionType] | None = None,
    ) -> None:
        self.reference_date = reference_date or date.today()
        self.bots = dict(bots)
        self._matchers: dict[tuple[QuestionType, str], BotMatcher] = {}
        self._by_alias: dict[str, QuestionType] = {
            "${" + bot.alias_placeholder + "}": question_type for question_type, bot in bots.items()
        }
        self._by_alias.update(alias_arns or {})

    @classmethod
    def load(
        cls, directory: Path | str = LEX_BOTS_DIR, reference_date: date | None = None
    ) -> BotLibrary:
        return cls(bot_definitions(directory), reference_date)

    def matcher(self, question_type: QuestionType, language: str = DEFAULT_LANGUAGE) -> BotMatcher:
        """The bot of a question type in a language; KeyError when the bot lacks that locale
        (Connect's Lex block then takes its error branch)."""
        locale_id = lex_locale(language)
        key = (question_type, locale_id)
        if key not in self._matchers:
            bot = self.bots[question_type]
            if locale_id not in bot.locales:
                raise KeyError(f"bot {bot.name} has no {locale_id} locale")
            self._matchers[key] = BotMatcher(bot, self.reference_date, locale_id)
        return self._matchers[key]

    def question_type_for(self, alias_arn: str) -> QuestionType:
        """The question type of the bot a flow's `LexV2Bot.AliasArn` names
        (`${YesNoBotAliasArn}` or a rendered ARN); KeyError for an unknown alias."""
        question_type = self._by_alias.get(alias_arn)
        if question_type is None:
            raise KeyError(f"no bot for alias {alias_arn!r}: known {sorted(self._by_alias)}")
        return question_type

    def for_alias(self, alias_arn: str, language: str = DEFAULT_LANGUAGE) -> BotMatcher:
        """The bot a flow's alias ARN names, in `language`'s locale."""
        return self.matcher(self.question_type_for(alias_arn), language)

    def match(
        self, question_type: QuestionType, utterance: str, language: str = DEFAULT_LANGUAGE
    ) -> LexResult:
        return self.matcher(question_type, language).match(utterance)
