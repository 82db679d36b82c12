"""Workbook intake: an .xlsx with Configures / Questions / Receivers sheets -> IntakeResult.

The file is untrusted: its size is checked before parsing, the zip is inspected before openpyxl
sees it (total unzipped size, XML entity declarations), openpyxl parses through defusedxml, and
every failure becomes one Problem instead of a traceback (files.py). sheets.py reads the rows;
assemble_job validates them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.domain.dnc import DoNotCallLookup
from backend.domain.intake.assemble import (
    DEFAULT_LIMITS,
    IntakeLimits,
    IntakeResult,
    assemble_job,
    with_do_not_call,
)
from backend.domain.intake.files import (
    NOT_XLSX,
    Refused,
    check_container,
    open_book,
    read_bytes,
    short,
)
from backend.domain.intake.gc_pause import cycle_collection_paused
from backend.domain.intake.locations import SheetNames
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.sheets import read_config, read_questions, read_receivers
from backend.domain.models import ChatOrigin
from backend.domain.problems import Problem

__all__ = ["NOT_XLSX", "default_job_id", "read_workbook"]

CONFIG_SHEETS = ("configures", "configure", "configuration", "config")
QUESTION_SHEETS = ("questions", "question")
RECEIVER_SHEETS = ("receivers", "receiver")
_SLUG = re.compile(r"[^a-z0-9]+")


def default_job_id(filename: str, content: bytes) -> str:
    """`<slug of the file name>-<sha256[:10]>`: the same file always gets the same job id."""
    stem = Path(filename.replace("\\", "/")).stem if filename else ""
    slug = _SLUG.sub("-", stem.lower()).strip("-")[:69].strip("-") or "job"
    return f"{slug}-{hashlib.sha256(content).hexdigest()[:10]}"


def read_workbook(
    source: bytes | Path,
    *,
    filename: str | None = None,
    job_id: str | None = None,
    limits: IntakeLimits = DEFAULT_LIMITS,
    origin: ChatOrigin | None = None,
    now: datetime | None = None,
    dnc: DoNotCallLookup | None = None,
) -> IntakeResult:
    """Read, validate and normalise a job workbook; every problem found is in the result.

    `now`: the intake's clock (default: the real one), for start_at ("tomorrow 18:00").
    `dnc`: the do-not-call list; its receivers are marked in the job (`with_do_not_call`).
    """
    try:
        content = read_bytes(source, limits.max_bytes)
        if isinstance(source, Path) and filename is None:
            filename = source.name
        check_container(content, limits.max_unzipped_bytes, limits.max_cells)
        with cycle_collection_paused():
            result = _read(content, filename, job_id, limits, origin, now)
        return with_do_not_call(result, dnc)
    except Refused as refused:
        return IntakeResult(None, [Problem(refused.message)])


def _read(
    content: bytes,
    filename: str | None,
    job_id: str | None,
    limits: IntakeLimits,
    origin: ChatOrigin | None,
    now: datetime | None,
) -> IntakeResult:
    book = open_book(content)
    try:
        return _read_sheets(book, content, filename, job_id, limits, origin, now)
    except Refused:
        raise
    except Exception as error:  # a damaged sheet part discovered while streaming rows
        raise Refused(f"the workbook cannot be read ({short(error)}): {NOT_XLSX}") from None
    finally:
        book.close()


def _read_sheets(
    book: Any,
    content: bytes,
    filename: str | None,
    job_id: str | None,
    limits: IntakeLimits,
    origin: ChatOrigin | None,
    now: datetime | None,
) -> IntakeResult:
    problems = ProblemLog(limits.max_listed_per_kind)
    titles = _find_sheets(book, problems)
    if problems.items:
        return IntakeResult(None, problems.finish())

    config, config_rows = read_config(book[titles["Configures"]], titles["Configures"], problems)
    questions = read_questions(
        book[titles["Questions"]], titles["Questions"], limits.max_questions, problems
    )
    receivers, extra_columns, truncated, readable = read_receivers(
        book[titles["Receivers"]], titles["Receivers"], limits.max_receivers, problems
    )
    sheets = SheetNames(
        configures=titles["Configures"],
        questions=titles["Questions"],
        receivers=titles["Receivers"],
        config_rows=config_rows,
    )
    result = assemble_job(
        config,
        questions,
        receivers,
        job_id=job_id or default_job_id(filename or "job", content),
        extra_columns=extra_columns,
        limits=limits,
        origin=origin,
        sheet_names=sheets,
        truncated=truncated,
        receivers_readable=readable,
        now=now,
    )
    if problems.items:
        all_problems = sorted([*problems.finish(), *result.problems], key=_order(sheets))
        job = None if problems.job_level else result.job
        return IntakeResult(job, all_problems, result.warnings)
    return result


def _find_sheets(book: Any, problems: ProblemLog) -> dict[str, str]:
    """The sheet title for each role; a missing, doubled or chart sheet is a problem."""
    by_name: dict[str, list[str]] = {}
    for title in book.sheetnames:
        by_name.setdefault(title.strip().lower(), []).append(title)
    titles: dict[str, str] = {}
    for canonical, aliases in (
        ("Configures", CONFIG_SHEETS),
        ("Questions", QUESTION_SHEETS),
        ("Receivers", RECEIVER_SHEETS),
    ):
        found = [title for alias in aliases for title in by_name.get(alias, [])]
        tables = [title for title in found if hasattr(book[title], "iter_rows")]
        if len(tables) > 1:
            listed = " and ".join(f"'{title}'{_hidden(book[title])}" for title in tables)
            problems.add(
                Problem(
                    f"the workbook has {len(tables)} {canonical} sheets ({listed}): it is not "
                    "clear which one to call from; delete or rename the ones not meant",
                    sheet=tables[0],
                )
            )
        elif tables:
            titles[canonical] = tables[0]
        elif found:
            problems.add(
                Problem(
                    f"the {found[0]} sheet is a chart, not a table of rows: put the "
                    f"{canonical.lower()} on an ordinary sheet named {canonical} (and rename "
                    "the chart)",
                    sheet=found[0],
                )
            )
        else:
            problems.add(
                Problem(
                    f"the workbook has no {canonical} sheet (sheets found: "
                    f"{', '.join(book.sheetnames)}): add a sheet named {canonical}",
                    sheet=canonical,
                )
            )
    return titles


def _hidden(sheet: Any) -> str:
    state = getattr(sheet, "sheet_state", "visible")
    return "" if state == "visible" else f" ({state})"


def _order(sheets: SheetNames) -> Any:
    rank = {sheets.configures: 0, sheets.questions: 1, sheets.receivers: 2}

    def key(problem: Problem) -> tuple[int, int]:
        row = problem.row if problem.row is not None else 0
        if problem.message.startswith("…"):
            row = 1 << 30  # "...and N more" summaries after the rows they summarise
        return (rank.get(problem.sheet or "", -1), row)

    return key
