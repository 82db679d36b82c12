"""The report of a job: an .xlsx (Results, Summary with bar charts, Questions), JSON and CSV.

The Results columns keep the original Callouts order and names, for the machines that read them:
task_id, receiver_id, call_at, status, error, phone_number, the extra receiver columns,
Question 1..N, then attempts and duration_seconds (and `sms` for a job with an SMS template:
`Sent`, `Failed: <reason>`, `Skipped: <reason>`, empty when no SMS was due). One row per
receiver in job order; a receiver without a result yet keeps its row with an empty status. The
report is the job owner's own data file: phone numbers are written in full (only Slack messages
and logs mask them).

For people reading the workbook: each `Question N` header carries a note with the question's
text, `call_at` is in the job's time zone (`timezone` setting, else UTC) and says which, column
widths fit their content, the header row is frozen, and phone numbers are text in Excel (the CSV
writes them as `="+852..."`, which Excel shows as text and never reads as a number).
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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from backend.domain.models import CallJob, CallResult, QuestionType, Receiver
from backend.domain.ports import ReportFiles
from backend.domain.record_json import FieldError
from backend.domain.sms import SMS_COLUMN, SmsResult, SmsTally
from backend.domain.summary import JobSummary, latest_results, summary
from backend.domain.xlsx_sheet import StreamedSheet

REPORT_FORMAT = "callouts-results/1"
HEAD_COLUMNS = ("task_id", "receiver_id", "call_at", "status", "error", "phone_number")
TAIL_COLUMNS = ("attempts", "duration_seconds")
RESULTS_SHEET, SUMMARY_SHEET, QUESTIONS_SHEET = "Results", "Summary", "Questions"
_CHART_ROWS = 16  # a 7.5 cm chart covers about 15 default rows: blocks are spaced by this much
MIN_WIDTH, MAX_WIDTH = 8, 60  # Results column widths, in characters, fitted to content within
_DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_TITLE_CHARACTERS = 90  # chart titles longer than this are cut with "..."
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")

Cell = str | int | float | datetime | date | time | None
SmsResults = Mapping[str, SmsResult]  # receiver id -> what became of their SMS
_NO_SMS: SmsResults = {}


class ReportInputError(ValueError):
    """A results file that cannot be turned into a report; the message says where and why."""


def question_column(number: int) -> str:
    return f"Question {number}"


def report_time_zone(job: CallJob) -> tuple[tzinfo, str]:
    """The zone the report's times are written in, and its name: the job's `timezone` setting,
    else UTC."""
    name = job.settings.timezone
    if name:
        with suppress(ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(name), name
    return UTC, "UTC"


def question_title(number: int, template: str, question_type: QuestionType) -> str:
    """`Question 2: Will {{ name }} come? (Yes/No)`, cut to a chart title's length."""
    text = " ".join(template.split())
    if len(text) > _TITLE_CHARACTERS:
        text = text[: _TITLE_CHARACTERS - 3].rstrip() + "..."
    return f"{question_column(number)}: {text} ({question_type.value})"


def result_columns(job: CallJob) -> list[str]:
    """The Results sheet / CSV header of a job."""
    return [
        *HEAD_COLUMNS,
        *job.extra_columns,
        *(question_column(n) for n in range(1, len(job.questions) + 1)),
        *TAIL_COLUMNS,
        *((SMS_COLUMN,) if job.sms_template.strip() else ()),
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
    job: CallJob,
    receiver_id: str,
    receiver: Receiver | None,
    result: CallResult | None,
    sms: SmsResults = _NO_SMS,
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
    if job.sms_template.strip():
        texted = sms.get(receiver_id)
        yield texted.label if texted else None


def _iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 in the report's zone, with its offset (`Z` for UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.isoformat().replace("+00:00", "Z")


def _text_row(values: Iterable[Any], zone: tzinfo) -> list[str | int | float | None]:
    return [_iso(v, zone) if isinstance(v, datetime) else v for v in values]


# ---- JSON ------------------------------------------------------------------------------------


def results_json(
    job: CallJob, results: Iterable[CallResult], sms: SmsResults = _NO_SMS
) -> dict[str, Any]:
    """Job, results (one per receiver with a result, in receiver order), table rows and summary;
    for a job with an SMS template also `sms` (one SmsResult per person texted) and
    `sms_summary` ({"sent", "failed", "skipped"}).

    `load_results_json` reads it back (`load_sms_json` the SMS); `rows` is the Results sheet as
    objects for other systems. `write_results_json` writes the same, item by item.
    """
    return {
        key: list(value) if many else _plain(value)
        for key, value, many in _json_parts(job, results, sms)
    }


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, CallJob) else value


def write_results_json(
    job: CallJob, results: Iterable[CallResult], handle: IO[bytes], sms: SmsResults = _NO_SMS
) -> None:
    """`results_json` as UTF-8 JSON, written one result and one row at a time: a 100,000-person
    report never holds the whole document (or its text) in memory."""

    def put(text: str) -> None:
        handle.write(text.encode())

    put("{")
    for number, (key, value, many) in enumerate(_json_parts(job, results, sms)):
        put(f"{',' if number else ''}\n {json.dumps(key)}: ")
        if isinstance(value, CallJob):  # the JSON of model_dump(mode="json"), without 100,000 dicts
            put(value.model_dump_json())
            continue
        if not many:
            put(json.dumps(value, ensure_ascii=False))
            continue
        put("[")
        for index, item in enumerate(value):
            put(f"{',' if index else ''}\n  {json.dumps(item, ensure_ascii=False)}")
        put("\n ]")
    put("\n}\n")


def _json_parts(
    job: CallJob, results: Iterable[CallResult], sms: SmsResults
) -> Iterator[tuple[str, Any, bool]]:
    """(key, value, whether the value is an iterable to list) of the report JSON, in order."""
    rows = report_rows(job, results)
    finished = [result for _, _, result in rows if result is not None]
    columns = result_columns(job)
    zone, zone_name = report_time_zone(job)
    yield "format", REPORT_FORMAT, False
    yield "job", job, False  # the model: dumped by the reader of these parts
    yield "results", (result.to_json() for result in finished), True
    yield "columns", columns, False
    yield "time_zone", zone_name, False
    rows_json = (
        dict(zip(columns, _text_row(_row_values(job, *row, sms), zone), strict=True))
        for row in rows
    )
    yield "rows", rows_json, True
    yield "summary", summary(job, finished).to_json(), False
    if job.sms_template.strip():
        texted = [sms[r.id] for r in job.receivers if r.id in sms]
        yield "sms", (item.to_json() for item in texted), True
        yield "sms_summary", SmsTally.of(texted).to_json(), False


def load_sms_json(source: bytes | str | Mapping[str, Any]) -> dict[str, SmsResult]:
    """The SMS results of a report JSON (`results_json`); {} when it has none."""
    data: Any = json.loads(source) if isinstance(source, bytes | str) else source
    items = data.get("sms") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return {}
    texted: dict[str, SmsResult] = {}
    for index, item in enumerate(items):
        try:
            result = SmsResult.model_validate(item)
        except ValidationError as error:
            raise ReportInputError(_validation_message(f"sms[{index}]", error)) from None
        texted[result.receiver_id] = result
    return texted


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
            result = CallResult.from_json(item)
        except FieldError as error:
            raise ReportInputError(str(error.within(f"results[{index}]"))) from None
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


def results_csv(job: CallJob, results: Iterable[CallResult], sms: SmsResults = _NO_SMS) -> str:
    """The Results sheet as CSV text (UTF-8, header row, empty string for no value).

    Times are ISO 8601 with the offset of the job's zone; phone numbers are `="+85251234567"`.
    """
    buffer = io.StringIO()
    _write_csv(job, results, buffer, sms)
    return buffer.getvalue()


def write_results_csv(
    job: CallJob, results: Iterable[CallResult], handle: IO[bytes], sms: SmsResults = _NO_SMS
) -> None:
    """`results_csv` as UTF-8 with a byte order mark (so Excel reads non-ASCII names right),
    written row by row: a 100,000-person report never holds the whole text."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        _write_csv(job, results, text, sms)
    finally:
        text.flush()
        text.detach()


def _write_csv(job: CallJob, results: Iterable[CallResult], out: IO[str], sms: SmsResults) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result_columns(job))
    zone, _ = report_time_zone(job)
    phone = HEAD_COLUMNS.index("phone_number")
    for row in report_rows(job, results):
        values = [_csv_safe(v) for v in _text_row(_row_values(job, *row, sms), zone)]
        values[phone] = csv_phone(values[phone])
        writer.writerow(values)


def csv_phone(value: str | int | float) -> str | int | float:
    """An E.164 number as `="+85251234567"`: Excel opens a CSV `+852...` as a number (the plus
    and any leading zero lost); this formula yields the text itself. Only a validated number
    (a plus and digits) is wrapped, so nothing else can run."""
    if isinstance(value, str) and _E164.match(value):
        return f'="{value}"'
    return value


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

# Characters XML 1.0 (so Excel) refuses in a cell: dropped from the text.
_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_DIGIT_PIXELS = 7  # a column `width` of N characters is 7N pixels (Calibri 11)
_CHART_CM = (14.0, 7.0)  # width, height
_PIXELS_PER_CM = 96 / 2.54


@dataclass(frozen=True)
class _Formats:
    """The cell formats of one report workbook (XlsxWriter formats belong to their workbook)."""

    bold: Format
    date_time: Format  # call_at: the local wall time, its zone named by the format
    date_time_width: int  # the characters a date-time cell shows
    date: Format
    time: Format
    text: Format  # phone numbers: text that stays text when edited

    @classmethod
    def of(cls, book: Workbook, zone_name: str) -> _Formats:
        return cls(
            bold=book.add_format({"bold": True}),
            date_time=book.add_format({"num_format": f'{_DATE_TIME_FORMAT} "{zone_name}"'}),
            date_time_width=len("2026-12-01 09:00:00 ") + len(zone_name),
            date=book.add_format({"num_format": "yyyy-mm-dd"}),
            time=book.add_format({"num_format": "hh:mm"}),
            text=book.add_format({"num_format": "@"}),
        )


def write_xlsx(
    job: CallJob,
    results: Iterable[CallResult],
    target: Path | str | IO[bytes],
    sms: SmsResults = _NO_SMS,
) -> None:
    """Write the report workbook with XlsxWriter in constant-memory mode: each Results row is
    written out when the next one starts, so a 100,000-row report never holds its cells."""
    rows = report_rows(job, results)
    zone, zone_name = report_time_zone(job)
    # XlsxWriter keeps each sheet's rows in a temporary file: they go with this directory, also
    # when writing fails half-way (then nothing is written to the target).
    with tempfile.TemporaryDirectory(prefix="callouts-xlsx-") as scratch:
        book = Workbook(
            str(target) if isinstance(target, Path) else target,
            {"constant_memory": True, "tmpdir": scratch, "nan_inf_to_errors": True},
        )
        formats = _Formats.of(book, zone_name)
        results_sheet, summary_sheet, questions_sheet = (
            book.add_worksheet(name, StreamedSheet)
            for name in (RESULTS_SHEET, SUMMARY_SHEET, QUESTIONS_SHEET)
        )
        _write_results(results_sheet, formats, job, rows, zone, zone_name, sms)
        _write_summary(
            book,
            summary_sheet,
            formats,
            summary(job, (r for _, _, r in rows if r is not None)),
            zone_name,
            SmsTally.of(sms.values()) if job.sms_template.strip() else None,
        )
        _write_questions(questions_sheet, formats, job)
        book.close()


def _write_results(
    sheet: Worksheet,
    formats: _Formats,
    job: CallJob,
    rows: Sequence[tuple[str, Receiver | None, CallResult | None]],
    zone: tzinfo,
    zone_name: str,
    sms: SmsResults = _NO_SMS,
) -> None:
    """The Results sheet, streamed row by row; the column widths (written with the sheet at the
    end) fit the longest value seen."""
    columns = result_columns(job)
    cells = _Cells(sheet, formats)
    _results_header(sheet, cells, formats, job, columns, zone_name)
    widest = [len(name) for name in columns]
    styles = [None] * len(columns)
    styles[HEAD_COLUMNS.index("phone_number")] = formats.text
    put = cells.put
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(_results_values(job, row, zone, sms)):
            if value is not None:
                size = put(number, column, value, styles[column])
                if size > widest[column]:
                    widest[column] = size
    # +2: the autofilter button sits in the header cell.
    _set_widths(sheet, [min(max(size + 2, MIN_WIDTH), MAX_WIDTH) for size in widest])
    sheet.freeze_panes(1, 2)  # the header row and the receiver ids stay in view
    sheet.autofilter(0, 0, len(rows), len(columns) - 1)


def _results_values(
    job: CallJob,
    row: tuple[str, Receiver | None, CallResult | None],
    zone: tzinfo,
    sms: SmsResults = _NO_SMS,
) -> list[Any]:
    """One Results row as Excel values: times in the report's zone, typed answers."""
    values = list(_row_values(job, *row, sms))
    call_at = HEAD_COLUMNS.index("call_at")
    moment = values[call_at]
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        # Excel has no time zones: the local wall time, its zone named by the cell format.
        values[call_at] = moment.astimezone(zone).replace(tzinfo=None)
    first_answer = len(HEAD_COLUMNS) + len(job.extra_columns)
    for index, question in enumerate(job.questions, start=first_answer):
        values[index] = _typed_answer(question.type, values[index])
    return values


class _Cells:
    """Writes values into one sheet as their Excel types: text always as text (never a formula),
    numbers, and dates and times with their formats."""

    def __init__(self, sheet: Worksheet, formats: _Formats) -> None:
        self._string = sheet.write_string
        self._number = sheet.write_number
        self._datetime = sheet.write_datetime
        self._formats = formats

    def put(self, row: int, column: int, value: Any, style: Any = None) -> int:
        """Write one value (`style`: the format of text and numbers, e.g. bold); return the
        number of characters the cell shows, 0 for no value."""
        if value is None:
            return 0
        if isinstance(value, str):
            value = _clean(value)
            self._string(row, column, value, style)
            return len(value)
        if isinstance(value, (int, float)):  # a tuple: faster than int | float
            self._number(row, column, value, style)
            return len(str(value))
        if isinstance(value, datetime):
            if value.tzinfo is not None:  # Excel has no time zones
                value = value.astimezone(UTC).replace(tzinfo=None)
            self._datetime(row, column, value, self._formats.date_time)
            return self._formats.date_time_width
        if isinstance(value, date | time):
            style = self._formats.time if isinstance(value, time) else self._formats.date
            self._datetime(row, column, value, style)
            return 10
        raise TypeError(f"no Excel cell for a {type(value).__name__}")


def _clean(text: str) -> str:
    """The text without the characters Excel refuses (most text has none: checked fast)."""
    return text if text.isprintable() else _ILLEGAL_CHARACTERS.sub("", text)


def _set_widths(sheet: Worksheet, widths: Iterable[float]) -> None:
    """Column widths in characters, written as the `width` Excel stores (XlsxWriter's own
    character widths add the cell padding)."""
    for column, width in enumerate(widths):
        sheet.set_column_pixels(column, column, round(width * _DIGIT_PIXELS))


def _results_header(
    sheet: Worksheet,
    cells: _Cells,
    formats: _Formats,
    job: CallJob,
    columns: Sequence[str],
    zone_name: str,
) -> None:
    """Bold header cells; `call_at` and each `Question N` carry a note saying what they hold."""
    notes = {"call_at": f"Time of the last call attempt, in the {zone_name} time zone."}
    for number, question in enumerate(job.questions, start=1):
        notes[question_column(number)] = f"({question.type.value}) {question.template}"
    for column, name in enumerate(columns):
        cells.put(0, column, name, formats.bold)
        note = notes.get(name)
        if note is not None:
            text = _clean(note)
            # Width in pixels; tall enough for the text at about 50 characters a line.
            size = {"width": 300, "height": 40 + 16 * (len(text) // 50 + 1)}
            sheet.write_comment(0, column, text, {"author": "Callouts", **size})


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


def _write_summary(
    book: Workbook,
    sheet: Worksheet,
    formats: _Formats,
    job_summary: JobSummary,
    zone_name: str,
    sms: SmsTally | None = None,
) -> None:
    _set_widths(sheet, (26, 10))
    cells = _Cells(sheet, formats)
    row = 0  # the rows written so far

    def put(*values: Any, bold: int = 1) -> None:
        """One row; its first `bold` values in bold."""
        nonlocal row
        for column, value in enumerate(values):
            cells.put(row, column, value, formats.bold if column < bold else None)
        row += 1

    put("Job", job_summary.job_id)
    put("Receivers", job_summary.total)
    put("Done", job_summary.done)
    put("Pending", job_summary.pending)
    if job_summary.do_not_call:  # NotCallable because the number is on the do-not-call list
        put("Do-not-call", job_summary.do_not_call)
    if sms is not None:  # a job with an SMS template: what became of the texts
        put("SMS sent", sms.sent)
        put("SMS failed", sms.failed)
        put("SMS skipped", sms.skipped)
    put("Time zone", zone_name)
    put()
    # (block heading, its text in column B, chart title, counts)
    blocks: list[tuple[str, str, str, Sequence[tuple[str, int]]]] = [
        (
            "Calls per status",
            "",
            "Calls per status",
            [(s.value, n) for s, n in job_summary.statuses.items()],
        )
    ]
    blocks += [
        (
            f"{question_column(t.number)} ({t.question_type.value})",
            t.template,
            question_title(t.number, t.template, t.question_type),
            t.counts,
        )
        for t in job_summary.questions
    ]
    for index, (heading, template, title, counts) in enumerate(blocks):
        start = row
        put(heading, template)
        put("Answer" if index else "Status", "Count", bold=2)
        header = row - 1
        for label, count in counts:
            put(label, count, bold=0)
        sheet.insert_chart(start, 3, _bar_chart(book, title, header, row - 1))
        row = start + _CHART_ROWS


def _bar_chart(book: Workbook, title: str, header: int, last: int) -> Any:
    """A column chart of the counts in rows header+1..last (0-based) beside the header row."""
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": [SUMMARY_SHEET, header, 1],
            "categories": [SUMMARY_SHEET, header + 1, 0, last, 0],
            "values": [SUMMARY_SHEET, header + 1, 1, last, 1],
        }
    )
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"name": "Count"})
    width, height = _CHART_CM
    chart.set_size(
        {"width": round(width * _PIXELS_PER_CM), "height": round(height * _PIXELS_PER_CM)}
    )
    return chart


def _write_questions(sheet: Worksheet, formats: _Formats, job: CallJob) -> None:
    _set_widths(sheet, (8, 16, 100))
    cells = _Cells(sheet, formats)
    for column, name in enumerate(("number", "type", "template")):
        cells.put(0, column, name, formats.bold)
    for number, question in enumerate(job.questions, start=1):
        for column, value in enumerate((number, question.type.value, question.template)):
            cells.put(number, column, value)


# ---- all three -------------------------------------------------------------------------------


def write_report(
    job: CallJob, results: Iterable[CallResult], out_dir: Path, sms: SmsResults = _NO_SMS
) -> ReportFiles:
    """Write `<job_id>.xlsx`, `.json` and `.csv` into out_dir; each file appears complete or not
    at all (written to a temporary name, then renamed). `sms`: the job's SMS results, written
    before the report (backend/domain/sms.py)."""
    results = list(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles.in_dir(out_dir, job.job_id)
    if job.sms_template.strip():
        files = replace(files, sms=SmsTally.of(sms.values()))
    _atomic(Path(files.xlsx), lambda handle: write_xlsx(job, results, handle, sms))
    _atomic(Path(files.json), lambda handle: write_results_json(job, results, handle, sms))
    _atomic(Path(files.csv), lambda handle: write_results_csv(job, results, handle, sms))
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
