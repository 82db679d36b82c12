"""The three sheets read into rows: Configures key/values, question rows, receiver rows.

Cell problems (formulas, Excel's date conversions, duplicate or missing columns) go to the
ProblemLog; assemble_job validates what the rows say.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

from backend.domain.intake.cells import FormulaCell, cell_text, header_key
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.rows import QuestionRow, ReceiverRow
from backend.domain.intake.xlsx_rows import sheet_rows, streams
from backend.domain.problems import Problem

QUESTION_COLUMNS = {
    "question_template": "question_template",
    "template": "question_template",
    "question": "question_template",
    "question_type": "question_type",
    "type": "question_type",
}
RECEIVER_COLUMNS = {
    "id": "id",
    "receiver_id": "id",
    "phone_number": "phone_number",
    "phone": "phone_number",
}
MAX_CONFIG_ROWS = 100
HEADER_SEARCH_ROWS = 10  # title rows above the header that are skipped
MAX_COLUMNS = 200  # columns read from a sheet: more is a problem on the header row


def _rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Non-empty rows with their 1-based sheet row number (whitespace-only cells are empty).

    The sheet's declared size (`<dimension ref="A1:XFD1048576">`) is ignored: openpyxl would
    pad every row to it. Only the first MAX_COLUMNS + 1 columns are read. A read-only sheet is
    streamed by xlsx_rows (no object per cell); any other sheet through openpyxl.
    """
    if streams(sheet):
        rows: Iterable[tuple[int, tuple[Any, ...]]] = sheet_rows(sheet, MAX_COLUMNS + 1)
    else:
        rows = enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1)
    for number, row in rows:
        for value in row:  # any(_filled(...)) written out: it runs once per cell of the sheet
            if value is not None and (not isinstance(value, str) or value.strip()):
                yield number, row
                break


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    aliases: dict[str, str],
    required: tuple[str, ...],
) -> tuple[tuple[int, tuple[Any, ...]] | None, Iterator[tuple[int, tuple[Any, ...]]]]:
    """The header row: the first of the first few rows naming every required column.

    Rows above it (a title, a date) are skipped. When no row qualifies, the first row is taken
    as the header so that the missing columns are reported against it.
    """
    head: list[tuple[int, tuple[Any, ...]]] = []
    for item in rows:
        head.append(item)
        keys = {aliases.get(k, k) for k in (header_key(v) for v in item[1]) if k}
        if set(required) <= keys:
            return item, itertools.chain(head[len(head) :], rows)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        return None, rows
    return head[0], itertools.chain(head[1:], rows)


def _text(
    value: Any,
    sheet: str,
    row: int,
    column: str,
    problems: ProblemLog,
    *,
    job_level: bool = True,
) -> str | None:
    try:
        return cell_text(value)
    except FormulaCell:
        problems.add(
            Problem(
                "this cell holds a formula: type the value, not a formula "
                "(copy the cell and paste it back as values)",
                sheet,
                row,
                column,
            ),
            job_level=job_level,
        )
        return None


def _identity(value: Any, sheet: str, row: int, column: str, problems: ProblemLog) -> str | None:
    """An id or phone number cell: a date, time or TRUE/FALSE there is Excel's conversion of
    what was typed (`1-2` becomes 2 January), never a real id or number."""
    if type(value) is str or type(value) is int:  # what most cells hold (bool is not int here)
        return _text(value, sheet, row, column, problems, job_level=False)
    kind = None
    if isinstance(value, bool):
        kind = "TRUE/FALSE"
    elif isinstance(value, datetime | date):
        kind = "a date"
    elif isinstance(value, time):
        kind = "a time"
    if kind is None:
        return _text(value, sheet, row, column, problems, job_level=False)
    problems.add(
        Problem(
            f"this cell holds {kind} ({cell_text(value)}), not what was typed: Excel converts "
            "entries such as 1-2 or 9:30; format the column as Text and type it again",
            sheet,
            row,
            column,
        ),
        job_level=False,
    )
    return None


def read_config(
    sheet: Any, title: str, problems: ProblemLog
) -> tuple[dict[str, str], dict[str, int]]:
    config: dict[str, str] = {}
    rows: dict[str, int] = {}
    first, rest = _find_header(_rows(sheet), {}, ("key", "value"))
    # Rows above a Key/Value header (a title) are skipped; without a header every row is read.
    is_header = first is not None and {header_key(v) for v in first[1][:2]} == {"key", "value"}
    listed = rest if is_header or first is None else itertools.chain([first], rest)
    for number, row in listed:
        if len(rows) > MAX_CONFIG_ROWS:
            problems.add(Problem("too many rows: Configures has one row per key", title, number))
            break
        key = header_key(row[0] if row else None)
        raw_value = row[1] if len(row) > 1 else None
        if key == "key" and header_key(raw_value) == "value":
            continue
        if not key:
            problems.add(
                Problem("this row has a value but no key in column A", title, number, "Key")
            )
            continue
        if key in rows:
            problems.add(
                Problem(
                    f"'{key}' is set twice: already on row {rows[key]}; keep one",
                    title,
                    number,
                    "Key",
                )
            )
            continue
        value = _text(raw_value, title, number, "Value", problems)
        rows[key] = number
        if value is not None:
            config[key] = value
    return config, rows


def _header(
    row: tuple[Any, ...], title: str, number: int, problems: ProblemLog
) -> list[str | None]:
    keys: list[str | None] = []
    seen: dict[str, int] = {}
    if len(row) > MAX_COLUMNS and any(_filled(value) for value in row[MAX_COLUMNS:]):
        problems.add(
            Problem(
                f"the header row has more than {MAX_COLUMNS} columns: keep the columns the "
                "call needs and delete the rest",
                title,
                number,
            )
        )
        row = row[:MAX_COLUMNS]
    for index, value in enumerate(row):
        key = header_key(value)
        if not key:
            keys.append(None)
            continue
        if key in seen:
            problems.add(
                Problem(
                    f"column '{key}' appears twice (columns {seen[key] + 1} and {index + 1}): "
                    "rename or delete one",
                    title,
                    number,
                    key,
                )
            )
            keys.append(None)
            continue
        seen[key] = index
        keys.append(key)
    return keys


def _missing_columns(
    found: Iterable[str | None],
    required: tuple[str, ...],
    title: str,
    number: int | None,
    problems: ProblemLog,
) -> bool:
    missing = [column for column in required if column not in set(found)]
    for column in missing:
        problems.add(
            Problem(
                f"the {title} sheet has no '{column}' column: add it to the header row",
                title,
                number,
                column,
            )
        )
    return bool(missing)


def read_questions(
    sheet: Any, title: str, max_questions: int, problems: ProblemLog
) -> list[QuestionRow]:
    first, rows = _find_header(
        _rows(sheet), QUESTION_COLUMNS, ("question_template", "question_type")
    )
    if first is None:
        _missing_columns((), ("question_template", "question_type"), title, None, problems)
        return []
    header_row, header = first
    keys = [
        QUESTION_COLUMNS.get(k, k) if k else None
        for k in _header(header, title, header_row, problems)
    ]
    if _missing_columns(keys, ("question_template", "question_type"), title, header_row, problems):
        return []
    template_at, type_at = keys.index("question_template"), keys.index("question_type")
    # `question_template:es-US` columns (kept as `question_template_es_us`): translations.
    translated = [
        (index, key[len("question_template_") :])
        for index, key in enumerate(keys)
        if key and key.startswith("question_template_")
    ]
    questions: list[QuestionRow] = []
    for number, row in rows:
        template = _text(_at(row, template_at), title, number, "question_template", problems)
        kind = _text(_at(row, type_at), title, number, "question_type", problems)
        if template is None or kind is None:
            continue
        if not template and not kind:
            continue  # only other columns (notes) filled in
        translations: dict[str, str] = {}
        for index, language in translated:
            column = f"question_template:{language}"
            text = _text(_at(row, index), title, number, column, problems)
            if text:
                translations[language] = text
        questions.append(
            QuestionRow(template=template, type_text=kind, row=number, translations=translations)
        )
        if len(questions) > max_questions:
            break  # assemble_job reports the limit; the rest is not read
    return questions


def _at(row: tuple[Any, ...], index: int) -> Any:
    return row[index] if index < len(row) else None


def read_receivers(
    sheet: Any, title: str, max_receivers: int, problems: ProblemLog
) -> tuple[list[ReceiverRow], list[str], bool, bool]:
    """Receiver rows, extra column names, whether the limit cut the rows, whether readable."""
    first, rows = _find_header(_rows(sheet), RECEIVER_COLUMNS, ("id", "phone_number"))
    if first is None:
        problems.add(
            Problem(
                "the Receivers sheet is empty: add a header row (id, phone_number, any extra "
                "columns) and one row per person",
                title,
            )
        )
        return [], [], False, False
    header_row, header = first
    keys = [
        RECEIVER_COLUMNS.get(k, k) if k else None
        for k in _header(header, title, header_row, problems)
    ]
    if keys.count("id") > 1 or keys.count("phone_number") > 1:
        problems.add(
            Problem(
                "the header has both a column and its alias (id/receiver_id or "
                "phone_number/phone): keep one",
                title,
                header_row,
            )
        )
        return [], [], False, False
    if _missing_columns(keys, ("id", "phone_number"), title, header_row, problems):
        return [], [], False, False
    id_at, phone_at = keys.index("id"), keys.index("phone_number")
    extras = [(i, k) for i, k in enumerate(keys) if k and k not in ("id", "phone_number")]
    extra_columns = [k for _, k in extras]
    receivers: list[ReceiverRow] = []
    for scanned, (number, row) in enumerate(rows):
        # Rows with problems count too: a sheet of a million bad rows is not read to the end.
        if len(receivers) >= max_receivers or scanned >= 2 * max_receivers:
            return receivers, extra_columns, True, True
        receiver_id = _identity(_at(row, id_at), title, number, "id", problems)
        phone = _identity(_at(row, phone_at), title, number, "phone_number", problems)
        fields: dict[str, str] = {}
        good = receiver_id is not None and phone is not None
        for index, key in extras:
            value = _text(_at(row, index), title, number, key, problems, job_level=False)
            if value is None:
                good = False
            else:
                fields[key] = value
        if good and receiver_id is not None and phone is not None:
            receivers.append(ReceiverRow(id=receiver_id, phone=phone, fields=fields, row=number))
    return receivers, extra_columns, False, True
