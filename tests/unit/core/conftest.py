"""Workbook-building fixtures for the intake tests (openpyxl write mode)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import openpyxl
import pytest

# Valid numbers from phonenumbers' own examples: HK mobile/fixed, GB mobile.
HK_MOBILE = "51234567"
HK_MOBILE_2 = "51234568"
HK_FIXED = "21234567"
GB_MOBILE = "+447400123456"

Rows = Sequence[Sequence[Any]]


def build_workbook(
    config: Rows | None = (
        ("Key", "Value"),
        ("greeting", "Hello {{ name }}."),
        ("ending", "Goodbye {{ name }}."),
        ("phone_prefix", "+852"),
    ),
    questions: Rows | None = (
        ("question_template", "question_type"),
        ("Will you come, {{ name }}?", "Yes/No"),
        ("How many guests?", "Number"),
    ),
    receivers: Rows | None = (
        ("id", "phone_number", "name"),
        (1, HK_MOBILE, "Ann"),
        (2, HK_MOBILE_2, "Bob"),
    ),
    titles: tuple[str, str, str] = ("Configures", "Questions", "Receivers"),
) -> bytes:
    """An .xlsx as bytes; a sheet given as None is left out."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in zip(titles, (config, questions, receivers), strict=True):
        if rows is None:
            continue
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def workbook() -> Callable[..., bytes]:
    return build_workbook
