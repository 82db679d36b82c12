"""The Teams conversation: commands, card buttons, the job form dialog, workbooks in the chat.

`register(app, deps)` adds every handler to the SDK's `App`:

- messages (personal chat, or a channel @mention; the manifest's command menu inserts the same
  words): `new`, `template`, `status [JOB]`, `cancel JOB`, `schedule [list]`, `schedule cancel
  ID`, `test [JOB]`, `test number NUMBER`, `dnc add|remove|check NUMBER`, `help` (parsed by
  `bot.core.commands`), and workbooks sent in the personal chat (bot.teams.files);
- Action.Execute buttons: Start / Cancel on a preview, Cancel / Retry unreached on a job card;
- dialogs: the job form ("Open form" button or the message extension), the preview's Schedule
  (bot.teams.schedule) and Call me first (bot.teams.call_me_first);
- installs and conversation updates: the channels a job may report to (bot.teams.places).

Starting, cancelling and retrying are the core's (`bot.core.jobs.ChatJobs`: the same allow-lists,
admin rule and idempotent start claims as Slack); this module reads the activity and renders the
outcome. A refused or failed Start leaves the preview as it was. The core is synchronous (its
sink posts through the Bot Connector), so it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.models.adaptive_card import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
)
from microsoft_teams.api.models.messaging_extension import MessagingExtensionActionResponse

from bot.core.commands import Command, CommandKind, parse
from bot.core.forms import GREETING, form_errors, form_job, read_form
from bot.core.jobs import ChatJobs, Outcome
from bot.core.preview import preview_of, remember
from bot.core.schedules import ChatSchedules
from bot.teams import cards, file_offer, files
from bot.teams.call_me_first import NUMBER_SUBMIT, TeamsTestCalls
from bot.teams.dialog import ADD, REMOVE, SUBMIT, FormState, closed, content_key, dialog
from bot.teams.places import Place, find
from bot.teams.schedule import SCHEDULE, SCHEDULE_SUBMIT, TeamsSchedules
from bot.teams.where import INVOKE, PLATFORM, Where

if TYPE_CHECKING:
    from microsoft_teams.apps import ActivityContext, App

    from backend.domain.intake import IntakeResult
    from bot.teams.deps import TeamsDeps

log = logging.getLogger(__name__)

TEMPLATE_NAME = "callout_template.xlsx"
TEMPLATE_KIND = "template"
TEMPLATE_IN_CHAT = (
    "Teams lets me hand over files only in our personal chat: send me `template` there, fill "
    "it in and send it back to me there."
)


def _template_bytes() -> bytes:
    from backend.domain.workbook_template import write_blank_template

    buffer = io.BytesIO()
    write_blank_template(buffer)
    return buffer.getvalue()


def register(app: App, deps: TeamsDeps) -> None:
    """Add the conversation's handlers to `app`. Messages run after Teams was answered (the
    front defers them to the worker), so a workbook is downloaded and read in its handler;
    invokes (buttons, dialogs) answer inline, within Teams' 15 s."""
    jobs = ChatJobs(deps.state, deps.submitter, deps.access, {PLATFORM: deps.sink})
    talk = Conversation(deps, jobs)
    app.on_dialog_open(cards.TEST_CALL)(talk.test_calls.on_open)
    app.on_dialog_submit(NUMBER_SUBMIT)(talk.test_calls.on_number)
    app.on_dialog_open(SCHEDULE)(talk.schedules.on_open)
    app.on_dialog_submit(SCHEDULE_SUBMIT)(talk.schedules.on_submit)
    app.on_message(talk.on_message)
    app.on_card_action_execute(cards.START)(talk.on_start)
    app.on_card_action_execute(cards.DISCARD)(talk.on_discard)
    app.on_card_action_execute(cards.CANCEL)(talk.on_cancel)
    app.on_card_action_execute(cards.RETRY)(talk.on_retry)
    app.on_dialog_open(cards.FORM)(talk.on_form_open)
    for action in (ADD, REMOVE, SUBMIT):
        app.on_dialog_submit(action)(talk.on_form_submit)
    app.on_message_ext_open(talk.on_extension_open)
    app.on_message_ext_submit(talk.on_extension_submit)
    app.on_install_add(talk.on_installed)
    app.on_conversation_update(talk.on_installed)
    app.on_file_consent(talk.on_file_consent)


def _message(text: str) -> AdaptiveCardActionMessageResponse:
    return AdaptiveCardActionMessageResponse(value=text)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Conversation:
    def __init__(self, deps: TeamsDeps, jobs: ChatJobs) -> None:
        self.deps = deps
        self.jobs = jobs
        self.test_calls = TeamsTestCalls(deps)
        book = deps.schedule_book
        self.schedules = TeamsSchedules(
            ChatSchedules(jobs, book, deps.access, _utc_now) if book is not None else None
        )

    # -- messages -------------------------------------------------------------------------

    async def on_message(self, ctx: ActivityContext[Any]) -> None:
        where = Where.of(ctx.activity)
        self._remember_place(where)
        sent = files.sent_files(ctx.activity)
        if sent:
            for file in sent:
                await self.preview_workbook(ctx, where, file)
            return
        text = ctx.activity.strip_mentions_text().text or ""
        await self.command(ctx, where, parse(text, INVOKE))

    async def command(self, ctx: ActivityContext[Any], where: Where, command: Command) -> None:
        kind = command.kind
        if kind is CommandKind.NEW:
            await ctx.send(cards.new_job_card())
        elif kind is CommandKind.TEMPLATE:
            await self.send_template(ctx, where)
        elif kind is CommandKind.STATUS:
            await ctx.send(self.status(where, command.job_id))
        elif kind is CommandKind.CANCEL and command.job_id:
            outcome = await asyncio.to_thread(
                self.jobs.cancel,
                command.job_id,
                team=where.team_id,
                user_id=where.user_id,
                platform=where.origin().platform,
            )
            if outcome.text:
                await ctx.send(outcome.text)
        elif kind is CommandKind.SCHEDULE:
            await self.schedules.command(ctx, where, command.action, command.job_id)
        elif kind in (CommandKind.TEST, CommandKind.TEST_NUMBER):  # Call me first
            await self.test_calls.command(ctx, where, command)
        elif kind is CommandKind.DNC and command.action and command.number:
            await ctx.send(await asyncio.to_thread(self.do_not_call, where, command))
        elif kind is CommandKind.INCOMPLETE and command.reply:
            await ctx.send(command.reply)
        else:
            await ctx.send(cards.help_card(test_calls=self.test_calls.available))

    def status(self, where: Where, job_id: str | None) -> Any:
        if job_id is None:
            return cards.status_card(self.deps.state.recent_cards(where.conversation_id))
        card = self.jobs.team_card(job_id, where.team_id)
        if card is None:
            return f"No call job `{job_id}` was started from Teams."
        return cards.job_card(card)

    def do_not_call(self, where: Where, command: Command) -> str:
        from bot.core.do_not_call import do_not_call

        return do_not_call(
            self.deps.dnc,
            self.jobs.access,
            action=str(command.action),
            raw=str(command.number),
            channel_id=where.conversation_id,
            user_id=where.user_id,
            source=f"teams:{where.user_id}",
        )

    async def send_template(self, ctx: ActivityContext[Any], where: Where) -> None:
        """The blank workbook: a file offer in the personal chat (the only place Teams lets a
        bot hand over a file); in a channel, a pointer to the personal chat."""
        if not where.personal:
            await ctx.send(TEMPLATE_IN_CHAT)
            return
        content = _template_bytes()
        offer = file_offer.consent_card(
            TEMPLATE_NAME,
            len(content),
            "The call job workbook to fill in: send it back to me here to preview it.",
            {file_offer.KIND: TEMPLATE_KIND},
        )
        await ctx.send(MessageActivityInput().add_attachments(offer))

    async def on_file_consent(self, ctx: ActivityContext[Any]) -> None:
        """The teacher's answer to a file offer of ours (other offers go to the next handler)."""
        answer = ctx.activity.value
        context = answer.context if isinstance(answer.context, dict) else {}
        if context.get(file_offer.KIND) != TEMPLATE_KIND:
            await ctx.next()
            return
        info = answer.upload_info
        if answer.action != "accept" or info is None or not info.upload_url:
            return
        try:
            await file_offer.upload(info.upload_url, _template_bytes())
        except file_offer.UploadError as error:
            log.warning("template upload failed: %s", error)
            await ctx.send("I could not put the template in your OneDrive: ask me again.")
            return
        card = file_offer.info_card(
            info.name or TEMPLATE_NAME, info.content_url or "", info.unique_id or "", "xlsx"
        )
        await ctx.send(MessageActivityInput().add_attachments(card))

    # -- previews -------------------------------------------------------------------------

    async def post_preview(
        self,
        ctx: ActivityContext[Any],
        where: Where,
        result: IntakeResult,
        *,
        title: str,
        filename: str | None,
    ) -> str:
        """Send the preview where the activity came from (in a channel: its thread) and
        remember a startable job for its Start button."""
        settings = self.deps.settings
        preview = await asyncio.to_thread(
            preview_of,
            result,
            title=title,
            state=self.deps.state,
            dnc=self.deps.dnc,
            sms_enabled=settings.sms_enabled,
            max_lines=settings.max_lines,
        )
        choices = self.report_choices(where) if preview.startable else []
        card = cards.preview_card(
            preview,
            report_choices=choices,
            schedule=self.schedules.schedules is not None,
            test_call=self.test_calls.available,
        )
        preview_ref = str((await ctx.send(card)).id)
        remember(
            self.deps.state, preview, where.origin(), preview_ref=preview_ref, filename=filename
        )
        if preview.startable and preview.job is not None:
            self.test_calls.remember_preview(where, preview.job.job_id)
        return preview_ref

    def report_choices(self, where: Where) -> list[tuple[str, str]]:
        """Where a job previewed here may report: here first, then (from the personal chat)
        the tenant's channels the bot is in."""
        here = "This chat" if where.personal else (where.conversation_name or "This channel")
        choices = [(where.conversation_id, here)]
        if where.personal and where.tenant_id:
            choices += [
                (place.conversation_id, place.name)
                for place in self.deps.places.of_tenant(where.tenant_id)
            ]
        return choices

    async def preview_workbook(
        self, ctx: ActivityContext[Any], where: Where, file: files.SentFile
    ) -> None:
        """A workbook sent in the chat: download, intake, preview (or say what went wrong)."""
        from backend.domain.intake import IntakeLimits, default_job_id, read_workbook

        if not file.is_workbook:
            await ctx.send(files.not_a_workbook(file))
            return
        limits = IntakeLimits(max_bytes=files.MAX_BYTES)
        try:
            content = await files.download(file.url, max_bytes=limits.max_bytes)
        except files.DownloadError as error:
            log.warning("download of %s failed: %s", file.name, error)
            await ctx.send(files.download_failed(file, error))
            return
        job_id = default_job_id(file.name, content)
        result = await asyncio.to_thread(
            read_workbook, content, filename=file.name, job_id=job_id, limits=limits
        )
        await self.post_preview(ctx, where, result, title=file.name, filename=file.name)

    # -- card buttons ---------------------------------------------------------------------

    async def on_start(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        data = ctx.activity.value.action.data
        job_id = str(data.get("job_id") or "")
        scheduled = await self.schedules.start(ctx, where, job_id)
        if scheduled is not None:  # the job says when it starts: Start scheduled it
            if not scheduled.ok:
                return _message(scheduled.text)
            return AdaptiveCardActionCardResponse(
                value=cards.outcome_card(f"Scheduled by {where.user_name or 'you'}.", job_id)
            )
        target = self.report_target(where, str(data.get(cards.REPORT_TO) or ""))
        if target is None:
            return _message("I am not in that channel any more: choose another place.")
        outcome: Outcome = await asyncio.to_thread(
            self.jobs.start_preview, job_id, where.origin(), report_to=target
        )
        if not outcome.ok:  # the preview stays as it was: Start can be pressed again
            return _message(outcome.text)
        place = "here" if target.channel_id == where.conversation_id else "in the chosen channel"
        return AdaptiveCardActionCardResponse(
            value=cards.outcome_card(
                f"Started by {where.user_name or 'you'}: the job card and results are {place}.",
                job_id,
            )
        )

    def report_target(self, where: Where, chosen: str) -> Any:
        """The origin a started job reports to: this conversation, or a recorded channel of
        this tenant chosen on the preview (None when that channel is not known)."""
        if not chosen or chosen == where.conversation_id:
            return where.origin()
        place = find(self.deps.places, where.tenant_id or "", chosen) if where.tenant_id else None
        if place is None:
            return None
        return where.origin().model_copy(
            update={
                "team_id": place.team_id,
                "channel_id": place.conversation_id,
                "service_url": place.service_url,
            }
        )

    async def on_discard(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        job_id = str(ctx.activity.value.action.data.get("job_id") or "")
        outcome = await asyncio.to_thread(self.jobs.withdraw_preview, job_id, where.origin())
        if not outcome.ok:
            return _message(outcome.text)
        return AdaptiveCardActionCardResponse(
            value=cards.outcome_card(
                f"Cancelled by {where.user_name or 'you'}: nobody was called.", job_id
            )
        )

    async def on_cancel(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        job_id = str(ctx.activity.value.action.data.get("job_id") or "")
        outcome = await asyncio.to_thread(
            self.jobs.cancel,
            job_id,
            team=where.team_id,
            user_id=where.user_id,
            platform=where.origin().platform,
        )
        if outcome.ok and outcome.card is not None:
            return AdaptiveCardActionCardResponse(value=cards.job_card(outcome.card))
        return _message(outcome.text)

    async def on_retry(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        job_id = str(ctx.activity.value.action.data.get("job_id") or "")
        outcome = await asyncio.to_thread(self.jobs.retry, job_id, where.origin())
        if outcome.ok and outcome.card is not None:
            return _message(
                f"Calling the {outcome.card.total} people not reached: see the new card."
            )
        return _message(outcome.text)

    # -- the job form ---------------------------------------------------------------------

    async def on_form_open(self, ctx: ActivityContext[Any]) -> Any:
        return dialog(FormState())

    async def on_form_submit(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        data = ctx.activity.value.data or {}
        return await self.form_step(ctx, where, data)

    async def form_step(self, ctx: ActivityContext[Any], where: Where, data: dict[str, Any]) -> Any:
        """One step of the form: add or remove a question, or check it and post its preview."""
        state = FormState.read(data)
        action = data.get("action")
        if action == ADD:
            return dialog(state.added())
        if action == REMOVE:
            return dialog(state.removed())
        try:
            inp = read_form(state.values, state.rows)
            result = await asyncio.to_thread(form_job, inp, content_key(state))
            errors = {**form_errors(result.problems, state.rows), **inp.problems}
        except Exception:  # a bug must still answer the dialog, never leave it spinning
            log.exception("could not check the call job form")
            state.errors = {GREETING: "This form could not be checked: close it and try again."}
            return dialog(state)
        if errors or result.job is None:
            state.errors = errors or {GREETING: "This job cannot be built."}
            return dialog(state)
        title = inp.config.get("name") or "call job"
        await self.post_preview(ctx, where, result, title=title, filename=None)
        return closed("The preview is in the chat: check it and press Start.")

    async def on_extension_open(self, ctx: ActivityContext[Any]) -> Any:
        return MessagingExtensionActionResponse(task=dialog(FormState()).task)

    async def on_extension_submit(self, ctx: ActivityContext[Any]) -> Any:
        where = Where.of(ctx.activity)
        data = ctx.activity.value.data or {}
        answer = await self.form_step(ctx, where, data)
        return MessagingExtensionActionResponse(task=answer.task)

    # -- where the bot is -----------------------------------------------------------------

    async def on_installed(self, ctx: ActivityContext[Any]) -> None:
        self._remember_place(Where.of(ctx.activity))

    def _remember_place(self, where: Where) -> None:
        if where.personal or not where.team_id or not where.tenant_id:
            return
        self.deps.places.add(
            Place(
                tenant_id=where.tenant_id,
                team_id=where.team_id,
                conversation_id=where.conversation_id,
                name=where.conversation_name or where.conversation_id,
                service_url=where.service_url,
            )
        )
