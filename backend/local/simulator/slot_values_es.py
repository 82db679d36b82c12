"""What Lex V2's built-in slot types make of a Spanish (es_US) phrase: AMAZON.Number,
AMAZON.Date, AMAZON.Time, with the same interpretedValue forms as English ("12", "2026-11-30",
"15:30"). Phrases arrive folded by the matcher (lower case, accents dropped: "mañana" ->
"manana"). They cover the common ways to say a value on the phone, not all of Spanish.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from backend.local.simulator.slot_values import MAX_SLOT_TEXT, parse_date, parse_number, parse_time

_UNITS = {
    "cero": 0,
    "un": 1,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiun": 21,
    "veintiuno": 21,
    "veintiuna": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
_TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
_HUNDREDS = {
    "cien": 100,
    "ciento": 100,
    "doscientos": 200,
    "trescientos": 300,
    "cuatrocientos": 400,
    "quinientos": 500,
    "seiscientos": 600,
    "setecientos": 700,
    "ochocientos": 800,
    "novecientos": 900,
}
_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        start=1,
    )
}
_WEEKDAYS = {
    name: index
    for index, name in enumerate(
        ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"]
    )
}
_RELATIVE = {"hoy": 0, "manana": 1, "ayer": -1, "pasado manana": 2}


def _integer(words: list[str]) -> int | None:
    """'ciento cinco' / 'treinta y dos' / 'dos mil veinte' -> int; None unless all are number."""
    if not words:
        return None
    total = current = 0
    seen = False
    for word in words:
        if word == "y" and seen:
            continue
        if word.isdigit():
            current += int(word)
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _HUNDREDS:
            current += _HUNDREDS[word]
        elif word == "mil":
            total += max(current, 1) * 1_000
            current = 0
        elif word in ("millon", "millones"):
            total += max(current, 1) * 1_000_000
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9.:/ ]", " ", text.lower()).split()


def parse_number_es(text: str) -> str | None:
    """ "doce", "treinta y dos", "tres coma cinco", "menos dos", "1,000" -> digits."""
    if len(text) > MAX_SLOT_TEXT:
        return None
    digits = parse_number(text)  # "12", "3.5", "1,000" are said the same way
    if digits is not None and re.fullmatch(r"[-\d.,\s]+", text.strip()):
        return digits
    words = _words(text)
    negative = bool(words) and words[0] == "menos"
    words = words[1:] if negative else words
    for point in ("coma", "punto"):
        if point in words:
            split = words.index(point)
            whole, fraction = _integer(words[:split]), _integer(words[split + 1 :])
            if whole is None or fraction is None:
                return None
            value = f"{whole}.{fraction}".rstrip("0").rstrip(".")
            return f"-{value}" if negative else value
    number = _integer(words)
    if number is None:
        return None
    return str(-number if negative else number)


def parse_date_es(text: str, reference: date) -> str | None:
    """ "hoy", "mañana", "el lunes", "el próximo lunes", "30 de noviembre", "el treinta de
    noviembre de 2026", and the forms every locale shares (ISO, keypad digits)."""
    if len(text) > MAX_SLOT_TEXT:
        return None
    shared = parse_date(text, reference) if re.fullmatch(r"[\d\-/\s]+", text.strip()) else None
    if shared is not None:
        return shared
    words = [w for w in _words(text) if w not in {"el", "la", "para"}]
    phrase = " ".join(words)
    if phrase in _RELATIVE:
        return (reference + timedelta(days=_RELATIVE[phrase])).isoformat()
    if words and words[-1] in _WEEKDAYS and " ".join(words[:-1]) in {"", "proximo", "este"}:
        ahead = (_WEEKDAYS[words[-1]] - reference.weekday()) % 7
        if words[:-1] == ["proximo"] and ahead == 0:
            ahead = 7
        return (reference + timedelta(days=ahead)).isoformat()
    months = [i for i, w in enumerate(words) if w in _MONTHS]
    if len(months) != 1 or months[0] < 2 or words[months[0] - 1] != "de":
        return None
    position = months[0]
    day = _integer([w for w in words[: position - 1] if w != "primero"] or ["1"])
    tail = words[position + 1 :]
    year = _integer(tail[1:]) if tail[:1] == ["de"] else None
    if tail and year is None:
        return None
    if day is None:
        return None
    try:
        if year is not None:
            return date(year, _MONTHS[words[position]], day).isoformat()
        found = date(reference.year, _MONTHS[words[position]], day)
        if found < reference:
            found = date(reference.year + 1, found.month, found.day)
        return found.isoformat()
    except ValueError:
        return None


_PARTS = (
    (("de", "la", "manana"), "am"),
    (("de", "la", "tarde"), "pm"),
    (("de", "la", "noche"), "pm"),
)


def parse_time_es(text: str) -> str | None:
    """ "las tres y media de la tarde", "tres y cuarto", "cuatro menos cuarto", "mediodía",
    "medianoche", "15:30", keypad "1530"."""
    if len(text) > MAX_SLOT_TEXT:
        return None
    if re.fullmatch(r"\d{1,2}(:\d{2})?|\d{4}", text.strip()):
        return parse_time(text)
    words = [w for w in _words(text) if w not in {"las", "la", "a"}]
    meridiem = None
    for tail, marker in _PARTS:
        core = tuple(w for w in tail if w != "la")
        if tuple(words[-len(core) :]) == core:
            meridiem, words = marker, words[: -len(core)]
            break
    phrase = " ".join(words)
    if phrase == "mediodia":
        return "12:00"
    if phrase == "medianoche":
        return "00:00"
    minutes_of = {"media": 30, "cuarto": 15}
    hour: int | None
    minute: int | None = 0
    if "menos" in words:
        split = words.index("menos")
        hour = _integer(words[:split])
        rest = " ".join(words[split + 1 :])
        minute = minutes_of.get(rest, _integer(words[split + 1 :]))
        if hour is None or minute is None or not 0 < minute < 60:
            return None
        hour, minute = (hour - 1) % 24, 60 - minute
    elif "y" in words:
        split = words.index("y")
        hour = _integer(words[:split])
        rest = " ".join(words[split + 1 :])
        minute = minutes_of.get(rest, _integer(words[split + 1 :]))
    else:
        hour = _integer(words)
    if hour is None or minute is None:
        return None
    if meridiem == "pm" and hour < 12:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"
