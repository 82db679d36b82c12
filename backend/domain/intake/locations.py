"""Where a problem points: a workbook cell (sheet, row, column) or a JSON field path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.domain.intake.cells import header_key
from backend.domain.intake.config_keys import SETTING_KEYS
from backend.domain.problems import Problem

# Where a template was written: a Configures key, a question row, or (row, translation column).
Location = str | int | tuple[int, str]


@dataclass(frozen=True)
class SheetNames:
    """Where problems point in a workbook: the sheet titles as the author wrote them."""

    configures: str = "Configures"
    questions: str = "Questions"
    receivers: str = "Receivers"
    config_rows: Mapping[str, int] = field(default_factory=dict)


class Where:
    """Builds problems pointing at workbook cells, or at JSON field paths when sheets is None."""

    def __init__(self, sheets: SheetNames | None) -> None:
        self.sheets = sheets

    def config(self, key: str, message: str) -> Problem:
        base, _, language = key.partition(":")
        if self.sheets is None:
            if language:  # a translation: greeting:es-US
                return Problem(message, field=f"translations.{language}.{base}")
            return Problem(message, field=f"settings.{key}" if key in SETTING_KEYS else key)
        row = self.sheets.config_rows.get(key) or self.sheets.config_rows.get(header_key(key))
        return Problem(message, self.sheets.configures, row, "Value" if row else key)

    def question(self, row: int, column: str, message: str) -> Problem:
        if self.sheets is None:
            base, _, language = column.partition(":")
            if language:  # question_template:es-US
                return Problem(message, field=f"questions[{row}].translations.{language}")
            name = "template" if base == "question_template" else "type"
            return Problem(message, field=f"questions[{row}].{name}")
        return Problem(message, self.sheets.questions, row, column)

    def template(self, location: Location, message: str) -> Problem:
        """A problem with a template: a Configures key (greeting, ending, greeting:es-US), a
        question row, or a question row's translation column (row, `question_template:es-US`)."""
        if isinstance(location, str):
            return self.config(location, message)
        if isinstance(location, tuple):
            return self.question(location[0], location[1], message)
        return self.question(location, "question_template", message)

    def receiver(self, row: int, column: str, message: str) -> Problem:
        if self.sheets is None:
            name = column if column in ("id", "phone_number") else f"fields.{column}"
            return Problem(message, field=f"receivers[{row}].{name}")
        return Problem(message, self.sheets.receivers, row, column)

    def receivers(self, message: str) -> Problem:
        if self.sheets is None:
            return Problem(message, field="receivers")
        return Problem(message, self.sheets.receivers)

    def ref(self, row: int) -> str:
        return f"receivers[{row}]" if self.sheets is None else f"row {row}"
