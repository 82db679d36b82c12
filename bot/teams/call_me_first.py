"""Teams' "Call me first": the preview's button, `test [JOB]` and `test number NUMBER`.

The logic is the core's (bot/core/call_me_first.py), as in Slack; this renders it for Teams. The
button opens a dialog (task/fetch, answered within Teams' 15 s): when the requester's number is
remembered the call is placed at once and the dialog says so; else the dialog asks for the number
(once: it is remembered per user, in the same book as Slack's), a problem shown under the field.
The outcome is posted in the conversation the preview is in, the number masked: at once for a
simulated call (with its transcript), later from the notifier on AWS (`tell_outcome`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from microsoft_teams.api.models.task_module import (
    TaskModuleResponse,
)
from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards.core import CardElement

from backend.domain.models import CallJob
from backend.domain.phones import mask_phone
from bot.core.call_me_first import (
    TestCallReply,
    number_problem,
    outcome_text,
    request_test_call,
    user_key,
)
from bot.core.text import mask_numbers, shorten
from bot.teams.cards import test_call_button
from bot.teams.dialog import closed, opened, submit_card
from bot.teams.where import INVOKE, PLATFORM, Where

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext

    from bot.core.commands import Command
    from bot.teams.deps import TeamsDeps
    from bot.teams.sink import TeamsSink

NUMBER_SUBMIT = "callouts.test_call.number"  # the number dialog's Call me button
NUMBER_FIELD = "test_number"
NOT_SET_UP = "Test calls are not set up for this bot."
NO_JOB = "I no longer have this job here: send the workbook (or the form) again."
NO_JOB_YET = f"Which job? Preview one first, or `{INVOKE} test JOB_ID`."
TRANSCRIPT_LINES = 40


def outcome_card(text: str, transcript: Sequence[tuple[str, str]] = ()) -> AdaptiveCard:
    """A test call's outcome and what was said and heard (numbers masked)."""
    body: list[CardElement] = [TextBlock(text=mask_numbers(text), wrap=True)]
    lines = [
        f"**{'Callouts' if speaker == 'system' else 'You'}:** {mask_numbers(shorten(said, 300))}"
        for speaker, said in transcript[:TRANSCRIPT_LINES]
    ]
    if lines:
        body.append(TextBlock(text="\n\n".join(lines), wrap=True, is_subtle=True))
    return AdaptiveCard(version="1.5", body=body, fallback_text=mask_numbers(text))


def ask_card(text: str, job_id: str) -> AdaptiveCard:
    """The answer to `test` when no number is known yet: a button opening the number dialog
    (a number typed in a dialog is not shown to the channel)."""
    return AdaptiveCard(
        version="1.5",
        body=[
            TextBlock(text=text, wrap=True),
            ActionSet(actions=[test_call_button(job_id)]),
        ],
        fallback_text=text,
    )


def number_card(job_id: str, *, value: str = "", error: str | None = None) -> AdaptiveCard:
    body: list[CardElement] = [
        TextInput(
            id=NUMBER_FIELD,
            label="Your phone number",
            value=value or None,
            placeholder="+852 5123 4567",
            max_length=40,
        )
    ]
    if error:
        body.append(
            TextBlock(
                text=mask_numbers(error), wrap=True, color="Attention", size="Small", spacing="None"
            )
        )
    body.append(
        TextBlock(
            text="I call it with person #1's prompts, as a test (not part of the job), and "
            "remember it for your next test calls.",
            wrap=True,
            is_subtle=True,
            size="Small",
        )
    )
    return submit_card(body, "Call me", NUMBER_SUBMIT, job_id)


def number_dialog(job_id: str, *, value: str = "", error: str | None = None) -> TaskModuleResponse:
    """The small dialog asking the requester's own number."""
    card = number_card(job_id, value=value, error=error)
    return opened("Call me first", card, size="medium", height="small")


def thread_root(activity: Any) -> str | None:
    """The channel post whose thread an activity came from (None in a chat)."""
    return activity.conversation.id.partition(";messageid=")[2] or None


class TeamsTestCalls:
    """The handlers; each answers within Teams' 15 s (a simulated call is played at once, an AWS
    one only queued)."""

    def __init__(self, deps: TeamsDeps) -> None:
        self.deps = deps

    @property
    def available(self) -> bool:
        return self.deps.test_calls is not None and self.deps.numbers is not None

    @staticmethod
    def key(where: Where) -> str:
        """The requester in the number book: their Entra id within their tenant."""
        return user_key(PLATFORM, where.tenant_id or "", where.user_id)

    def previewed(self, job_id: str, where: Where) -> CallJob | None:
        """The previewed job, only from the conversation it was previewed in."""
        from backend.domain.intake import job_from_json

        pending = self.deps.state.pending(job_id) if job_id else None
        if pending is None or pending.channel_id != where.conversation_id:
            return None
        result = job_from_json(pending.job)
        return result.job if result.ok else None

    def place(
        self, job: CallJob, where: Where, root: str | None, number: str | None = None
    ) -> TestCallReply:
        assert self.deps.test_calls is not None
        assert self.deps.numbers is not None
        origin = where.origin(thread_ref=root).model_dump(mode="json")
        return request_test_call(
            job,
            key=self.key(where),
            book=self.deps.numbers,
            placer=self.deps.test_calls,
            dnc=self.deps.dnc,
            origin=origin,
            requested_by=where.user_id,
            number=number,
            invoke=INVOKE,
        )

    def refusal(self, job_id: str, where: Where) -> tuple[CallJob | None, str | None]:
        """The job to call for, or why not (not set up, not allowed, no such preview here)."""
        if not self.available:
            return None, NOT_SET_UP
        refusal = self.deps.access.may_start(where.conversation_id, where.user_id)
        if refusal is not None:  # a test call costs like a call of the job
            return None, refusal
        job = self.previewed(job_id, where)
        return job, (None if job is not None else NO_JOB)

    async def told(self, ctx: ActivityContext[Any], reply: TestCallReply) -> Any:
        """Post an outcome that is known now in the conversation; close the dialog."""
        if reply.finished:
            await ctx.send(outcome_card(reply.text, reply.transcript))
        return closed(mask_numbers(reply.text))

    # -- the dialog -----------------------------------------------------------------------

    async def on_open(self, ctx: ActivityContext[Any]) -> Any:
        """The button: call the remembered number, or ask for it."""
        where = Where.of(ctx.activity)
        job_id = str((ctx.activity.value.data or {}).get("job_id") or "")
        job, refusal = await asyncio.to_thread(self.refusal, job_id, where)
        if job is None:
            return closed(refusal or NO_JOB)
        reply = await asyncio.to_thread(self.place, job, where, thread_root(ctx.activity))
        if reply.ask_number:
            return number_dialog(job_id)
        return await self.told(ctx, reply)

    async def on_number(self, ctx: ActivityContext[Any]) -> Any:
        """The number dialog's submit: a problem under the field, else remember it and call."""
        where = Where.of(ctx.activity)
        data = ctx.activity.value.data or {}
        job_id, raw = str(data.get("job_id") or ""), str(data.get(NUMBER_FIELD) or "")
        job, refusal = await asyncio.to_thread(self.refusal, job_id, where)
        if job is None:
            return closed(refusal or NO_JOB)
        problem = number_problem(job, raw)
        if problem:
            return number_dialog(job_id, value=raw, error=problem)
        reply = await asyncio.to_thread(self.place, job, where, thread_root(ctx.activity), raw)
        if reply.ask_number:  # refused after all (the do-not-call list): say it in the field
            return number_dialog(job_id, value=raw, error=reply.text)
        return await self.told(ctx, reply)

    # -- commands ---------------------------------------------------------------------------

    async def command(self, ctx: ActivityContext[Any], where: Where, command: Command) -> None:
        """`test [JOB]` (the job last previewed by this user when none is named) and
        `test number NUMBER` (change the remembered number)."""
        from bot.core.commands import CommandKind

        if not self.available or self.deps.numbers is None:
            await ctx.send(NOT_SET_UP)
            return
        if command.kind == CommandKind.TEST_NUMBER:
            await ctx.send(await asyncio.to_thread(self.change_number, where, command.number))
            return
        job_id = command.job_id or self.deps.numbers.last_preview(self.key(where))
        if not job_id:
            await ctx.send(NO_JOB_YET)
            return
        job, refusal = await asyncio.to_thread(self.refusal, job_id, where)
        if job is None:
            await ctx.send(refusal or NO_JOB)
            return
        reply = await asyncio.to_thread(self.place, job, where, thread_root(ctx.activity))
        if reply.ask_number:
            await ctx.send(ask_card(reply.text, job_id))
            return
        await ctx.send(outcome_card(reply.text, reply.transcript))

    def change_number(self, where: Where, raw: str | None) -> str:
        from backend.domain.phones import PhoneError, to_e164

        assert self.deps.numbers is not None
        try:
            number = to_e164((raw or "").strip())
        except PhoneError as error:
            return f"Not changed: {error}. Write it with its country code, like `+852 5123 4567`."
        self.deps.numbers.remember_test_number(self.key(where), number)
        return f"Test calls now go to {mask_phone(number)}."

    def remember_preview(self, where: Where, job_id: str) -> None:
        """`test` without a job id calls for the job this user previewed last."""
        if self.deps.numbers is not None:
            self.deps.numbers.remember_preview(self.key(where), job_id)


def tell_outcome(sink: TeamsSink, detail: Mapping[str, Any]) -> None:
    """A "Callout Test Call Finished" event (AWS): the outcome, in the conversation (and channel
    thread) the test call was asked from."""
    origin = detail.get("origin") or {}
    conversation, service_url = origin.get("channel_id"), origin.get("service_url")
    if not conversation or not service_url:
        return
    root = origin.get("thread_ref")
    if root and origin.get("team_id"):
        from bot.teams.sender import thread_id

        conversation = thread_id(str(conversation), str(root))
    sink.send(str(service_url), str(conversation), outcome_card(outcome_text(detail, INVOKE)))
