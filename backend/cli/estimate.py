"""`callouts estimate`: how long a job will take and what it will cost, before it starts.

The model and its price table are `backend/domain/estimate.py` and `backend/domain/prices.py`
(docs/estimate.md); `preview` prints the same two lines and this breakdown.
"""

from __future__ import annotations

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
    load_intake,
    out,
    resolve_when,
)

if TYPE_CHECKING:
    from backend.domain.estimate import Estimate, Rates
    from backend.domain.models import CallJob
    from backend.domain.prices import Prices

PricesOption = Annotated[
    Path | None,
    typer.Option(
        "--prices",
        metavar="PRICES.json",
        help="Prices overriding the defaults (default: $CALLOUTS_PRICES_FILE, else built in).",
    ),
]


def load_prices(path: Path | None) -> Prices:
    """The price table: `path`, else CALLOUTS_PRICES_FILE, else the defaults; exit 1 if bad."""
    from pydantic import ValidationError

    from backend.domain.prices import PriceError, Prices
    from backend.settings import Settings

    if path is None:
        try:
            path = Settings().prices_file
        except ValidationError as error:
            fail(f"environment variable CALLOUTS_PRICES_FILE: {error.errors()[0]['msg']}")
    if path is None:
        return Prices()
    try:
        return Prices.load(path)
    except PriceError as error:
        fail(str(error))


def job_estimate(
    job: CallJob,
    start: datetime,
    concurrency: int | None,
    prices: Prices,
    rates: Rates | None = None,
) -> Estimate:
    """The estimate of `job`, or exit 1 with the reason (never a traceback)."""
    from backend.domain.estimate import estimate

    try:
        return estimate(job, start, concurrency=concurrency, rates=rates, prices=prices)
    except ValueError as error:
        fail(f"cannot estimate job {job.job_id}: {error}")


def print_estimate(found: Estimate, *, breakdown: bool) -> None:
    """The two preview lines, then (when asked) the cost table and the assumptions."""
    from backend.domain.estimate import human_duration, money

    out.print(Text(found.duration_line()))
    out.print(Text(found.cost_line()))
    if not breakdown:
        return
    table = Table(title="Cost breakdown", title_justify="left")
    for column, justify in (("Item", "left"), ("Quantity", "right"), ("Unit", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("Price", justify="right")
    table.add_column("Cost", justify="right")
    for line in found.costs:
        table.add_row(
            line.item,
            f"{line.quantity:,.0f}" if line.quantity >= 10 else f"{line.quantity:,.2f}",
            line.unit,
            f"${line.unit_price:.6g}",
            money(line.cost),
        )
    table.add_row("total", "", "", "", money(found.total_cost), style="bold")
    out.print(table)
    lengths = found.lengths
    out.print(
        Text(
            f"{found.receivers} receiver(s), about {found.attempts:,.1f} calls "
            f"({found.reached:,.1f} people reached); an answered call about "
            f"{human_seconds(lengths.answered)}, {found.call_minutes:,.0f} call minutes in all; "
            f"calling hours {found.window}; wall clock {human_duration(found.duration_seconds)} "
            f"from {found.starts_at:%a %d %b %H:%M} UTC.",
            style="dim",
        )
    )
    out.print(
        Text(
            f"Prices recorded {found.prices_checked_on}, not confirmed online: check them "
            "(docs/estimate.md) or give your own with --prices.",
            style="dim",
        )
    )


def human_seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


@app.command()
def estimate(
    job_file: Annotated[Path, typer.Argument(metavar="JOB_FILE", help=JOB_FILE_HELP)],
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            metavar="NUMBER",
            help="Calls at once (default: the job's; on AWS also capped by MaxConcurrentCalls).",
        ),
    ] = None,
    at: WhenOption = None,
    answer_rate: Annotated[
        float | None,
        typer.Option(
            "--answer-rate",
            metavar="SHARE",
            help="Share of calls picked up by a person, 0.01 to 1 (default 0.75).",
        ),
    ] = None,
    prices_file: PricesOption = None,
) -> None:
    """Print how long a job is expected to take and what it is expected to cost, with the
    breakdown per AWS service (docs/estimate.md). Calling hours count from the start: --at,
    else the job's start_at, else now.

    \b
    Example:
      callouts estimate examples/call_job.xlsx
      callouts estimate job.json --concurrency 20 --at 'tomorrow 09:00'
    """
    from backend.domain.estimate import Rates

    if concurrency is not None and not 1 <= concurrency <= 1000:
        fail(f"--concurrency {concurrency}: give a number of calls at once from 1 to 1000")
    if answer_rate is not None and not 0.01 <= answer_rate <= 1:
        fail(f"--answer-rate {answer_rate}: give the share of calls picked up, from 0.01 to 1")
    job = load_intake(job_file).job
    assert job is not None
    if not job.receivers:
        fail("the job has no receivers: add rows to the Receivers sheet")
    prices = load_prices(prices_file)
    rates = Rates.with_answer_rate(answer_rate) if answer_rate is not None else None
    when = resolve_when(at, job) if at else job.settings.start_at or datetime.now(UTC)
    found = job_estimate(job, when, concurrency, prices, rates)
    out.print(Text(f"Job {job.job_id}", style="bold"))
    print_estimate(found, breakdown=True)
