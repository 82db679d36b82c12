"""The rows every intake (workbook, JSON, Slack modal) hands to assemble_job."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QuestionRow:
    template: str
    type_text: str
    row: int  # sheet row (workbook), index (JSON), position (modal)
    # The template in other languages: language as written (`es-US`, `es_us`) -> template.
    translations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReceiverRow:
    id: str
    phone: str
    fields: dict[str, str]
    row: int
