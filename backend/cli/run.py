"""`callouts run | status | cancel | retry | transcript`: call jobs on this machine.

`run` streams each person's result (masked phone number) under a live progress bar, then writes
the report; the job state lives in a SQLite file, so running the same workbook again resumes it
(nobody already called is called again). Ctrl-C stops; the next run picks up where it stopped.
One run owns a job at a time (a second one refuses, naming the first); `cancel` stops a run in
any process through the database; `retry` runs the unreached again as a new job.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from backend.cli import app
from backend.cli.job_files import (
    JOB_FILE_HELP,
    WhenOption,
    load_settings,
    require_call_files,
    resolve_when,
)

if TYPE_CHECKING:
    from backend.domain.models import CallJob, CallResult, JobSettings
    from backend.domain.ports import ReportFiles
    from backend.local.calls import CallRequest, DialOutcome
    from backend.local.lease import Lease
    from backend.local.store import JobRow, SqliteStore

out = Console(highlight=False, soft_wrap=True)  # piped output: one line per line
err = Console(stderr=True, highlight=False)

STATUS_STYLES = {
    "CallCompleted": "green",
    "DropCall": "yellow",
    "NoAnswer": "magenta",
    "Busy": "magenta",
    "NoHuman": "magenta",
    "NotCallable": "red",
    "OptedOut": "cyan",
    "Failed": "bold red",
    "Cancelled": "dim",
    "Expired": "dim",
}


class Simulation(StrEnum):
    random = "random"


AnswersOption = Annotated[
    Path | None,
    typer.Option("--answers", metavar="ANSWERS.csv", help="What each simulated person says."),
]
SimulateOption = Annotated[
    Simulation | None,
    typer.Option("--simulate", metavar="random", help="Simulated people: random (the default)."),
]
SeedOption = Annotated[
    int, typer.Option("--seed", metavar="NUMBER", help="Seed of the random simulated people.")
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        metavar="NUMBER",
        help="Calls at once, within the job setting's bounds (default: the job's).",
    ),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", metavar="DIR", help="Report directory (default: out).")
]
DbOption = Annotated[
    Path | None,
    typer.Option("--db", metavar="PATH", help="Job database (default: .callouts/callouts.db)."),
]


def _fail(message: str) -> typer.Exit:
    err.print(Text(message, style="bold red"), soft_wrap=True)
    return typer.Exit(1)


def _open_store(db: Path | None) -> SqliteStore:
    from backend.local.store import SqliteStore, StoreError

    path = db or load_settings().db_path
    try:
        return SqliteStore(path)
    except StoreError as error:  # names the file and what to do
        raise _fail(str(error)) from None
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


def _comparable(job: CallJob) -> dict[str, Any]:
    # do_not_call comes from the list at the run's start, not from the job file
    return job.model_dump(mode="json", exclude={"origin", "created_by", "do_not_call"})


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


class _OneLine(logging.Formatter):
    """Log records as one plain line: the terminal never shows a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _log_plainly() -> None:
    """Warnings from the engine (a failed call, a store fault) as one line each on stderr."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, _OneLine) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_OneLine())
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)


@contextmanager
def _plain_store_errors() -> Iterator[None]:
    """A job-database failure (read-only, disk full, locked) as a plain message, exit 1."""
    from backend.local.lease import JobBusy, LeaseLost
    from backend.local.store import StoreError

    _log_plainly()
    try:
        yield
    except StoreError as error:
        raise _fail(str(error)) from None
    except JobBusy as error:
        raise _fail(_busy_message(error.job_id, error.holder)) from None
    except LeaseLost as error:
        raise _fail(
            f"{error}; its results so far are kept: see `callouts status {error.job_id}`"
        ) from None


def _busy_message(job_id: str, holder: Lease) -> str:
    return (
        f"job {job_id} is already running ({holder.describe()}): wait for it to finish, "
        f"or stop it with `callouts cancel {job_id}`"
    )


def _refuse_if_running(row: JobRow) -> None:
    from backend.domain.job_state import JobState

    if row.state() is JobState.RUNNING and row.lease is not None:
        raise _fail(_busy_message(row.job_id, row.lease))


@app.command()
def run(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    answers: AnswersOption = None,
    simulate: SimulateOption = None,
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = None,
    out_dir: OutOption = None,
    db: DbOption = None,
    job_id: Annotated[
        str | None,
        typer.Option(
            "--job-id",
            metavar="TEXT",
            help="Job id (default: derived from the file: reruns resume).",
        ),
    ] = None,
    at: WhenOption = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Do not wait for --at: start at once in virtual time, as if it were then.",
        ),
    ] = False,
) -> None:
    """Run a call job on this machine with simulated phones and write its report.

    With --at (or a start_at setting) the run waits until then; a time already past, or
    --no-wait, starts at once with the job's virtual clock at that time; calling hours and the
    deadline count from it. A job that repeats is kept with `callouts schedule add` instead.

    \b
    Example:
      callouts run examples/call_job.xlsx --answers examples/answers.csv --out out/demo
      callouts run job.json --simulate random --seed 3
      callouts run job.xlsx --at "tomorrow 18:00"
    """
    from backend.cli.job_files import load_job

    _check_concurrency(concurrency)
    from backend.domain.models import JOB_ID, JOB_ID_RULE

    if job_id is not None and not JOB_ID.match(job_id):
        raise _fail(f"--job-id {job_id!r} is not a valid job id: use {JOB_ID_RULE}")
    job = load_job(job_file)
    if job.settings.repeat:
        raise _fail(
            f"job {job.job_id} repeats ({job.settings.repeat}): keep it with `callouts schedule "
            f"add {job_file}`; `callouts schedule run` (or `callouts bot`) starts each occurrence"
        )
    if job_id:
        job = job.model_copy(update={"job_id": job_id})
    start_at = resolve_when(at, job) if at else job.settings.start_at
    start_at = start_at.astimezone(UTC) if start_at is not None else None  # the engine's times
    with _plain_store_errors():
        if start_at is not None and not no_wait:
            start_at = wait_until(start_at, job.settings)
        _run_job(job, answers, simulate, seed, concurrency, out_dir, db, start_at)


def wait_until(moment: datetime, settings: JobSettings) -> datetime | None:
    """Wait on the wall clock until `moment` (None: waited, the run uses the real clock then);
    a moment already past is returned: the run starts at once, its virtual clock then."""
    from backend.domain.schedule import job_zone, start_text
    from backend.local.engine import utc_now

    if moment <= utc_now():
        return moment
    shown = start_text(moment, job_zone(settings))
    out.print(Text(f"Waiting until {shown} (Ctrl-C to cancel) ...", style="bold"))
    try:
        while (left := (moment - utc_now()).total_seconds()) > 0:
            sleep(min(left, 30.0))
    except KeyboardInterrupt:
        raise _fail("cancelled before the start: nobody was called") from None
    return None


def sleep(seconds: float) -> None:
    """The wall-clock wait of `run --at` (tests replace it)."""
    import time

    time.sleep(seconds)


def _check_concurrency(concurrency: int | None) -> None:
    from backend.domain.models import setting_bounds

    low, high = setting_bounds("concurrency")
    if concurrency is not None and not low <= concurrency <= high:
        raise _fail(
            f"--concurrency {concurrency}: give a number of calls at once from {low} to {high}"
        )


def _run_job(
    job: CallJob,
    answers: Path | None,
    simulate: Simulation | None,
    seed: int,
    concurrency: int | None,
    out_dir: Path | None,
    db: Path | None,
    start_at: datetime | None = None,
) -> None:
    """Run (or resume) `job` in the terminal: checks first, then the calls, then the summary."""
    from backend.domain.calling_rules import hours_summary
    from backend.local.engine import LocalEngine, utc_now

    settings = load_settings()
    require_call_files()
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
        _refuse_if_running(known)
        _print_known(store, known, job)
    cap = concurrency or settings.concurrency or job.settings.concurrency
    if known is not None and known.state().over:
        out.print(Text(f"Stored results of job {job.job_id}:", style="bold"))
    else:
        out.print(
            Text(f"Calling {len(job.receivers)} receiver(s) of job {job.job_id}, ", style="bold")
            + Text(f"{cap} at a time, {len(job.questions)} question(s).")
        )
        started = start_at or utc_now()
        out.print(Text(hours_summary(job.to_call, job.settings, started), style="dim"))
    with _progress() as progress:
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
    _print_outbox(store, job)


def _print_outbox(store: SqliteStore, job: CallJob) -> None:
    """The simulated SMS outbox of the job: one line per person texted, number masked."""
    from backend.domain.phones import mask_phone
    from backend.domain.sms import SmsStatus, SmsTally

    rows = store.sms_rows(job.job_id)
    if not rows:
        return
    tally = SmsTally.of(row.result for row in rows)
    out.print(Text(f"SMS (simulated outbox): {tally.sentence()}", style="bold"))
    phones = {r.id: r.phone_number for r in job.receivers}
    for row in rows:
        phone = mask_phone(phones.get(row.receiver_id, ""))
        line = Text(f"  {row.receiver_id:<6} {phone:<14} {row.result.label}")
        if row.result.status is SmsStatus.SENT:
            shown = " ".join(row.body.split())
            more = "..." if len(shown) > 70 else ""
            line.append(f'  "{shown[:70]}{more}"', style="dim")
        out.print(line)


def _print_known(store: SqliteStore, known: JobRow, job: CallJob) -> None:
    done = sum(store.counts(job.job_id).values())
    verb = known.state().value if known.state().over else "resuming"
    out.print(
        Text(
            f"Job {job.job_id} is in {store.path} ({verb}: {done} of "
            f"{len(job.receivers)} done); nobody already called is called again. "
            "Use --job-id to start afresh.",
            style="dim",
        )
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    )


def _print_summary(job: CallJob, results: Sequence[CallResult], report: ReportFiles | None) -> None:
    from backend.domain.summary import summary

    job_summary = summary(job, results)
    counts = ", ".join(f"{status.value} {n}" for status, n in job_summary.statuses.items() if n)
    if job_summary.do_not_call:
        counts += f" ({job_summary.do_not_call} on the do-not-call list)"
    out.print(Text(f"Done: {job_summary.done} of {job_summary.total}: {counts}", style="bold"))
    if report is not None and report.xlsx:
        out.print("Report:")
        for path in (report.xlsx, report.json, report.csv):
            out.print(f"  {path}")


def _state_text(row: JobRow) -> str:
    """The job's state in words: running (by whom), interrupted, finished, cancelled."""
    from backend.domain.job_state import JobState

    state = row.state()
    if state is JobState.RUNNING and row.lease is not None:
        cancelling = ", cancel requested" if row.cancel_requested else ""
        return f"running ({row.lease.describe()}{cancelling})"
    if state is JobState.INTERRUPTED:
        return "interrupted (run it again to resume, or cancel it)"
    return state.value


@app.command()
def status(
    job_id: Annotated[
        str | None,
        typer.Argument(metavar="JOB_ID", help="A job id (default: list every job)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """List the jobs run on this machine (running, interrupted, finished, cancelled), or show one
    job's state and counts per status.

    \b
    Example:
      callouts status
      callouts status call-job-0123456789
    """
    with _plain_store_errors():
        _status(job_id, db)


def _list_jobs(db: Path | None) -> None:
    store, path = _existing_store(db)
    rows = store.jobs() if store is not None else []
    if store is None or not rows:
        out.print(f"No jobs in {path} yet: start one with `callouts run JOB.xlsx`.")
        return
    table = Table(title=f"Jobs in {store.path}", title_justify="left")
    for column in ("Job", "State", "Done", "Started"):
        table.add_column(column)
    for listed in rows:
        done = sum(store.counts(listed.job_id).values())
        table.add_row(
            listed.job_id,
            listed.state().value,
            f"{done}/{listed.receivers}",
            listed.created_at[:19],
        )
    out.print(table)


def _status(job_id: str | None, db: Path | None) -> None:
    if job_id is None:
        _list_jobs(db)
        return
    store, row = _job_row_or_exit(db, job_id)
    counts = store.counts(job_id)
    done = sum(counts.values())
    out.print(
        Text(f"Job {job_id}: {_state_text(row)}, {done} of {row.receivers} done", style="bold")
    )
    table = Table(show_header=True)
    table.add_column("Status")
    table.add_column("Receivers", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(Text(name, style=STATUS_STYLES.get(name, "")), str(n))
    if row.receivers - done:
        table.add_row("(not finished)", str(row.receivers - done))
    out.print(table)


def _job_row_or_exit(db: Path | None, job_id: str) -> tuple[SqliteStore, JobRow]:
    store, path = _existing_store(db)
    row = store.job_row(job_id) if store is not None else None
    if store is None or row is None:
        raise _fail(f"no job {job_id!r} in {path}: `callouts status` lists the jobs")
    return store, row


class _NoCalls:
    """The dialer of a run that only settles a cancelled job: it must never be asked to call."""

    def dial(self, request: CallRequest) -> DialOutcome:
        raise RuntimeError(f"call {request.call_id}: a cancelled job places no calls")


@app.command()
def cancel(
    job_id: Annotated[
        str, typer.Argument(metavar="JOB_ID", help="The job id (see `callouts status`).")
    ],
    out_dir: OutOption = None,
    db: DbOption = None,
) -> None:
    """Stop a job: nobody else is dialled, calls in progress end normally.

    A job running in another terminal stops within seconds and writes its report there; an
    interrupted job is settled here (the unreached end as Cancelled) and its report written.

    \b
    Example:
      callouts cancel call-job-0123456789
    """
    with _plain_store_errors():
        _cancel(job_id, out_dir, db)


def _cancel(job_id: str, out_dir: Path | None, db: Path | None) -> None:
    from backend.domain.job_state import JobState
    from backend.local.engine import LocalEngine

    store, row = _job_row_or_exit(db, job_id)
    state = row.state()
    if state.over:
        out.print(f"Job {job_id} is already {state.value}: nothing to cancel.")
        return
    store.request_cancel(job_id)
    if state is JobState.RUNNING and row.lease is not None:
        out.print(
            f"Cancel requested: the run of job {job_id} ({row.lease.describe()}) stops dialling "
            "within a few seconds; calls in progress end normally."
        )
        return
    job = store.get_job(job_id)
    assert job is not None
    report_dir = out_dir or load_settings().out
    _check_report_dir(report_dir)
    engine = LocalEngine(store, report_dir=report_dir, dialer=_NoCalls())
    results = engine.run(job)
    out.print(Text(f"Job {job_id} cancelled (it was interrupted):", style="bold"))
    _print_summary(job, results, engine.last_report)


@app.command()
def retry(
    job_id: Annotated[
        str,
        typer.Argument(metavar="JOB_ID", help="The finished or cancelled job (see `status`)."),
    ],
    answers: AnswersOption = None,
    simulate: SimulateOption = None,
    seed: SeedOption = 1,
    concurrency: ConcurrencyOption = None,
    out_dir: OutOption = None,
    db: DbOption = None,
) -> None:
    """Call the unreached of a job again, as a new job (like Slack's "Retry unreached").

    Unreached: NoAnswer, Busy, NoHuman, Failed, Expired or Cancelled. Retrying the same job
    twice gives the same new job id, so a second retry resumes the first.

    \b
    Example:
      callouts retry call-job-0123456789 --simulate random
    """
    _check_concurrency(concurrency)
    with _plain_store_errors():
        again = _retry_job(job_id, db)
        if again is not None:
            _run_job(again, answers, simulate, seed, concurrency, out_dir, db)


def _retry_job(job_id: str, db: Path | None) -> CallJob | None:
    from backend.domain.retry import retry_job, unreached

    store, row = _job_row_or_exit(db, job_id)
    state = row.state()
    if not state.over:
        raise _fail(
            f"job {job_id} is {_state_text(row)}: retry it once it has finished "
            f"(or after `callouts cancel {job_id}`)"
        )
    job = store.get_job(job_id)
    assert job is not None
    ids = unreached(store.results(job_id))
    if not ids:
        out.print(f"Everybody in job {job_id} was reached: nothing to retry.")
        return None
    again = retry_job(job, ids)
    out.print(
        Text(
            f"Retrying {len(ids)} unreached receiver(s) of job {job_id} as job {again.job_id}.",
            style="bold",
        )
    )
    return again


@app.command()
def transcript(
    job_id: Annotated[
        str, typer.Argument(metavar="JOB_ID", help="The job id (see `callouts status`).")
    ],
    receiver_id: Annotated[str, typer.Argument(metavar="RECEIVER_ID", help="The receiver id.")],
    db: DbOption = None,
) -> None:
    """Print what was said and heard on each call attempt to one receiver.

    \b
    Example:
      callouts transcript call-job-0123456789 S07
    """
    with _plain_store_errors():
        _transcript(job_id, receiver_id, db)


def _transcript(job_id: str, receiver_id: str, db: Path | None) -> None:
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
            out.print(transcript_line(line))


def transcript_line(line: Any) -> Text:
    from backend.cli.job_files import readable_ssml

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
