"""Block Kit built with slack_sdk.models: the preview, the job card and the thread batches.

Every message stays within Slack's limits (50 blocks, 3,000 characters per section text); long
lists end with "and N more". Phone numbers are always masked.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from backend.domain.models import CallJob, CallResult, CallStatus
from backend.domain.phones import mask_phone
from backend.domain.problems import Problem
from backend.domain.summary import AnswerTally
from bot.state import CANCELLING, FINISHED, REJECTED, RUNNING, STOPPED, JobCard

SECTION_LIMIT = 2900  # under Slack's 3,000 characters per section text
MAX_BLOCKS = 50
MAX_PROBLEM_SECTIONS = 6
BAR_WIDTH = 20

START_ACTION = "callout_start"
DISCARD_ACTION = "callout_discard"
CANCEL_ACTION = "callout_cancel"
RETRY_ACTION = "callout_retry"
TEST_CALL_ACTION = "callout_test_call"  # Call me first (bot/core/call_me_first.py)
TEST_NUMBER_CALLBACK = "callout_test_number"
TEST_NUMBER_BLOCK = "test_number"

REASON_LIMIT = 500
REJECTED_ADVICE = "Nobody was called. Fix what is listed in this thread and start the job again."
STOPPED_ADVICE = (
    "The calls already made are listed in this thread and kept; no report was posted. "
    "Ask your Callouts admin to write the report again (job `{job_id}`)."
)

STATUS_EMOJI = {
    CallStatus.CALL_COMPLETED: ":white_check_mark:",
    CallStatus.DROP_CALL: ":telephone_receiver:",
    CallStatus.NO_ANSWER: ":zzz:",
    CallStatus.BUSY: ":no_entry:",
    CallStatus.NO_HUMAN: ":mailbox_with_mail:",
    CallStatus.NOT_CALLABLE: ":x:",
    CallStatus.OPTED_OUT: ":no_bell:",
    CallStatus.EXPIRED: ":hourglass:",
    CallStatus.FAILED: ":warning:",
    CallStatus.CANCELLED: ":octagonal_sign:",
}

USAGE = """*Callouts* phones a list of people, asks short questions by voice, reports the answers.
• `/callout` or `/callout new` – write a call job in a form
• drop a filled-in workbook (.xlsx) in this channel – preview it, then press *Start*
• `/callout template` – get a blank workbook to fill in
• `/callout status [JOB]` – show a job's card (or the latest jobs in this channel)
• `/callout cancel JOB` – stop a running job (its starter or an admin)
• `/callout test [JOB]` – call me first: hear person #1's call on your own phone (not part of \
the job); `/callout test number NUMBER` changes your number
• `/callout help` – this message"""


def escape(text: str) -> str:
    """Escape user text for mrkdwn (&, <, > are control characters in Slack)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def spoken_text(ssml: str) -> str:
    """What a listener hears, from SSML: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<break[^>]*>", " … ", ssml)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_LIMIT)))


def _chunk_lines(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = shorten(line, limit)
        if current and size + len(line) + 1 > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


_QUOTED_PHONE = re.compile(r"(phone(?: number)? ')([^']*)(')", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d{8,15}(?![\w.])")


def _mask(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_numbers(text: str) -> str:
    """Phone numbers inside a message (intake problems quote them): only the last 4 digits."""
    text = _QUOTED_PHONE.sub(lambda m: m.group(1) + _mask(m.group(2)) + m.group(3), text)
    return _LONG_NUMBER.sub(lambda m: _mask(m.group(0)), text)


def problem_blocks(
    problems: Sequence[Problem], max_sections: int = MAX_PROBLEM_SECTIONS
) -> list[Block]:
    """Every problem, one line each, in at most `max_sections` sections, then "and N more"."""
    lines = [f"• {escape(mask_numbers(str(problem)))}" for problem in problems]
    blocks: list[Block] = []
    shown = 0
    for chunk in _chunk_lines(lines):
        if len(blocks) == max_sections:
            break
        blocks.append(_section(chunk))
        shown += chunk.count("\n") + 1
    if shown < len(lines):
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {len(lines) - shown} more problems")]
            )
        )
    return blocks


def preview_blocks(
    *,
    job: CallJob | None,
    problems: Sequence[Problem],
    title: str,
    first_hears: Sequence[str] = (),
    started: JobCard | None = None,
    hours: str = "",
    warnings: Sequence[Problem] = (),
    do_not_call: int = 0,
    estimate: Sequence[str] = (),
    test_call: bool = False,
) -> list[Block]:
    """The preview of a workbook or form: calls, questions, what #1 hears, calling hours,
    warnings, problems, buttons.

    `hours`: the calling-hours paragraph (calling_rules.hours_summary); `warnings`: intake
    warnings (the job can still start); `do_not_call`: how many receivers are on the do-not-call
    list (they will not be called); `estimate`: expected duration and cost lines;
    `test_call`: offer "Call me first"."""
    blocks: list[Block] = [HeaderBlock(text=shorten(f"Call job: {title}", 150))]
    if job is not None:
        questions = "\n".join(
            f"{n}. {escape(shorten(q.template, 200))} _({q.type.value})_"
            for n, q in enumerate(job.questions, start=1)
        )
        blocks.append(
            _section(
                f"*{len(job.receivers)} calls* · {len(job.questions)} questions · "
                f"job `{job.job_id}`\n{questions}"
            )
        )
        if do_not_call:
            blocks.append(
                _section(
                    f":no_bell: *{do_not_call} of {len(job.receivers)}* on the do-not-call list: "
                    "they will not be called (NotCallable, do-not-call)."
                )
            )
        if first_hears and job.receivers:
            first = job.receivers[0]
            spoken = "\n".join(f"> {escape(shorten(line, 400))}" for line in first_hears if line)
            blocks.append(
                _section(
                    f"*What the first person ({escape(first.id)}, "
                    f"{mask_phone(first.phone_number)}) will hear:*\n{spoken}"
                )
            )
    if hours and job is not None and not problems:
        blocks.append(_section(f":clock3: {escape(hours)}"))
    if estimate and job is not None and not problems:
        expected = [MarkdownTextObject(text=escape(line)) for line in estimate]
        blocks.append(ContextBlock(elements=expected))
    if warnings:
        lines = "\n".join(f"• {escape(mask_numbers(str(w)))}" for w in warnings[:5])
        blocks.append(_section(f"*Worth fixing (the job can still start):*\n{lines}"))
    if problems:
        blocks.append(
            _section(f":warning: *{len(problems)} problem(s) to fix before this job can start:*")
        )
        blocks.extend(problem_blocks(problems))
    if started is not None:
        blocks.append(
            _section(f"This job was already started by <@{started.user_id}>: see its card.")
        )
        return blocks[:MAX_BLOCKS]
    buttons: list[ButtonElement] = []
    if job is not None and not problems:
        buttons.append(
            ButtonElement(
                text="Start",
                action_id=START_ACTION,
                value=job.job_id,
                style="primary",
                confirm=ConfirmObject(
                    title="Start calling?",
                    text=f"This phones {len(job.receivers)} people now.",
                    confirm="Start",
                    deny="Not yet",
                ),
            )
        )
        if test_call:
            buttons.append(
                ButtonElement(text="Call me first", action_id=TEST_CALL_ACTION, value=job.job_id)
            )
    if job is not None:
        buttons.append(ButtonElement(text="Cancel", action_id=DISCARD_ACTION, value=job.job_id))
    if problems:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="Fix the problems and upload the workbook again.")
                ]
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="preview_actions", elements=buttons))
    return blocks[:MAX_BLOCKS]


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "▓" * filled + "░" * (width - filled) + f" {done}/{total}"


def tally_text(tally: AnswerTally) -> str:
    """One question's answers as the report counts them: `Yes 3 · No 1 · No answer 2`."""
    if not sum(count for _, count in tally.counts):
        return "no results yet"
    return " · ".join(f"{escape(answer)} {count}" for answer, count in tally.counts)


def reason_text(reason: str) -> str:
    """Why a job stopped, safe for mrkdwn: numbers masked, escaped, one paragraph, shortened."""
    return escape(shorten(" ".join(mask_numbers(reason).split()), REASON_LIMIT))


def _card_state(card: JobCard, reason: str | None) -> str:
    if card.state in (REJECTED, STOPPED):
        label = "Could not start" if card.state == REJECTED else "Stopped"
        # The reason is given when the job stops; a later redraw points at the thread.
        return f"{label}: {reason_text(reason)}" if reason else f"{label} – why is in this thread"
    return {
        FINISHED: "Finished",
        CANCELLING: "Cancelling – calls not yet dialled will end as Cancelled",
    }.get(card.state, "Calling…")


def stop_advice(card: JobCard) -> str:
    """What to do about a job that could not start or stopped."""
    if card.state == REJECTED:
        return REJECTED_ADVICE
    return STOPPED_ADVICE.format(job_id=card.job_id)


def _do_not_call_note(card: JobCard, status: CallStatus) -> str:
    if status is CallStatus.NOT_CALLABLE and card.do_not_call:
        return f" ({card.do_not_call} do-not-call)"
    return ""


def card_blocks(card: JobCard, reason: str | None = None) -> list[Block]:
    """The job card: title, state, progress bar, counts per status, tallies, buttons.

    `reason`: why a rejected or stopped job ended (shown in the state line)."""
    state = _card_state(card, reason or card.reason)
    blocks: list[Block] = [
        HeaderBlock(text=shorten(f":telephone_receiver: {card.name}", 150)),
        _section(
            f"*{state}* · started by <@{card.user_id}> · job `{card.job_id}`\n"
            f"`{progress_bar(card.done, card.total)}`"
        ),
    ]
    counts = card.counts()
    if counts:
        fields = [
            MarkdownTextObject(
                text=f"{STATUS_EMOJI.get(status, '•')} *{status.value}*: "
                f"{counts[status.value]}{_do_not_call_note(card, status)}"
            )
            for status in CallStatus
            if counts.get(status.value)
        ]
        blocks.append(SectionBlock(fields=fields))
    if card.questions:
        lines = [
            f"*Q{tally.number}* {escape(shorten(tally.template, 80))}\n      {tally_text(tally)}"
            for tally in card.answer_tallies()
        ]
        blocks.extend(_section(chunk) for chunk in _chunk_lines(lines)[:5])
    buttons: list[ButtonElement] = []
    if card.state == RUNNING:
        buttons.append(
            ButtonElement(
                text="Cancel job",
                action_id=CANCEL_ACTION,
                value=card.job_id,
                style="danger",
                confirm=ConfirmObject(
                    title="Cancel the job?",
                    text="Calls in progress finish; nobody else is called.",
                    confirm="Cancel job",
                    deny="Keep calling",
                ),
            )
        )
    elif card.unreached():
        buttons.append(
            ButtonElement(
                text=f"Retry unreached ({len(card.unreached())})",
                action_id=RETRY_ACTION,
                value=card.job_id,
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="card_actions", elements=buttons))
    footer = (
        stop_advice(card) if card.state in (REJECTED, STOPPED) else "Results arrive in this thread."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks[:MAX_BLOCKS]


def card_text(card: JobCard) -> str:
    """Notification/fallback text of the card."""
    if card.state == REJECTED:
        return f"{card.name}: could not start"
    if card.state == STOPPED:
        return f"{card.name}: stopped after {card.done}/{card.total} calls"
    return f"{card.name}: {card.done}/{card.total} calls done"


def stopped_blocks(
    card: JobCard, reason: str, problems: Sequence[Problem] = ()
) -> tuple[str, list[Block]]:
    """The thread message of a job that could not start or stopped: (fallback text, blocks).
    A rejection lists every problem (where and what); a stop gives the error."""
    if card.state == REJECTED:
        headline = f":no_entry: *Could not start* `{card.job_id}`"
        text = f"{card.name} could not start"
    else:
        headline = f":warning: *Stopped* `{card.job_id}` after {card.done}/{card.total} calls"
        text = f"{card.name} stopped"
    blocks: list[Block] = []
    if problems:
        blocks.append(_section(f"{headline}: {len(problems)} problem(s)"))
        blocks.extend(problem_blocks(problems))
    else:
        blocks.append(_section(f"{headline}: {reason_text(reason)}"))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=stop_advice(card))]))
    return f"{text}: {shorten(mask_numbers(reason), 200)}", blocks[:MAX_BLOCKS]


def result_line(job: CallJob, result: CallResult) -> str:
    try:
        phone = mask_phone(job.receiver(result.receiver_id).phone_number)
    except KeyError:
        phone = "****"
    answers = ", ".join(a if a is not None else "–" for a in result.answers)
    emoji = STATUS_EMOJI.get(result.status, "")
    line = f"{emoji} `{escape(result.receiver_id)}` {phone} *{result.status.value}*"
    if answers:
        line += f" · {escape(answers)}"
    if result.attempts > 1:
        line += f" · {result.attempts} attempts"
    return line


def batch_blocks(job: CallJob, results: Sequence[CallResult]) -> tuple[str, list[Block]]:
    """One thread message for a batch of results: (fallback text, blocks). The batch must fit
    (see `fitting_results`): nothing is cut here."""
    lines = [result_line(job, result) for result in results]
    blocks: list[Block] = [_section(chunk) for chunk in _chunk_lines(lines)]
    return f"{len(results)} results", blocks


def fitting_results(job: CallJob, results: Sequence[CallResult]) -> int:
    """How many of `results` (from the first) fit one message of at most MAX_BLOCKS sections."""
    sections, size = 1, 0
    for count, result in enumerate(results):
        line = len(shorten(result_line(job, result), SECTION_LIMIT))
        if size and size + line + 1 > SECTION_LIMIT:
            sections, size = sections + 1, 0
            if sections > MAX_BLOCKS:
                return max(1, count)
        size += line + 1
    return len(results)


def summary_line(card: JobCard) -> str:
    counts = card.counts()
    parts = [
        f"{status.value} {counts[status.value]}"
        for status in CallStatus
        if counts.get(status.value)
    ]
    return f"Report for {card.name}: {card.done}/{card.total} calls – " + ", ".join(parts)


def status_list_blocks(cards: Sequence[JobCard]) -> list[Block]:
    if not cards:
        return [_section("No call jobs were started in this channel yet.")]
    lines = [
        f"• `{card.job_id}` {escape(card.name)} – {card.state.lower()}, "
        f"{card.done}/{card.total} calls"
        for card in cards
    ]
    return [_section("*Latest jobs in this channel:*\n" + "\n".join(lines))]


def divider() -> DividerBlock:
    return DividerBlock()


def number_modal(
    job_id: str, channel: str, thread_ts: str | None, masked: str = ""
) -> dict[str, Any]:
    """The small form asking the requester's own number once (then remembered, shown masked)."""
    hint = f"Now: {masked}. " if masked else ""
    return {
        "type": "modal",
        "callback_id": TEST_NUMBER_CALLBACK,
        "private_metadata": json.dumps(
            {"job_id": job_id, "channel": channel, "thread_ts": thread_ts}
        ),
        "title": {"type": "plain_text", "text": "Call me first"},
        "submit": {"type": "plain_text", "text": "Call me"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": TEST_NUMBER_BLOCK,
                "label": {"type": "plain_text", "text": "Your phone number"},
                "hint": {
                    "type": "plain_text",
                    "text": f"{hint}I call it with person #1's prompts, as a test (not part of "
                    "the job), and remember it for your next test calls.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": "number",
                    "placeholder": {"type": "plain_text", "text": "+852 5123 4567"},
                    "max_length": 40,
                },
            }
        ],
    }


def call_me_first_blocks(text: str, transcript: Sequence[tuple[str, str]]) -> list[Block]:
    """The outcome of a test call, with what was said and heard (numbers masked)."""
    blocks: list[Block] = [_section(f":telephone_receiver: {escape(mask_numbers(text))}")]
    if transcript:
        lines = [
            f"{'*Callouts:*' if speaker == 'system' else '*You:*'} {escape(shorten(said, 300))}"
            for speaker, said in transcript
        ]
        blocks.extend(_section(chunk) for chunk in _chunk_lines([mask_numbers(x) for x in lines]))
    return blocks[:MAX_BLOCKS]
