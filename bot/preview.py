"""Posting the preview of a job (from a workbook or the modal) and remembering the job for Start."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from backend.domain.problems import Problem
from bot.state import PendingJob
from bot.views import preview_blocks, spoken_text

if TYPE_CHECKING:
    from backend.domain.intake import IntakeResult
    from backend.domain.models import CallJob
    from bot.app import Deps

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def first_hears(result: IntakeResult) -> tuple[list[str], list[Problem]]:
    """What the first receiver hears, line by line, or the problem that prevents it."""
    from backend.domain.speech import Speech, SpeechError

    job = result.job
    if job is None or not job.receivers:
        return [], []
    try:
        prompts = Speech(job).prompts(job.receivers[0])
    except SpeechError as error:
        return [], [Problem(str(error), row=None)]
    return [spoken_text(p) for p in (prompts.greeting, *prompts.questions, prompts.ending)], []


def listed_count(deps: Deps, job: CallJob | None) -> int:
    """How many receivers of the job are on the do-not-call list (0 without a list)."""
    if job is None or deps.dnc is None or not job.receivers:
        return 0
    from backend.domain.dnc import listed_receivers

    return len(listed_receivers(job, deps.dnc))


def post_preview(
    deps: Deps,
    result: IntakeResult,
    *,
    title: str,
    team_id: str,
    channel_id: str,
    user_id: str,
    thread_ts: str | None,
    filename: str | None = None,
) -> str | None:
    """Post the preview (in `thread_ts` when given); store the job so Start can find it."""
    heard, speech_problems = first_hears(result) if not result.problems else ([], [])
    problems = [*result.problems, *speech_problems]
    job = result.job
    started = deps.state.card(job.job_id) if job is not None else None
    hours = ""
    estimate: tuple[str, ...] = ()
    if job is not None and job.receivers and not problems:
        from backend.domain.calling_rules import hours_summary
        from bot.core.call_me_first import estimate_lines

        now = datetime.now(UTC)
        hours = hours_summary(job.receivers, job.settings, now)
        estimate = estimate_lines(job, now) or ()
    blocks = preview_blocks(
        job=job,
        problems=problems,
        title=title,
        first_hears=heard,
        started=started,
        hours=hours,
        warnings=result.warnings,
        do_not_call=listed_count(deps, job),
        estimate=estimate,
        test_call=deps.test_calls is not None,
    )
    summary = f"Preview of {title}: " + (
        f"{len(problems)} problem(s) to fix"
        if problems
        else f"{len(job.receivers) if job else 0} calls"
    )
    try:
        response = deps.client.chat_postMessage(
            channel=channel_id, thread_ts=thread_ts, text=summary, blocks=blocks
        )
    except SlackApiError as error:
        if error.response.get("error") not in NOT_IN_CHANNEL or thread_ts is not None:
            log.exception("could not post the preview of %s", title)
            return None
        # A form sent from a channel the bot is not in: preview (and start) it in a DM instead.
        note = SectionBlock(
            text=MarkdownTextObject(
                text=f"I am not in <#{channel_id}>, so here is your preview. To run jobs "
                "there, invite me with `/invite @Callouts`."
            )
        )
        try:
            response = deps.client.chat_postMessage(
                channel=user_id, text=summary, blocks=[note, *blocks]
            )
        except SlackApiError:
            log.exception("could not post the preview of %s", title)
            return None
        channel_id = str(response.get("channel") or user_id)
    preview_ts = str(response.get("ts"))
    if job is not None and not problems and started is None:
        from backend.domain.intake import job_to_json

        deps.state.save_pending(
            job.job_id,
            PendingJob(
                job=job_to_json(job),
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                thread_ts=thread_ts,
                preview_ts=preview_ts,
                filename=filename,
            ),
        )
        if deps.numbers is not None:  # `/callout test` without a job id tests this one
            from bot.core.call_me_first import user_key

            deps.numbers.remember_preview(user_key("slack", team_id, user_id), job.job_id)
    return preview_ts
