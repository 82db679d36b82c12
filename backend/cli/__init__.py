"""`callouts` command line: each module below registers its own commands on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="callouts",
    help="Phone a list of people, ask short questions by voice, get the answers as a report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Imported for their side effect of registering commands on `app`.
from backend.cli import dnc, jobs, run, slack  # noqa: E402, F401


def main() -> None:
    app()
