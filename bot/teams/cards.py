"""Adaptive Cards (schema 1.5) of the Teams bot, built with the SDK's card models.

The preview, the "new job" card, the job card (updated in place), result batches and the report
link (replies in the card's thread), the status list and help: the chat-ops core's view models
(bot.core.preview, bot.core.card, bot.core.results) in Teams' format. Every card stays under
`MAX_CARD_BYTES` as the SDK serializes it (long lists end with "…and N more"); phone numbers are
always masked. Buttons are Action.Execute whose `data.action` is one of the verbs below: the SDK
routes `on_card_action_execute(verb)` on that field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    ChoiceSetInput,
    ExecuteAction,
    Fact,
    FactSet,
    OpenDialogData,
    OpenUrlAction,
    SubmitAction,
    TextBlock,
)
from microsoft_teams.cards.core import CardElement, Choice

from backend.domain.models import CallJob, CallResult
from backend.domain.problems import Problem
from bot.core.card import (
    can_cancel,
    card_text,
    footer,
    progress_bar,
    retry_count,
    sms_line,
    state_line,
    status_counts,
    stopped_notice,
    tally_text,
)
from bot.core.commands import usage
from bot.core.preview import Preview
from bot.core.results import result_line
from bot.core.state import JobCard
from bot.core.text import mask_numbers, plural, shorten
from bot.teams import schedule
from bot.teams.where import INVOKE

MAX_CARD_BYTES = 80_000  # Teams refuses a message over ~100 KB; keep a margin
BATCH_BYTES = 60_000  # the result lines of one reply, as JSON (the rest of the card is small)
TEXT_LIMIT = 20_000  # one TextBlock of lines (problems, results) before "…and N more"

START = "callouts.start"
DISCARD = "callouts.discard"
CANCEL = "callouts.cancel"
RETRY = "callouts.retry"
FORM = "callouts.form"  # the dialog id: the "Open form" button and the message extension
TEST_CALL = "callouts.test_call"  # dialog id: the preview's button, the `test` answer's button
REPORT_TO = "report_to"  # the preview's choice of where the job reports

WORKBOOK_HOW = "send me a filled-in workbook (.xlsx) in our personal chat: I preview it first"


def card_bytes(card: AdaptiveCard) -> int:
    """The size of the card as the SDK sends it (by alias, no None values), non-ASCII text
    escaped (its largest form)."""
    return len(json.dumps(card.model_dump(by_alias=True, exclude_none=True)).encode())


def _text(text: str, **kwargs: object) -> TextBlock:
    return TextBlock(text=text, wrap=True, **kwargs)


def _card(body: Sequence[CardElement], fallback: str) -> AdaptiveCard:
    return AdaptiveCard(version="1.5", body=list(body), fallback_text=fallback)


def _execute(title: str, action: str, job_id: str, **kwargs: object) -> ExecuteAction:
    return ExecuteAction(
        title=title,
        verb=action,
        data={"action": action, "job_id": job_id},
        **kwargs,
    )


def _lines(lines: Sequence[str], limit: int = TEXT_LIMIT, what: str = "more") -> str:
    """Lines joined up to `limit` characters, then "…and N more"."""
    shown: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            shown.append(f"…and {len(lines) - len(shown)} {what}")
            break
        shown.append(line)
        size += len(line) + 1
    return "\n".join(shown)


def problem_lines(problems: Sequence[Problem]) -> str:
    """Every problem on its own line (where and what), numbers masked."""
    return _lines([f"- {mask_numbers(str(p))}" for p in problems], what="more problems")


def preview_card(
    preview: Preview,
    *,
    report_choices: Sequence[tuple[str, str]] = (),
    outcome: str | None = None,
    schedule: bool = False,
    test_call: bool = False,
) -> AdaptiveCard:
    """The preview of a workbook or form: calls, questions, what the first person hears, the
    calling hours, the estimate and other features' lines (an SMS's text...), every problem,
    Start / Schedule / Call me first / Cancel (Schedule and Call me first when this bot has
    them). `report_choices` are (conversation id, name) where the job may report (the first is
    the default); `outcome` replaces the buttons ("Started by …")."""
    job = preview.job
    body: list[CardElement] = [
        _text(shorten(f"Call job: {preview.title}", 150), size="Large", weight="Bolder")
    ]
    if job is not None:
        questions = "\n".join(
            f"{n}. {shorten(q.template, 200)} ({q.type.value})"
            for n, q in enumerate(job.questions, start=1)
        )
        body.append(
            _text(
                f"**{plural(preview.calls, 'call')}** · {plural(len(job.questions), 'question')}"
                f" · job `{job.job_id}`\n\n{questions}"
            )
        )
        if preview.do_not_call:
            body.append(
                _text(
                    f"**{preview.do_not_call} of {len(job.receivers)}** on the do-not-call list: "
                    "they will not be called (NotCallable, do-not-call)."
                )
            )
        if preview.first_hears:
            spoken = "\n\n".join(f"> {shorten(line, 400)}" for line in preview.first_hears if line)
            body.append(
                _text(f"**What the first person ({preview.first_person}) will hear:**\n\n{spoken}")
            )
    body.extend(_text(line) for line in preview.extra_lines)
    if preview.hours and not preview.problems:
        body.append(_text(preview.hours, is_subtle=True))
    if preview.warnings:
        lines = "\n".join(f"- {mask_numbers(str(w))}" for w in preview.warnings[:5])
        body.append(_text(f"**Worth fixing (the job can still start):**\n{lines}"))
    if preview.problems:
        count = plural(len(preview.problems), "problem")
        body.append(_text(f"**{count} to fix before this job can start:**", color="Attention"))
        body.append(_text(problem_lines(preview.problems)))
        body.append(_text("Fix the problems and send the workbook again.", is_subtle=True))
    if outcome is not None:
        body.append(_text(outcome, is_subtle=True))
    elif preview.started is not None:
        body.append(_text("This job was already started: see its card."))
    elif job is not None:
        body.extend(_preview_buttons(preview, report_choices, schedule, test_call))
    return _card(body, preview.summary())


def _preview_buttons(
    preview: Preview,
    report_choices: Sequence[tuple[str, str]],
    schedule_button: bool,
    test_call: bool,
) -> list[CardElement]:
    assert preview.job is not None
    job_id = preview.job.job_id
    elements: list[CardElement] = []
    actions: list[ExecuteAction | SubmitAction] = []
    if preview.startable:
        if len(report_choices) > 1:
            elements.append(
                ChoiceSetInput(
                    id=REPORT_TO,
                    label="Report results in",
                    value=report_choices[0][0],
                    choices=[
                        Choice(title=shorten(name, 100), value=cid) for cid, name in report_choices
                    ],
                )
            )
        actions.append(
            _execute(f"Start ({plural(preview.calls, 'call')})", START, job_id, style="positive")
        )
        if schedule_button:
            actions.append(schedule.button(job_id))
        if test_call:
            actions.append(test_call_button(job_id))
    actions.append(_execute("Cancel", DISCARD, job_id))
    elements.append(ActionSet(actions=actions))
    return elements


def outcome_card(text: str, job_id: str) -> AdaptiveCard:
    """What replaces a preview once it was started or cancelled (no buttons left)."""
    return _card([_text(text), _text(f"job `{job_id}`", is_subtle=True)], text)


def new_job_card() -> AdaptiveCard:
    """The answer to `new`: a button that opens the job form (a dialog)."""
    return _card(
        [
            _text("Write a call job", weight="Bolder"),
            _text(
                "Greeting, questions, ending and the people to call, pasted one per line. "
                "I show a preview before anyone is called."
            ),
            ActionSet(actions=[SubmitAction(title="Open form").with_data(OpenDialogData(FORM))]),
        ],
        "Write a call job: open the form",
    )


def job_card(card: JobCard, reason: str | None = None) -> AdaptiveCard:
    """The job card: progress, counts per status, answer tallies, Cancel / Retry unreached."""
    body: list[CardElement] = [
        _text(shorten(card.name, 150), size="Large", weight="Bolder"),
        _text(f"{state_line(card, reason)} · job `{card.job_id}`"),
        _text(progress_bar(card.done, card.total), font_type="Monospace"),
    ]
    facts = [
        Fact(title=count.status.value, value=f"{count.count}{count.note}")
        for count in status_counts(card)
    ]
    if facts:
        body.append(FactSet(facts=facts))
    texted = sms_line(card)
    if texted:
        body.append(_text(texted))
    for tally in card.answer_tallies():
        body.append(_text(f"**{tally.number}. {shorten(tally.template, 200)}**", spacing="Medium"))
        body.append(_text(shorten(tally_text(tally), 2_000)))
    body.append(_text(footer(card).replace("this thread", "the replies"), is_subtle=True))
    actions = []
    if can_cancel(card):
        actions.append(_execute("Cancel job", CANCEL, card.job_id, style="destructive"))
    if retry_count(card):
        actions.append(_execute(f"Retry unreached ({retry_count(card)})", RETRY, card.job_id))
    if actions:
        body.append(ActionSet(actions=actions))
    return _card(body, card_text(card))


def result_text(job: CallJob, result: CallResult) -> str:
    """One result: the person's name (or id), masked number, status and answers."""
    line = result_line(job, result)
    try:
        name = job.receiver(result.receiver_id).fields.get("name") or line.receiver_id
    except KeyError:
        name = line.receiver_id
    text = f"- **{shorten(name, 80)}** {line.phone} · {line.status.value}"
    if line.answers:
        text += f" · {shorten(line.answers, 400)}"
    if line.attempts > 1:
        text += f" · {line.attempts} attempts"
    return text


def results_card(job: CallJob, results: Sequence[CallResult]) -> AdaptiveCard:
    """One reply in the card's thread with a line per result (the batch must fit)."""
    lines = [result_text(job, result) for result in results]
    return _card([_text("\n".join(lines))], f"{len(results)} results")


def fitting_results(job: CallJob, results: Sequence[CallResult]) -> int:
    """How many of `results` (from the first, at least 1) fit one reply card: their lines,
    measured as escaped JSON (the largest form a name in any script takes), within BATCH_BYTES."""
    size = 0
    for count, result in enumerate(results):
        size += len(json.dumps(result_text(job, result))) + 2
        if size > BATCH_BYTES and count:
            return count
    return len(results)


def report_card(summary: str, url: str, filename: str, hours: float) -> AdaptiveCard:
    """The report reply in a channel: a short-lived link (presigned) to the workbook."""
    return _card(
        [
            _text(summary),
            _text(f"The link works for {hours:g} hour(s).", is_subtle=True),
            ActionSet(actions=[OpenUrlAction(url=url, title=f"Download {filename}")]),
        ],
        summary,
    )


def stopped_card(card: JobCard, reason: str, problems: Sequence[Problem]) -> AdaptiveCard:
    """The reply of a job that could not start (every problem) or stopped (why)."""
    notice = stopped_notice(card, reason, problems)
    body: list[CardElement] = [_text(f"**{notice.label}** {notice.detail}")]
    body.append(_text(problem_lines(notice.problems) if notice.problems else notice.reason))
    body.append(_text(notice.advice, is_subtle=True))
    return _card(body, notice.text)


def status_card(cards: Sequence[JobCard]) -> AdaptiveCard:
    """The latest jobs of a conversation, their state in words."""
    if not cards:
        return _card([_text("No call jobs were started here yet.")], "No call jobs yet")
    lines = [
        f"- `{c.job_id}` {shorten(c.name, 80)} – {state_line(c).split(':')[0].lower()}, "
        f"{c.done}/{c.total} calls"
        for c in cards
    ]
    return _card([_text("**Latest jobs here:**"), _text("\n".join(lines))], "Latest call jobs")


def help_text(*, test_calls: bool = False) -> str:
    """The usage, as Teams shows it (markdown: `**bold**`, one line per command);
    `test_calls`: with the Call me first commands."""
    usage_text = usage(INVOKE, bold="**", workbook=WORKBOOK_HOW, test_calls=test_calls)
    return usage_text.replace("\n", "\n\n")


def help_card(*, test_calls: bool = False) -> AdaptiveCard:
    return _card([_text(help_text(test_calls=test_calls))], "Callouts help")


def test_call_button(job_id: str) -> SubmitAction:
    """The preview's "Call me first" button: opens the test-call dialog for this job."""
    return SubmitAction(title="Call me first").with_data(
        OpenDialogData(TEST_CALL, {"job_id": job_id})
    )
