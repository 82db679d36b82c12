"""`callouts test-call`: "Call me first" on this machine: one simulated call, its transcript.

The simulated phone plays person #1's prompts through the real contact flow and bots; nothing
is written to the job database (docs/test-call.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from backend.cli import app
from backend.cli.job_files import JOB_FILE_HELP, fail, load_job, out, require_call_files

if TYPE_CHECKING:
    from backend.domain.models import CallJob


def _person(job: CallJob, answers: Path | None, say: str | None, pickup: str | None) -> Any:
    """Who answers: the answers CSV's row for `test` (else person #1's), `--say`, or someone
    who picks up and answers every question plainly."""
    from backend.local.simulator import (
        AnswersFileError,
        SimulatedPerson,
        answering_person,
        load_answers_csv,
    )
    from backend.local.simulator.people import ANSWERS_SEPARATOR, pickup_of

    if answers is not None and (say is not None or pickup is not None):
        fail("use either --answers or --say/--pickup, not both")
    if answers is not None:
        try:
            people = load_answers_csv(answers)
        except AnswersFileError as error:
            fail(f"cannot use {answers}: " + "; ".join(str(p) for p in error.problems[:5]))
        rows = people.get("test") or people.get(job.receivers[0].id)
        if not rows:
            fail(
                f"{answers.name} has no row for receiver 'test' or {job.receivers[0].id!r} "
                "(person #1): add one"
            )
        return rows[0]
    chosen = pickup_of(pickup) if pickup is not None else "answer"
    if chosen is None:
        fail(f"--pickup {pickup!r}: use answer, no_answer, busy, invalid, voicemail or silent")
    if say is None and chosen == "answer":
        return answering_person(job)
    utterances = [part.strip() for part in (say or "").split(ANSWERS_SEPARATOR)] if say else []
    return SimulatedPerson(chosen, utterances)


@app.command("test-call")
def call_me_first(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="NUMBER", help="Your own number, e.g. +852 5123 4567 (required)."
        ),
    ],
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            metavar="ANSWERS.csv",
            help="What the simulated phone says: the row of receiver 'test' (else person #1).",
        ),
    ] = None,
    say: Annotated[
        str | None,
        typer.Option(
            "--say", metavar="'yes|A|12'", help="Utterances, one per bot turn, separated by |."
        ),
    ] = None,
    pickup: Annotated[
        str | None,
        typer.Option(
            "--pickup",
            metavar="HOW",
            help="answer (default), no_answer, busy, invalid, voicemail or silent.",
        ),
    ] = None,
) -> None:
    """Call me first: play person #1's call to your own number on a simulated phone and print
    what was said, what was answered and the outcome. Not part of the job: no attempt, no result,
    no daily-cap count; a number on the do-not-call list is refused.

    \b
    Example:
      callouts test-call examples/call_job.xlsx --to "+852 5123 4567"
      callouts test-call examples/call_job.xlsx --to 51234567 --say "yes|B|2"
    """
    from backend.cli.job_files import load_settings
    from backend.domain.call_me_first import RefusedTestCall, number_key_for_test, requester_number
    from backend.local.call_me_first import simulate_test_call
    from backend.local.dnc import DncKeyError, SqliteDoNotCall

    job = load_job(job_file)
    try:
        number = requester_number(job, to)
    except RefusedTestCall as error:
        fail(f"--to: {error}. Nobody was called.")
    person = _person(job, answers, say, pickup)
    require_call_files()
    try:
        dnc = SqliteDoNotCall.beside(load_settings().db_path)
    except (DncKeyError, OSError) as error:
        fail(f"cannot read the do-not-call list: {error}. Nobody was called.")
    try:
        key = number_key_for_test(dnc, number)
    except RefusedTestCall as error:
        fail(f"{error}. Nobody was called.")
    now = datetime.now(UTC)
    try:
        played = simulate_test_call(job, number, person, now, opt_outs=dnc, number_key=key)
    except RefusedTestCall as error:
        fail(f"{error}. Nobody was called.")
    _print(job, played)


def _print(job: CallJob, played: Any) -> None:
    from dataclasses import asdict

    from backend.cli.run import STATUS_STYLES, transcript_line

    outcome = played.outcome
    out.print(
        Text(f"Test call to {outcome.masked_to}", style="bold")
        + Text(f" with the prompts of person #1 ({job.receivers[0].id}) of job {job.job_id}")
    )
    for line in played.transcript:
        out.print(transcript_line(asdict(line)))
    style = STATUS_STYLES.get(outcome.result.status.value, "")
    out.print(Text("Outcome: ", style="bold") + Text(outcome.summary(), style=style))
