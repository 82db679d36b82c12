"""How a question is answered: `QuestionType`, one Lex V2 bot per type.

Its own small module (no pydantic) because the contact flow's Lambda needs it on every turn and
imports no pydantic (see backend/domain/results.py); `backend.domain.models` re-exports it.
"""

from __future__ import annotations

import re
from enum import StrEnum


class QuestionType(StrEnum):
    """How a question is answered; each type has its own Lex V2 bot."""

    OK = "OK"
    YES_NO = "Yes/No"
    MULTIPLE_CHOICE = "Multiple Choice"
    NUMBER = "Number"
    DATE = "Date"
    TIME = "Time"

    @property
    def key(self) -> str:
        """Identifier-safe name for bots, flow branches and files: `YesNo`."""
        return re.sub(r"[^A-Za-z]", "", self.value.title()) if self is not QuestionType.OK else "OK"

    @classmethod
    def parse(cls, text: str) -> QuestionType | None:
        """Match a workbook/modal value case-, space- and punctuation-insensitively."""
        wanted = _squash(text)
        for member in cls:
            if wanted in {_squash(member.value), _squash(member.key)}:
                return member
        return _QUESTION_TYPE_ALIASES.get(wanted)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_QUESTION_TYPE_ALIASES = {
    "yn": QuestionType.YES_NO,
    "mc": QuestionType.MULTIPLE_CHOICE,
    "choice": QuestionType.MULTIPLE_CHOICE,
    "multiplechoices": QuestionType.MULTIPLE_CHOICE,
    "okay": QuestionType.OK,
}
