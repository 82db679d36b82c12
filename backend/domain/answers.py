"""From what a Lex V2 bot returns (intent name, slot values, keypad digits) to one canonical answer.

Canonical answers per question type: OK -> "OK"; Yes/No -> "Yes"/"No"; Multiple Choice -> "A".."E";
Number -> "12" / "3.5" / "-2"; Date -> "2026-11-30"; Time -> "15:30". Anything else -> None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from backend.domain.phrases import phrases
from backend.domain.question_types import QuestionType
from backend.domain.voices import DEFAULT_LANGUAGE

ANSWER_SLOT = "answer"
NO_ANSWER = "No answer"  # the report's and the Slack card's label for a missing answer

CHOICES: tuple[str, ...] = ("A", "B", "C", "D", "E")

# Intents each question type's bot may return; anything else on that question is no answer.
INTENTS: dict[QuestionType, frozenset[str]] = {
    QuestionType.OK: frozenset({"okintent"}),
    QuestionType.YES_NO: frozenset({"yesintent", "nointent"}),
    QuestionType.MULTIPLE_CHOICE: frozenset({"choiceintent"}),
    QuestionType.NUMBER: frozenset({"numberintent"}),
    QuestionType.DATE: frozenset({"dateintent"}),
    QuestionType.TIME: frozenset({"timeintent"}),
}


@dataclass(frozen=True)
class AnswerWords:
    """How one language's speech recognition may spell an answer the slot did not resolve."""

    yes_no: dict[str, str]  # spoken word -> "Yes" / "No"
    letters: dict[str, str]  # a spoken letter's spelling -> "A".."E"
    filler: frozenset[str]  # words around a letter: "letter", "option", "the"...


# One table per language of voices.LANGUAGES (a test checks each has one).
ANSWER_WORDS: dict[str, AnswerWords] = {
    "en-US": AnswerWords(
        yes_no={"yes": "Yes", "yeah": "Yes", "yep": "Yes", "no": "No", "nope": "No"},
        letters={
            "ay": "A",
            "bee": "B",
            "be": "B",
            "see": "C",
            "sea": "C",
            "cee": "C",
            "dee": "D",
            "ee": "E",
        },
        filler=frozenset(
            {"letter", "option", "answer", "choice", "the", "is", "it", "my", "i", "say"}
        ),
    ),
    "es-US": AnswerWords(
        yes_no={"sí": "Yes", "si": "Yes", "claro": "Yes", "no": "No"},
        letters={"be": "B", "ce": "C", "se": "C", "de": "D"},
        filler=frozenset(
            {"letra", "opción", "opcion", "respuesta", "la", "el", "es", "mi", "digo", "elijo"}
        ),
    ),
}
_YES_NO_KEYS = {"1": "Yes", "2": "No"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_KEYPAD_TIME = re.compile(r"^(\d{1,2})(\d{2})$")


def normalise_answer(
    question_type: QuestionType,
    intent: str | None,
    slots: Mapping[str, str | None],
    language: str = DEFAULT_LANGUAGE,
) -> str | None:
    """Return the canonical answer to a question of `question_type`, or None for no answer.

    `intent` is the Lex V2 intent name (`$.Lex.IntentName`), `slots` the slot values
    (`$.Lex.Slots`, the answer slot is `answer`). Keypad digits are accepted either as the
    answer slot value or as the intent name itself (YYYYMMDD for a date, HHMM for a time).
    Repeat/Fallback, an empty turn or an intent that belongs to another question type give None.
    `language` picks the word table for values the bot did not resolve ("sí", "be"); the
    canonical answers are the same in every language.
    """
    words = ANSWER_WORDS.get(language, ANSWER_WORDS[DEFAULT_LANGUAGE])
    name = _intent_key(intent)
    if not name or name in {"repeatintent", "fallbackintent"}:
        return None
    value = _slot_value(slots)
    if name.isdigit():
        # A keypad-only turn: the digits stand in for the intent.
        return _from_keys(question_type, name)
    legacy = re.fullmatch(r"([a-e])intent", name)
    if question_type is QuestionType.MULTIPLE_CHOICE and legacy:
        return legacy.group(1).upper()  # the original Lex V1 bot had AIntent..EIntent
    if name not in INTENTS[question_type]:
        return None
    match question_type:
        case QuestionType.OK:
            return "OK"
        case QuestionType.YES_NO:
            if value is not None:
                from_value = _YES_NO_KEYS.get(value) or words.yes_no.get(value.lower())
                if from_value:
                    return from_value
            return "Yes" if name == "yesintent" else "No"
        case QuestionType.MULTIPLE_CHOICE:
            return _choice(value, words)
        case _:
            return _SLOT_PARSERS[question_type](value)


def answer_hint(question_type: QuestionType, language: str = DEFAULT_LANGUAGE) -> str:
    """How a person answers a question of this type, for prompts and previews."""
    return phrases(language).hints[question_type]


def answer_categories(question_type: QuestionType) -> tuple[str, ...] | None:
    """The fixed answers of a type (OK, Yes/No, A-E); None when answers are open (numbers...)."""
    match question_type:
        case QuestionType.OK:
            return ("OK",)
        case QuestionType.YES_NO:
            return ("Yes", "No")
        case QuestionType.MULTIPLE_CHOICE:
            return CHOICES
        case _:
            return None


def _intent_key(intent: str | None) -> str:
    if not intent:
        return ""
    name = intent.strip()
    if name.upper().startswith("AMAZON."):
        name = name[len("AMAZON.") :]
    return name.lower()


def _slot_value(slots: Mapping[str, str | None]) -> str | None:
    value = slots.get(ANSWER_SLOT)
    if value is None or not str(value).strip():
        # A bot with a differently named slot: take the only value it filled.
        filled = [str(v).strip() for v in slots.values() if v is not None and str(v).strip()]
        value = filled[0] if len(filled) == 1 else None
    return str(value).strip() if value is not None else None


def _from_keys(question_type: QuestionType, digits: str) -> str | None:
    match question_type:
        case QuestionType.OK:
            return "OK" if digits == "1" else None
        case QuestionType.YES_NO:
            return _YES_NO_KEYS.get(digits)
        case QuestionType.MULTIPLE_CHOICE:
            return _choice(digits, ANSWER_WORDS[DEFAULT_LANGUAGE])
        case _:
            return _SLOT_PARSERS[question_type](digits)


def _choice(value: str | None, words: AnswerWords) -> str | None:
    if value is None:
        return None
    tokens = [t for t in re.findall(r"[^\W\d_]+|\d+", value.lower()) if t not in words.filler]
    letters = set()
    for token in tokens:
        if token.isdigit():
            if len(token) != 1 or not "1" <= token <= "5":
                return None
            letters.add(CHOICES[int(token) - 1])
        elif len(token) == 1 and token.upper() in CHOICES:
            letters.add(token.upper())
        elif token in words.letters:
            letters.add(words.letters[token])
        else:
            return None
    # "A A" is one answer said twice; "A B" is ambiguous.
    return letters.pop() if len(letters) == 1 else None


def _number(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        number = Decimal(value.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return None
    if not number.is_finite() or number.adjusted() > 15:
        return None  # not something a person says on the phone
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    if re.fullmatch(r"\d{8}", value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"  # keypad YYYYMMDD
    try:
        # Lex also returns week ("2026-W48") and month ("2026-11") values: not a date answer.
        return date.fromisoformat(value).isoformat() if len(value) == 10 else None
    except ValueError:
        return None


def _time(value: str | None) -> str | None:
    if value is None:
        return None
    match = _TIME.match(value) or _KEYPAD_TIME.match(value)
    if not match:
        return None  # includes Lex's "MO"/"AF"/"EV"/"NI" for morning, afternoon...
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


# The slot-value parser of each type whose answer is read from a value (speech or keypad).
_SLOT_PARSERS: dict[QuestionType, Callable[[str | None], str | None]] = {
    QuestionType.NUMBER: _number,
    QuestionType.DATE: _date,
    QuestionType.TIME: _time,
}
