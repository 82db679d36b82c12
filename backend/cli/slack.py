"""`callouts bot`: run the Slack bot on this machine with the local engine and simulated phones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backend.cli import app
from backend.cli.job_files import require_call_files

err = Console(stderr=True, highlight=False)


@app.command()
def bot(
    socket: Annotated[
        bool,
        typer.Option(
            "--socket/--http",
            help="Socket Mode (needs SLACK_APP_TOKEN, no public URL) or HTTP on --port.",
        ),
    ] = True,
    port: Annotated[
        int, typer.Option("--port", metavar="NUMBER", help="HTTP port (with --http).")
    ] = 3000,
    answers: Annotated[
        Path | None,
        typer.Option("--answers", metavar="ANSWERS.csv", help="What each simulated person says."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", metavar="NUMBER", help="Seed of the random simulated people.")
    ] = 7,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Where jobs, reports and bot state are kept."),
    ] = Path("out/slack"),
) -> None:
    """Run the Slack bot locally: /callout, workbook previews, Start -> simulated calls.

    \b
    Example:
      callouts bot --socket
      callouts bot --http --port 3000 --answers examples/answers.csv
    """
    from bot.slack.local import build_local_bot, run
    from bot.slack.settings import BotSettings

    settings = BotSettings()
    missing = settings.check_local(socket=socket)
    if missing:
        err.print("[bold red]Missing environment variables:[/] " + ", ".join(missing))
        err.print("See docs/slack.md: create the app from manifests/slack_app.dev.yaml first.")
        raise typer.Exit(1)
    if answers is not None and not answers.is_file():
        err.print(f"[bold red]No such answers file:[/] {answers}")
        raise typer.Exit(1)
    require_call_files()
    local = build_local_bot(settings, out, answers=answers, seed=seed, socket=socket)
    mode = "Socket Mode" if socket else f"HTTP on port {port} (POST /slack/events)"
    err.print(f"Callouts bot running in {mode}. Ctrl-C stops it.")
    run(local, settings, socket=socket, port=port)
