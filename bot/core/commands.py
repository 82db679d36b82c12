"""The bot's commands, parsed from text: Slack's `/callout …` and Teams' `@Callouts …` alike.

`parse(text)` gives a `Command` (what to do) or a `Command` of kind HELP/USAGE with the text to
answer; `usage(invoke)` is the help for a platform's way of invoking the bot (`/callout`,
`@Callouts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CommandKind(StrEnum):
    NEW = "new"  # open the job form
    TEMPLATE = "template"  # send a blank workbook
    STATUS = "status"  # a job's card, or the latest jobs here
    CANCEL = "cancel"
    DNC = "dnc"  # the do-not-call list
    SCHEDULE = "schedule"  # list or cancel scheduled jobs (docs/schedule.md)
    TEST = "test"  # Call me first: a test call of a previewed job (bot/core/call_me_first.py)
    TEST_NUMBER = "test_number"  # change the number test calls go to
    HELP = "help"  # anything else: the usage
    INCOMPLETE = "incomplete"  # a command missing its argument: `reply` says what to add


DNC_ACTIONS = ("add", "remove", "check")

# (arguments, what it does); `{invoke}` is the platform's way to call the bot.
COMMANDS = (
    ("new", "write a call job in a form"),
    ("template", "get a blank workbook to fill in"),
    ("status [JOB]", "show a job's card (or the latest jobs in this channel)"),
    ("cancel JOB", "stop a running job (its starter or an admin)"),
    ("schedule [list]", "the scheduled and recurring jobs"),
    ("schedule cancel ID", "stop a schedule (who scheduled it or an admin)"),
    ("help", "this message"),
)
# Call me first (bot/core/call_me_first.py): listed by the platforms that render it.
TEST_COMMANDS = (
    ("test [JOB]", "call me first: hear person #1's call on your own phone (not part of the job)"),
    ("test number NUMBER", "change the number your test calls go to"),
)
DNC_COMMANDS = (
    ("dnc add NUMBER", "never call this number again (any job)"),
    ("dnc remove NUMBER", "take it off the do-not-call list (admins)"),
    ("dnc check NUMBER", "is it on the list? (admins)"),
)
INTRO = "phones a list of people, asks short questions by voice, reports the answers."
NUMBER_HINT = "Write numbers with their country code, like `+852 9123 4567`."


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    job_id: str | None = None  # STATUS (optional), CANCEL, TEST (optional), SCHEDULE cancel (id)
    action: str | None = None  # DNC: add | remove | check
    number: str | None = None  # DNC, TEST_NUMBER: the number as typed
    reply: str | None = None  # HELP / INCOMPLETE: what to answer (see `usage`)


def parse(text: str, invoke: str = "/callout") -> Command:
    """A command line without the invoking part (`status J1`, `cancel`, ``)."""
    words = text.split()
    sub = words[0].lower() if words else ""
    if sub in ("", "new"):
        return Command(CommandKind.NEW)
    if sub == "template":
        return Command(CommandKind.TEMPLATE)
    if sub == "status":
        return Command(CommandKind.STATUS, job_id=words[1] if len(words) > 1 else None)
    if sub == "cancel":
        if len(words) < 2:
            return Command(
                CommandKind.INCOMPLETE,
                reply=f"Which job? `{invoke} cancel JOB_ID` (see `{invoke} status`).",
            )
        return Command(CommandKind.CANCEL, job_id=words[1])
    if sub == "dnc":
        if len(words) < 3 or words[1].lower() not in DNC_ACTIONS:
            return Command(CommandKind.INCOMPLETE, reply=dnc_usage(invoke))
        return Command(CommandKind.DNC, action=words[1].lower(), number=" ".join(words[2:]))
    return Command(CommandKind.HELP, reply=None)


def dnc_usage(invoke: str = "/callout") -> str:
    lines = [f"`{invoke} {args}` – {what}" for args, what in DNC_COMMANDS]
    return "\n".join([*lines, NUMBER_HINT])


def usage(
    invoke: str = "/callout", bold: str = "*", workbook: str = "", *, test_calls: bool = False
) -> str:
    """The help text. `bold`: the platform's bold marker; `workbook`: how to send a workbook
    (a line of its own, e.g. "drop a filled-in workbook (.xlsx) in this channel");
    `test_calls`: list the Call me first commands."""
    lines = [f"{bold}Callouts{bold} {INTRO}"]
    first, *rest = COMMANDS
    lines.append(f"• `{invoke}` or `{invoke} {first[0]}` – {first[1]}")
    if workbook:
        lines.append(f"• {workbook}")
    more = [*rest[:-1], *(TEST_COMMANDS if test_calls else ()), rest[-1]]  # help stays last
    lines += [f"• `{invoke} {args}` – {what}" for args, what in more]
    return "\n".join(lines)
