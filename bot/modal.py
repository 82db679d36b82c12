"""The `/callout new` modal: a call job written in a form, validated by the same intake as
workbooks. Question rows are added/removed in place; each kept row keeps its block_id/action_id
so what was typed survives `views.update`."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from backend.domain.models import QuestionType
from backend.domain.problems import Problem

CALLBACK_ID = "callout_job_modal"
ADD_QUESTION = "callout_add_question"
REMOVE_QUESTION = "callout_remove_question"
MAX_QUESTIONS = 10
VALUE = "value"  # action_id of every input

NAME, GREETING, ENDING, PREFIX, RECEIVERS, ATTEMPTS, TIMEOUT = (
    "job_name",
    "greeting",
    "ending",
    "phone_prefix",
    "receivers",
    "max_attempts",
    "call_timeout",
)


def template_block(row: int) -> str:
    return f"q{row}_template"


def type_block(row: int) -> str:
    return f"q{row}_type"


@dataclass
class ModalMeta:
    """What the modal carries in private_metadata (well under 3,000 characters)."""

    channel_id: str
    rows: list[int] = field(default_factory=lambda: [0])
    thread_ts: str | None = None

    def dump(self) -> str:
        return json.dumps({"c": self.channel_id, "r": self.rows, "t": self.thread_ts})

    @classmethod
    def load(cls, raw: str | None) -> ModalMeta:
        """What `dump` wrote; anything unreadable gives a meta without a channel."""
        try:
            data = json.loads(raw or "{}")
            rows = [int(row) for row in data.get("r") or [0]]
            thread = data.get("t")
            return cls(
                channel_id=str(data.get("c") or ""),
                rows=rows,
                thread_ts=str(thread) if thread else None,
            )
        except (ValueError, TypeError, AttributeError):
            return cls(channel_id="")

    def added(self) -> ModalMeta:
        if len(self.rows) >= MAX_QUESTIONS:
            return self
        return ModalMeta(
            self.channel_id, [*self.rows, max(self.rows, default=-1) + 1], self.thread_ts
        )

    def removed(self) -> ModalMeta:
        if len(self.rows) <= 1:
            return self
        return ModalMeta(self.channel_id, self.rows[:-1], self.thread_ts)


def _type_options() -> list[Option]:
    return [Option(text=member.value, value=member.key) for member in QuestionType]


def job_modal(meta: ModalMeta) -> View:
    blocks: list[Block] = [
        InputBlock(
            block_id=NAME,
            label="Job name",
            element=PlainTextInputElement(action_id=VALUE, placeholder="Parents' evening reminder"),
        ),
        InputBlock(
            block_id=GREETING,
            label="Greeting",
            hint="Said first. Use {{ name }} or any receiver column.",
            element=PlainTextInputElement(
                action_id=VALUE,
                multiline=True,
                placeholder="Hello {{ name }}, this is Riverside School.",
            ),
        ),
    ]
    for number, row in enumerate(meta.rows, start=1):
        blocks.append(
            InputBlock(
                block_id=template_block(row),
                label=f"Question {number}",
                element=PlainTextInputElement(action_id=VALUE, multiline=True),
            )
        )
        blocks.append(
            InputBlock(
                block_id=type_block(row),
                label=f"Answer type of question {number}",
                element=StaticSelectElement(
                    action_id=VALUE, placeholder="How is it answered?", options=_type_options()
                ),
            )
        )
    buttons = []
    if len(meta.rows) < MAX_QUESTIONS:
        buttons.append(ButtonElement(text="Add question", action_id=ADD_QUESTION, value="add"))
    if len(meta.rows) > 1:
        buttons.append(
            ButtonElement(text="Remove last question", action_id=REMOVE_QUESTION, value="remove")
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="question_buttons", elements=buttons))
    blocks += [
        InputBlock(
            block_id=ENDING,
            label="Ending",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE, multiline=True, placeholder="Thank you, goodbye."
            ),
        ),
        InputBlock(
            block_id=RECEIVERS,
            label="Receivers",
            hint="One per line: id, phone, name. Optional first line naming the columns, "
            "e.g. id, phone, name, class (extra columns become template variables).",
            element=PlainTextInputElement(
                action_id=VALUE, multiline=True, placeholder="S001, 91234567, Chan Tai Man"
            ),
        ),
        InputBlock(
            block_id=PREFIX,
            label="Phone prefix",
            optional=True,
            hint="Country code added to numbers without one, e.g. +852",
            element=PlainTextInputElement(action_id=VALUE, max_length=5),
        ),
        InputBlock(
            block_id=ATTEMPTS,
            label="Max attempts per person",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=1,
                max_value=10,
                initial_value=2,
            ),
        ),
        InputBlock(
            block_id=TIMEOUT,
            label="Call timeout (seconds)",
            optional=True,
            hint="Empty: long enough for every question asked three times.",
            element=NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=30,
                max_value=3600,
            ),
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="Submit shows a preview; nobody is called yet.")]
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="New call job",
        submit="Preview",
        close="Close",
        blocks=blocks,
        private_metadata=meta.dump(),
    )


def _value(state: Mapping[str, Any], block_id: str) -> str:
    element = state.get(block_id, {}).get(VALUE, {})
    if element.get("selected_option"):
        return str(element["selected_option"].get("value") or "")
    return str(element.get("value") or "").strip()


@dataclass
class ModalInput:
    config: dict[str, str]
    questions: list[tuple[str, str, int]]  # (template, type text, position)
    receivers: list[tuple[str, str, dict[str, str], int]]  # (id, phone, fields, line)
    extra_columns: list[str]
    problems: dict[str, str]  # block_id -> message (found before intake)


def read_modal(view: Mapping[str, Any]) -> ModalInput:
    state = view.get("state", {}).get("values", {})
    meta = ModalMeta.load(view.get("private_metadata"))
    config = {
        "name": _value(state, NAME),
        "greeting": _value(state, GREETING),
        "ending": _value(state, ENDING),
        "phone_prefix": _value(state, PREFIX),
        "max_attempts": _value(state, ATTEMPTS),
        "call_timeout_seconds": _value(state, TIMEOUT),
    }
    config = {key: value for key, value in config.items() if value}
    questions = [
        (_value(state, template_block(row)), _value(state, type_block(row)), position)
        for position, row in enumerate(meta.rows, start=1)
    ]
    receivers, extra, problems = parse_receivers(_value(state, RECEIVERS))
    if not config.get("greeting"):
        problems[GREETING] = "Write the greeting: what each person hears first."
    if len(meta.rows) > MAX_QUESTIONS:
        problems[template_block(meta.rows[MAX_QUESTIONS])] = (
            f"At most {MAX_QUESTIONS} questions: remove the ones after question {MAX_QUESTIONS}."
        )
    if not meta.channel_id:
        problems[GREETING] = "This form is out of date: close it and type /callout again."
    return ModalInput(config, questions, receivers, extra, problems)


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
    errors = {RECEIVERS: "; ".join(problems)[:280]} if problems else {}
    return receivers, [name for _, name in extras], errors


def block_for(problem: Problem, meta_rows: Sequence[int]) -> str:
    """Which input of the modal a problem found by intake belongs to."""
    sheet = (problem.sheet or "").lower()
    column = (problem.column or "").lower()
    if "question" in sheet:
        position = (problem.row or 1) - 1
        row = meta_rows[position] if 0 <= position < len(meta_rows) else meta_rows[0]
        return type_block(row) if "type" in column else template_block(row)
    if "receiver" in sheet:
        return RECEIVERS
    pairs = (
        ("greeting", GREETING),
        ("ending", ENDING),
        ("prefix", PREFIX),
        ("attempt", ATTEMPTS),
        ("timeout", TIMEOUT),
        ("name", NAME),
    )
    for key, block in pairs:  # the column names the setting; the message only as a fallback
        if key in column:
            return block
    for key, block in pairs:
        if key in problem.message.lower():
            return block
    return GREETING


def modal_errors(problems: Sequence[Problem], meta_rows: Sequence[int]) -> dict[str, str]:
    """Problems as inline errors: one message per input, several joined, kept short."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        where = (
            f"line {problem.row}: "
            if problem.sheet and "receiver" in problem.sheet.lower() and problem.row
            else ""
        )
        grouped.setdefault(block_for(problem, meta_rows), []).append(where + problem.message)
    errors = {}
    for block, messages in grouped.items():
        text = "; ".join(messages[:3])
        if len(messages) > 3:
            text += f"; and {len(messages) - 3} more"
        errors[block] = text[:280]
    return errors
