"""The report of a job: an .xlsx (Results, Summary with bar charts, Questions), JSON and CSV.

The Results columns keep the original Callouts order: task_id, receiver_id, call_at, status,
error, phone_number, the extra receiver columns, Question 1..N, then attempts and
duration_seconds. One row per receiver in job order; a receiver without a result yet keeps its
row with an empty status. The report is the job owner's own data file: phone numbers are written
in full (only Slack messages and logs mask them).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import ValidationError

from backend.domain.models import CallJob, CallResult, QuestionType, Receiver
from backend.domain.ports import ReportFiles
from backend.domain.summary import JobSummary, latest_results, summary

REPORT_FORMAT = "callouts-results/1"
HEAD_COLUMNS = ("task_id", "receiver_id", "call_at", "status", "error", "phone_number")
TAIL_COLUMNS = ("attempts", "duration_seconds")
RESULTS_SHEET, SUMMARY_SHEET, QUESTIONS_SHEET = "Results", "Summary", "Questions"
_CHART_ROWS = 16  # a 7.5 cm chart covers about 15 default rows: blocks are spaced by this much
_BOLD = Font(bold=True)
_WIDTHS = {"task_id": 24, "call_at": 20, "error": 30, "phone_number": 16, "duration_seconds": 17}

Cell = str | int | float | datetime | date | time | None


class ReportInputError(ValueError):
    """A results file that cannot be turned into a report; the message says where and why."""


def question_column(number: int) -> str:
    return f"Question {number}"


def result_columns(job: CallJob) -> list[str]:
    """The Results sheet / CSV header of a job."""
    return [
        *HEAD_COLUMNS,
        *job.extra_columns,
        *(question_column(n) for n in range(1, len(job.questions) + 1)),
        *TAIL_COLUMNS,
    ]


def report_rows(
    job: CallJob, results: Iterable[CallResult]
) -> list[tuple[str, Receiver | None, CallResult | None]]:
    """(receiver id, receiver, result) per report row: the job's receivers in order, then any
    result for a receiver the job does not list (kept, never dropped)."""
    latest = latest_results(results)
    rows: list[tuple[str, Receiver | None, CallResult | None]] = [
        (receiver.id, receiver, latest.pop(receiver.id, None)) for receiver in job.receivers
    ]
    rows.extend((receiver_id, None, result) for receiver_id, result in latest.items())
    return rows


def _row_values(
    job: CallJob, receiver_id: str, receiver: Receiver | None, result: CallResult | None
) -> Iterator[Any]:
    """The raw values of one row, in column order (answers as canonical strings)."""
    yield job.job_id
    yield receiver_id
    yield result.call_at if result else None
    yield result.status.value if result else None
    yield result.error if result else None
    yield receiver.phone_number if receiver else None
    fields = receiver.fields if receiver else {}
    for column in job.extra_columns:
        yield fields.get(column)
    answers = result.answers if result else ()
    for index in range(len(job.questions)):
        yield answers[index] if index < len(answers) else None
    yield result.attempts if result else None
    yield result.duration_seconds if result else None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _text_row(values: Iterable[Any]) -> list[str | int | float | None]:
    return [_iso(v) if isinstance(v, datetime) else v for v in values]


# ---- JSON ------------------------------------------------------------------------------------


def results_json(job: CallJob, results: Iterable[CallResult]) -> dict[str, Any]:
    """Job, results (one per receiver with a result, in receiver order), table rows and summary.

    `load_results_json` reads it back; `rows` is the Results sheet as objects for other systems.
    """
    rows = report_rows(job, results)
    finished = [result for _, _, result in rows if result is not None]
    columns = result_columns(job)
    return {
        "format": REPORT_FORMAT,
        "job": job.model_dump(mode="json"),
        "results": [result.to_json() for result in finished],
        "columns": columns,
        "rows": [
            dict(zip(columns, _text_row(_row_values(job, *row)), strict=True)) for row in rows
        ],
        "summary": summary(job, finished).to_json(),
    }


def load_results_json(source: bytes | str | Mapping[str, Any]) -> tuple[CallJob, list[CallResult]]:
    """Read what `results_json` wrote; raise ReportInputError naming the field at fault."""
    data: Any = source
    if isinstance(source, bytes | str):
        try:
            data = json.loads(source)
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise ReportInputError(f"not valid JSON: {str(error)[:200]}") from None
    if not isinstance(data, Mapping):
        raise ReportInputError("expected a JSON object with `job` and `results`")
    for key in ("job", "results"):
        if key not in data:
            raise ReportInputError(f"missing field `{key}`: is this a results file from callouts?")
    if not isinstance(data["results"], list):
        raise ReportInputError("field `results` must be a list")
    try:
        job = CallJob.model_validate(data["job"])
    except ValidationError as error:
        raise ReportInputError(_validation_message("job", error)) from None
    results = []
    for index, item in enumerate(data["results"]):
        try:
            result = CallResult.model_validate(item)
        except ValidationError as error:
            raise ReportInputError(_validation_message(f"results[{index}]", error)) from None
        if result.job_id != job.job_id:
            raise ReportInputError(
                f"results[{index}].job_id '{result.job_id}' is not this file's job "
                f"'{job.job_id}': the results come from another job"
            )
        if len(result.answers) > len(job.questions):
            raise ReportInputError(
                f"results[{index}].answers has {len(result.answers)} answers but the job has "
                f"{len(job.questions)} question(s)"
            )
        results.append(result)
    return job, results


def _validation_message(prefix: str, error: ValidationError) -> str:
    details = error.errors()
    parts = []
    for detail in details[:3]:
        where = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in detail["loc"])
        parts.append(f"{where}: {detail['msg']}")
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return "; ".join(parts) + more


# ---- CSV -------------------------------------------------------------------------------------


def results_csv(job: CallJob, results: Iterable[CallResult]) -> str:
    """The Results sheet as CSV text (UTF-8, header row, empty string for no value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result_columns(job))
    for row in report_rows(job, results):
        writer.writerow(_csv_safe(v) for v in _text_row(_row_values(job, *row)))
    return buffer.getvalue()


_SIGNED_NUMBER = re.compile(r"^[+-][\d ().]*$")


def _csv_safe(value: str | int | float | None) -> str | int | float:
    if value is None:
        return ""
    # A cell starting with = + - @ would run as a formula when the CSV is opened in a
    # spreadsheet; a plain signed number or phone number (+852 5123 4567) is left alone.
    if isinstance(value, str) and value[:1] in ("=", "@", "\t", "\r", "+", "-"):
        if value[:1] in "+-" and _SIGNED_NUMBER.match(value):
            return value
        return "'" + value
    return value


# ---- xlsx ------------------------------------------------------------------------------------


def write_xlsx(job: CallJob, results: Iterable[CallResult], target: Path | str | IO[bytes]) -> None:
    """Write the report workbook (write-only mode, so 10,000 rows stay fast and small)."""
    rows = report_rows(job, results)
    book = Workbook(write_only=True)
    _write_results(book.create_sheet(RESULTS_SHEET), job, rows)
    _write_summary(
        book.create_sheet(SUMMARY_SHEET), summary(job, (r for _, _, r in rows if r is not None))
    )
    _write_questions(book.create_sheet(QUESTIONS_SHEET), job)
    book.save(target)


def _write_results(
    sheet: WriteOnlyWorksheet,
    job: CallJob,
    rows: Sequence[tuple[str, Receiver | None, CallResult | None]],
) -> None:
    sheet.freeze_panes = "C2"
    columns = result_columns(job)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 14)
    sheet.append([_bold(sheet, name) for name in columns])
    types = [question.type for question in job.questions]
    first_answer = len(HEAD_COLUMNS) + len(job.extra_columns)
    for row in rows:
        values = list(_row_values(job, *row))
        for index, question_type in enumerate(types, start=first_answer):
            values[index] = _typed_answer(question_type, values[index])
        sheet.append([_xlsx_value(sheet, value) for value in values])


def _typed_answer(question_type: QuestionType, answer: str | None) -> Cell:
    """Numbers and dates as real Excel values, so the owner can sort and sum them."""
    if answer is None:
        return None
    if question_type is QuestionType.NUMBER:
        with suppress(InvalidOperation, ValueError):
            number = Decimal(answer)
            return int(number) if number == number.to_integral_value() else float(number)
    if question_type is QuestionType.DATE:
        with suppress(ValueError):
            return date.fromisoformat(answer)
    if question_type is QuestionType.TIME:
        with suppress(ValueError):
            return time.fromisoformat(answer)
    return answer


def _xlsx_value(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: write UTC (the header says so in the docs).
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, time):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "hh:mm"
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if (value.startswith("=") and len(value) > 1) or value in ERROR_CODES:
            # Text that openpyxl would otherwise write as a formula or an error value.
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
    return value


def _bold(sheet: WriteOnlyWorksheet, value: str) -> Any:
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    cell.font = _BOLD
    return cell


def _write_summary(sheet: WriteOnlyWorksheet, job_summary: JobSummary) -> None:
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 10
    row = 0

    def bold(text: str) -> Any:
        return _bold(sheet, text)

    def put(*values: Any) -> None:
        nonlocal row
        sheet.append([_xlsx_value(sheet, value) for value in values])
        row += 1

    put(bold("Job"), job_summary.job_id)
    put(bold("Receivers"), job_summary.total)
    put(bold("Done"), job_summary.done)
    put(bold("Pending"), job_summary.pending)
    put()
    blocks: list[tuple[str, Sequence[tuple[str, int]]]] = [
        ("Calls per status", [(s.value, n) for s, n in job_summary.statuses.items()])
    ]
    blocks += [
        (f"{question_column(t.number)} ({t.question_type.value})", t.counts)
        for t in job_summary.questions
    ]
    templates = [""] + [tally.template for tally in job_summary.questions]
    for (title, counts), template in zip(blocks, templates, strict=True):
        start = row + 1
        put(bold(title), template)
        put(bold("Answer" if template else "Status"), bold("Count"))
        header = row
        for label, count in counts:
            put(label, count)
        sheet.add_chart(_bar_chart(sheet, title, header, row), f"D{start}")
        while row < start - 1 + _CHART_ROWS:
            put()


def _bar_chart(sheet: WriteOnlyWorksheet, title: str, header: int, last: int) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.legend = None
    chart.height = 7.0
    chart.width = 14.0
    chart.y_axis.title = "Count"
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.add_data(Reference(sheet, min_col=2, min_row=header, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=header + 1, max_row=last))
    return chart


def _write_questions(sheet: WriteOnlyWorksheet, job: CallJob) -> None:
    for letter, width in (("A", 8), ("B", 16), ("C", 100)):
        sheet.column_dimensions[letter].width = width
    sheet.append([_bold(sheet, "number"), _bold(sheet, "type"), _bold(sheet, "template")])
    for number, question in enumerate(job.questions, start=1):
        sheet.append([number, question.type.value, _xlsx_value(sheet, question.template)])


# ---- all three -------------------------------------------------------------------------------


def write_report(job: CallJob, results: Iterable[CallResult], out_dir: Path) -> ReportFiles:
    """Write `<job_id>.xlsx`, `.json` and `.csv` into out_dir; each file appears complete or not
    at all (written to a temporary name, then renamed)."""
    results = list(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles.in_dir(out_dir, job.job_id)
    _atomic(Path(files.xlsx), lambda handle: write_xlsx(job, results, handle))
    payload = json.dumps(results_json(job, results), ensure_ascii=False, indent=1)
    _atomic(Path(files.json), lambda handle: handle.write(payload.encode()))
    csv_text = results_csv(job, results)
    # utf-8-sig so Excel opens non-ASCII names correctly.
    _atomic(Path(files.csv), lambda handle: handle.write(csv_text.encode("utf-8-sig")))
    return files


def _atomic(path: Path, write: Any) -> None:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
        dir=path.parent, prefix=f".{path.name}.", delete=False
    )
    try:
        with handle:
            write(handle)
        os.replace(handle.name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(handle.name)
        raise
