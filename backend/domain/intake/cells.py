"""Cell values as text: what Excel stores (numbers, dates, formulas) as what people typed."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

_NON_WORD = re.compile(r"[\W_]+")


class FormulaCell(ValueError):
    """A cell holding a formula instead of a typed value."""


def is_formula(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=") and len(value) > 1
    # openpyxl 3.1 returns ArrayFormula / DataTableFormula objects for array and table formulas
    return type(value).__name__ in {"ArrayFormula", "DataTableFormula"}


def cell_text(value: Any) -> str:
    """Text of a cell: `12345678` / `1.0` / `8.52e10` -> `12345678` / `1` / `85200000000`.

    Raises FormulaCell for a formula (the workbook is read without cached values).
    """
    if value is None:
        return ""
    if isinstance(value, str):  # is_formula written out: this runs for every cell read
        if value.startswith("=") and len(value) > 1:
            raise FormulaCell(value)
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    if is_formula(value):
        raise FormulaCell(str(getattr(value, "text", value)))
    return str(value).strip()


def header_key(value: Any) -> str:
    """`Question Template` -> `question_template`; `Phone-Number ` -> `phone_number`."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else cell_text(value)
    return _NON_WORD.sub("_", text.strip().lower()).strip("_")
