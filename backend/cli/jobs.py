"""`callouts template | validate | preview | report`: work with call-job workbooks and reports.

Every failure ends with a clear message and exit code 1, never a traceback.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from backend.cli import app

if TYPE_CHECKING:
    from backend.domain.models import CallJob, Receiver
from backend.cli.job_files import (
    JOB_FILE_HELP,
    WhenOption,
    fail,
    load_intake,
    out,
    print_do_not_call,
    print_schedule,
    print_warnings,
    readable_ssml,
    resolve_when,
)


@app.command()
def template(
    out_file: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="Where to write it.")],
    force: Annotated[
        bool, typer.Option("--force/--no-force", help="Overwrite an existing file.")
    ] = False,
) -> None:
    """Write a blank, documented call-job workbook to fill in.

    \b
    Example:
      callouts template my_job.xlsx
      callouts template my_job.xlsx --force
    """
    from backend.domain.workbook_template import write_blank_template

    if out_file.exists() and not force:
        fail(f"{out_file} already exists: choose another name or add --force to overwrite it")
    try:
        write_blank_template(out_file)
    except OSError as error:
        fail(f"cannot write {out_file}: {error.strerror or error}")
    out.print(
        Text(f"Wrote {out_file}. Fill in the Configures, Questions and Receivers sheets, then run ")
        + Text(f"callouts validate {out_file}", style="bold")
    )


@app.command()
def validate(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
) -> None:
    """Check a call job: print every problem (exit 1), or a one-line summary (exit 0).

    \b
    Example:
      callouts validate examples/call_job.xlsx
      callouts validate job.json
    """
    from backend.cli.dnc import existing_list

    result = load_intake(job_file, dnc=existing_list())
    job = result.job
    assert job is not None
    columns = ", ".join(job.extra_columns) or "none"
    out.print(
        Text(f"OK {job_file.name}: ", style="bold green")
        + Text(
            f"job {job.job_id}, {len(job.receivers)} receiver(s), {len(job.questions)} "
            f"question(s), extra columns: {columns}"
        )
    )
    print_schedule(job)
    print_warnings(result.warnings)
    print_do_not_call(job)


@app.command()
def preview(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    receiver: Annotated[
        str | None,
        typer.Option("--receiver", "-r", metavar="ID", help="Receiver id (default: the first)."),
    ] = None,
    at: WhenOption = None,
) -> None:
    """Print what a person hears, who is outside their calling hours when the job starts (--at,
    else the job's start_at, else now), and any warnings.

    \b
    Example:
      callouts preview examples/call_job.xlsx
      callouts preview examples/call_job.xlsx --receiver S07
    """
    from backend.cli.dnc import existing_list
    from backend.domain.calling_rules import hours_summary
    from backend.domain.phones import mask_phone
    from backend.domain.speech import Speech, SpeechError

    result = load_intake(job_file, dnc=existing_list())
    job = result.job
    assert job is not None
    if not job.receivers:
        fail("the job has no receivers: add rows to the Receivers sheet")
    if receiver is None:
        person = job.receivers[0]
    else:
        try:
            person = job.receiver(receiver.strip())
        except KeyError:
            known = ", ".join(r.id for r in job.receivers[:10])
            more = ", ..." if len(job.receivers) > 10 else ""
            fail(f"no receiver with id {receiver!r} in {job_file.name}; ids are: {known}{more}")
    try:
        prompts = Speech(job).prompts(person)
    except SpeechError as error:
        fail(f"cannot speak the job for receiver {person.id}: {error.message}")

    out.print(
        Text(f"Receiver {person.id} ({mask_phone(person.phone_number)})", style="bold")
        + Text(
            f", {job.receivers.index(person) + 1} of {len(job.receivers)} in job {job.job_id}",
            style="dim",
        )
    )
    when = resolve_when(at, job) if at else job.settings.start_at or datetime.now(UTC)
    out.print(Text(hours_summary(job.to_call, job.settings, when)))
    print_schedule(job)
    _preview_language(job, person)
    print_warnings(result.warnings)
    print_do_not_call(job)
    out.print()
    out.print(Text("Greeting", style="bold cyan"))
    out.print(Text(readable_ssml(prompts.greeting)))
    for number, (question, prompt) in enumerate(
        zip(job.questions, prompts.questions, strict=True), start=1
    ):
        out.print()
        out.print(Text(f"Question {number} ({question.type.value})", style="bold cyan"))
        out.print(Text(readable_ssml(prompt)))
    out.print()
    out.print(Text("Ending", style="bold cyan"))
    out.print(Text(readable_ssml(prompts.ending)))
    _preview_sms(job, person)
    _print_estimate(job, when)


def _preview_language(job: CallJob, person: Receiver) -> None:
    """The person's language and voice, and how many people each language has (docs/voice.md);
    nothing for a job in one language spoken by its default voice."""
    from collections import Counter

    from backend.domain.voices import LANGUAGES, voice_for

    counts = Counter(job.language_of(receiver) for receiver in job.receivers)
    language = job.language_of(person)
    if len(counts) == 1 and language == job.settings.language:
        return
    spoken = ", ".join(f"{LANGUAGES[code].name} {count}" for code, count in counts.items())
    voice = voice_for(language, job.settings.voice)
    out.print(Text(f"Speaks {LANGUAGES[language].name} ({voice}). Languages: {spoken}."))


def _preview_sms(job: CallJob, person: Receiver) -> None:
    """The text this person gets if the calls do not reach them (docs/sms.md)."""
    from backend.domain.sms import sms_body, sms_template
    from backend.domain.speech import SpeechError

    if not job.sms_template.strip():
        return
    try:
        body = sms_body(sms_template(job), person)
    except SpeechError as error:
        fail(f"cannot write the SMS for receiver {person.id}: {error.message}")
    out.print()
    out.print(Text("SMS if not reached", style="bold cyan"))
    out.print(Text(body))


def _print_estimate(job: CallJob, start: datetime) -> None:
    """Expected duration and cost (one line each), then the breakdown (docs/estimate.md)."""
    from backend.cli.estimate import job_estimate, load_prices, print_estimate
    from backend.cli.job_files import load_settings

    out.print()
    out.print(Text("Estimate", style="bold cyan"))
    concurrency = load_settings().concurrency
    print_estimate(job_estimate(job, start, concurrency, load_prices(None)), breakdown=True)


@app.command()
def report(
    results_file: Annotated[
        Path, typer.Argument(metavar="RESULTS.json", help="Results JSON written by callouts.")
    ],
    out_file: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="Where to write it.")],
) -> None:
    """Build the Excel report (Results, Summary with charts, Questions) from a results JSON.

    \b
    Example:
      callouts report out/demo/call-job-0123456789.json report.xlsx
    """
    from backend.domain.report import (
        ReportInputError,
        load_results_json,
        load_sms_json,
        write_xlsx,
    )
    from backend.domain.summary import summary

    try:
        data = results_file.read_bytes()
    except OSError as error:
        fail(f"cannot read {results_file}: {error.strerror or error}")
    try:
        job, results = load_results_json(data)
        texted = load_sms_json(data)
    except ReportInputError as error:
        fail(f"{results_file} is not a callouts results file: {error}")
    if out_file.is_dir():
        fail(f"cannot write {out_file}: it is a directory; give a file name such as report.xlsx")
    if not out_file.parent.is_dir():
        fail(f"cannot write {out_file}: the folder {out_file.parent} does not exist")
    # Built in memory first: a half-written workbook never replaces a good file.
    buffer = io.BytesIO()
    write_xlsx(job, results, buffer, texted)
    try:
        out_file.write_bytes(buffer.getvalue())
    except OSError as error:
        fail(f"cannot write {out_file}: {error.strerror or error}")
    done = summary(job, results)
    out.print(
        Text(f"Wrote {out_file}: ", style="bold green")
        + Text(f"job {job.job_id}, {done.done} of {done.total} receiver(s) with a result")
    )
