"""`callouts dnc add | remove | list | import | export`: the local do-not-call list.

The list lives next to the job database (`donotcall.db`, keyed by `donotcall.key`) and holds
only keyed hashes of numbers: `list` and `export` show hashes, when and how each was added, never
a number. Numbers given to `add`, `remove` and `import` are read like receivers' numbers
(`--prefix` for national numbers) and echoed masked.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from backend.cli import app

if TYPE_CHECKING:
    from backend.local.dnc import SqliteDoNotCall

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

dnc_app = typer.Typer(
    help="""The do-not-call list: numbers on it are never dialled, by any job.

    \b
    Example:
      callouts dnc add "+852 9123 4567"
      callouts dnc import opt_outs.csv --prefix +852
      callouts dnc list
    """,
    no_args_is_help=True,
)
app.add_typer(dnc_app, name="dnc")

Prefix = Annotated[
    str,
    typer.Option(
        "--prefix", metavar="+CC", help="Country code for numbers written without one (+852)."
    ),
]
NUMBER_COLUMNS = ("phone_number", "phone", "number", "phonenumber", "mobile", "tel")


def _fail(message: str) -> typer.Exit:
    err.print(Text(message, style="bold red"), soft_wrap=True)
    return typer.Exit(1)


def _open() -> SqliteDoNotCall:
    from pydantic import ValidationError

    from backend.local.dnc import DncKeyError, SqliteDoNotCall

    try:
        return SqliteDoNotCall.from_settings()
    except ValidationError as error:
        raise _fail(f"CALLOUTS_* settings: {error.errors()[0]['msg']}") from None
    except (DncKeyError, OSError) as error:
        raise _fail(f"cannot open the do-not-call list: {error}") from None


def existing_list() -> SqliteDoNotCall | None:
    """The local list for intake (None when none was ever made: nobody is listed), or exit 1
    saying why it cannot be read."""
    from pydantic import ValidationError

    from backend.local.dnc import DncKeyError, SqliteDoNotCall
    from backend.settings import Settings

    try:
        return SqliteDoNotCall.existing(Settings().db_path)
    except (ValidationError, DncKeyError, OSError) as error:
        raise _fail(f"cannot read the do-not-call list: {error}") from None


def _e164(raw: str, prefix: str) -> str:
    """The number in E.164, or exit 1 with the reason (the number masked)."""
    from backend.domain.phones import PhoneError, normalise_prefix, to_e164

    try:
        return to_e164(raw, normalise_prefix(prefix))
    except PhoneError as error:
        raise _fail(f"{error}") from None


@dnc_app.command("add")
def add(
    numbers: Annotated[list[str], typer.Argument(metavar="NUMBER...", help="Numbers to list.")],
    prefix: Prefix = "",
) -> None:
    """Put numbers on the list: no job will dial them.

    \b
    Example:
      callouts dnc add +85291234567 "6123 4567" --prefix +852
    """
    from backend.domain.dnc import add_number
    from backend.domain.phones import mask_phone

    e164s = [_e164(raw, prefix) for raw in numbers]  # all checked before any is added
    dnc = _open()
    for number in e164s:
        added = add_number(dnc, number, "cli")
        out.print(f"{mask_phone(number)}: {'added' if added else 'already on the list'}")


@dnc_app.command("remove")
def remove(
    numbers: Annotated[list[str], typer.Argument(metavar="NUMBER...", help="Numbers to unlist.")],
    prefix: Prefix = "",
) -> None:
    """Take numbers off the list (only when the person asked to be called again).

    \b
    Example:
      callouts dnc remove +85291234567
    """
    from backend.domain.dnc import remove_number
    from backend.domain.phones import mask_phone

    e164s = [_e164(raw, prefix) for raw in numbers]
    dnc = _open()
    for number in e164s:
        removed = remove_number(dnc, number)
        out.print(f"{mask_phone(number)}: {'removed' if removed else 'was not on the list'}")


@dnc_app.command("list")
def list_entries() -> None:
    """Every entry: the number's keyed hash, when and how it was added (never the number).

    \b
    Example:
      callouts dnc list
    """
    entries = _open().entries()
    if not entries:
        out.print("The do-not-call list is empty.")
        return
    out.print(Text(f"{'hash (HMAC-SHA256 of the number)':<64}  {'added (UTC)':<16}  source"))
    for entry in entries:  # one line each, never wrapped: the hash is copied from here
        added = entry.added_at.strftime("%Y-%m-%d %H:%M")
        out.print(Text(f"{entry.key}  {added:<16}  {entry.source}"), no_wrap=True, crop=False)
    out.print(f"{len(entries)} number(s) on the list.")


@dnc_app.command("export")
def export(
    out_file: Annotated[
        Path | None,
        typer.Argument(metavar="[OUT.csv]", help="Where to write (default: standard output)."),
    ] = None,
) -> None:
    """The list as CSV: hash, added_at, source (hashes only: import needs the numbers).

    \b
    Example:
      callouts dnc export do_not_call.csv
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("hash", "added_at", "source"))
    for entry in _open().entries():
        writer.writerow((entry.key, entry.added_at.isoformat(), entry.source))
    if out_file is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        out_file.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write {out_file}: {error.strerror or error}") from None
    out.print(f"Wrote {out_file}.")


def _numbers_in(path: Path) -> Iterator[tuple[int, str]]:
    """(line, raw number) from a CSV with a phone column, or one number per line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(f"cannot read {path}: {error}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return
    header = ["".join(ch for ch in cell.lower() if ch.isalnum()) for cell in rows[0]]
    wanted = [name.replace("_", "") for name in NUMBER_COLUMNS]
    column = next((i for i, name in enumerate(header) if name in wanted), None)
    start = 2 if column is not None else 1
    for line, row in enumerate(rows[start - 1 :], start=start):
        cell = row[column or 0].strip() if len(row) > (column or 0) else ""
        if cell:
            yield line, cell


@dnc_app.command("import")
def import_numbers(
    in_file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A CSV with a phone_number (or phone, number) column, or one number per line.",
        ),
    ],
    prefix: Prefix = "",
) -> None:
    """Add every number of a file; lines that are not numbers are listed and left out.

    \b
    Example:
      callouts dnc import opt_outs.csv --prefix +852
    """
    from backend.domain.dnc import add_number
    from backend.domain.phones import PhoneError, normalise_prefix, to_e164

    good: list[str] = []
    bad: list[str] = []
    for line, raw in _numbers_in(in_file):
        try:
            good.append(to_e164(raw, normalise_prefix(prefix)))
        except PhoneError as error:
            bad.append(f"{in_file.name}, line {line}: {error}")
    dnc = _open()
    added = sum(add_number(dnc, number, f"import:{in_file.name}") for number in good)
    out.print(
        f"{added} number(s) added, {len(good) - added} already on the list, "
        f"{len(bad)} line(s) not read."
    )
    if bad:
        for message in bad[:20]:
            err.print(Text(message, style="red"), soft_wrap=True)
        if len(bad) > 20:
            err.print(f"... and {len(bad) - 20} more")
        raise _fail("fix those lines (or add --prefix for numbers without a country code)")
