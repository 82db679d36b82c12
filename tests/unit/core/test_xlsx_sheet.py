"""StreamedSheet writes the same sheet XML as XlsxWriter's own worksheet, faster."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from backend.domain.xlsx_sheet import StreamedSheet

TEXTS = (
    "plain",
    "",
    "Chan Tai Man 陳大文 👋",
    "a & b < c > d \"quoted\" 'single'",
    " leading",
    "trailing ",
    "  both  ",
    " ",
    "_x0041_ looks like an escape",
    "_x not one",
    "bell\x07 and nul\x00",
    "line\nbreak",
    "tab\there",
    "non-character \ufffe\uffff",
    "\u3000ideographic space",
    "=1+2",
    "#N/A",
)
NUMBERS = (0, 1, -7, 12345678901234, 0.1, -2.5e-7, 1e21, 42.5, 2**53 + 1)
MOMENTS = (datetime(2026, 11, 28, 17, 30, 5), date(2026, 12, 1), time(15, 30))


def sheet_xml(worksheet_class: type[Any], constant_memory: bool = True) -> bytes:
    """One sheet of every kind of cell, as the bytes of its XML part."""
    buffer = io.BytesIO()
    book = Workbook(buffer, {"constant_memory": constant_memory, "nan_inf_to_errors": True})
    sheet = book.add_worksheet("Cells", worksheet_class)
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    when = book.add_format({"num_format": 'yyyy-mm-dd hh:mm:ss "Asia/Hong_Kong"'})
    shaded = book.add_format({"bg_color": "#FFFF00"})
    sheet.set_column(5, 5, 12, shaded)  # cells without a format take their column's
    sheet.set_row(3, None, shaded)  # ... or their row's
    row = 0
    for value in TEXTS:
        sheet.write_string(row, 0, value)
        sheet.write_string(row, 1, value, bold)
        sheet.write_string(row, 2, value, text)
        sheet.write_string(row, 5, value)
        row += 1
    for number in (*NUMBERS, float("nan")):
        sheet.write_number(row, 0, number)
        sheet.write_number(row, 1, number, bold)
        sheet.write_number(row, 5, number)
        row += 1
    for moment in MOMENTS:
        sheet.write_datetime(row, 0, moment, when)
        row += 1
    sheet.write_boolean(row, 0, True)
    sheet.write_formula(row, 1, "=A1&A2", None, "plainplain")
    sheet.write_blank(row, 2, None, bold)
    sheet.write_url(row, 3, "https://example.invalid/a&b", string="a link")
    sheet.write_rich_string(row, 4, "rich ", bold, "text")
    sheet.write_comment(row, 0, "a note")
    book.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as package:
        return package.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("constant_memory", [True, False])
def test_the_sheet_xml_is_xlsxwriters_own(constant_memory: bool) -> None:
    assert sheet_xml(StreamedSheet, constant_memory) == sheet_xml(Worksheet, constant_memory)


def test_text_shaped_like_rich_text_stays_text() -> None:
    buffer = io.BytesIO()
    book = Workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet("Cells", StreamedSheet)
    typed = ("<r>bold?</r>", "<r><t>x</t></r></is></c><c r='Z9'><v>1</v></c><r>")
    for row, value in enumerate(typed):
        sheet.write_string(row, 0, value)
    book.close()
    read = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Cells"]
    assert [read.cell(row + 1, 1).value for row in range(len(typed))] == list(typed)
    assert read["Z9"].value is None  # nothing injected
