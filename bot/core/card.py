"""The job card's view model, in words every adapter renders: its state line, progress bar,
counts per status, answer tallies, which buttons it offers, its footer and fallback text.

Texts here are plain; user-written parts (the job's name, answers, a stop reason) go through the
adapter's `escape` where one is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backend.domain.models import CallStatus
from backend.domain.problems import Problem
from backend.domain.summary import AnswerTally
from bot.core.state import CANCELLING, FINISHED, REJECTED, RUNNING, STOPPED, JobCard
from bot.core.text import mask_numbers, shorten

BAR_WIDTH = 20
REASON_LIMIT = 500
REJECTED_ADVICE = "Nobody was called. Fix what is listed in this thread and start the job again."
STOPPED_ADVICE = (
    "The calls already made are listed in this thread and kept; no report was posted. "
    "Ask your Callouts admin to write the report again (job `{job_id}`)."
)
RUNNING_FOOTER = "Results arrive in this thread."

Escape = Callable[[str], str]


def _same(text: str) -> str:
    return text


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "▓" * filled + "░" * (width - filled) + f" {done}/{total}"


def tally_text(tally: AnswerTally, escape: Escape = _same) -> str:
    """One question's answers as the report counts them: `Yes 3 · No 1 · No answer 2`."""
    if not sum(count for _, count in tally.counts):
        return "no results yet"
    return " · ".join(f"{escape(answer)} {count}" for answer, count in tally.counts)


def reason_text(reason: str, escape: Escape = _same) -> str:
    """Why a job stopped: numbers masked, one paragraph, shortened (then escaped)."""
    return escape(shorten(" ".join(mask_numbers(reason).split()), REASON_LIMIT))


def state_line(card: JobCard, reason: str | None = None, escape: Escape = _same) -> str:
    """The card's state in words: `Calling…`, `Finished`, `Stopped: why`..."""
    reason = reason or card.reason
    if card.state in (REJECTED, STOPPED):
        label = "Could not start" if card.state == REJECTED else "Stopped"
        # The reason is given when the job stops; a later redraw points at the thread.
        return (
            f"{label}: {reason_text(reason, escape)}"
            if reason
            else f"{label} – why is in this thread"
        )
    return {
        FINISHED: "Finished",
        CANCELLING: "Cancelling – calls not yet dialled will end as Cancelled",
    }.get(card.state, "Calling…")


# The states whose name is not already the word for them (the others: finished, stopped...).
STATE_WORDS = {RUNNING: "calling", REJECTED: "could not start"}


def state_words(card: JobCard) -> str:
    """The card's state in a few words, for lists (`/callout status`)."""
    return STATE_WORDS.get(card.state, card.state.value)


def stop_advice(card: JobCard) -> str:
    """What to do about a job that could not start or stopped."""
    if card.state == REJECTED:
        return REJECTED_ADVICE
    return STOPPED_ADVICE.format(job_id=card.job_id)


def footer(card: JobCard) -> str:
    return stop_advice(card) if card.state in (REJECTED, STOPPED) else RUNNING_FOOTER


@dataclass(frozen=True)
class StatusCount:
    status: CallStatus
    count: int
    note: str = ""  # e.g. " (2 do-not-call)"


def status_counts(card: JobCard) -> list[StatusCount]:
    """The statuses seen so far, in CallStatus order, with their counts."""
    counts = card.counts()
    return [
        StatusCount(
            status,
            counts[status.value],
            f" ({card.do_not_call} do-not-call)"
            if status is CallStatus.NOT_CALLABLE and card.do_not_call
            else "",
        )
        for status in CallStatus
        if counts.get(status.value)
    ]


def sms_line(card: JobCard) -> str | None:
    """`Texted 12 people who were not reached; 1 failed.` once a job with an SMS template ends
    (docs/sms.md); None before, without a template, or when nobody needed a text."""
    from backend.domain.sms import SmsTally

    tally = SmsTally.from_json(card.sms)
    return tally.sentence() if tally is not None and tally.total else None


def can_cancel(card: JobCard) -> bool:
    return card.state == RUNNING


def can_run_again(card: JobCard) -> bool:
    """A job that ended after it started (finished, cancelled or stopped) may be run again:
    everyone is called anew, as a new job."""
    return card.state in (FINISHED, STOPPED)


def retry_count(card: JobCard) -> int:
    """How many people a "Retry unreached" would call (0: no such button)."""
    return 0 if card.state == RUNNING else len(card.unreached())


def card_text(card: JobCard) -> str:
    """Notification/fallback text of the card."""
    if card.state == REJECTED:
        return f"{card.name}: could not start"
    if card.state == STOPPED:
        return f"{card.name}: stopped after {card.done}/{card.total} calls"
    return f"{card.name}: {card.done}/{card.total} calls done"


def summary_line(card: JobCard) -> str:
    """The report's comment: `Report for NAME: 8/10 calls – CallCompleted 6, NoAnswer 2`."""
    parts = [f"{c.status.value} {c.count}" for c in status_counts(card)]
    return f"Report for {card.name}: {card.done}/{card.total} calls – " + ", ".join(parts)


@dataclass(frozen=True)
class StoppedNotice:
    """The thread message of a job that could not start or stopped."""

    label: str  # "Could not start" / "Stopped"
    detail: str  # "`job-id`" (and how far it got)
    text: str  # fallback text
    problems: Sequence[Problem]
    reason: str  # shown when there are no problems (already masked and shortened)
    advice: str


def stopped_notice(
    card: JobCard, reason: str, problems: Sequence[Problem] = (), escape: Escape = _same
) -> StoppedNotice:
    """A rejection lists every problem (where and what); a stop gives the error."""
    if card.state == REJECTED:
        label, detail = "Could not start", f"`{card.job_id}`"
        text = f"{card.name} could not start"
    else:
        label, detail = "Stopped", f"`{card.job_id}` after {card.done}/{card.total} calls"
        text = f"{card.name} stopped"
    return StoppedNotice(
        label=label,
        detail=detail,
        text=f"{text}: {shorten(mask_numbers(reason), 200)}",
        problems=tuple(problems),
        reason=reason_text(reason, escape),
        advice=stop_advice(card),
    )
