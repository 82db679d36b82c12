"""The report: Results/Summary/Questions sheets, JSON and CSV, and the shared JobSummary."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.report import (
    MAX_WIDTH,
    ReportInputError,
    load_results_json,
    result_columns,
    results_csv,
    results_json,
    write_report,
    write_xlsx,
)
from backend.domain.summary import OTHER, TOP_VALUES, summary

QUESTIONS = (
    Question(template="Will {{ name }} come?", type=QuestionType.YES_NO),
    Question(template="Pick A to E", type=QuestionType.MULTIPLE_CHOICE),
    Question(template="How many?", type=QuestionType.NUMBER),
    Question(template="Which day?", type=QuestionType.DATE),
)


def make_job(count: int = 4) -> CallJob:
    return CallJob(
        job_id="class-1a-0123456789",
        greeting="Hello {{ name }}",
        questions=QUESTIONS,
        receivers=tuple(
            Receiver(
                id=f"r{i}",
                phone_number=f"+8525123{i:04d}",
                fields={"name": f"Name {i}", "class": "1A"},
            )
            for i in range(count)
        ),
        extra_columns=("name", "class"),
    )


def result(
    receiver_id: str, status: CallStatus, *answers: str | None, **extra: object
) -> CallResult:
    return CallResult(
        job_id="class-1a-0123456789",
        receiver_id=receiver_id,
        status=status,
        answers=tuple(answers),
        **extra,  # type: ignore[arg-type]
    )


CALLED_AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
RESULTS = [
    result("r2", CallStatus.NO_ANSWER, attempts=2),
    result(
        "r0",
        CallStatus.CALL_COMPLETED,
        "Yes",
        "B",
        "12",
        "2026-11-30",
        call_at=CALLED_AT,
        duration_seconds=42.5,
    ),
    result("r1", CallStatus.DROP_CALL, "No", None, None, None, call_at=CALLED_AT),
]


def sheet_rows(path: Path, name: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(path)
    return [
        row for row in book[name].iter_rows(values_only=True) if any(v is not None for v in row)
    ]


def test_results_sheet_keeps_original_column_order_and_one_row_per_receiver(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), RESULTS, target)
    rows = sheet_rows(target, "Results")
    assert rows[0] == (
        "task_id",
        "receiver_id",
        "call_at",
        "status",
        "error",
        "phone_number",
        "name",
        "class",
        "Question 1",
        "Question 2",
        "Question 3",
        "Question 4",
        "attempts",
        "duration_seconds",
    )
    assert [row[1] for row in rows[1:]] == ["r0", "r1", "r2", "r3"]  # receiver order, none dropped
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["task_id"] == "class-1a-0123456789"
    assert first["phone_number"] == "+85251230000"  # the owner's own file: not masked
    assert first["status"] == "CallCompleted"
    assert first["call_at"] == datetime(2026, 11, 28, 9, 30)  # UTC, Excel has no zones
    assert first["Question 3"] == 12  # a real number
    assert first["Question 4"] in (date(2026, 11, 30), datetime(2026, 11, 30))
    assert first["duration_seconds"] == 42.5
    pending = dict(zip(rows[0], rows[4], strict=True))
    assert pending["receiver_id"] == "r3"
    assert pending["status"] is None
    assert pending["name"] == "Name 3"


def test_summary_sheet_has_every_status_and_answer_distribution_with_charts(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), RESULTS, target)
    book = openpyxl.load_workbook(target)
    cells = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    for status in CallStatus:
        assert status.value in cells
    assert cells["CallCompleted"] == 1
    assert cells["Busy"] == 0
    assert cells["Done"] == 3
    assert cells["Pending"] == 1
    charts = book["Summary"]._charts
    assert len(charts) == 1 + len(QUESTIONS)
    # Each chart plots the block of cells it sits beside: check the Yes/No chart's references.
    series = charts[1].series[0]
    refs = series.cat.strRef or series.cat.numRef
    summary_rows = list(book["Summary"].iter_rows(values_only=True))

    def cells(ref: str) -> list[object]:
        first, last = (int(part.split("$")[-1]) for part in ref.split("!")[1].split(":"))
        column = 0 if "$A$" in ref else 1
        return [summary_rows[row - 1][column] for row in range(first, last + 1)]

    assert cells(refs.f) == ["Yes", "No", "No answer"]
    assert cells(series.val.numRef.f) == [1, 1, 1]
    questions = sheet_rows(target, "Questions")
    assert questions[1] == (1, "Yes/No", "Will {{ name }} come?")
    assert len(questions) == 1 + len(QUESTIONS)


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    job = make_job(1).model_copy(
        update={
            "receivers": (
                Receiver(
                    id="r0",
                    phone_number="+85251230000",
                    fields={"name": '=HYPERLINK("http://x")', "class": "#N/A"},
                ),
            )
        }
    )
    bad = result("r0", CallStatus.FAILED, error="broken\x01 line")
    target = tmp_path / "report.xlsx"
    write_xlsx(job, [bad], target)
    book = openpyxl.load_workbook(target)
    row = list(next(book["Results"].iter_rows(min_row=2, max_row=2)))
    assert row[6].value == '=HYPERLINK("http://x")'
    assert row[6].data_type == "s"
    assert row[7].value == "#N/A"
    assert row[4].value == "broken line"  # control characters Excel refuses are dropped
    text = results_csv(job, [bad])
    assert "'=HYPERLINK" in text


def test_summary_counts_statuses_and_tallies_answers() -> None:
    job = make_job()
    result_summary = summary(job, RESULTS)
    assert (result_summary.total, result_summary.done, result_summary.pending) == (4, 3, 1)
    assert list(result_summary.statuses) == list(CallStatus)
    assert result_summary.statuses[CallStatus.NO_ANSWER] == 1
    assert result_summary.reached == 2
    yes_no, choice, number, day = result_summary.questions
    assert yes_no.counts == (("Yes", 1), ("No", 1), ("No answer", 1))
    assert choice.counts == (("A", 0), ("B", 1), ("C", 0), ("D", 0), ("E", 0), ("No answer", 2))
    assert number.counts == (("12", 1), ("No answer", 2))
    assert day.answered == 1
    assert json.dumps(result_summary.to_json())  # JSON-ready for Slack and files


def test_summary_lists_top_open_values_then_other() -> None:
    job = make_job(TOP_VALUES + 5).model_copy(update={"questions": (QUESTIONS[2],)})
    results = [
        result(f"r{i}", CallStatus.CALL_COMPLETED, str(i % (TOP_VALUES + 2)))
        for i in range(TOP_VALUES + 5)
    ]
    tally = summary(job, results).questions[0]
    labels = [label for label, _ in tally.counts]
    assert labels[0] in {"0", "1", "2"}  # the values said twice come first
    assert labels[-2:] == [OTHER, "No answer"]
    assert sum(count for _, count in tally.counts) == TOP_VALUES + 5


def test_later_result_supersedes_and_unknown_receiver_is_kept() -> None:
    job = make_job(2)
    results = [
        result("r0", CallStatus.NO_ANSWER),
        result("r0", CallStatus.CALL_COMPLETED, "Yes"),
        result("stranger", CallStatus.FAILED, error="not in the job"),
    ]
    rows = list(csv.DictReader(io.StringIO(results_csv(job, results))))
    assert [(r["receiver_id"], r["status"]) for r in rows] == [
        ("r0", "CallCompleted"),
        ("r1", ""),
        ("stranger", "Failed"),
    ]
    assert summary(job, results).total == 3


def test_csv_has_the_results_columns() -> None:
    job = make_job()
    rows = list(csv.reader(io.StringIO(results_csv(job, RESULTS))))
    assert rows[0] == result_columns(job)
    assert rows[1][:4] == ["class-1a-0123456789", "r0", "2026-11-28T09:30:00Z", "CallCompleted"]
    assert rows[1][8:12] == ["Yes", "B", "12", "2026-11-30"]
    assert len(rows) == 5


def test_json_round_trips_and_has_summary() -> None:
    job = make_job()
    data = results_json(job, RESULTS)
    loaded_job, loaded = load_results_json(json.dumps(data))
    assert loaded_job == job
    assert [r.receiver_id for r in loaded] == ["r0", "r1", "r2"]
    assert loaded[0] == RESULTS[1]
    assert data["summary"]["statuses"]["CallCompleted"] == 1
    assert data["rows"][3]["receiver_id"] == "r3"
    assert data["rows"][3]["status"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"results": []}', "missing field `job`"),
        ('{"job": {"job_id": "j"}, "results": {}}', "`results` must be a list"),
        ('{"job": {"job_id": "bad id!"}, "results": []}', "job.job_id"),
        (
            '{"job": {"job_id": "j"}, "results": [{"job_id": "j", "receiver_id": "1",'
            ' "status": "Maybe"}]}',
            "results[0].status",
        ),
    ],
)
def test_bad_results_json_names_the_field(payload: str, message: str) -> None:
    with pytest.raises(ReportInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_results_json(payload)


def test_write_report_writes_all_three_files(tmp_path: Path) -> None:
    files = write_report(make_job(), RESULTS, tmp_path / "out")
    assert Path(files.xlsx).name == "class-1a-0123456789.xlsx"
    for name in (files.xlsx, files.json, files.csv):
        assert Path(name).stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        Path(n).name for n in (files.xlsx, files.json, files.csv)
    )  # no temporary files left behind
    text = Path(files.csv).read_text(encoding="utf-8-sig")
    assert text == results_csv(make_job(), RESULTS)
    assert json.loads(Path(files.json).read_text())["format"] == "callouts-results/1"


def test_empty_job_still_writes_a_report(tmp_path: Path) -> None:
    job = CallJob(job_id="empty")
    target = tmp_path / "empty.xlsx"
    write_xlsx(job, [], target)
    assert sheet_rows(target, "Results")[0][:3] == ("task_id", "receiver_id", "call_at")


def test_time_answers_are_excel_times_and_results_can_be_filtered(tmp_path: Path) -> None:
    from datetime import time

    job = CallJob(
        job_id="t-1",
        questions=(Question(template="When?", type=QuestionType.TIME),),
        receivers=(Receiver(id="1", phone_number="+85251234567"),),
    )
    done = CallResult(
        job_id="t-1", receiver_id="1", status=CallStatus.CALL_COMPLETED, answers=("15:30",)
    )
    target = tmp_path / "report.xlsx"
    write_xlsx(job, [done], target)
    sheet = openpyxl.load_workbook(target)["Results"]
    header = [cell.value for cell in sheet[1]]
    answer = sheet.cell(2, header.index("Question 1") + 1)
    assert answer.value == time(15, 30)
    assert answer.number_format == "hh:mm"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}2"


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("-2", "-2"),
        ("+852 5123", "+852 5123"),
        ("Ann", "Ann"),
    ],
)
def test_csv_neutralises_plus_and_minus_formulas_but_keeps_numbers(name: str, written: str) -> None:
    job = make_job(1).model_copy(
        update={
            "receivers": (
                Receiver(
                    id="r0", phone_number="+85251230000", fields={"name": name, "class": "1A"}
                ),
            )
        }
    )
    rows = list(csv.reader(io.StringIO(results_csv(job, []))))
    assert rows[1][rows[0].index("name")] == written
    assert rows[1][rows[0].index("phone_number")] == '="+85251230000"'


# ---- read as a person reads it in Excel -------------------------------------------------------

LONG_ID = "class-1a-parents-2026-11-a"  # 26 characters: cut by the old fixed widths


def zoned_job(zone: str | None) -> CallJob:
    return make_job().model_copy(update={"job_id": LONG_ID, "settings": JobSettings(timezone=zone)})


def zoned_results() -> list[CallResult]:
    return [replace(r, job_id=LONG_ID) for r in RESULTS] + [
        replace(result("r3", CallStatus.FAILED, error="x" * 200), job_id=LONG_ID)
    ]


def column_widths(sheet: Any) -> list[float]:
    """Each column's width: a <col> element may give one width to a range of equal columns."""
    widths: dict[int, float] = {}
    for dimension in sheet.column_dimensions.values():
        for column in range(dimension.min, dimension.max + 1):
            widths[column] = dimension.width
    return [widths[column] for column in range(1, max(widths) + 1)]


def test_results_sheet_is_frozen_fitted_and_says_what_each_column_holds(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(zoned_job("Asia/Hong_Kong"), zoned_results(), target)
    sheet = openpyxl.load_workbook(target)["Results"]
    assert sheet.freeze_panes == "C2"  # header row (and receiver ids) stay in view
    header = [cell.value for cell in sheet[1]]
    width = dict(zip(header, column_widths(sheet), strict=False))
    assert len(LONG_ID) < width["task_id"] < 40  # the whole job id, no more
    assert width["error"] == MAX_WIDTH  # a 200-character error is bounded
    assert width["class"] < 12  # "1A": as narrow as its header allows
    notes = {cell.value: cell.comment.text for cell in sheet[1] if cell.comment}
    assert "Will {{ name }} come?" in notes["Question 1"]
    assert "Yes/No" in notes["Question 1"]
    assert "Which day?" in notes["Question 4"]
    assert "Asia/Hong_Kong" in notes["call_at"]


def test_times_are_in_the_jobs_zone_and_name_it(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(zoned_job("Asia/Hong_Kong"), zoned_results(), target)
    book = openpyxl.load_workbook(target)
    header = [cell.value for cell in book["Results"][1]]
    call_at = book["Results"].cell(2, header.index("call_at") + 1)
    assert call_at.value == datetime(2026, 11, 28, 17, 30)  # 09:30 UTC is 17:30 in Hong Kong
    assert call_at.number_format.endswith('"Asia/Hong_Kong"')
    summary_cells = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary_cells["Time zone"] == "Asia/Hong_Kong"
    rows = list(csv.DictReader(io.StringIO(results_csv(zoned_job("Asia/Hong_Kong"), RESULTS))))
    assert rows[0]["call_at"] == "2026-11-28T17:30:00+08:00"
    data = results_json(zoned_job("Asia/Hong_Kong"), RESULTS)
    assert data["time_zone"] == "Asia/Hong_Kong"
    assert data["rows"][0]["call_at"] == "2026-11-28T17:30:00+08:00"


def test_without_a_time_zone_times_are_utc_and_say_so(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(zoned_job(None), zoned_results(), target)
    book = openpyxl.load_workbook(target)
    header = [cell.value for cell in book["Results"][1]]
    call_at = book["Results"].cell(2, header.index("call_at") + 1)
    assert call_at.value == datetime(2026, 11, 28, 9, 30)
    assert call_at.number_format.endswith('"UTC"')
    assert "UTC" in {row[1] for row in book["Summary"].iter_rows(values_only=True)}


def test_phone_numbers_are_text_cells(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), RESULTS, target)
    sheet = openpyxl.load_workbook(target)["Results"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("phone_number") + 1
    for row in range(2, 6):
        cell = sheet.cell(row, column)
        assert cell.data_type == "s"
        assert cell.number_format == "@"
        assert cell.value == f"+8525123{row - 2:04d}"


def test_summary_charts_are_titled_with_the_question(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), RESULTS, target)
    charts = openpyxl.load_workbook(target)["Summary"]._charts
    titles = ["".join(run.t for run in chart.title.tx.rich.p[0].r) for chart in charts]
    assert titles[0] == "Calls per status"
    assert titles[1] == "Question 1: Will {{ name }} come? (Yes/No)"
    assert titles[4] == "Question 4: Which day? (Date)"


def excel_reads(field: str) -> object:
    """What Excel makes of one CSV field it opens: `="..."` is a formula giving that text, other
    text starting with `=` is a formula it would run, a number (sign and all) becomes a number."""
    if field.startswith("="):
        if len(field) > 3 and field[1] == '"' and field[-1] == '"' and '"' not in field[2:-1]:
            return field[2:-1]
        raise AssertionError(f"Excel would run {field!r}")
    try:
        return float(field.replace(" ", "")) if field.strip() else None
    except ValueError:
        return field


def test_csv_opened_in_excel_keeps_the_plus_of_phone_numbers() -> None:
    assert excel_reads("+85251230000") == 85251230000.0  # why the CSV cannot write it bare
    job = make_job().model_copy(
        update={
            "receivers": (
                Receiver(
                    id="r0",
                    phone_number="+85251230000",
                    fields={"name": '=HYPERLINK("http://x")', "class": "1A"},
                ),
            )
        }
    )
    text = results_csv(job, RESULTS)
    rows = list(csv.reader(io.StringIO(text)))
    cells = [dict(zip(rows[0], map(excel_reads, row), strict=True)) for row in rows[1:]]
    assert cells[0]["phone_number"] == "+85251230000"
    assert cells[0]["name"] == '\'=HYPERLINK("http://x")'  # shown, never run
    assert cells[0]["Question 3"] == 12.0


def test_the_written_json_is_results_json(tmp_path: Path) -> None:
    import io

    from backend.domain.report import write_results_json

    job = zoned_job("Asia/Hong_Kong")
    out = io.BytesIO()
    write_results_json(job, RESULTS, out)
    assert json.loads(out.getvalue()) == results_json(job, RESULTS)
    empty = io.BytesIO()
    write_results_json(job, [], empty)
    assert json.loads(empty.getvalue()) == results_json(job, [])
