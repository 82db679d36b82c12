"""What Lex V2's built-in slot types make of a phrase: AMAZON.Number, AMAZON.Date, AMAZON.Time.

Each parser returns the slot's interpretedValue as Lex gives it ("12", "3.5", "2026-11-30",
"15:30") or None when the phrase is not a value of that type. They cover the common ways to say a
value on the phone, not all of English; relative dates use a reference date passed in, so results
are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

_UNITS = {
    "zero": 0,
    "oh": 0,
    "nought": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: index
    for index, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
# Lex V2 takes at most 1,024 DTMF digits per utterance; nothing longer is a slot value (and Python
# refuses to turn more than 4,300 digits into an int).
MAX_SLOT_TEXT = 1024
_DECIMAL = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$|^-?\d+(\.\d+)?$")


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9.:/\- ]", " ", text.lower().replace("-", " - ")).split()


def _format_decimal(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _word_integer(words: list[str]) -> int | None:
    """'one hundred and five' -> 105; None unless every word is part of the number."""
    if not words:
        return None
    total = 0
    current = 0
    seen = False
    for word in words:
        if word == "and" and seen:
            continue
        if word == "a" and not seen:
            current = 1
            continue
        if word.isdigit():
            current += int(word)
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def parse_number(text: str) -> str | None:
    """AMAZON.Number: "12", "twelve", "three point five", "minus two", "1,000", "a hundred"."""
    cleaned = text.strip().lower().rstrip(".")
    if len(cleaned) > MAX_SLOT_TEXT:
        return None
    if _DECIMAL.match(cleaned):
        try:
            return _format_decimal(Decimal(cleaned.replace(",", "")))
        except InvalidOperation:
            return None
    words = [word for word in _words(cleaned) if word != "-"]
    negative = bool(words) and words[0] in {"minus", "negative"}
    if negative:
        words = words[1:]
    if "point" in words:
        split = words.index("point")
        whole = _word_integer(words[:split]) if split else 0
        digits = [
            _UNITS.get(word, int(word) if word.isdigit() else None) for word in words[split + 1 :]
        ]
        if whole is None or not digits or any(d is None or d > 9 for d in digits):
            return None
        value = Decimal(f"{whole}.{''.join(str(d) for d in digits)}")
    else:
        integer = _word_integer(words)
        if integer is None:
            return None
        value = Decimal(integer)
    return _format_decimal(-value if negative else value)


def _day_number(words: list[str]) -> int | None:
    """'30', '30th', 'thirtieth', 'thirty first', 'the 1st' -> day of month."""
    words = [word for word in words if word not in {"the", "of"}]
    if len(words) == 1:
        match = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", words[0])
        if match:
            return int(match.group(1))
        if words[0] in _ORDINALS:
            return _ORDINALS[words[0]]
    if len(words) == 2 and words[0] in _TENS and words[1] in _ORDINALS:
        return _TENS[words[0]] + _ORDINALS[words[1]]
    if len(words) in (1, 2):
        return _word_integer(words)
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, reference: date) -> date | None:
    """The next `month`/`day` on or after the reference date (Lex resolves toward the future)."""
    this_year = _safe_date(reference.year, month, day)
    if this_year is not None and this_year >= reference:
        return this_year
    return _safe_date(reference.year + 1, month, day)


def parse_date(text: str, reference: date) -> str | None:
    """AMAZON.Date: ISO dates, "today", "tomorrow", "next monday", "30 November", "November 30th",
    "the 30th of November 2026", US "11/30/2026", and keypad "20261130"."""
    cleaned = text.strip().lower().rstrip(".")
    if len(cleaned) > MAX_SLOT_TEXT:
        return None
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned)
    if iso:
        found = _safe_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        return found.isoformat() if found else None
    keypad = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", cleaned)
    if keypad:
        found = _safe_date(int(keypad.group(1)), int(keypad.group(2)), int(keypad.group(3)))
        return found.isoformat() if found else None
    us = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?", cleaned)
    if us:
        month, day = int(us.group(1)), int(us.group(2))
        found = (
            _safe_date(int(us.group(3)), month, day)
            if us.group(3)
            else _upcoming(month, day, reference)
        )
        return found.isoformat() if found else None
    words = [word for word in _words(cleaned.replace(",", " ")) if word != "-"]
    phrase = " ".join(words)
    relative = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1, "day after tomorrow": 2}
    if phrase in relative:
        return (reference + timedelta(days=relative[phrase])).isoformat()
    if phrase.removeprefix("the ") == "day after tomorrow":
        return (reference + timedelta(days=2)).isoformat()
    weekday = _weekday(words, reference)
    if weekday is not None:
        return weekday.isoformat()
    return _day_month(words, reference)


def _weekday(words: list[str], reference: date) -> date | None:
    if not words or words[-1] not in _WEEKDAYS:
        return None
    modifier = " ".join(words[:-1])
    if modifier not in {"", "next", "this", "on", "this coming", "coming"}:
        return None
    ahead = (_WEEKDAYS[words[-1]] - reference.weekday()) % 7
    if modifier == "next" and ahead == 0:
        ahead = 7
    return reference + timedelta(days=ahead)


def _day_month(words: list[str], reference: date) -> str | None:
    month_positions = [index for index, word in enumerate(words) if word in _MONTHS]
    if len(month_positions) != 1:
        return None
    position = month_positions[0]
    month = _MONTHS[words[position]]
    before, after = words[:position], words[position + 1 :]
    year: int | None = None
    if after and re.fullmatch(r"\d{4}", after[-1]):
        year = int(after[-1])
        after = after[:-1]
    day_words = before or after
    if before and after:
        return None
    day = _day_number(day_words)
    if day is None:
        return None
    found = _safe_date(year, month, day) if year else _upcoming(month, day, reference)
    return found.isoformat() if found else None


def parse_time(text: str) -> str | None:
    """AMAZON.Time: "15:30", "3:30 pm", "3 pm", "noon", "midnight", "half past three",
    "quarter to four", "three thirty", "ten o'clock", and keypad "1530"."""
    if len(text) > MAX_SLOT_TEXT:
        return None
    cleaned = (
        text.strip().lower().rstrip(".").replace("o'clock", "oclock").replace("o clock", "oclock")
    )
    cleaned = re.sub(r"\b([ap])\.?\s?m\b\.?", r" \1m", cleaned)
    cleaned = re.sub(r"(\d)([ap]m)\b", r"\1 \2", cleaned)
    words = [word for word in _words(cleaned) if word not in {"-", "oclock", "in", "the"}]
    meridiem: str | None = None
    for marker, tail in (
        ("am", ("am",)),
        ("am", ("morning",)),
        ("pm", ("pm",)),
        ("pm", ("afternoon",)),
        ("pm", ("evening",)),
        ("pm", ("at", "night")),
        ("pm", ("tonight",)),
    ):
        if tuple(words[-len(tail) :]) == tail:
            meridiem = marker
            words = words[: -len(tail)]
            break
    phrase = " ".join(words)
    if phrase in {"noon", "midday", "twelve noon"}:
        return "12:00"
    if phrase == "midnight":
        return "00:00"
    hour_minute = _hour_minute(words)
    if hour_minute is None:
        return None
    hour, minute = hour_minute
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def _hour_minute(words: list[str]) -> tuple[int, int] | None:
    if len(words) == 1:
        clock = re.fullmatch(r"(\d{1,2})(?::|\.)(\d{2})", words[0]) or re.fullmatch(
            r"(\d{1,2})(\d{2})", words[0]
        )
        if clock:
            return int(clock.group(1)), int(clock.group(2))
    relations: dict[str, Callable[[int, int], tuple[int, int]]] = {
        "past": lambda minutes, hour: (hour, minutes),
        "after": lambda minutes, hour: (hour, minutes),
        "to": lambda minutes, hour: ((hour - 1) % 24, 60 - minutes),
        "before": lambda minutes, hour: ((hour - 1) % 24, 60 - minutes),
    }
    for word, combine in relations.items():
        if word in words:
            split = words.index(word)
            minutes = _minutes(words[:split])
            hour = _word_integer(words[split + 1 :])
            if minutes is None or hour is None or not 0 < minutes < 60:
                return None
            return combine(minutes, hour)
    hour = _word_integer(words[:1])
    if hour is None or hour > 24:
        return None
    if len(words) == 1:
        return hour, 0
    minute_words = words[1:]
    if minute_words[0] in {"oh", "o"} and len(minute_words) == 2:
        minute = _word_integer(minute_words[1:])
    else:
        minute = _word_integer(minute_words)
    return (hour, minute) if minute is not None else None


def _minutes(words: list[str]) -> int | None:
    phrase = " ".join(word for word in words if word not in {"a", "minutes", "minute"})
    if phrase == "half":
        return 30
    if phrase == "quarter":
        return 15
    return _word_integer(phrase.split())
