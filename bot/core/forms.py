"""The job form shared by Slack's modal and Teams' dialog: greeting, ending, phone prefix,
questions (added and removed), receivers pasted as lines -> the same intake as workbooks, and
intake's problems mapped back to the form's fields.

Field ids (`NAME`, `GREETING`..., `template_field(row)`, `type_field(row)`) are the keys of the
values an adapter reads from its form and of the errors it shows next to them; `rows` are the
form's question rows in order (ids that survive adding and removing rows).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.domain.problems import Problem

if TYPE_CHECKING:
    from backend.domain.intake import IntakeResult

MAX_QUESTIONS = 10
ERROR_LIMIT = 280  # characters of one field's error (Slack shows no more)

NAME, GREETING, ENDING, PREFIX, RECEIVERS, ATTEMPTS, TIMEOUT = (
    "job_name",
    "greeting",
    "ending",
    "phone_prefix",
    "receivers",
    "max_attempts",
    "call_timeout",
)
LANGUAGE = "language"  # optional: the language the job's calls speak (issue 13 part 5)
# form field -> the workbook setting it fills
CONFIG_KEYS = {
    NAME: "name",
    GREETING: "greeting",
    ENDING: "ending",
    PREFIX: "phone_prefix",
    ATTEMPTS: "max_attempts",
    TIMEOUT: "call_timeout_seconds",
    LANGUAGE: "language",
}
SMS = "sms_template"  # optional: the text to people not reached (docs/sms.md)
CONFIG_KEYS[SMS] = "sms_template"
SMS_HINT = (
    "Optional. One text after the job to each person not reached, e.g. Hello {{ name }}, we "
    "tried to call you: please call the school. At most 1,600 characters."
)


def language_choices() -> list[tuple[str, str]]:
    """(code, label) of every language a job may speak, for the form's optional select."""
    from backend.domain.voices import LANGUAGES

    return [(code, f"{language.name} ({code})") for code, language in LANGUAGES.items()]


TIMEOUT_HINT = "Empty: long enough for every question asked three times."
LANGUAGE_HINT = "What the calls speak and understand. Empty: English (US)."
RECEIVERS_HINT = (
    "One per line: id, phone, name. Optional first line naming the columns, "
    "e.g. id, phone, name, class (extra columns become template variables)."
)


def template_field(row: int) -> str:
    return f"q{row}_template"


def type_field(row: int) -> str:
    return f"q{row}_type"


@dataclass
class FormInput:
    config: dict[str, str]
    questions: list[tuple[str, str, int]]  # (template, type text, position)
    receivers: list[tuple[str, str, dict[str, str], int]]  # (id, phone, fields, line)
    extra_columns: list[str]
    problems: dict[str, str]  # field id -> message (found before intake)


def read_form(values: Mapping[str, str], rows: Sequence[int]) -> FormInput:
    """The form's values (field id -> text, stripped; a question type as its QuestionType key
    or value) read as the rows of a workbook."""
    config = {key: str(values.get(field_id) or "").strip() for field_id, key in CONFIG_KEYS.items()}
    config = {key: value for key, value in config.items() if value}
    questions = [
        (
            str(values.get(template_field(row)) or "").strip(),
            str(values.get(type_field(row)) or "").strip(),
            position,
        )
        for position, row in enumerate(rows, start=1)
    ]
    receivers, extra, problems = parse_receivers(str(values.get(RECEIVERS) or ""))
    if not config.get("greeting"):
        problems[GREETING] = "Write the greeting: what each person hears first."
    if len(rows) > MAX_QUESTIONS:
        problems[template_field(rows[MAX_QUESTIONS])] = (
            f"At most {MAX_QUESTIONS} questions: remove the ones after question {MAX_QUESTIONS}."
        )
    return FormInput(config, questions, receivers, extra, problems)


def form_job(inp: FormInput, content: bytes) -> IntakeResult:
    """The form through the same intake as workbooks. `content`: the form's values as the
    adapter received them; the same content gives the same job id (a resubmitted form is the
    same job)."""
    # Intake (and openpyxl) load here, not at import: commands answer on a light cold start.
    from backend.domain.intake import (
        QuestionRow,
        ReceiverRow,
        SheetNames,
        assemble_job,
        default_job_id,
    )

    job_id = default_job_id(f"{inp.config.get('name') or 'form'}.form", content)
    return assemble_job(
        inp.config,
        [QuestionRow(template, type_text, row) for template, type_text, row in inp.questions],
        [ReceiverRow(rid, phone, fields, row) for rid, phone, fields, row in inp.receivers],
        job_id=job_id,
        extra_columns=inp.extra_columns,
        sheet_names=SheetNames(configures="Settings", questions="Questions", receivers="Receivers"),
    )


_SEPARATORS = ("\t", ";", ",")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _cells(line: str, separator: str) -> list[str]:
    # skipinitialspace: `S1, 91234567, "Chan, Tai Man"` has a quoted third value.
    return [
        cell.strip()
        for cell in next(csv.reader([line], delimiter=separator, skipinitialspace=True), [])
    ]


def _split_line(line: str) -> list[str]:
    """One pasted line split on its own separator: tab, `;` or `,`, the one whose second value
    is a phone number (so `S1; 91234567; Chan, Tai Man` keeps the comma in the name)."""
    fallback: list[str] | None = None
    for separator in _SEPARATORS:
        if separator not in line:
            continue
        cells = _cells(line, separator)
        if len(cells) >= 2 and _digits(cells[1]) >= 5:
            return cells
        if fallback is None and len(cells) >= 2:
            fallback = cells
    return fallback if fallback is not None else _cells(line, ",")


def parse_receivers(
    text: str,
) -> tuple[list[tuple[str, str, dict[str, str], int]], list[str], dict[str, str]]:
    """Pasted lines `id, phone, name…` (comma, tab or semicolon; values may be quoted) with an
    optional header line whose names are matched like workbook headers (`ID, Phone, Name`)."""
    # Intake loads here, not at import: slash commands ack on a light cold start.
    from backend.domain.intake.cells import header_key
    from backend.domain.intake.sheets import RECEIVER_COLUMNS

    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [], ["name"], {RECEIVERS: "Paste at least one line: id, phone, name"}
    problems: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for n, line in lines:
        try:
            rows.append((n, _split_line(line)))
        except csv.Error as error:
            problems.append(f"line {n}: could not be read ({error}): retype it")
    keys = [RECEIVER_COLUMNS.get(key, key) for key in map(header_key, rows[0][1] if rows else [])]
    if "id" in keys and "phone_number" in keys:
        header: list[str] | None = keys
        rows = rows[1:]
        names = [key or f"column{i}" for i, key in enumerate(keys, start=1)]
        for name in dict.fromkeys(names):
            if names.count(name) > 1:
                problems.append(
                    f"the header line names '{name}' twice: give every column its own name"
                )
        id_at, phone_at = names.index("id"), names.index("phone_number")
        extras = [(i, name) for i, name in enumerate(names) if i not in (id_at, phone_at)]
    else:
        # The documented line is `id, phone, name`: the name column exists even when a line
        # leaves it out, so `{{ name }}` in a template is never reported as unknown.
        header = None
        id_at, phone_at = 0, 1
        width = max((len(cells) for _, cells in rows), default=3)
        extras = [(2, "name"), *((i - 1, f"column{i}") for i in range(4, width + 1))]
    receivers = []
    for line_number, cells in rows:
        if len(cells) <= max(id_at, phone_at) or not cells[phone_at]:
            problems.append(f"line {line_number}: needs at least an id and a phone number")
            continue
        if header is not None and len(cells) > len(header):
            problems.append(
                f"line {line_number}: {len(cells)} values but the header line names "
                f"{len(header)} columns: add the column names or remove the extra values"
            )
            continue
        fields = {name: (cells[i] if i < len(cells) else "") for i, name in extras}
        receivers.append((cells[id_at], cells[phone_at], fields, line_number))
    if not receivers and not problems:  # a header line alone
        problems.append("no receivers: paste one line per person under the header line")
    errors = {RECEIVERS: "; ".join(problems)[:ERROR_LIMIT]} if problems else {}
    return receivers, [name for _, name in extras], errors


def field_for(problem: Problem, meta_rows: Sequence[int]) -> str:
    """Which field of the form a problem found by intake belongs to."""
    sheet = (problem.sheet or "").lower()
    column = (problem.column or "").lower()
    if "question" in sheet:
        position = (problem.row or 1) - 1
        row = meta_rows[position] if 0 <= position < len(meta_rows) else meta_rows[0]
        return type_field(row) if "type" in column else template_field(row)
    if "receiver" in sheet:
        return RECEIVERS
    pairs = (
        ("sms", SMS),
        ("greeting", GREETING),
        ("ending", ENDING),
        ("prefix", PREFIX),
        ("attempt", ATTEMPTS),
        ("timeout", TIMEOUT),
        ("name", NAME),
        ("language", LANGUAGE),
    )
    for key, block in pairs:  # the column names the setting; the message only as a fallback
        if key in column:
            return block
    for key, block in pairs:
        if key in problem.message.lower():
            return block
    return GREETING


def form_errors(problems: Sequence[Problem], meta_rows: Sequence[int]) -> dict[str, str]:
    """Problems as errors next to the fields: one message per field, several joined, short."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        where = (
            f"line {problem.row}: "
            if problem.sheet and "receiver" in problem.sheet.lower() and problem.row
            else ""
        )
        grouped.setdefault(field_for(problem, meta_rows), []).append(where + problem.message)
    errors = {}
    for block, messages in grouped.items():
        text = "; ".join(messages[:3])
        if len(messages) > 3:
            text += f"; and {len(messages) - 3} more"
        errors[block] = text[:ERROR_LIMIT]
    return errors
