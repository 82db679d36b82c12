"""`callouts bot`: run the Slack (or, with --teams, the Teams) bot on this machine with the local
engine and simulated phones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backend.cli import app
from backend.cli.job_files import require_call_files
from backend.cli.run import AnswersOption, SeedOption

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
        int | None,
        typer.Option(
            "--port", metavar="NUMBER", help="HTTP port (with --http: 3000; with --teams: 3978)."
        ),
    ] = None,
    answers: AnswersOption = None,
    seed: SeedOption = 7,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Where jobs, reports and bot state are kept (out/slack, or out/teams).",
        ),
    ] = None,
    teams: Annotated[
        bool,
        typer.Option(
            "--teams",
            help="Run the Microsoft Teams bot instead (POST /api/messages; see docs/teams.md).",
        ),
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            metavar="URL",
            help="With --teams: where report links point (default http://localhost:PORT).",
        ),
    ] = None,
) -> None:
    """Run the Slack bot locally: /callout, workbook previews, Start -> simulated calls.

    With --teams, the Teams bot on http://localhost:3978/api/messages instead (try it with
    Microsoft 365 Agents Playground and CALLOUTS_TEAMS_DEV_UNAUTHENTICATED=1, see docs/teams.md).

    \b
    Example:
      callouts bot --socket
      callouts bot --http --port 3000 --answers examples/answers.csv
      CALLOUTS_TEAMS_DEV_UNAUTHENTICATED=1 callouts bot --teams --answers examples/answers.csv
    """
    if answers is not None and not answers.is_file():
        err.print(f"[bold red]No such answers file:[/] {answers}")
        raise typer.Exit(1)
    if teams:
        _run_teams(port or 3978, answers, seed, out or Path("out/teams"), public_url)
        return
    port = port or 3000
    out = out or Path("out/slack")
    from bot.slack.local import build_local_bot, run
    from bot.slack.settings import BotSettings

    settings = BotSettings()
    missing = settings.check_local(socket=socket)
    if missing:
        err.print("[bold red]Missing environment variables:[/] " + ", ".join(missing))
        err.print("See docs/slack.md: create the app from manifests/slack_app.dev.yaml first.")
        raise typer.Exit(1)
    require_call_files()
    local = build_local_bot(settings, out, answers=answers, seed=seed, socket=socket)
    mode = "Socket Mode" if socket else f"HTTP on port {port} (POST /slack/events)"
    err.print(f"Callouts bot running in {mode}. Ctrl-C stops it.")
    run(local, settings, socket=socket, port=port)


def _run_teams(
    port: int, answers: Path | None, seed: int, out: Path, public_url: str | None
) -> None:
    import warnings

    # The Teams SDK announces a preview feature Callouts does not use on import.
    warnings.filterwarnings("ignore", message="HtmlWidgetSecurityPolicy is in preview")
    from backend.local.simulator.people import simulated_people
    from bot.teams.auth import TeamsAuthError
    from bot.teams.local import build_local_teams_bot, run
    from bot.teams.settings import TeamsSettings

    settings = TeamsSettings()
    missing = settings.check_local()
    if missing:
        err.print("[bold red]Missing environment variables:[/] " + ", ".join(missing))
        err.print(
            "See docs/teams.md, or set CALLOUTS_TEAMS_DEV_UNAUTHENTICATED=1 to try the bot with "
            "Microsoft 365 Agents Playground."
        )
        raise typer.Exit(1)
    require_call_files()
    try:
        local = build_local_teams_bot(
            settings, out, simulated_people(answers, seed), port=port, public_url=public_url
        )
    except TeamsAuthError as error:
        err.print(f"[bold red]{error}[/]")
        raise typer.Exit(1) from None
    mode = (
        "without authentication (dev mode)" if settings.dev_unauthenticated else "with JWT checks"
    )
    err.print(f"Callouts Teams bot on {local.url}, {mode}. Ctrl-C stops it.")
    run(local)
