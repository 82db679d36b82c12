"""An XlsxWriter worksheet that writes the plain cells of a constant-memory sheet faster.

XlsxWriter writes each cell through several general layers (attribute lists escaped one by one,
two regular expressions for control characters and two for edge whitespace, a rich-string
check); for the report's 10,000-row Results sheet that was about a third of its time. Plain text
(printable, no `_xHHHH_` lookalike), numbers and dates here are written as the same XML in one
step; every other cell, and any cell whose row or column carries a format, goes to XlsxWriter's
own writer. tests/unit/core/test_xlsx_sheet.py checks the sheet XML is byte for byte
XlsxWriter's own (pyproject pins XlsxWriter's minor version for that reason).

One difference on purpose: XlsxWriter writes text that starts with `<r>` and ends with `</r>`
unescaped in constant-memory mode (as rich text); here it is text like any other, so a name
typed that way can neither break the file nor inject markup.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (
    CellDatetimeTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
)


class StreamedSheet(Worksheet):  # type: ignore[misc]  # XlsxWriter has no type hints
    """Use as `workbook.add_worksheet(name, StreamedSheet)` in constant_memory mode."""

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        kind = type(cell)
        if cell.format is None and (row in self.row_info or col in self.col_info):
            super()._write_cell(row, col, cell)  # the cell takes its row's or column's format
            return
        style = f' s="{cell.format._get_xf_index()}"' if cell.format is not None else ""
        if kind is CellStringTuple and self.constant_memory:
            text = cell.string
            if "_x" in text or not text.isprintable():  # escapes: XlsxWriter's own
                super()._write_cell(row, col, cell)
                return
            if "&" in text or "<" in text or ">" in text:
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            # Printable text has no edge whitespace but spaces; Excel keeps them when told so.
            space = ' xml:space="preserve"' if text[:1] == " " or text[-1:] == " " else ""
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style} t="inlineStr">'
                f"<is><t{space}>{text}</t></is></c>"
            )
        elif kind is CellNumberTuple or kind is CellDatetimeTuple:
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style}><v>{cell.number:.16G}</v></c>'
            )
        else:
            super()._write_cell(row, col, cell)
