"""A stand-in for the Lex V2 runtime: match an utterance against a bot definition from `lex_bots/`.

Matching is deliberately literal, so a test shows exactly which phrases the deployed bot is
expected to understand: an utterance matches a sample utterance after normalising case,
punctuation and spacing; `{answer}` in a sample utterance matches any phrase that is a value of the
slot's type (custom slot type values and synonyms, or the built-in AMAZON.Number / AMAZON.Date /
AMAZON.Time parsers). No match gives FallbackIntent, as Lex does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from backend.domain.models import QuestionType
from backend.flows import LEX_BOTS_DIR, BotDefinition, IntentDefinition, bot_definitions
from backend.local.simulator.slot_values import parse_date, parse_number, parse_time

FALLBACK_INTENT = "FallbackIntent"
REPEAT_INTENT = "RepeatIntent"
_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class LexResult:
    """What Connect hands the flow after a bot turn: `$.Lex.IntentName` and `$.Lex.Slots`."""

    intent: str
    slots: dict[str, str | None] = field(default_factory=dict)  # interpretedValue per slot


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation but `: . / -` and the `*` key removed."""
    text = text.lower().replace("’", "'").replace("'", "")
    text = re.sub(r"[^a-z0-9:./\-* ]", " ", text)
    text = re.sub(r"(?<![0-9])[.](?![0-9])", " ", text)  # keep "3.5", drop sentence dots
    return " ".join(text.split())


@dataclass(frozen=True)
class _Pattern:
    intent: str
    regex: re.Pattern[str]
    slots: tuple[str, ...]
    literal_length: int


class BotMatcher:
    """Matches utterances for one bot."""

    def __init__(self, bot: BotDefinition, reference_date: date) -> None:
        self.bot = bot
        self.reference_date = reference_date
        self._intents: dict[str, IntentDefinition] = {intent.name: intent for intent in bot.intents}
        self._literal: dict[str, str] = {}
        patterns: list[_Pattern] = []
        for intent in bot.intents:
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
            for name, values in bot.slot_types.items()
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
            return parse_number(phrase)
        if slot_type == "AMAZON.Date":
            return parse_date(phrase, self.reference_date)
        if slot_type == "AMAZON.Time":
            return parse_time(phrase)
        return self._synonyms.get(slot_type, {}).get(normalise(phrase))


class BotLibrary:
    """The bots of `lex_bots/`, found by question type or by the alias ARN a flow names."""

    def __init__(
        self,
        bots: Mapping[QuestionType, BotDefinition],
        reference_date: date | None = None,
        alias_arns: Mapping[str, QuestionType] | None = None,
    ) -> None:
        self.reference_date = reference_date or date.today()
        self.bots = dict(bots)
        self._matchers = {
            question_type: BotMatcher(bot, self.reference_date)
            for question_type, bot in bots.items()
        }
        self._by_alias: dict[str, QuestionType] = {
            "${" + bot.alias_placeholder + "}": question_type for question_type, bot in bots.items()
        }
        self._by_alias.update(alias_arns or {})

    @classmethod
    def load(
        cls, directory: Path | str = LEX_BOTS_DIR, reference_date: date | None = None
    ) -> BotLibrary:
        return cls(bot_definitions(directory), reference_date)

    def matcher(self, question_type: QuestionType) -> BotMatcher:
        return self._matchers[question_type]

    def for_alias(self, alias_arn: str) -> BotMatcher:
        """The bot a flow's `LexV2Bot.AliasArn` names (`${YesNoBotAliasArn}` or a rendered ARN)."""
        question_type = self._by_alias.get(alias_arn)
        if question_type is None:
            raise KeyError(f"no bot for alias {alias_arn!r}: known {sorted(self._by_alias)}")
        return self._matchers[question_type]

    def match(self, question_type: QuestionType, utterance: str) -> LexResult:
        return self._matchers[question_type].match(utterance)
