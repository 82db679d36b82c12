"""The streamed sheet reader gives what openpyxl's read-only reader gives, value for value."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from backend.domain.intake.xlsx_rows import load_read_only, sheet_rows, streams

ROWS: list[list[Any]] = [
    ["id", "phone_number", "name", "when"],
    [1, 85251234567, "Ann & <Bo>", datetime(2026, 12, 1, 9, 30)],
    ["S2", "+852 5123 4568", "  spaced  ", date(2026, 12, 2)],
    [3.5, 1e20, True, time(9, 30)],
    [False, "=A1+1", "#N/A", None],
    [None, None, None, None],
    ["x", '=CONCAT("a","b")', "日本語 テキスト", 0],
]


def _book(write_only: bool) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("Receivers") if write_only else book.active
    if not write_only:
        sheet.title = "Receivers"
    for row in ROWS:
        sheet.append(row)
    if not write_only:
        sheet["F9"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
        sheet["B12"] = "far down"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("write_only", [True, False], ids=["inline-strings", "shared-strings"])
def test_the_streamed_rows_equal_openpyxl_s(write_only: bool) -> None:
    content = _book(write_only)
    ours = load_read_only(io.BytesIO(content))["Receivers"]
    theirs = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Receivers"]
    theirs.reset_dimensions()
    assert streams(ours)
    expected = [
        (number, row)
        for number, row in enumerate(theirs.iter_rows(values_only=True, max_col=8), start=1)
        if any(value is not None for value in row)
    ]
    got = [(number, row) for number, row in sheet_rows(ours, 8) if any(v is not None for v in row)]
    assert [(n, [str(v) for v in row]) for n, row in got] == [
        (n, [str(v) for v in row]) for n, row in expected
    ]
    assert [tuple(type(v) for v in row) for _, row in got] == [
        tuple(type(v) for v in row) for _, row in expected
    ]
    assert len(expected) >= 6
