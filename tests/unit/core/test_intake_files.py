"""Hostile or wrong files: one clear problem each, never a traceback, hang or memory blow-up."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.intake import IntakeLimits, read_workbook
from backend.domain.intake.files import NOT_XLSX
from backend.domain.problems import Problem

Builder = Callable[..., bytes]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def rewrite_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """Copy an .xlsx, replacing one part's content."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, change(content) if item.filename == name else content)
    return out.getvalue()


def receivers_part(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    index = book.sheetnames.index("Receivers") + 1
    return f"xl/worksheets/sheet{index}.xml"


BOMB_DTD = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>"
)


def with_bomb(data: bytes, padding: int = 0) -> bytes:
    """The Receivers sheet XML with a billion-laughs DTD and an entity in a cell."""

    def change(xml: bytes) -> bytes:
        declaration, _, rest = xml.rpartition(b"?>")
        comment = b"<!--" + b"x" * padding + b"-->" if padding else b""
        root_end = rest.index(b">") + 1  # a cell that expands to a billion "lol"s
        rest = rest[:root_end] + rest[root_end:].replace(b"<v>", b"<v>&lol9;", 1)
        return (declaration + b"?>" if declaration else b"") + comment + BOMB_DTD + rest

    return rewrite_part(data, receivers_part(data), change)


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"id,phone_number,name\n1,51234567,Ann\n", "a CSV text file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "a PNG image"),
        (b"%PDF-1.7\n", "a PDF"),
    ],
)
def test_file_that_is_not_a_workbook(content: bytes, looks_like: str) -> None:
    result = read_workbook(content, filename="job.xlsx")
    problem = only(result.problems)
    assert problem.message.startswith(NOT_XLSX)
    assert looks_like in problem.message
    assert result.job is None


def test_password_protected_workbook() -> None:
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048  # OLE container
    problem = only(read_workbook(encrypted).problems)
    assert "password-protected" in problem.message
    assert "save it as .xlsx" in problem.message


def test_corrupt_zip(workbook: Builder) -> None:
    data = workbook()
    problem = only(read_workbook(data[: len(data) // 2]).problems)
    assert "save it as .xlsx" in problem.message


def test_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    problem = only(read_workbook(out.getvalue()).problems)
    assert "without an Excel workbook" in problem.message


def test_damaged_part_inside_the_zip(workbook: Builder) -> None:
    data = workbook()
    broken = rewrite_part(data, receivers_part(data), lambda xml: xml[: len(xml) // 2])
    problem = only(read_workbook(broken).problems)
    assert "cannot be read" in problem.message
    assert NOT_XLSX in problem.message


def test_empty_file() -> None:
    problem = only(read_workbook(b"").problems)
    assert "empty" in problem.message


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    path.write_bytes(b"PK" + b"\x00" * 2_000)
    problem = only(read_workbook(path, limits=IntakeLimits(max_bytes=1_000)).problems)
    assert re.search(r"over the 0\.001 MB limit", problem.message)
    problem = only(read_workbook(b"x" * 2_000, limits=IntakeLimits(max_bytes=1_000)).problems)
    assert "limit" in problem.message


def test_default_size_limit_is_ten_megabytes() -> None:
    assert IntakeLimits().max_bytes == 10_000_000
    problem = only(read_workbook(b"PK" + b"\x00" * 10_000_001).problems)
    assert "10 MB limit" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    problem = only(read_workbook(tmp_path / "nope.xlsx").problems)
    assert "cannot be read" in problem.message


def test_zip_bomb_is_refused(workbook: Builder) -> None:
    data = rewrite_part(workbook(), "docProps/app.xml", lambda xml: xml + b" " * 3_000_000)
    limits = IntakeLimits(max_unzipped_bytes=1_000_000)
    problem = only(read_workbook(data, limits=limits).problems)
    assert "expands to more than" in problem.message


def test_billion_laughs_is_refused_by_the_entity_check(workbook: Builder) -> None:
    problem = only(read_workbook(with_bomb(workbook())).problems)
    assert "XML entity declarations" in problem.message


def test_billion_laughs_is_refused_by_defusedxml_when_hidden(workbook: Builder) -> None:
    # A long comment pushes the DTD past the entity check: openpyxl's defusedxml parser refuses it.
    clean = workbook()
    data = with_bomb(clean, padding=10_000)
    part = zipfile.ZipFile(io.BytesIO(data)).read(receivers_part(clean))
    assert b"<!DOCTYPE" not in part[:4096]
    assert b"<!DOCTYPE" in part
    result = read_workbook(data)
    problem = only(result.problems)
    assert "XML entity declarations" in problem.message
    assert result.job is None


def test_openpyxl_parses_through_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML, "defusedxml must be installed so openpyxl refuses entity attacks"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(content: bytes) -> None:
    result = read_workbook(b"PK\x03\x04" + content)
    assert result.job is None
    assert len(result.problems) == 1
