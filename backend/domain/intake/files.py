"""The untrusted file: size, container and XML-entity checks before and while openpyxl opens it.

Every failure is a `Refused` carrying one user message; nothing here raises anything else.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException

from backend.domain.intake.xlsx_rows import load_read_only

NOT_XLSX = (
    "this is not an Excel .xlsx workbook: open it in Excel (or Google Sheets, Numbers) and "
    "save it as .xlsx"
)
ENTITIES_REFUSED = (
    "the workbook contains XML entity declarations, which Excel never writes: refused for "
    "safety; open it in Excel and save it again as .xlsx"
)
STRICT_REFUSED = (
    "this workbook is saved as 'Strict Open XML Spreadsheet', which cannot be read: open it in "
    "Excel and save it again choosing 'Excel Workbook (.xlsx)' as the type"
)
_STRICT = b"purl.oclc.org/ooxml/spreadsheetml"
# openpyxl parses through defusedxml when it is installed (and OPENPYXL_DEFUSEDXML is not
# "False"); the entity scan of each part's head is a first line, the whole part without it.
_SCAN_BYTES = 4096 if openpyxl.DEFUSEDXML else -1
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class Refused(Exception):
    """The file cannot be read as a job workbook; `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_bytes(source: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            _check_size(size, max_bytes)
            return source.read_bytes()
        except OSError as error:
            raise Refused(f"the file {source.name} cannot be read: {error.strerror}") from None
    _check_size(len(source), max_bytes)
    return bytes(source)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise Refused(
            f"the file is {size / 1_000_000:.1f} MB, over the {max_bytes / 1_000_000:g} MB "
            "limit: split the receivers into several workbooks"
        )
    if size == 0:
        raise Refused(f"the file is empty: {NOT_XLSX}")


def check_container(content: bytes, max_unzipped_bytes: int, max_cells: int = 1_000_000) -> None:
    """An .xlsx zip with a workbook part, not a zip bomb, without XML entity declarations,
    with at most `max_cells` cells in its sheets (counted before openpyxl parses any)."""
    if content.startswith(_OLE):
        raise Refused(
            "this workbook is password-protected or an old .xls file: remove the password "
            "(File > Info > Protect Workbook) and save it as .xlsx"
        )
    if not content.startswith(b"PK"):
        raise Refused(f"{NOT_XLSX} (this file looks like {_looks_like(content)})")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise Refused(f"{NOT_XLSX} (the file is a zip archive without an Excel workbook)")
            if sum(member.file_size for member in members) > max_unzipped_bytes:
                raise Refused(
                    "the workbook expands to more than "
                    f"{max_unzipped_bytes / 1_000_000:g} MB when opened: refused"
                )
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as part:
                        head = part.read(_SCAN_BYTES)
                    if _ENTITY.search(head):
                        raise Refused(ENTITIES_REFUSED)
                    if member.filename == "xl/workbook.xml" and _STRICT in head:
                        raise Refused(STRICT_REFUSED)
            cells = 0
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                    ".xml"
                ):
                    cells += _count_cells(archive, member)
                    if cells > max_cells:
                        raise Refused(
                            f"the workbook has more than {max_cells:,} cells (empty formatted "
                            "cells count too): keep the three sheets with the rows the job "
                            "needs, or split the receivers into several workbooks"
                        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError) as error:
        raise Refused(f"the workbook is damaged ({error}): {NOT_XLSX}") from None


def _looks_like(content: bytes) -> str:
    head = content[:512]
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith((b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    if head.startswith(b"%PDF"):
        return "a PDF"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "some other kind of file"
    if "," in text or ";" in text or "\t" in text:
        return "a CSV text file"
    return "a text file"


def _count_cells(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """Cells in a worksheet part: `<c ...>` elements, counted in the decompressed stream."""
    count, tail = 0, b""
    with archive.open(member) as part:
        while chunk := part.read(1 << 20):
            data = tail + chunk  # a tag cut in two by the chunk boundary is whole here
            count += data.count(b"<c ") + data.count(b"<c>")
            tail = data[-2:]  # too short to hold a whole `<c ` counted already
    return count


def open_book(content: bytes) -> Any:
    """The openpyxl workbook (read-only, formulas as written, no external links)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return load_read_only(io.BytesIO(content))
    except Exception as error:  # openpyxl raises many types on hostile or damaged files
        raise Refused(f"the workbook cannot be opened ({short(error)}): {NOT_XLSX}") from None


def short(error: BaseException) -> str:
    """The first line of an openpyxl error; a defusedxml refusal anywhere in it is Refused."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            raise Refused(ENTITIES_REFUSED) from None
        cause = cause.__cause__ or cause.__context__
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
