"""The preview of a job (from a workbook or the form), before anyone is called: a model every
adapter renders, and the job remembered for Start.

`preview_of(result, ...)` reads an `IntakeResult`: the calls and questions, what the first person
hears (as plain text), the calling-hours paragraph, warnings, every problem (per row), how many
receivers are on the do-not-call list (intake marks them in the job), and whether the job was
already started. `extra_lines` is where features add a line of their own (an estimate...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from backend.domain.models import CallJob, ChatOrigin
from backend.domain.phones import mask_phone
from backend.domain.problems import Problem
from bot.core.state import BotState, JobCard, PendingJob, current_run
from bot.core.text import plural

if TYPE_CHECKING:
    from backend.domain.dnc import DoNotCallLookup
    from backend.domain.intake import IntakeResult


def spoken_text(ssml: str) -> str:
    """What a listener hears, from SSML: a pause shown as `…` (backend.domain.ssml_text)."""
    from backend.domain.ssml_text import spoken_text as plain

    return plain(ssml, " … ")


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


@dataclass(frozen=True)
class Preview:
    title: str
    job: CallJob | None
    problems: Sequence[Problem]  # intake's and speech's: the job cannot start while any
    warnings: Sequence[Problem] = ()  # worth fixing, the job can still start
    first_hears: Sequence[str] = ()  # the first receiver's prompts as plain text
    hours: str = ""  # the calling-hours paragraph (calling_rules.hours_summary)
    do_not_call: int = 0  # receivers on the do-not-call list: NotCallable, never called
    started: JobCard | None = None  # the job was already started: its card
    extra_lines: Sequence[str] = field(default_factory=tuple)  # features' own lines

    @property
    def startable(self) -> bool:
        return self.job is not None and not self.problems and self.started is None

    @property
    def calls(self) -> int:
        return len(self.job.receivers) if self.job else 0

    @property
    def first_person(self) -> str:
        """`S001, ****4567`: who the first-hears lines are for."""
        if self.job is None or not self.job.receivers:
            return ""
        first = self.job.receivers[0]
        return f"{first.id}, {mask_phone(first.phone_number)}"

    def summary(self) -> str:
        """One line: the notification text of the preview."""
        if self.problems:
            return f"Preview of {self.title}: {plural(len(self.problems), 'problem')} to fix"
        return f"Preview of {self.title}: {plural(self.calls, 'call')}"


def preview_of(
    result: IntakeResult,
    *,
    title: str,
    state: BotState,
    dnc: DoNotCallLookup | None = None,
    now: datetime | None = None,
    sms_enabled: bool = True,
    max_lines: int | None = None,
) -> Preview:
    """`dnc`: the do-not-call list; intake marks its receivers in the job (`CallJob.do_not_call`,
    counted by the preview and kept in the job remembered for Start).
    `sms_enabled=False` (AWS without an SMS origination identity): a job with an SMS template
    gets a warning that nobody will be texted. `max_lines`: the deployment's line budget (the
    stack's `MaxConcurrentCalls`), which caps the job's concurrency in the estimate."""
    from backend.domain.intake.assemble import with_do_not_call

    result = with_do_not_call(result, dnc)
    heard, speech_problems = first_hears(result) if not result.problems else ([], [])
    problems = [*result.problems, *speech_problems]
    job = result.job
    started = None
    if job is not None:  # a workbook whose job ended is a new run; a running one is shown
        job_id, started = current_run(state, job.job_id)
        job = job.model_copy(update={"job_id": job_id})
    hours = ""
    extra: list[str] = []
    if job is not None and job.receivers and not problems:
        from backend.domain.calling_rules import hours_summary
        from bot.core.call_me_first import estimate_lines

        moment = now or datetime.now(UTC)
        hours = hours_summary(job.receivers, job.settings, moment)
        extra += estimate_lines(job, moment, max_lines) or ()  # expected duration and cost
    warnings = list(result.warnings)
    if job is not None and job.sms_template.strip() and not problems:
        from backend.domain.sms import sms_off_warning

        off = None if sms_enabled else sms_off_warning(job)
        warnings += [off] if off is not None else []
        extra += first_text(job)
    return Preview(
        title=title,
        job=job,
        problems=problems,
        warnings=tuple(warnings),
        first_hears=heard,
        hours=hours,
        do_not_call=len(job.do_not_call) if job is not None else 0,
        started=started,
        extra_lines=tuple(extra),
    )


def first_text(job: CallJob) -> list[str]:
    """The SMS the first receiver gets if the calls do not reach them (docs/sms.md)."""
    from backend.domain.sms import sms_body, sms_template
    from backend.domain.speech import SpeechError

    if not job.receivers:
        return []
    try:
        body = sms_body(sms_template(job), job.receivers[0])
    except SpeechError as error:  # intake rendered it already: only a changed job gets here
        return [f"SMS to the unreached: {error.message}"]
    return [f"SMS to the unreached (first person's): {body}"]


def remember(
    state: BotState,
    preview: Preview,
    origin: ChatOrigin,
    *,
    preview_ref: str | None,
    filename: str | None = None,
) -> None:
    """Store a startable previewed job for its Start button (keyed by job id)."""
    if not preview.startable or preview.job is None:
        return
    from backend.domain.intake import job_to_json

    state.save_pending(
        preview.job.job_id,
        PendingJob(
            job=job_to_json(preview.job),
            team_id=origin.team_id,
            channel_id=origin.channel_id,
            user_id=origin.user_id,
            thread_ref=origin.thread_ref,
            preview_ref=preview_ref,
            filename=filename,
            platform=origin.platform,
            tenant_id=origin.tenant_id,
            service_url=origin.service_url,
        ),
    )
