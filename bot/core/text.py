"""Plain-text helpers every adapter shares: shortening and masking phone numbers in messages."""

from __future__ import annotations

import re

_QUOTED_PHONE = re.compile(r"(phone(?: number)? ')([^']*)(')", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d{8,15}(?![\w.])")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _mask(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_numbers(text: str) -> str:
    """Phone numbers inside a message (intake problems quote them): only the last 4 digits."""
    text = _QUOTED_PHONE.sub(lambda m: m.group(1) + _mask(m.group(2)) + m.group(3), text)
    return _LONG_NUMBER.sub(lambda m: _mask(m.group(0)), text)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 result`, `2 results` (`many`: an irregular plural)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
