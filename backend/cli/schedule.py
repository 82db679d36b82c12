"""`callouts schedule add | list | cancel | run`: scheduled and recurring jobs on this machine.

Schedules live next to the job database (`schedules.db`). `add` keeps a job that has (or is
given) a start_at and maybe a repeat rule; `run` starts each occurrence at its time in this
terminal (the local Slack bot does the same in its scheduler thread); `cancel` stops the
occurrences still to come. Each occurrence is a job of its own (`<schedule id>-<UTC time>`).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from backend.cli import app
from backend.cli.job_files import (
    JOB_FILE_HELP,
    WhenOption,
    fail,
    load_settings,
    out,
    resolve_when,
)
from backend.cli.run import (
    AnswersOption,
    DbOption,
    OutOption,
    SeedOption,
    SimulateOption,
)

if TYPE_CHECKING:
    from backend.domain.models import CallJob
    from backend.domain.ports import ScheduleBook
    from backend.local.schedules import SqliteScheduleStore

AwsOption = Annotated[
    bool,
    typer.Option(
        "--aws",
        help="The deployed stack's schedules (EventBridge Scheduler): set CALLOUTS_SCHEDULE_GROUP "
        "and CALLOUTS_SCHEDULE_BUCKET from the stack outputs, and AWS credentials.",
    ),
]

schedule_app = typer.Typer(
    help="""Scheduled and recurring jobs: each occurrence runs as a job of its own.

    \b
    Example:
      callouts schedule add job.xlsx --at "monday 08:30" --repeat "weekly on monday"
      callouts schedule list
      callouts schedule run --simulate random
    """,
    no_args_is_help=True,
)
app.add_typer(schedule_app, name="schedule")


def _store(db: Path | None) -> SqliteScheduleStore:
    from backend.local.schedules import SqliteScheduleStore

    path = db or load_settings().db_path
    try:
        return SqliteScheduleStore.beside(path)
    except Exception as error:  # sqlite3.Error, OSError: a plain message, never a traceback
        fail(f"cannot open the schedules next to {path}: {error}")


def _with_schedule(job: CallJob, at: str | None, repeat: str | None) -> CallJob:
    """The job with --at / --repeat applied, checked by the intake's schedule rules."""
    from backend.domain.repeat import ScheduleError, parse_repeat
    from backend.domain.schedule import check_schedule

    updates: dict[str, object] = {}
    if at:
        updates["start_at"] = resolve_when(at, job)
    if repeat:
        try:
            updates["repeat"] = parse_repeat(repeat).text
        except ScheduleError as error:
            fail(f"--repeat: {error}")
    job = job.model_copy(update={"settings": job.settings.model_copy(update=updates)})
    checked = check_schedule(job.settings, job.receivers, datetime.now(UTC))
    if checked.problems:
        fail("; ".join(message for _, message in checked.problems))
    if job.settings.start_at is None:
        fail(f"job {job.job_id} has no start_at: give --at WHEN (or a start_at setting)")
    for _, message in checked.warnings:
        out.print(Text("Warning: ", style="bold yellow") + Text(message))
    return job


@schedule_app.command("add")
def add(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    at: WhenOption = None,
    repeat: Annotated[
        str | None,
        typer.Option(
            "--repeat",
            metavar="RULE",
            help="daily, weekdays, weekly or weekly on monday,thursday; optionally "
            "'until 2027-03-31' or '10 times' (default: the job's repeat, else once).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Keep a job to start at its time (and again as it repeats).

    \b
    Example:
      callouts schedule add job.xlsx --at "tomorrow 18:00"
      callouts schedule add job.xlsx --at "monday 08:30" --repeat "weekly until 2027-03-31"
    """
    from backend.cli.job_files import load_job, print_schedule

    job = _with_schedule(load_job(job_file), at, repeat)
    schedule, added = _store(db).add(job)
    verb = "Scheduled" if added else "Already scheduled"
    out.print(Text(f"{verb} {schedule.schedule_id}", style="bold"))
    print_schedule(job)
    out.print(
        "Each occurrence runs as its own job while `callouts schedule run` (or `callouts bot`) "
        f"is running; `callouts schedule cancel {schedule.schedule_id}` stops it."
    )


def _aws_book() -> ScheduleBook:
    """The stack's schedules through the AWS adapter (the same one the Slack bot uses)."""
    try:
        from backend.aws import wiring
        from backend.aws.schedules import AwsScheduleBook
        from backend.aws.submitter import SqsJobSubmitter
    except ImportError:
        fail("--aws needs the AWS extras: pip install 'callouts-for-slack[aws]'")
    schedules = wiring.schedules()
    if schedules is None or not schedules.bucket:
        fail(
            "--aws: set CALLOUTS_SCHEDULE_GROUP and CALLOUTS_SCHEDULE_BUCKET to the stack's "
            "ScheduleGroupName and ScheduleBucketName outputs"
        )
    return AwsScheduleBook(SqsJobSubmitter.from_settings(), schedules, lambda: datetime.now(UTC))


def _list_aws() -> None:
    try:
        found = _aws_book().scheduled()
    except Exception as error:  # botocore's errors: credentials, region, access
        fail(f"--aws: cannot list the schedules: {error}")
    if not found:
        out.print("No active schedules in the stack.")
        return
    out.print(Text("Schedules on AWS:", style="bold"))
    for view in found:  # one line each: ids are copied into `cancel`, never folded
        upcoming = f"next {view.next_at:%a %d %b %H:%M %Z}" if view.next_at else view.state
        by = f", by {view.created_by}" if view.created_by else ""
        out.print(
            Text(view.schedule_id, style="bold")
            + Text(f"  {upcoming}  ({view.description}; {view.receivers} receiver(s){by})")
        )


@schedule_app.command("list")
def list_schedules(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Show cancelled schedules too.")] = False,
    aws: AwsOption = False,
) -> None:
    """List the schedules kept on this machine (or with --aws, the stack's), with their next
    occurrence.

    \b
    Example:
      callouts schedule list
      callouts schedule list --aws
    """
    if aws:
        _list_aws()
        return
    store = _store(db)
    now = datetime.now(UTC)
    found = store.schedules(include_cancelled=all_)
    if not found:
        out.print(
            f"No schedules in {store.path}: add one with "
            "`callouts schedule add JOB.xlsx --at WHEN`."
        )
        return
    table = Table(title=f"Schedules in {store.path}", title_justify="left")
    table.add_column("Schedule", overflow="fold")  # the id is typed back: never cut it
    for column in ("When", "Next", "Started", "Receivers"):
        table.add_column(column)
    for stored in found:
        upcoming = stored.schedule.next_after(now)
        shown = stored.schedule.state(now, stored.cancelled).value
        if upcoming is not None and not stored.cancelled:
            shown = f"{upcoming.astimezone(stored.schedule.tz):%a %d %b %H:%M}"
        started = [job_id for _, job_id, missed in store.started(stored.schedule_id) if not missed]
        table.add_row(
            stored.schedule_id,
            stored.schedule.describe(),
            shown,
            str(len(started)),
            str(len(stored.job.receivers)),
        )
    out.print(table)


@schedule_app.command("cancel")
def cancel(
    schedule_id: Annotated[
        str, typer.Argument(metavar="SCHEDULE_ID", help="See `callouts schedule list`.")
    ],
    db: DbOption = None,
    aws: AwsOption = False,
) -> None:
    """Cancel a schedule: no occurrence starts after this (a job already running goes on; stop it
    with `callouts cancel JOB_ID`).

    \b
    Example:
      callouts schedule cancel weekly-attendance
      callouts schedule cancel weekly-attendance --aws
    """
    if aws:
        try:
            cancelled = _aws_book().cancel(schedule_id, by="cli")
        except Exception as error:  # botocore's errors: credentials, region, access
            fail(f"--aws: cannot cancel {schedule_id}: {error}")
        if not cancelled:
            fail(f"no schedule {schedule_id!r} in the stack: `callouts schedule list --aws`")
        out.print(f"Schedule {schedule_id} cancelled: no further occurrence starts.")
        return
    store = _store(db)
    if store.cancel(schedule_id, by="cli"):
        out.print(f"Schedule {schedule_id} cancelled: no further occurrence starts.")
        return
    known = store.get(schedule_id)
    if known is None:
        fail(f"no schedule {schedule_id!r} in {store.path}: `callouts schedule list` lists them")
    out.print(f"Schedule {schedule_id} was already cancelled.")


@schedule_app.command("run")
def run(
    answers: AnswersOption = None,
    simulate: SimulateOption = None,
    seed: SeedOption = 1,
    out_dir: OutOption = None,
    db: DbOption = None,
) -> None:
    """Start each scheduled occurrence at its time, in this terminal, until Ctrl-C.

    \b
    Example:
      callouts schedule run --simulate random --out out/scheduled
    """
    from backend.cli.run import _plain_store_errors, _run_job
    from backend.local.engine import utc_now
    from backend.local.schedules import LocalScheduler

    store = _store(db)

    def start(job: CallJob, at: datetime) -> None:
        out.print(Text(f"Occurrence {at:%Y-%m-%d %H:%M %Z}: job {job.job_id}", style="bold"))
        with _plain_store_errors():
            _run_job(job, answers, simulate, seed, None, out_dir, db)

    scheduler = LocalScheduler(store, start)
    upcoming = scheduler.next_time(utc_now())
    if upcoming is None and not scheduler.due(utc_now()):
        fail(f"nothing is scheduled in {store.path}: add a job with `callouts schedule add`")
    out.print(Text("Running the schedules (Ctrl-C to stop) ...", style="bold"))
    try:
        scheduler.run_forever(threading.Event(), utc_now)
    except KeyboardInterrupt:
        out.print("Stopped: occurrences still to come start when this runs again.")
