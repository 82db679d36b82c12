"""examples/call_job.xlsx and the blank template: built by project code, accepted by intake."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import IO

import openpyxl
import pytest

from backend.domain.intake import read_workbook
from backend.domain.intake.config_keys import CONFIG_KEYS
from backend.domain.models import QuestionType
from backend.domain.speech import Speech
from backend.domain.workbook_template import CONFIG_KEYS as TEMPLATE_KEYS
from backend.domain.workbook_template import EXAMPLE_RECEIVERS, write_blank_template, write_example

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "call_job.xlsx"


def test_committed_example_passes_intake_with_every_question_type() -> None:
    result = read_workbook(EXAMPLE, filename=EXAMPLE.name)
    assert result.problems == []
    job = result.job
    assert job is not None
    assert {question.type for question in job.questions} == set(QuestionType)
    assert job.extra_columns == ("name", "class")
    assert [receiver.id for receiver in job.receivers] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "S07",
        "S08",
    ]
    assert all(receiver.phone_number.startswith("+852") for receiver in job.receivers)
    assert (
        Speech(job)
        .greeting(job.receivers[0])
        .startswith("<speak>This is a call from Harbour View Primary School. Hello Chan Tai Man")
    )


def test_committed_example_is_what_the_generator_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "call_job.xlsx"
    write_example(fresh)

    def cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
        book = openpyxl.load_workbook(path)
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}

    assert cells(fresh) == cells(EXAMPLE), "run: .venv/bin/python examples/make_examples.py"


def test_example_keeps_some_ids_and_numbers_as_excel_numbers() -> None:
    rows = list(openpyxl.load_workbook(EXAMPLE)["Receivers"].iter_rows(values_only=True))[1:]
    assert any(isinstance(row[0], int) for row in rows)
    assert any(isinstance(row[1], int) for row in rows)
    assert len(rows) == len(EXAMPLE_RECEIVERS)


def test_blank_template_documents_every_setting_and_only_lacks_receivers(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    write_blank_template(path)
    assert {key.key for key in TEMPLATE_KEYS} == set(CONFIG_KEYS)
    book = openpyxl.load_workbook(path)
    notes = {row[0]: row[2] for row in book["Configures"].iter_rows(min_row=2, values_only=True)}
    assert all(notes[key] for key in CONFIG_KEYS)
    types = [row[1] for row in book["Questions"].iter_rows(min_row=2, values_only=True) if row[1]]
    assert sorted(types) == sorted(question_type.value for question_type in QuestionType)
    assert [cell.value for cell in book["Receivers"][1]] == ["id", "phone_number", "name"]

    result = read_workbook(path, filename=path.name)
    assert result.problems, "an empty Receivers sheet must be reported"
    assert all(problem.sheet == "Receivers" for problem in result.problems)


@pytest.mark.parametrize("writer", [write_blank_template, write_example])
def test_workbooks_can_be_written_to_a_stream(writer: Callable[[IO[bytes]], None]) -> None:
    buffer = io.BytesIO()
    writer(buffer)
    assert buffer.getvalue()[:2] == b"PK"


def test_bench_workbook_is_a_valid_job(tmp_path: Path) -> None:
    from bench.intake_report import make_workbook

    path = tmp_path / "bench.xlsx"
    make_workbook(path, receivers=30)
    result = read_workbook(path, filename=path.name)
    assert result.problems == []
    assert result.job is not None
    assert len(result.job.receivers) == 30
    assert result.job.extra_columns == ("name", "class_name")
