"""`callouts run | status | transcript`: run a call job on this machine with simulated phones.

`run` streams each person's result (masked phone number) under a live progress bar, then writes
the report; the job state lives in a SQLite file, so running the same workbook again resumes it
(nobody already called is called again). Ctrl-C stops; the next run picks up where it stopped.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from backend.cli import app
from backend.cli.job_files import JOB_FILE_HELP, parse_start_at

if TYPE_CHECKING:
    from backend.domain.models import CallJob, CallResult
    from backend.domain.ports import ReportFiles
    from backend.local.store import SqliteStore
    from backend.settings import Settings

out = Console(highlight=False, soft_wrap=True)  # piped output: one line per line
err = Console(stderr=True, highlight=False)

STATUS_STYLES = {
    "CallCompleted": "green",
    "DropCall": "yellow",
    "NoAnswer": "magenta",
    "Busy": "magenta",
    "NotCallable": "red",
    "Failed": "bold red",
    "Cancelled": "dim",
    "Expired": "dim",
}


MAX_CONCURRENCY = 1000
JOB_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class Simulation(StrEnum):
    random = "random"


def _fail(message: str) -> typer.Exit:
    err.print(Text(message, style="bold red"), soft_wrap=True)
    return typer.Exit(1)


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
        raise _fail("; ".join(lines) + ": fix or unset it") from None


def _open_store(db: Path | None) -> SqliteStore:
    from backend.local.store import SqliteStore

    path = db or load_settings().db_path
    try:
        return SqliteStore(path)
    except Exception as error:
        raise _fail(f"cannot open the job database {path}: {error}") from error


def _existing_store(db: Path | None) -> tuple[SqliteStore | None, Path]:
    """The store for reading, or None when its file does not exist (never creates one)."""
    path = db or load_settings().db_path
    if not path.is_file():
        return None, path
    return _open_store(path), path


def _check_report_dir(report_dir: Path) -> None:
    """Refuse, before anyone is called, a report directory that cannot be written."""
    if report_dir.exists() and not report_dir.is_dir():
        raise _fail(
            f"--out {report_dir} is a file, not a directory: give a directory for the report"
        )
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=report_dir):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise _fail(
            f"cannot write the report to {report_dir} ({reason}): give a directory you can write "
            "to with --out"
        ) from None


def _check_call_files() -> None:
    """Refuse, before anyone is called or anything is written, flow or bot files that would fail
    every call."""
    from backend.flows.preflight import REINSTALL_HINT, call_files_problems

    problems = call_files_problems()
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems)
        raise _fail(
            f"cannot start: the contact flow or Lex bot files are missing or invalid:{listed}\n"
            f"Nobody was called. To fix it, {REINSTALL_HINT}."
        )


def _comparable(job: CallJob) -> dict[str, Any]:
    return job.model_dump(mode="json", exclude={"origin", "created_by"})


def _uses_semicolons(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline()
    except OSError:
        return False
    return ";" in first and "," not in first


def result_line(job: CallJob, result: CallResult) -> Text:
    """One person's result, phone number masked."""
    from backend.domain.answers import NO_ANSWER
    from backend.domain.phones import mask_phone

    try:
        phone = mask_phone(job.receiver(result.receiver_id).phone_number)
    except KeyError:
        phone = "?"
    line = Text(f"{result.receiver_id:<6} {phone:<14} ")
    line.append(f"{result.status.value:<13}", style=STATUS_STYLES.get(result.status.value, ""))
    if result.answers:
        line.append(" " + " | ".join(a if a is not None else NO_ANSWER for a in result.answers))
    if result.attempts > 1:
        line.append(f"  (attempt {result.attempts})", style="dim")
    if result.error:
        line.append(f"  {result.error}", style="dim")
    return line


class TerminalListener:
    """Prints each result as it lands and moves the progress bar."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self.progress = progress
        self.task = task

    def on_job_started(self, job: CallJob) -> None:
        self.progress.update(self.task, total=len(job.receivers))

    def on_result(self, job: CallJob, result: CallResult) -> None:
        self.progress.console.print(result_line(job, result))
        self.progress.advance(self.task)

    def on_job_finished(
        self, job: CallJob, results: Sequence[CallResult], report: ReportFiles
    ) -> None:
        return None


def _people(job: CallJob, answers: Path | None, simulate: Simulation | None, seed: int) -> Any:
    from backend.local.simulator import AnswersFileError, load_answers_csv, random_people

    if answers is not None:
        if simulate is not None:
            raise _fail("use either --answers or --simulate, not both")
        if not answers.is_file():
            what = "a directory" if answers.is_dir() else "missing"
            raise _fail(f"--answers {answers} is not a file ({what}): give the answers CSV")
        try:
            people = load_answers_csv(answers)
        except AnswersFileError as error:
            err.print(Text(f"Problems in {answers.name}:", style="bold red"))
            for problem in error.problems:
                err.print(f"  {problem}")
            if _uses_semicolons(answers):
                err.print(
                    "  hint: the file separates values with ';': save it as comma-separated "
                    "CSV (UTF-8)"
                )
            raise typer.Exit(1) from error
        except OSError as error:
            raise _fail(f"cannot read {answers}: {error.strerror or error}") from None
        ids = [r.id for r in job.receivers]
        unknown = sorted(set(people) - set(ids))
        if unknown:
            err.print(
                Text(f"note: {answers.name} scripts unknown receiver id(s): {', '.join(unknown)}")
            )
        missing = [i for i in ids if i not in people]
        if missing:
            shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
            err.print(
                Text(
                    f"note: {len(missing)} receiver(s) are not in {answers.name} and will not "
                    f"answer: {shown}"
                )
            )
        return people
    return random_people(job, seed)


@app.command()
def run(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    answers: Annotated[
        Path | None,
        typer.Option("--answers", metavar="ANSWERS.csv", help="What each simulated person says."),
    ] = None,
    simulate: Annotated[
        Simulation | None,
        typer.Option(
            "--simulate", metavar="random", help="Simulated people: random (the default)."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", metavar="NUMBER", help="Seed of --simulate random.")
    ] = 1,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            metavar="NUMBER",
            help="Calls at once, 1 to 1000 (default: the job's).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Report directory (default: out).")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", metavar="PATH", help="Job database (default: .callouts/callouts.db)."),
    ] = None,
    job_id: Annotated[
        str | None,
        typer.Option(
            "--job-id",
            metavar="TEXT",
            help="Job id (default: derived from the file: reruns resume).",
        ),
    ] = None,
    start_at: Annotated[
        datetime | None,
        typer.Option(
            "--start-at",
            metavar="ISO-TIME",
            parser=parse_start_at,
            help="Run the simulated job as if started at this time, e.g. 2026-12-01T18:30+08:00 "
            "(default: now); calling hours and the deadline count from it.",
        ),
    ] = None,
) -> None:
    """Run a call job on this machine with simulated phones and write its report.

    \b
    Example:
      callouts run examples/call_job.xlsx --answers examples/answers.csv --out out/demo
      callouts run job.json --simulate random --seed 3
    """
    from backend.cli.job_files import load_job
    from backend.domain.calling_rules import hours_summary
    from backend.local.engine import LocalEngine, utc_now

    settings = load_settings()
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise _fail(f"--concurrency {concurrency}: give a number of calls at once from 1 to 1000")
    if job_id is not None and not JOB_ID.match(job_id):
        raise _fail(
            f"--job-id {job_id!r} is not a valid job id: use 1-80 letters, digits, '.', '_' or '-'"
        )
    job = load_job(job_file)
    if job_id:
        job = job.model_copy(update={"job_id": job_id})
    _check_call_files()
    people = _people(job, answers, simulate, seed)
    report_dir = out_dir or settings.out
    _check_report_dir(report_dir)
    store = _open_store(db)
    known = store.job_row(job.job_id)
    stored = store.get_job(job.job_id) if known is not None else None
    if stored is not None and _comparable(stored) != _comparable(job):
        raise _fail(
            f"job {job.job_id} in {store.path} was run from a different workbook (receivers, "
            "questions or settings changed): its results would be mixed with this one. "
            "Give this run its own --job-id"
        )
    if known is not None:
        counts = store.counts(job.job_id)
        done = sum(counts.values())
        verb = "finished" if known.status != "running" else "resuming"
        out.print(
            Text(
                f"Job {job.job_id} is in {store.path} ({verb}: {done} of "
                f"{len(job.receivers)} done); nobody already called is called again. "
                "Use --job-id to start afresh.",
                style="dim",
            )
        )
    cap = concurrency or settings.concurrency or job.settings.concurrency
    if known is not None and known.status != "running":
        out.print(Text(f"Stored results of job {job.job_id}:", style="bold"))
    else:
        out.print(
            Text(f"Calling {len(job.receivers)} receiver(s) of job {job.job_id}, ", style="bold")
            + Text(f"{cap} at a time, {len(job.questions)} question(s).")
        )
        started = start_at or utc_now()
        out.print(Text(hours_summary(job.receivers, job.settings, started), style="dim"))
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as progress:
        task = progress.add_task("calls", total=len(job.receivers))
        engine = LocalEngine(
            store,
            people,
            [TerminalListener(progress, task)],
            report_dir,
            concurrency=cap,
            worker_threads=settings.worker_threads,
            clock=(lambda: start_at) if start_at is not None else utc_now,
        )
        try:
            results = engine.run(job)
        except KeyboardInterrupt:
            raise _fail(
                "interrupted: run the same command again to resume (nobody is called twice)"
            ) from None
        except OSError as error:
            raise _fail(f"cannot write the report to {report_dir}: {error}") from error
    _print_summary(job, results, engine.last_report)


def _print_summary(job: CallJob, results: Sequence[CallResult], report: ReportFiles | None) -> None:
    from backend.domain.summary import summary

    job_summary = summary(job, results)
    counts = ", ".join(f"{status.value} {n}" for status, n in job_summary.statuses.items() if n)
    out.print(Text(f"Done: {job_summary.done} of {job_summary.total}: {counts}", style="bold"))
    if report is not None and report.xlsx:
        out.print("Report:")
        for path in (report.xlsx, report.json, report.csv):
            out.print(f"  {path}")


@app.command()
def status(
    job_id: Annotated[
        str | None,
        typer.Argument(metavar="JOB_ID", help="A job id (default: list every job)."),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", metavar="PATH", help="Job database (default: .callouts/callouts.db)."),
    ] = None,
) -> None:
    """List the jobs run on this machine, or show one job's counts per status.

    \b
    Example:
      callouts status
      callouts status call-job-0123456789
    """
    store, path = _existing_store(db)
    if job_id is None:
        rows = store.jobs() if store is not None else []
        if store is None or not rows:
            out.print(f"No jobs in {path} yet: start one with `callouts run JOB.xlsx`.")
            return
        table = Table(title=f"Jobs in {store.path}", title_justify="left")
        for column in ("Job", "Status", "Done", "Started"):
            table.add_column(column)
        for listed in rows:
            done = sum(store.counts(listed.job_id).values())
            table.add_row(
                listed.job_id, listed.status, f"{done}/{listed.receivers}", listed.created_at[:19]
            )
        out.print(table)
        return
    row = store.job_row(job_id) if store is not None else None
    if store is None or row is None:
        raise _fail(f"no job {job_id!r} in {path}: `callouts status` lists the jobs")
    counts = store.counts(job_id)
    done = sum(counts.values())
    out.print(Text(f"Job {job_id}: {row.status}, {done} of {row.receivers} done", style="bold"))
    table = Table(show_header=True)
    table.add_column("Status")
    table.add_column("Receivers", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(Text(name, style=STATUS_STYLES.get(name, "")), str(n))
    if row.receivers - done:
        table.add_row("(not finished)", str(row.receivers - done))
    out.print(table)


@app.command()
def transcript(
    job_id: Annotated[
        str, typer.Argument(metavar="JOB_ID", help="The job id (see `callouts status`).")
    ],
    receiver_id: Annotated[str, typer.Argument(metavar="RECEIVER_ID", help="The receiver id.")],
    db: Annotated[
        Path | None,
        typer.Option("--db", metavar="PATH", help="Job database (default: .callouts/callouts.db)."),
    ] = None,
) -> None:
    """Print what was said and heard on each call attempt to one receiver.

    \b
    Example:
      callouts transcript call-job-0123456789 S07
    """
    store, path = _existing_store(db)
    job = store.get_job(job_id) if store is not None else None
    if store is None or job is None:
        raise _fail(f"no job {job_id!r} in {path}: `callouts status` lists the jobs")
    if receiver_id not in {r.id for r in job.receivers}:
        known = ", ".join(r.id for r in job.receivers[:10])
        more = ", ..." if len(job.receivers) > 10 else ""
        raise _fail(f"job {job_id} has no receiver {receiver_id!r}; ids are: {known}{more}")
    attempts = {a.attempt: a for a in store.attempts(job_id) if a.receiver_id == receiver_id}
    transcripts = {t.attempt: t for t in store.transcripts(job_id, receiver_id)}
    if not attempts:
        out.print(f"Receiver {receiver_id} has not been called in job {job_id}.")
        return
    for number in sorted(attempts):
        attempt = attempts[number]
        outcome = attempt.outcome.value if attempt.outcome else "(no outcome: interrupted)"
        out.print(Text(f"Attempt {number}: {outcome}", style="bold"), f"[{attempt.claimed_at}]")
        lines = transcripts[number].lines if number in transcripts else []
        if not lines:
            out.print(Text("  (nothing was said)", style="dim"))
        for line in lines:
            out.print(_transcript_line(line))


def _transcript_line(line: Any) -> Text:
    from backend.cli.jobs import readable_ssml

    if not isinstance(line, dict):
        return Text(f"  {line}")
    speaker = str(line.get("speaker", ""))
    text = readable_ssml(str(line.get("text", "")))
    if speaker == "system":
        return Text("  Callouts: ", style="cyan") + Text(text)
    heard = Text("  Person:   ", style="green") + Text(text)
    if line.get("intent"):
        detail = str(line["intent"])
        if line.get("answer"):
            detail += f" = {line['answer']}"
        heard.append(f"   -> {detail}", style="dim")
    return heard
