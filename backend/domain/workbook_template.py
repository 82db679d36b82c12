"""Workbooks written by the project itself: the blank, documented template and the example job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from backend.domain.answers import answer_hint
from backend.domain.models import JobSettings, QuestionType
from backend.domain.voices import SUPPORTED_LANGUAGES

CONFIGURES, QUESTIONS, RECEIVERS, HELP = "Configures", "Questions", "Receivers", "How to"
_FIXED_TIME = datetime(
    2026, 1, 1
)  # document properties, so a regenerated file only differs by content
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="4A154B")
_NOTE_FONT = Font(italic=True, color="555555")
_TEXT_ROWS = 1_000  # rows preformatted as text in Receivers, so Excel keeps 0-leading numbers


@dataclass(frozen=True, slots=True)
class ConfigKey:
    key: str
    value: str
    note: str


_DEFAULTS = JobSettings()

CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "greeting",
        "Hello {{ name }}, this is a message from your school.",
        "Required. Said when the person picks up. Use {{ column }} for any Receivers column, "
        "e.g. {{ name }}. Do not add <speak> tags.",
    ),
    ConfigKey(
        "ending",
        "Thank you {{ name }}, goodbye.",
        "Required. Said after the last question, then the call ends.",
    ),
    ConfigKey(
        "phone_prefix",
        "+852",
        "Country code added to numbers written without one, e.g. +852 or 852. "
        "Numbers that already start with + keep their own.",
    ),
    ConfigKey("name", "", "Optional. A name for the job, shown in Slack and the report."),
    ConfigKey(
        "max_attempts",
        "",
        "Optional. How many times a person who does not answer or is busy is called "
        f"(1-10, default {_DEFAULTS.max_attempts}).",
    ),
    ConfigKey(
        "retry_delay_seconds",
        "",
        "Optional. Seconds to wait before calling again "
        f"(default {_DEFAULTS.retry_delay_seconds}).",
    ),
    ConfigKey(
        "call_timeout_seconds",
        "",
        "Optional. Longest a call may last before it is cut; the answers given so far are "
        "kept (30-3600, default: long enough for every question asked three times).",
    ),
    ConfigKey(
        "no_input_limit",
        "",
        "Optional. Silent or not-understood turns in a row on the first question after which "
        "the call is taken for a voicemail or silence, ends, and is tried again later "
        f"(1-3, default {_DEFAULTS.no_input_limit}).",
    ),
    ConfigKey(
        "voicemail_message",
        "",
        "Optional. Said before hanging up on a voicemail or silence, e.g. Hello, this is your "
        "school, we will call again later. (default: hang up without a message).",
    ),
    ConfigKey(
        "sms_template",
        "",
        "Optional. One SMS after the job to each person not reached (no answer, busy, "
        "voicemail, deadline passed), e.g. Hello {{ name }}, we tried to call you: please call "
        "the school. Plain text, at most 1,600 characters (default: no SMS).",
    ),
    ConfigKey(
        "concurrency",
        "",
        f"Optional. How many calls run at the same time (default {_DEFAULTS.concurrency}).",
    ),
    ConfigKey(
        "max_receivers",
        "",
        f"Optional. Refuse the job if it has more receivers (default {_DEFAULTS.max_receivers}).",
    ),
    ConfigKey(
        "max_calls_per_day",
        "",
        "Optional. Most calls one number gets per day, counting every job; a number that had "
        f"them is called the next day (default {_DEFAULTS.max_calls_per_day}).",
    ),
    ConfigKey(
        "allowed_countries",
        "",
        "Optional. Only call numbers of these countries, two-letter codes such as HK, GB "
        "(default: any country).",
    ),
    ConfigKey(
        "organisation",
        "",
        "Recommended. Who is calling, e.g. Sunshine Primary School: said first in every call "
        "unless the greeting already names it.",
    ),
    ConfigKey(
        "callback_number",
        "",
        "Recommended. A number people can call back, said at the end of every call.",
    ),
    ConfigKey(
        "calling_window",
        "",
        "Optional. Local hours in which calls may start, in each person's own time zone, e.g. "
        f"09:00-20:00 (default {_DEFAULTS.calling_window.span}; 'any' calls at any hour).",
    ),
    ConfigKey(
        "calling_days",
        "",
        "Optional. Days calls may be made, e.g. Mon-Fri (default Mon-Sat).",
    ),
    ConfigKey(
        "timezone",
        "",
        "Optional. Time zone for numbers whose zone is unknown, e.g. Asia/Hong_Kong (default "
        "UTC). A Receivers column 'timezone' sets one person's zone.",
    ),
    ConfigKey(
        "deadline_hours",
        "",
        "Optional. Hours after the start when people still not reached end as Expired "
        f"(1-720, default {_DEFAULTS.deadline_hours}).",
    ),
    ConfigKey(
        "voice",
        "",
        f"Optional. Amazon Polly voice that speaks (default {_DEFAULTS.voice}); people whose "
        "language it does not speak hear their language's default voice.",
    ),
    ConfigKey(
        "language",
        "",
        f"Optional. Language of the templates and of everyone whose Receivers 'language' cell "
        f"is empty (default {_DEFAULTS.language}; supported: {', '.join(SUPPORTED_LANGUAGES)}). "
        "A Receivers column 'language' sets one person's; give their templates as "
        "greeting:es-US, ending:es-US keys and a question_template:es-US column.",
    ),
    # Scheduled and recurring jobs (docs/schedule.md).
    ConfigKey(
        "start_at",
        "",
        "Optional. When the job starts, in the job's timezone: 2026-12-07 18:00, tomorrow "
        "18:00 or monday 08:30 (default: at once).",
    ),
    ConfigKey(
        "repeat",
        "",
        "Optional. Repeat the job from start_at: daily, weekdays, weekly, or weekly on "
        "monday,thursday; add 'until 2027-03-31' or '10 times' (default: once).",
    ),
)


@dataclass(frozen=True, slots=True)
class ExampleQuestion:
    question_type: QuestionType
    template: str


BLANK_QUESTIONS: tuple[ExampleQuestion, ...] = (
    ExampleQuestion(QuestionType.OK, "The school picnic is on Friday. Please say OK."),
    ExampleQuestion(QuestionType.YES_NO, "Will {{ name }} come to the picnic?"),
    ExampleQuestion(
        QuestionType.MULTIPLE_CHOICE,
        "Which lunch would {{ name }} like? A, rice. B, noodles. C, sandwiches.",
    ),
    ExampleQuestion(QuestionType.NUMBER, "How many family members will come?"),
    ExampleQuestion(QuestionType.DATE, "Which date suits you for the parents' meeting?"),
    ExampleQuestion(QuestionType.TIME, "What time should we call you back?"),
)

EXAMPLE_CONFIG: tuple[tuple[str, str | int], ...] = (
    (
        "greeting",
        "Hello {{ name }}, this is the class {{ class }} teacher calling about the picnic.",
    ),
    ("ending", "Thank you {{ name }}. See you at the picnic, goodbye!"),
    ("phone_prefix", "+852"),
    ("max_attempts", 2),
    ("organisation", "Harbour View Primary School"),
    ("callback_number", "2123 4567"),
)

EXAMPLE_QUESTIONS: tuple[ExampleQuestion, ...] = (
    ExampleQuestion(
        QuestionType.OK,
        "The class picnic is on Friday the fourth of December at Victoria Park. "
        "Please say OK to confirm you got this message.",
    ),
    ExampleQuestion(QuestionType.YES_NO, "Will {{ name }} join the picnic?"),
    ExampleQuestion(
        QuestionType.MULTIPLE_CHOICE,
        "Which lunch would {{ name }} like? A, rice. B, noodles. C, sandwiches. D, salad. "
        "Or E, no lunch.",
    ),
    ExampleQuestion(QuestionType.NUMBER, "How many family members will come with {{ name }}?"),
    ExampleQuestion(QuestionType.DATE, "If it rains, which date suits you for the make-up day?"),
    ExampleQuestion(QuestionType.TIME, "What time can we call you back if we have questions?"),
)

# id, phone_number, name, class. Some ids and numbers are stored as numbers, the way Excel keeps
# what people type, and one name needs SSML escaping: intake must cope with all of it.
EXAMPLE_RECEIVERS: tuple[tuple[int | str, int | str, str, str], ...] = (
    (1, 51234567, "Chan Tai Man", "3A"),
    (2, "61234567", "Wong Siu Ming", "3A"),
    (3, "+852 9123 4567", "Lee Ka Yan", "3A"),
    (4, 59876543, "Cheung Wing Yan", "3B"),
    ("5", "6456 7890", "Lam & Ho Family", "3B"),
    ("6", "98765432", "Ng Chi Keung", "3B"),
    ("S07", "+85253456789", "Ho Mei Ling", "3C"),
    ("S08", 68889999, "Yeung Hoi Ting", "3C"),
)
EXAMPLE_EXTRA_COLUMNS = ("name", "class")


def write_blank_template(target: Path | str | IO[bytes]) -> None:
    """A workbook to fill in: every Configures key with a note, one example question per type,
    Receivers headers, and a How to sheet."""
    book = Workbook()
    config = book.active
    assert config is not None
    config.title = CONFIGURES
    _header(config, ("Key", "Value", "Notes"), widths=(24, 60, 90))
    for item in CONFIG_KEYS:
        config.append([item.key, item.value, item.note])
        config.cell(config.max_row, 3).font = _NOTE_FONT
        config.cell(config.max_row, 2).number_format = "@"

    questions = book.create_sheet(QUESTIONS)
    _write_questions(questions, BLANK_QUESTIONS)

    receivers = book.create_sheet(RECEIVERS)
    _header(receivers, ("id", "phone_number", "name"), widths=(12, 20, 28))
    for row in range(2, _TEXT_ROWS + 2):
        for column in (1, 2):
            receivers.cell(row, column).number_format = "@"

    _write_help(book.create_sheet(HELP))
    _save(book, target)


def write_example(target: Path | str | IO[bytes]) -> None:
    """examples/call_job.xlsx: every question type, extra columns `name` and `class`."""
    book = Workbook()
    config = book.active
    assert config is not None
    config.title = CONFIGURES
    _header(config, ("Key", "Value"), widths=(20, 90))
    for key, value in EXAMPLE_CONFIG:
        config.append([key, value])
    _write_questions(book.create_sheet(QUESTIONS), EXAMPLE_QUESTIONS)
    receivers = book.create_sheet(RECEIVERS)
    _header(receivers, ("id", "phone_number", *EXAMPLE_EXTRA_COLUMNS), widths=(8, 18, 24, 8))
    for row in EXAMPLE_RECEIVERS:
        receivers.append(list(row))
    _save(book, target)


def _write_questions(sheet: Worksheet, rows: Sequence[ExampleQuestion]) -> None:
    _header(sheet, ("question_template", "question_type"), widths=(100, 18))
    for row in rows:
        sheet.append([row.template, row.question_type.value])
    choices = ",".join(question_type.value for question_type in QuestionType)
    validation = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Unknown question type",
        error=f"Choose one of: {choices.replace(',', ', ')}",
    )
    sheet.add_data_validation(validation)
    validation.add("B2:B200")


def _write_help(sheet: Worksheet) -> None:
    lines: list[tuple[str, str]] = [
        ("How to fill in this call job", ""),
        ("", ""),
        (
            CONFIGURES,
            "One Key/Value per row. greeting and ending are needed; "
            "phone_prefix when numbers lack a country code.",
        ),
        (
            QUESTIONS,
            "One question per row, asked in order. Leave only the header for no questions.",
        ),
        (
            RECEIVERS,
            "One person per row: a unique id and a phone number. Every other column "
            "(name, class...) can be used in templates as {{ column }} and is copied to the "
            "report.",
        ),
        ("Templates", "Jinja2: {{ name }} inserts the name column. Do not write <speak> tags."),
        ("", ""),
        ("question_type", "How the person answers"),
    ]
    lines += [(question_type.value, answer_hint(question_type)) for question_type in QuestionType]
    lines += [
        ("", ""),
        ("Check it", "callouts validate job.xlsx   then   callouts preview job.xlsx"),
    ]
    for label, text in lines:
        sheet.append([label, text])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.cell(8, 1).font = Font(bold=True)
    sheet.cell(8, 2).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 110


def _header(sheet: Worksheet, names: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append(list(names))
    for cell, width in zip(sheet[1], widths, strict=True):
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"


def _save(book: Workbook, target: Path | str | IO[bytes]) -> None:
    properties: Any = book.properties
    properties.creator = "callouts"
    properties.created = _FIXED_TIME
    book.save(target)
