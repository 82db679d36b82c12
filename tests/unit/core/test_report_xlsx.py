"""The report workbook read back as Excel shows it: cell types and formats, text that must stay
text, notes, bold labels, sheet widths and charts (XlsxWriter writes it, openpyxl reads it)."""

from __future__ import annotations

import io
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import backend.domain.report as report
from backend.domain.models import CallJob, CallResult, CallStatus, Question, QuestionType, Receiver
from backend.domain.report import write_xlsx

QUESTIONS = (
    Question(template="How many?", type=QuestionType.NUMBER),
    Question(template="Which day?", type=QuestionType.DATE),
    Question(template="What time?", type=QuestionType.TIME),
    Question(template="Coming?", type=QuestionType.YES_NO),
)


def make_job(**fields: str) -> CallJob:
    return CallJob(
        job_id="xlsx-1",
        questions=QUESTIONS,
        receivers=(Receiver(id="r0", phone_number="+85251230000", fields=fields),),
        extra_columns=tuple(fields),
    )


def answered(*answers: str | None) -> CallResult:
    return CallResult(
        job_id="xlsx-1",
        receiver_id="r0",
        status=CallStatus.CALL_COMPLETED,
        answers=answers,
        call_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        attempts=2,
        duration_seconds=42.5,
    )


def results_row(target: Path | io.BytesIO) -> dict[str, Any]:
    """The first person's Results cells by column name."""
    sheet = openpyxl.load_workbook(target)["Results"]
    header = [cell.value for cell in sheet[1]]
    return dict(zip(header, sheet[2], strict=True))


def test_answers_times_and_counts_are_typed_excel_values(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), [answered("12", "2026-11-30", "15:30", "Yes")], target)
    cells = results_row(target)
    assert (cells["Question 1"].value, cells["Question 1"].data_type) == (12, "n")
    assert cells["Question 2"].value == datetime(2026, 11, 30)  # a date cell...
    assert cells["Question 2"].number_format == "yyyy-mm-dd"  # ...shown as a date
    assert (cells["Question 3"].value, cells["Question 3"].number_format) == (time(15, 30), "hh:mm")
    assert (cells["Question 4"].value, cells["Question 4"].data_type) == ("Yes", "s")
    assert cells["call_at"].value == datetime(2026, 11, 28, 9, 30)
    assert cells["call_at"].number_format == 'yyyy-mm-dd hh:mm:ss "UTC"'
    assert (cells["attempts"].value, cells["duration_seconds"].value) == (2, 42.5)
    assert all(cell.font.b for cell in openpyxl.load_workbook(target)["Results"][1])
    assert not cells["receiver_id"].font.b


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("=1+2", "=1+2"),
        ('=HYPERLINK("http://x", "click")', '=HYPERLINK("http://x", "click")'),
        ("#DIV/0!", "#DIV/0!"),
        ("@SUM(A1)", "@SUM(A1)"),
        ("-2", "-2"),
        ("+852 5123 4567", "+852 5123 4567"),
        ("a\x00b\x08c\x0bd\x1fe", "abcde"),  # characters Excel refuses: dropped
        ("tab\there\nnew line", "tab\there\nnew line"),  # allowed ones kept
        ("  padded  ", "  padded  "),
    ],
)
def test_text_stays_the_text_written(tmp_path: Path, typed: str, shown: str) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(name=typed), [answered(None, None, None, typed)], target)
    cells = results_row(target)
    for column in ("name", "Question 4"):
        assert (cells[column].value, cells[column].data_type) == (shown, "s")


def test_notes_name_the_question_and_their_author(tmp_path: Path) -> None:
    job = make_job().model_copy(
        update={"questions": (Question(template="Bring\x07 {{ x }}?", type=QuestionType.OK),)}
    )
    target = tmp_path / "report.xlsx"
    write_xlsx(job, [], target)
    notes = {cell.value: cell.comment for cell in openpyxl.load_workbook(target)["Results"][1]}
    assert notes["Question 1"].text == "(OK) Bring {{ x }}?"  # the bell character dropped
    assert notes["Question 1"].author == "Callouts"
    assert "UTC" in notes["call_at"].text
    assert notes["status"] is None


def test_summary_and_questions_sheets_are_labelled_sized_and_charted(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    write_xlsx(make_job(), [answered("12", "2026-11-30", "15:30", "Yes")], target)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Results", "Summary", "Questions"]
    summary = book["Summary"]
    assert (summary["A1"].value, summary["A1"].font.b) == ("Job", True)
    assert (summary["B1"].value, summary["B1"].font.b) == ("xlsx-1", False)
    widths = {letter: summary.column_dimensions[letter].width for letter in "AB"}
    assert widths == {"A": 26, "B": 10}
    charts = summary._charts
    assert len(charts) == 1 + len(QUESTIONS)
    for chart in charts:
        assert chart.type == "col"
        assert chart.legend is None
        assert chart.y_axis.title.tx.rich.p[0].r[0].t == "Count"
        assert chart.anchor._from.col == 3  # column D, beside its block
    # Each chart starts on the row of its block's heading.
    headings = [summary.cell(chart.anchor._from.row + 1, 1).value for chart in charts]
    assert headings == [
        "Calls per status",
        "Question 1 (Number)",
        "Question 2 (Date)",
        "Question 3 (Time)",
        "Question 4 (Yes/No)",
    ]
    questions = book["Questions"]
    assert [c.value for c in questions[1]] == ["number", "type", "template"]
    assert all(c.font.b for c in questions[1])
    assert [c.value for c in questions[3]] == [2, "Date", "Which day?"]
    assert [questions.column_dimensions[x].width for x in "ABC"] == [8, 16, 100]


def test_writes_into_a_binary_handle(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    write_xlsx(make_job(), [answered("3", None, None, "No")], buffer)
    buffer.seek(0)
    assert results_row(buffer)["Question 1"].value == 3


def test_a_write_that_fails_half_way_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    job = make_job().model_copy(
        update={
            "receivers": tuple(Receiver(id=f"r{i}", phone_number="+85251230000") for i in range(5))
        }
    )
    written = report._results_values

    def fail_on_the_fourth(job: CallJob, row: Any, *args: Any) -> list[Any]:
        if row[0] == "r3":
            raise RuntimeError("disk gone")
        return written(job, row, *args)

    monkeypatch.setattr(report, "_results_values", fail_on_the_fourth)
    target = tmp_path / "report.xlsx"
    with pytest.raises(RuntimeError, match="disk gone"):
        write_xlsx(job, [], target)
    assert not target.exists()
    assert list(scratch.iterdir()) == []  # the rows written so far went with the scratch folder
