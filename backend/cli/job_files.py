"""What a command checks before it works: the job file, and the files a call needs.

The job file is a call-job workbook (.xlsx) or a JSON job (the queue's form), told apart by the
content (an .xlsx is a zip, a JSON job an object), else by the extension. Both go through the
shared intake (`read_workbook`, `job_from_json`), so they are checked alike; an unusable job
prints every problem and exits 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backend.domain.problems import Problem

if TYPE_CHECKING:
    from backend.domain.dnc import DoNotCallLookup
    from backend.domain.intake import IntakeResult
    from backend.domain.models import CallJob
    from backend.settings import Settings

out = Console(highlight=False, soft_wrap=True)  # piped output: one line per line
err = Console(stderr=True, highlight=False)

JOB_FILE_HELP = "The call job: a workbook (.xlsx) or a JSON job (.json)."
_BOM = b"\xef\xbb\xbf"


class JobForm(StrEnum):
    WORKBOOK = "workbook"
    JSON = "json"


def fail(message: str) -> NoReturn:
    """Print the message in red on stderr and exit 1."""
    err.print(Text(message, style="bold red"), soft_wrap=True)
    raise typer.Exit(1)


def job_form(path: Path, head: bytes) -> JobForm:
    """Which reader a file needs: its first bytes decide, then its extension."""
    if head.startswith(b"PK"):
        return JobForm.WORKBOOK
    if head.removeprefix(_BOM).lstrip().startswith(b"{"):
        return JobForm.JSON
    return JobForm.JSON if path.suffix.lower() == ".json" else JobForm.WORKBOOK


def load_job(job_file: Path) -> CallJob:
    """The job in a workbook or JSON file, or exit 1 after printing why it cannot be used."""
    job = load_intake(job_file).job
    assert job is not None
    return job


def load_intake(job_file: Path, *, dnc: DoNotCallLookup | None = None) -> IntakeResult:
    """`load_job` with the intake's warnings: its result always has a job and no problems.
    With `dnc` (the do-not-call list) the job's listed receivers are marked (`do_not_call`)."""
    if job_file.is_dir():
        fail(f"cannot read {job_file}: it is a directory; give the job file (.xlsx or .json)")
    if not job_file.is_file():
        fail(f"cannot read {job_file}: no such file")
    try:
        result = _read(job_file, dnc)
    except OSError as error:
        fail(f"cannot read {job_file}: {error.strerror or error}")
    except Exception as error:  # a backstop: intake reports problems, but never show a traceback
        fail(f"cannot read {job_file}: {error}")
    if result.problems or result.job is None:
        if not result.problems:
            fail(f"cannot read {job_file}: no job could be built from it")
        print_problems(job_file, result.problems)
        raise typer.Exit(1)
    return result


def print_warnings(warnings: Sequence[Problem]) -> None:
    """Warnings: worth fixing, but the job may run (e.g. no organisation set)."""
    for warning in warnings:
        out.print(Text("Warning: ", style="bold yellow") + Text(str(warning)))


WHEN_HELP = (
    "When the job starts: 2026-12-07 18:00, tomorrow 18:00, monday 08:30 (in the job's "
    "timezone, default UTC) or an ISO time with an offset"
)
WhenOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        "--start-at",
        metavar="WHEN",
        help=f"{WHEN_HELP} (default: the job's start_at setting).",
    ),
]


def resolve_when(text: str, job: CallJob, now: datetime | None = None) -> datetime:
    """`--at WHEN` (also spelled `--start-at`) read like the start_at setting, in the job's
    zone (backend/domain/schedule.py); exit 1 saying what to write when it cannot be read."""
    from backend.domain.repeat import ScheduleError
    from backend.domain.schedule import job_zone, parse_start_at

    try:
        return parse_start_at(text, job_zone(job.settings), now or datetime.now(UTC))
    except ScheduleError as error:
        fail(f"--at: {error}")


def print_schedule(job: CallJob) -> None:
    """The job's schedule in one line, when it has one (start_at, repeat)."""
    from backend.domain.schedule import schedule_of

    schedule = schedule_of(job)
    if schedule is not None:
        count = len(schedule.occurrences())
        times = f"{count} occurrence{'s' if count != 1 else ''}"
        out.print(Text("Scheduled: ", style="bold") + Text(f"{schedule.describe()} ({times})"))


def _read(job_file: Path, dnc: DoNotCallLookup | None) -> IntakeResult:
    from backend.domain.intake import IntakeLimits, job_from_json, read_workbook

    limits = IntakeLimits()
    with job_file.open("rb") as handle:  # one byte over the limit is enough to refuse it
        content = handle.read(max(limits.max_bytes, limits.max_json_bytes) + 1)
    if job_form(job_file, content[:64]) is JobForm.WORKBOOK:
        return read_workbook(content, filename=job_file.name, limits=limits, dnc=dnc)
    return job_from_json(content, limits=limits, dnc=dnc)


def print_do_not_call(job: CallJob) -> None:
    """How many receivers intake found on the do-not-call list (nothing when none)."""
    if job.do_not_call:
        out.print(
            Text(
                f"{len(job.do_not_call)} of {len(job.receivers)} receiver(s) are on the "
                "do-not-call list: they will not be called (NotCallable, do-not-call).",
                style="yellow",
            )
        )


def require_call_files() -> None:
    """Exit 1, before anyone is called or anything is written, when the contact flow or a bot file
    is missing or invalid (every call would fail)."""
    from backend.flows.preflight import REINSTALL_HINT, call_files_problems

    problems = call_files_problems()
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems)
        fail(
            f"cannot start: the contact flow or Lex bot files are missing or invalid:{listed}\n"
            f"Nobody was called. To fix it, {REINSTALL_HINT}."
        )


def print_problems(job_file: Path, problems: Sequence[Problem]) -> None:
    """Every problem in a table: sheet, row and column for a workbook, the field for JSON."""
    table = Table(title=f"Problems in {job_file.name}", title_justify="left", show_lines=False)
    in_sheets = any(problem.sheet or problem.row is not None for problem in problems)
    if in_sheets:
        table.add_column("Sheet")
        table.add_column("Row", justify="right")
        table.add_column("Column")
    else:
        table.add_column("Field")
    table.add_column("Problem", overflow="fold")
    for problem in problems:
        where = [Text(problem.column or problem.field or "")]
        if in_sheets:
            row = "" if problem.row is None else str(problem.row)
            where = [Text(problem.sheet or ""), Text(row), *where]
        table.add_row(*where, Text(problem.message))
    out.print(table)
    err.print(
        Text(
            f"{len(problems)} problem(s) found: fix them and run callouts validate again",
            style="red",
        )
    )


def load_settings() -> Settings:
    """The CALLOUTS_* settings, or exit 1 naming the environment variable at fault."""
    from pydantic import ValidationError

    from backend.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        lines = [
            f"environment variable CALLOUTS_{'_'.join(map(str, item['loc'])).upper()}"
            f"={item.get('input')!r}: {item['msg']}"
            for item in error.errors()
        ]
        fail("; ".join(lines) + ": fix or unset it")


def readable_ssml(ssml: str) -> str:
    """`<speak>Hi <break time="1s"/>Lam &amp; Ho</speak>` -> `Hi [pause 1s] Lam & Ho`."""
    from backend.domain.ssml_text import spoken_text

    return spoken_text(ssml, lambda time: f" [pause {time}] " if time else " [pause] ")
