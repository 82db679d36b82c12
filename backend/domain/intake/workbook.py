"""Workbook intake: an .xlsx with Configures / Questions / Receivers sheets -> IntakeResult.

The file is untrusted: its size is checked before parsing, the zip is inspected before openpyxl
sees it (total unzipped size, XML entity declarations), openpyxl parses through defusedxml, and
every failure becomes one Problem instead of a traceback.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException

from backend.domain.intake.assemble import (
    DEFAULT_LIMITS,
    IntakeLimits,
    IntakeResult,
    ProblemLog,
    QuestionRow,
    ReceiverRow,
    SheetNames,
    assemble_job,
)
from backend.domain.intake.cells import FormulaCell, cell_text, header_key
from backend.domain.models import SlackOrigin
from backend.domain.problems import Problem

CONFIG_SHEETS = ("configures", "configure", "configuration", "config")
QUESTION_SHEETS = ("questions", "question")
RECEIVER_SHEETS = ("receivers", "receiver")
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
NOT_XLSX = (
    "this is not an Excel .xlsx workbook: open it in Excel (or Google Sheets, Numbers) and "
    "save it as .xlsx"
)
ENTITIES_REFUSED = (
    "the workbook contains XML entity declarations, which Excel never writes: refused for "
    "safety; open it in Excel and save it again as .xlsx"
)
# openpyxl parses through defusedxml when it is installed (and OPENPYXL_DEFUSEDXML is not
# "False"); the entity scan of each part's head is a first line, the whole part without it.
_SCAN_BYTES = 4096 if openpyxl.DEFUSEDXML else -1
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SLUG = re.compile(r"[^a-z0-9]+")


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def default_job_id(filename: str, content: bytes) -> str:
    """`<slug of the file name>-<sha256[:10]>`: the same file always gets the same job id."""
    stem = Path(filename.replace("\\", "/")).stem if filename else ""
    slug = _SLUG.sub("-", stem.lower()).strip("-")[:69].strip("-") or "job"
    return f"{slug}-{hashlib.sha256(content).hexdigest()[:10]}"


def read_workbook(
    source: bytes | Path,
    *,
    filename: str | None = None,
    job_id: str | None = None,
    limits: IntakeLimits = DEFAULT_LIMITS,
    origin: SlackOrigin | None = None,
) -> IntakeResult:
    """Read, validate and normalise a job workbook; every problem found is in the result."""
    try:
        content = _read_bytes(source, limits)
        if isinstance(source, Path) and filename is None:
            filename = source.name
        _check_container(content, limits)
        return _read(content, filename, job_id, limits, origin)
    except _Refused as refused:
        return IntakeResult(None, [Problem(refused.message)])


def _read_bytes(source: bytes | Path, limits: IntakeLimits) -> bytes:
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            _check_size(size, limits)
            return source.read_bytes()
        except OSError as error:
            raise _Refused(f"the file {source.name} cannot be read: {error.strerror}") from None
    _check_size(len(source), limits)
    return bytes(source)


def _check_size(size: int, limits: IntakeLimits) -> None:
    if size > limits.max_bytes:
        raise _Refused(
            f"the file is {size / 1_000_000:.1f} MB, over the {limits.max_bytes / 1_000_000:g} MB "
            "limit: split the receivers into several workbooks"
        )
    if size == 0:
        raise _Refused(f"the file is empty: {NOT_XLSX}")


def _check_container(content: bytes, limits: IntakeLimits) -> None:
    if content.startswith(_OLE):
        raise _Refused(
            "this workbook is password-protected or an old .xls file: remove the password "
            "(File > Info > Protect Workbook) and save it as .xlsx"
        )
    if not content.startswith(b"PK"):
        raise _Refused(f"{NOT_XLSX} (this file looks like {_looks_like(content)})")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise _Refused(f"{NOT_XLSX} (the file is a zip archive without an Excel workbook)")
            if sum(member.file_size for member in members) > limits.max_unzipped_bytes:
                raise _Refused(
                    "the workbook expands to more than "
                    f"{limits.max_unzipped_bytes / 1_000_000:g} MB when opened: refused"
                )
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as part:
                        head = part.read(_SCAN_BYTES)
                    if _ENTITY.search(head):
                        raise _Refused(ENTITIES_REFUSED)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError) as error:
        raise _Refused(f"the workbook is damaged ({error}): {NOT_XLSX}") from None


def _looks_like(content: bytes) -> str:
    head = content[:512]
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith((b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    if head.startswith(b"%PDF"):
        return "a PDF"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "some other kind of file"
    if "," in text or ";" in text or "\t" in text:
        return "a CSV text file"
    return "a text file"


def _read(
    content: bytes,
    filename: str | None,
    job_id: str | None,
    limits: IntakeLimits,
    origin: SlackOrigin | None,
) -> IntakeResult:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            book = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=False, keep_links=False
            )
    except Exception as error:  # openpyxl raises many types on hostile or damaged files
        raise _Refused(f"the workbook cannot be opened ({_short(error)}): {NOT_XLSX}") from None
    try:
        return _read_sheets(book, content, filename, job_id, limits, origin)
    except _Refused:
        raise
    except Exception as error:  # a damaged sheet part discovered while streaming rows
        raise _Refused(f"the workbook cannot be read ({_short(error)}): {NOT_XLSX}") from None
    finally:
        book.close()


def _short(error: BaseException) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            raise _Refused(ENTITIES_REFUSED) from None
        cause = cause.__cause__ or cause.__context__
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


def _read_sheets(
    book: Any,
    content: bytes,
    filename: str | None,
    job_id: str | None,
    limits: IntakeLimits,
    origin: SlackOrigin | None,
) -> IntakeResult:
    problems = ProblemLog(limits.max_listed_per_kind)
    by_name = {title.strip().lower(): title for title in book.sheetnames}
    titles: dict[str, str] = {}
    for canonical, aliases in (
        ("Configures", CONFIG_SHEETS),
        ("Questions", QUESTION_SHEETS),
        ("Receivers", RECEIVER_SHEETS),
    ):
        found = next((by_name[a] for a in aliases if a in by_name), None)
        if found is None:
            problems.add(
                Problem(
                    f"the workbook has no {canonical} sheet (sheets found: "
                    f"{', '.join(book.sheetnames)}): add a sheet named {canonical}",
                    sheet=canonical,
                )
            )
        else:
            titles[canonical] = found
    if problems.items:
        return IntakeResult(None, problems.finish())

    config, config_rows = _read_config(book[titles["Configures"]], titles["Configures"], problems)
    questions = _read_questions(
        book[titles["Questions"]], titles["Questions"], limits.max_questions, problems
    )
    receivers, extra_columns, truncated, readable = _read_receivers(
        book[titles["Receivers"]], titles["Receivers"], limits.max_receivers, problems
    )
    sheets = SheetNames(
        configures=titles["Configures"],
        questions=titles["Questions"],
        receivers=titles["Receivers"],
        config_rows=config_rows,
    )
    result = assemble_job(
        config,
        questions,
        receivers,
        job_id=job_id or default_job_id(filename or "job", content),
        extra_columns=extra_columns,
        limits=limits,
        origin=origin,
        sheet_names=sheets,
        truncated=truncated,
        receivers_readable=readable,
    )
    if problems.items:
        all_problems = sorted([*problems.finish(), *result.problems], key=_order(sheets))
        return IntakeResult(None if problems.job_level else result.job, all_problems)
    return result


def _order(sheets: SheetNames) -> Any:
    rank = {sheets.configures: 0, sheets.questions: 1, sheets.receivers: 2}

    def key(problem: Problem) -> tuple[int, int]:
        row = problem.row if problem.row is not None else 0
        if problem.message.startswith("…"):
            row = 1 << 30  # "...and N more" summaries after the rows they summarise
        return (rank.get(problem.sheet or "", -1), row)

    return key


def _rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Non-empty rows with their 1-based sheet row number (whitespace-only cells are empty)."""
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if any(_filled(value) for value in row):
            yield number, row


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


def _read_config(
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


def _read_questions(
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
    questions: list[QuestionRow] = []
    for number, row in rows:
        template = _text(_at(row, template_at), title, number, "question_template", problems)
        kind = _text(_at(row, type_at), title, number, "question_type", problems)
        if template is None or kind is None:
            continue
        if not template and not kind:
            continue  # only other columns (notes) filled in
        questions.append(QuestionRow(template=template, type_text=kind, row=number))
        if len(questions) > max_questions:
            break  # assemble_job reports the limit; the rest is not read
    return questions


def _at(row: tuple[Any, ...], index: int) -> Any:
    return row[index] if index < len(row) else None


def _read_receivers(
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
    for number, row in rows:
        if len(receivers) >= max_receivers:
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
