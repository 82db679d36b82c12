"""A worksheet's rows as value tuples, streamed straight from the sheet's XML with expat.

openpyxl's read-only reader builds an ElementTree element and a dict for every cell; on a
100,000-row sheet that is most of intake's time. This reader gives the same values as
`ReadOnlyWorksheet.iter_rows(values_only=True)` (numbers, shared and inline strings, booleans,
errors, dates by the cell's number format, formulas as written) while building nothing per cell
but the value. openpyxl still opens the workbook: sheet list, shared strings, styles, epoch.

Like openpyxl under defusedxml, the parser refuses DTDs and entity declarations.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from openpyxl.formula.translate import Translator
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.xml.constants import SHEET_MAIN_NS

_NS = SHEET_MAIN_NS + "}"
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _TEXT, _RUN = _NS + "is", _NS + "t", _NS + "r"
_CHUNK = 1 << 16


class _Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """A read-only sheet that does not scan the whole part for its size when opened (openpyxl
    reads to the end when a sheet has no `<dimension>`); intake ignores the size anyway."""

    def _get_size(self) -> None:
        return None


class _Reader(ExcelReader):  # type: ignore[misc]
    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            ws = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def load_read_only(source: Any) -> Any:
    """`openpyxl.load_workbook(source, read_only=True, data_only=False, keep_links=False)`,
    without the size scan of each sheet."""
    reader = _Reader(source, read_only=True, keep_vba=False, data_only=False, keep_links=False)
    reader.read()
    return reader.wb


def streams(sheet: Any) -> bool:
    """Whether `sheet_rows` can read this sheet (a read-only sheet of an open workbook)."""
    return isinstance(sheet, ReadOnlyWorksheet) and hasattr(sheet, "_worksheet_path")


def sheet_rows(sheet: Any, max_col: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values of columns 1..max_col) for every `<row>` of the sheet, in order.

    Like openpyxl, a row numbered at or below one already given is skipped.
    """
    book = sheet.parent
    state = _State(
        max_col,
        sheet._shared_strings,
        book.epoch,
        book._date_formats,
        book._timedelta_formats,
    )
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    parser.CharacterDataHandler = state.text
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_entities
    parser.UnparsedEntityDeclHandler = _no_entities
    parser.ExternalEntityRefHandler = _no_external
    with book._archive.open(sheet._worksheet_path) as source:
        while chunk := source.read(_CHUNK):
            parser.Parse(chunk, False)
            if state.rows:
                yield from state.rows
                state.rows.clear()
        parser.Parse(b"", True)
    yield from state.rows


def _no_dtd(name: str, system_id: str | None, public_id: str | None, _internal: bool) -> None:
    raise DTDForbidden(name, system_id or "", public_id or "")


def _no_entities(name: Any, *_: Any) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _no_external(context: Any, base: Any, system_id: Any, public_id: Any) -> int:
    raise ExternalReferenceForbidden(context, base, system_id, public_id)


class _State:
    """The parser's position: the row and cell being read and the text being collected.

    The handlers run once per tag of a sheet of up to a million cells: the common path (a
    cell with a `<v>` value or an inline string) is written out in them rather than split into
    calls, and text is collected by joining strings (expat gives a text in one piece unless a
    read chunk ends inside it) rather than in lists.
    """

    def __init__(
        self,
        max_col: int,
        shared: Any,
        epoch: Any,
        date_formats: Any,
        timedelta_formats: Any,
    ) -> None:
        self.max_col = max_col
        self.shared = shared
        self.epoch = epoch
        self.date_formats = date_formats
        self.timedelta_formats = timedelta_formats
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.next_row = 1  # rows numbered below this were given already (openpyxl's counter)
        self.row_number = 0
        self.values: list[Any] | None = None
        self.column = 0
        self.depth = 0  # element depth inside the current cell (the cell itself is 1)
        self.cell: dict[str, str] = {}
        self.value: str | None = None
        self.formula: dict[str, str] | None = None
        self.formula_text: str | None = None
        self.inline: str | None = None  # an inline string's text so far
        self.in_run = False
        self.collecting = False  # inside a <v>, <f> or <t> whose text is wanted
        self.text_so_far = ""
        self.shared_formulae: dict[str, Translator] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth
        if depth:
            self.depth = depth = depth + 1
            if depth == 2:
                if name == _VALUE:
                    self.collecting = self.value is None
                elif name == _FORMULA:
                    if self.formula is None:
                        self.formula = attrs
                        self.collecting = True
                elif name == _INLINE and self.inline is None:
                    self.inline = ""
            elif self.inline is not None:
                # <is><t> or <is><r><t>: the text without its formatting (not phonetic <rPh>)
                if name == _TEXT and (depth == 3 or (depth == 4 and self.in_run)):
                    self.collecting = True
                elif depth == 3:
                    self.in_run = name == _RUN
        elif name == _CELL:
            if self.values is not None:
                self.depth = 1
                self.cell = attrs
                self.value = self.formula_text = None
                self.formula = self.inline = None
        elif name == _ROW and self.values is None:
            self._start_row(attrs)

    def _start_row(self, attrs: dict[str, str]) -> None:
        number = attrs.get("r")
        if number is None:
            self.row_number += 1
        else:
            try:
                self.row_number = int(number)
            except ValueError:
                value = float(number)
                if not value.is_integer():
                    raise ValueError(f"{number} is not a valid row number") from None
                self.row_number = int(value)
        self.values = [None] * self.max_col
        self.column = 0

    def text(self, data: str) -> None:
        if self.collecting:
            self.text_so_far += data

    def end(self, name: str) -> None:
        depth = self.depth
        if not depth:
            if name == _ROW and self.values is not None:
                if self.row_number >= self.next_row:
                    self.rows.append((self.row_number, tuple(self.values)))
                    self.next_row = self.row_number + 1
                self.values = None
            return
        self.depth = depth - 1
        if depth == 1:
            self._end_cell()
        elif self.collecting:
            text, self.text_so_far, self.collecting = self.text_so_far, "", False
            if depth == 2 and name == _VALUE:
                self.value = text
            elif depth == 2 and name == _FORMULA:
                self.formula_text = text
            elif self.inline is not None:
                self.inline += text
        elif depth == 3 and name == _RUN:
            self.in_run = False

    def _end_cell(self) -> None:
        attrs = self.cell
        coordinate = attrs.get("r")
        if coordinate:
            self.column = column_index_from_string(coordinate.rstrip("0123456789"))
        else:
            self.column += 1
        self.in_run = False
        if self.column > self.max_col or self.values is None:
            return
        kind = attrs.get("t", "n")
        value: Any = self.value or None
        if self.formula is not None:
            value = self._formula(coordinate)
        elif kind == "inlineStr":
            value = self.inline
        elif value is None:
            pass
        elif kind == "s":
            value = self.shared[int(value)]
        elif kind == "n":
            value = self._number(value, attrs.get("s"))
        elif kind == "b":
            value = bool(int(value))
        elif kind == "d":
            value = from_ISO8601(value)
        self.values[self.column - 1] = value

    def _number(self, text: str, style: str | None) -> Any:
        value = float(text) if "." in text or "E" in text or "e" in text else int(text)
        style_id = int(style) if style else 0
        if style_id in self.date_formats:
            try:
                return from_excel(value, self.epoch, timedelta=style_id in self.timedelta_formats)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return value

    def _formula(self, coordinate: str | None) -> Any:
        """openpyxl's reading of a formula: `=` and its text; array, shared, data-table kinds."""
        formula = self.formula or {}
        kind = formula.get("t")
        value = "=" + (self.formula_text or "")
        if kind == "array":
            return ArrayFormula(ref=formula.get("ref"), text=value)
        if kind == "shared":
            index = formula.get("si", "")
            if index in self.shared_formulae:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return self.shared_formulae[index].translate_formula(coordinate)
            if value != "=":
                self.shared_formulae[index] = Translator(value, coordinate)
            return value
        if kind == "dataTable":
            return DataTableFormula(**formula)
        return value
