"""`callouts` command line: each module below registers its own commands on `app`.

Help is click's plain layout (`rich_markup_mode=None`): flags read `--force / --no-force` and
options their metavar (`--seed NUMBER`), where typer's rich layout labels every flag `<bool>`.
Each command's docstring ends with an example; a `\b` line keeps its lines as written.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="callouts",
    help=(
        "Phone a list of people, ask short questions by voice, get the answers as a report.\n\n"
        "\b\nExample:\n"
        "  callouts template my_job.xlsx\n"
        "  callouts validate my_job.xlsx\n"
        "  callouts run my_job.xlsx --simulate random --out out/my_job"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Imported for their side effect of registering commands on `app`.
from backend.cli import call_me_first, dnc, estimate, jobs, run, schedule, slack  # noqa: E402, F401


def main() -> None:
    app()
