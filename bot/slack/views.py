"""Block Kit built with slack_sdk.models from the core's models (bot/core/preview.py,
bot/core/card.py, bot/core/results.py): the preview, the job card and the thread batches.

Every message stays within Slack's limits (50 blocks, 3,000 characters per section text); long
lists end with "and N more". Phone numbers are always masked.
"""

from __future__ import annotations

import json
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
from backend.domain.problems import Problem
from backend.domain.summary import AnswerTally
from bot.core import card as card_model
from bot.core.card import progress_bar
from bot.core.commands import usage
from bot.core.preview import Preview
from bot.core.results import result_line as line_parts
from bot.core.state import REJECTED, JobCard
from bot.core.text import mask_numbers, plural, shorten

SECTION_LIMIT = 2900  # under Slack's 3,000 characters per section text
MAX_BLOCKS = 50
MAX_PROBLEM_SECTIONS = 6

START_ACTION = "callout_start"
DISCARD_ACTION = "callout_discard"
CANCEL_ACTION = "callout_cancel"
RETRY_ACTION = "callout_retry"
RUN_AGAIN_ACTION = "callout_run_again"
SCHEDULE_ACTION = "callout_schedule"  # the preview's Schedule button (bot/slack/schedule.py)
TEST_CALL_ACTION = "callout_test_call"  # Call me first (bot/core/call_me_first.py)
TEST_NUMBER_CALLBACK = "callout_test_number"
TEST_NUMBER_BLOCK = "test_number"

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

USAGE = usage(
    "/callout",
    workbook="drop a filled-in workbook (.xlsx) in this channel – preview it, then press *Start*",
    test_calls=True,
)


def escape(text: str) -> str:
    """Escape user text for mrkdwn (&, <, > are control characters in Slack)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
                elements=[
                    MarkdownTextObject(
                        text=f"…and {plural(len(lines) - shown, 'more problem', 'more problems')}"
                    )
                ]
            )
        )
    return blocks


def preview_blocks(
    preview: Preview, card_link: str | None = None, *, test_call: bool = False
) -> list[Block]:
    """The preview of a workbook or form: calls, questions, what #1 hears, calling hours,
    the estimate and other features' lines, warnings, problems, buttons (with "Call me first"
    when `test_call`). `card_link`: the card of the job when it was started."""
    blocks: list[Block] = [HeaderBlock(text=shorten(f"Call job: {preview.title}", 150))]
    blocks += _preview_job_blocks(preview)
    job, problems = preview.job, preview.problems
    if preview.hours and job is not None and not problems:
        blocks.append(_section(f":clock3: {escape(preview.hours)}"))
    blocks += [_section(escape(line)) for line in preview.extra_lines]
    if preview.warnings:
        lines = "\n".join(f"• {escape(mask_numbers(str(w)))}" for w in preview.warnings[:5])
        blocks.append(_section(f"*Worth fixing (the job can still start):*\n{lines}"))
    if problems:
        blocks.append(
            _section(
                f":warning: *{plural(len(problems), 'problem')} to fix before this job can start:*"
            )
        )
        blocks.extend(problem_blocks(problems))
    if preview.started is not None:
        blocks.append(
            _section(
                f"This job was already started by <@{preview.started.user_id}>: "
                + (f"<{card_link}|see its card>." if card_link else "see its card.")
            )
        )
        return blocks[:MAX_BLOCKS]
    blocks += _preview_buttons(preview, test_call)
    return blocks[:MAX_BLOCKS]


def _preview_job_blocks(preview: Preview) -> list[Block]:
    job = preview.job
    if job is None:
        return []
    questions = "\n".join(
        f"{n}. {escape(shorten(q.template, 200))} _({q.type.value})_"
        for n, q in enumerate(job.questions, start=1)
    )
    blocks: list[Block] = [
        _section(
            f"*{plural(preview.calls, 'call')}* · {plural(len(job.questions), 'question')} · "
            f"job `{job.job_id}`\n{questions}"
        )
    ]
    if preview.do_not_call:
        blocks.append(
            _section(
                f":no_bell: *{preview.do_not_call} of {len(job.receivers)}* on the do-not-call "
                "list: they will not be called (NotCallable, do-not-call)."
            )
        )
    if preview.first_hears and job.receivers:
        spoken = "\n".join(
            f"> {escape(shorten(line, 400))}" for line in preview.first_hears if line
        )
        blocks.append(
            _section(
                f"*What the first person ({escape(preview.first_person)}) will hear:*\n{spoken}"
            )
        )
    return blocks


def _preview_buttons(preview: Preview, test_call: bool = False) -> list[Block]:
    job, problems = preview.job, preview.problems
    blocks: list[Block] = []
    buttons: list[ButtonElement] = []
    if job is not None and not problems:
        later = job.settings.start_at is not None  # the job says when: Start schedules it
        buttons.append(
            ButtonElement(
                text="Start",
                action_id=START_ACTION,
                value=job.job_id,
                style="primary",
                confirm=ConfirmObject(
                    title="Schedule the calls?" if later else "Start calling?",
                    text=f"This phones {plural(preview.calls, 'person', 'people')} "
                    + ("at the job's start_at." if later else "now."),
                    confirm="Start",
                    deny="Not yet",
                ),
            )
        )
        buttons.append(ButtonElement(text="Schedule", action_id=SCHEDULE_ACTION, value=job.job_id))
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
    return blocks


def tally_text(tally: AnswerTally) -> str:
    """One question's answers as the report counts them: `Yes 3 · No 1 · No answer 2`."""
    return card_model.tally_text(tally, escape)


def reason_text(reason: str) -> str:
    """Why a job stopped, safe for mrkdwn: numbers masked, escaped, one paragraph, shortened."""
    return card_model.reason_text(reason, escape)


def card_blocks(card: JobCard, reason: str | None = None) -> list[Block]:
    """The job card: title, state, progress bar, counts per status, tallies, buttons.

    `reason`: why a rejected or stopped job ended (shown in the state line)."""
    state = card_model.state_line(card, reason, escape)
    blocks: list[Block] = [
        HeaderBlock(text=shorten(f":telephone_receiver: {card.name}", 150)),
        _section(
            f"*{state}* · started by <@{card.user_id}> · job `{card.job_id}`\n"
            f"`{progress_bar(card.done, card.total)}`"
        ),
    ]
    counts = card_model.status_counts(card)
    if counts:
        fields = [
            MarkdownTextObject(
                text=f"{STATUS_EMOJI.get(c.status, '•')} *{c.status.value}*: {c.count}{c.note}"
            )
            for c in counts
        ]
        blocks.append(SectionBlock(fields=fields))
    texted = card_model.sms_line(card)
    if texted:
        blocks.append(_section(f":speech_balloon: {texted}"))
    if card.questions:
        lines = [
            f"*Q{tally.number}* {escape(shorten(tally.template, 80))}\n      {tally_text(tally)}"
            for tally in card.answer_tallies()
        ]
        blocks.extend(_section(chunk) for chunk in _chunk_lines(lines)[:5])
    blocks += _card_buttons(card)
    footer = card_model.footer(card)
    if card.preview_link:
        footer += f" · <{card.preview_link}|Its preview>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks[:MAX_BLOCKS]


def _card_buttons(card: JobCard) -> list[Block]:
    buttons: list[ButtonElement] = []
    if card_model.can_cancel(card):
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
    elif retry := card_model.retry_count(card):
        buttons.append(
            ButtonElement(
                text=f"Retry unreached ({retry})",
                action_id=RETRY_ACTION,
                value=card.job_id,
            )
        )
    if card_model.can_run_again(card):
        buttons.append(
            ButtonElement(
                text="Run again",
                action_id=RUN_AGAIN_ACTION,
                value=card.job_id,
                confirm=ConfirmObject(
                    title="Run the job again?",
                    text=f"This phones all {plural(card.total, 'person', 'people')} again, "
                    "as a new job.",
                    confirm="Run again",
                    deny="Not now",
                ),
            )
        )
    return [ActionsBlock(block_id="card_actions", elements=buttons)] if buttons else []


def stopped_blocks(
    card: JobCard, reason: str, problems: Sequence[Problem] = ()
) -> tuple[str, list[Block]]:
    """The thread message of a job that could not start or stopped: (fallback text, blocks).
    A rejection lists every problem (where and what); a stop gives the error."""
    notice = card_model.stopped_notice(card, reason, problems, escape)
    emoji = ":no_entry:" if card.state == REJECTED else ":warning:"
    headline = f"{emoji} *{notice.label}* {notice.detail}"
    blocks: list[Block] = []
    if problems:
        blocks.append(_section(f"{headline}: {plural(len(problems), 'problem')}"))
        blocks.extend(problem_blocks(problems))
    else:
        blocks.append(_section(f"{headline}: {notice.reason}"))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=notice.advice)]))
    return notice.text, blocks[:MAX_BLOCKS]


def result_line(job: CallJob, result: CallResult) -> str:
    parts = line_parts(job, result)
    emoji = STATUS_EMOJI.get(parts.status, "")
    who = f"{escape(shorten(parts.name, 60))} " if parts.name else ""
    line = f"{emoji} `{escape(parts.receiver_id)}` {who}{parts.phone} *{parts.status.value}*"
    if parts.answers:
        line += f" · {escape(parts.answers)}"
    if parts.attempts > 1:
        line += f" · {parts.attempts} attempts"
    return line


def batch_blocks(job: CallJob, results: Sequence[CallResult]) -> tuple[str, list[Block]]:
    """One thread message for a batch of results: (fallback text, blocks). The batch must fit
    (see `fitting_results`): nothing is cut here."""
    lines = [result_line(job, result) for result in results]
    blocks: list[Block] = [_section(chunk) for chunk in _chunk_lines(lines)]
    return plural(len(results), "result"), blocks


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


def status_list_blocks(cards: Sequence[JobCard]) -> list[Block]:
    if not cards:
        return [_section("No call jobs were started in this channel yet.")]
    lines = [
        f"• `{card.job_id}` {escape(card.name)} – {card_model.state_words(card)}, "
        f"{card.done}/{card.total} calls"
        for card in cards
    ]
    return [_section("*Latest jobs in this channel:*\n" + "\n".join(lines))]


def divider() -> DividerBlock:
    return DividerBlock()


def number_modal(job_id: str, channel: str, thread_ts: str | None) -> dict[str, Any]:
    """The small form asking the requester's own number once (then remembered, shown masked)."""
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
                    "text": "I call it with person #1's prompts, as a test (not part of the job), "
                    "and remember it for your next test calls.",
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
    lines = [
        f"{'*Callouts:*' if speaker == 'system' else '*You:*'} "
        f"{escape(mask_numbers(shorten(said, 300)))}"
        for speaker, said in transcript
    ]
    for start in range(0, len(lines), 20):
        blocks.append(_section("\n".join(lines[start : start + 20])))
    return blocks[:MAX_BLOCKS]
