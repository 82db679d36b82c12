"""The Teams conversation through the SDK app: signed activities in, Bot Connector calls out.

Commands, the job form dialog (problems shown next to the fields), a workbook sent in the personal
chat, Start (refused ones leave the preview as it was), Cancel on a preview and on a job card.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from backend.domain.workbook_template import write_example
from bot.core.state import SqliteBotState
from bot.teams import cards
from bot.teams.dialog import ADD, SUBMIT
from tests.e2e.teams.conftest import (
    FileServer,
    dialog_fetch,
    dialog_submit,
    execute,
    file_message,
)
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import (
    PERSONAL_CONVERSATION,
    RecordingSubmitter,
    TeamsHarness,
    message_activity,
)
from tests.fakes.teams_issuer import FakeTeamsIssuer

OTHER_USER = {"id": "29:other", "name": "Sam Other", "aadObjectId": "bbbbbbbb-0000-0000-0000-2"}


def example_workbook() -> bytes:
    import io

    buffer = io.BytesIO()
    write_example(buffer)
    return buffer.getvalue()


class Bot:
    def __init__(
        self,
        issuer: FakeTeamsIssuer,
        connector: FakeTeamsConnector,
        bot_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        self.connector = connector
        self.state = SqliteBotState(":memory:")
        self.submitter = RecordingSubmitter()
        self.h = TeamsHarness(
            issuer, connector, self.state, self.submitter, bot_options=bot_options, **settings
        )

    def run(self, scenario: Callable[[Bot], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            async with self.h.running():
                return await scenario(self)

        return asyncio.run(main())

    async def say(self, activity: dict[str, Any]) -> None:
        """A message: acknowledged at once, handled by the worker afterwards."""
        response = await self.h.post(activity)
        assert response["status"] == 200
        await self.h.worker.run_all()

    async def invoke(self, activity: dict[str, Any]) -> Any:
        response = await self.h.post(activity)
        assert response["status"] == 200, response
        return response["body"]

    def sent_cards(self) -> list[dict[str, Any]]:
        return [card for call in self.connector.calls for card in call.cards()]

    def texts(self) -> str:
        return " ".join(call.text() for call in self.connector.calls)


def _actions(card: dict[str, Any]) -> list[str]:
    found = []
    for node in _walk(card):
        if str(node.get("type", "")).startswith("Action.") and isinstance(node.get("data"), dict):
            found.append(str(node["data"].get("action") or node["data"].get("dialog_id")))
    return found


def _walk(node: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out += _walk(value)
    elif isinstance(node, list):
        for value in node:
            out += _walk(value)
    return out


def test_help_and_new_answer_in_the_chat(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector)

    async def scenario(bot: Bot) -> None:
        await bot.say(message_activity(connector.service_url, "help"))
        await bot.say(message_activity(connector.service_url, "new"))

    bot.run(scenario)
    help_card, new_card = bot.sent_cards()
    assert "@Callouts status [JOB]" in json.dumps(help_card)
    assert _actions(new_card) == [cards.FORM]
    assert all(c.conversation_id == PERSONAL_CONVERSATION for c in connector.calls)


def test_a_channel_mention_is_answered_in_its_thread(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector)
    channel = "19:channel-calls@thread.tacv2"
    activity = message_activity(
        connector.service_url,
        "<at>Callouts</at> new",
        conversation_id=f"{channel};messageid=555",
        conversation_type="channel",
        channel_id=channel,
        team_id="19:team-general@thread.tacv2",
        entities=[
            {
                "type": "mention",
                "text": "<at>Callouts</at>",
                "mentioned": {"id": "28:bot", "name": "Callouts"},
            }
        ],
    )
    bot.run(lambda bot: bot.say(activity))
    (call,) = connector.calls
    assert call.conversation_id == f"{channel};messageid=555"
    assert _actions(call.cards()[0]) == [cards.FORM]


def test_the_form_dialog_adds_questions_keeps_values_and_shows_problems_next_to_fields(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url

    async def scenario(bot: Bot) -> list[Any]:
        opened = await bot.invoke(dialog_fetch(url, {"dialog_id": cards.FORM}))
        added = await bot.invoke(
            dialog_submit(url, {"action": ADD, "rows": "[1]", "greeting": "Hello {{ name }}"})
        )
        bad = await bot.invoke(
            dialog_submit(
                url,
                {
                    "action": SUBMIT,
                    "rows": "[1, 2]",
                    "greeting": "Hello {{ name }}",
                    "q1_template": "Will you come?",
                    "q1_type": "YesNo",
                    "q2_template": "",
                    "q2_type": "Number",
                    "phone_prefix": "+852",
                    "receivers": "S1, 9123 4567, Ann\nS2, 91234567890123456, Bob",
                },
            )
        )
        return [opened, added, bad]

    opened, added, bad = bot.run(scenario)

    def card_of(body: dict[str, Any]) -> dict[str, Any]:
        return dict(body["task"]["value"]["card"]["content"])

    def inputs(card: dict[str, Any]) -> dict[str, Any]:
        return {n["id"]: n for n in _walk(card) if str(n.get("type", "")).startswith("Input.")}

    assert "q1_template" in inputs(card_of(opened))
    assert "q2_template" not in inputs(card_of(opened))
    after_add = inputs(card_of(added))
    assert "q2_template" in after_add
    assert after_add["greeting"]["value"] == "Hello {{ name }}"  # typed text is kept
    bad_card = card_of(bad)
    body = bad_card["body"]
    ids = [n.get("id") for n in body]
    errors = [n for n in body if n.get("color") == "Attention" and n.get("type") == "TextBlock"]
    assert errors, "problems are shown"
    # each error sits right under its field: receivers (row 2's phone) and question 2
    receivers_error = body[ids.index("receivers") + 1]
    assert receivers_error.get("color") == "Attention"
    assert "line 2" in receivers_error["text"]
    assert "****3456" in receivers_error["text"]  # numbers in messages are masked
    assert "91234567890123456" not in receivers_error["text"]
    assert body[ids.index("q2_template") + 1].get("color") == "Attention"
    assert connector.calls == []  # nothing was posted, nobody called
    assert bot.submitter.submits == []


def test_a_good_form_is_previewed_in_the_chat_and_the_dialog_closes(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    form = {
        "action": SUBMIT,
        "rows": "[1]",
        "job_name": "Trip",
        "greeting": "Hello {{ name }}",
        "q1_template": "Will you come?",
        "q1_type": "YesNo",
        "ending": "Thank you",
        "phone_prefix": "+852",
        "receivers": "S1, 9123 4567, Ann\nS2, 9123 4568, Bob",
    }
    answer = bot.run(lambda bot: bot.invoke(dialog_submit(url, form)))
    assert "preview" in answer["task"]["value"].lower()
    (preview,) = bot.sent_cards()
    text = json.dumps(preview)
    assert "2 calls" in text
    assert "Will you come?" in text
    assert "91234567" not in text
    assert _actions(preview) == [cards.START, cards.DISCARD]


def _start_data(preview: dict[str, Any]) -> dict[str, Any]:
    node = next(n for n in _walk(preview) if (n.get("data") or {}).get("action") == cards.START)
    return dict(node["data"])


def test_workbook_in_personal_chat_is_previewed_and_started_once(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> list[Any]:
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        data = _start_data(bot.sent_cards()[0])
        first = await bot.invoke(execute(url, cards.START, job_id=data["job_id"]))
        again = await bot.invoke(execute(url, cards.START, job_id=data["job_id"]))
        return [data, first, again]

    data, first, again = bot.run(scenario)
    assert file_server.gets == ["evening.xlsx"]
    assert bot.submitter.submits == [data["job_id"]]  # the second press starts nothing
    job = bot.submitter.jobs[data["job_id"]]
    assert job.origin.platform == "teams"
    assert job.origin.channel_id == PERSONAL_CONVERSATION
    assert job.origin.card_ref  # the card was posted before the job was submitted
    assert first["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Started by Pat Teacher" in json.dumps(first["value"])
    assert not _actions(first["value"])  # the preview loses its buttons
    assert again["type"] == "application/vnd.microsoft.activity.message"
    assert "already been started" in again["value"]


def test_a_refused_start_leaves_the_preview_untouched(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector, CALLOUTS_TEAMS_ALLOWED_USERS="someone-else")
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> Any:
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        data = _start_data(bot.sent_cards()[0])
        sent_before = len(connector.calls)
        answer = await bot.invoke(execute(url, cards.START, job_id=data["job_id"]))
        return answer, sent_before, data

    answer, sent_before, data = bot.run(scenario)
    assert answer["type"] == "application/vnd.microsoft.activity.message"  # not a new card
    assert "not on the list" in answer["value"]
    assert len(connector.calls) == sent_before  # no card posted, the preview not rewritten
    assert bot.submitter.submits == []
    assert bot.state.pending(data["job_id"]) is not None  # still startable by someone allowed


def test_files_that_are_not_workbooks_or_not_downloadable_get_a_clear_message(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url

    async def scenario(bot: Bot) -> None:
        await bot.say(file_message(url, "notes.pdf", file_server.url("notes.pdf"), "pdf"))
        await bot.say(file_message(url, "gone.xlsx", file_server.url("gone.xlsx")))

    bot.run(scenario)
    texts = [call.text() for call in connector.calls]
    assert len(texts) == 2
    assert "notes.pdf" in texts[0]
    assert "not an Excel workbook" in texts[0]
    assert "gone.xlsx" in texts[1]
    assert "could not download" in texts[1]
    assert file_server.gets == ["gone.xlsx"]  # the PDF was never fetched
    assert bot.submitter.submits == []


def test_cancel_on_the_job_card_by_its_starter(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> list[Any]:
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        job_id = _start_data(bot.sent_cards()[0])["job_id"]
        await bot.invoke(execute(url, cards.START, job_id=job_id))
        other = await bot.invoke(execute(url, cards.CANCEL, job_id=job_id, user=OTHER_USER))
        mine = await bot.invoke(execute(url, cards.CANCEL, job_id=job_id))
        return [job_id, other, mine]

    job_id, other, mine = bot.run(scenario)
    assert "Only" in other["value"]
    assert "or an admin" in other["value"]
    assert bot.submitter.cancels == [(job_id, "aaaaaaaa-0000-0000-0000-000000000001")]
    assert mine["type"] == "application/vnd.microsoft.card.adaptive"
    assert cards.CANCEL not in _actions(mine["value"])  # the card loses its Cancel button


CHANNEL = "19:channel-calls@thread.tacv2"
TEAM = "19:team-general@thread.tacv2"


def installed_in_channel(service_url: str) -> dict[str, Any]:
    """What Teams sends when the bot is added to a team (its conversation: a channel)."""
    activity = message_activity(
        service_url,
        "",
        conversation_id=CHANNEL,
        conversation_type="channel",
        channel_id=CHANNEL,
        team_id=TEAM,
        type="conversationUpdate",
        membersAdded=[{"id": "28:bot"}],
    )
    activity.pop("text")
    activity["channelData"].update(
        {"team": {"id": TEAM, "name": "Class 5"}, "channel": {"id": CHANNEL, "name": "Calls"}}
    )
    return activity


def test_a_job_previewed_in_the_chat_can_report_in_a_channel_the_bot_is_in(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> list[Any]:
        await bot.say(installed_in_channel(url))
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        preview = bot.sent_cards()[-1]
        job_id = _start_data(preview)["job_id"]
        unknown = await bot.invoke(
            execute(url, cards.START, job_id=job_id, report_to="19:not-ours@thread.tacv2")
        )
        started = await bot.invoke(execute(url, cards.START, job_id=job_id, report_to=CHANNEL))
        return [preview, job_id, unknown, started]

    preview, _job_id, unknown, started = bot.run(scenario)
    choice = next(n for n in _walk(preview) if n.get("id") == cards.REPORT_TO)
    assert [(c["title"], c["value"]) for c in choice["choices"]] == [
        ("This chat", PERSONAL_CONVERSATION),
        ("Class 5 › Calls", CHANNEL),
    ]
    assert "not in that channel" in unknown["value"]  # a channel never recorded is refused
    assert "chosen channel" in json.dumps(started["value"])
    (job,) = bot.submitter.jobs.values()
    assert (job.origin.channel_id, job.origin.team_id) == (CHANNEL, TEAM)
    # the card is a new top-level post of the channel, so results can be its replies
    (post,) = [c for c in connector.calls if c.operation == "create_conversation"]
    assert CHANNEL in post.text()


def test_status_lists_jobs_here_and_shows_one_card(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> str:
        await bot.say(message_activity(url, "status"))
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        job_id = str(_start_data(bot.sent_cards()[-1])["job_id"])
        await bot.invoke(execute(url, cards.START, job_id=job_id))
        await bot.say(message_activity(url, "status"))
        await bot.say(message_activity(url, f"status {job_id}"))
        await bot.say(message_activity(url, "status nope-123"))
        return job_id

    job_id = bot.run(scenario)
    sends = [c for c in connector.calls if c.operation == "send"]
    assert "No call jobs were started here yet" in sends[0].text()
    listing, card, unknown = sends[-3:]
    assert job_id in listing.text()
    assert "calling" in listing.text()
    assert _actions(card.cards()[0]) == [cards.CANCEL]
    assert "No call job `nope-123`" in unknown.text()


def test_the_message_extension_opens_the_same_form(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    from tests.e2e.teams.conftest import invoke

    bot = Bot(issuer, connector)
    url = connector.service_url

    async def scenario(bot: Bot) -> list[Any]:
        opened = await bot.invoke(
            invoke(
                url,
                "composeExtension/fetchTask",
                {"commandId": "newJob", "commandContext": "compose"},
            )
        )
        added = await bot.invoke(
            invoke(
                url,
                "composeExtension/submitAction",
                {
                    "commandId": "newJob",
                    "commandContext": "compose",
                    "data": {"action": ADD, "rows": "[1]"},
                },
            )
        )
        return [opened, added]

    opened, added = bot.run(scenario)
    first = opened["task"]["value"]["card"]["content"]
    assert any(n.get("id") == "receivers" for n in _walk(first))
    second = added["task"]["value"]["card"]["content"]
    assert any(n.get("id") == "q2_template" for n in _walk(second))


def test_template_is_offered_as_a_file_and_uploaded_when_accepted(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    from openpyxl import load_workbook

    from tests.e2e.teams.conftest import invoke

    bot = Bot(issuer, connector)
    url = connector.service_url

    async def scenario(bot: Bot) -> dict[str, Any]:
        await bot.say(message_activity(url, "template"))
        offer = connector.calls[-1].body or {}
        (attachment,) = offer["attachments"]
        context = attachment["content"]["acceptContext"]
        await bot.invoke(
            invoke(
                url,
                "fileConsent/invoke",
                {
                    "type": "fileUpload",
                    "action": "accept",
                    "context": context,
                    "uploadInfo": {
                        "name": "callout_template.xlsx",
                        "uploadUrl": connector.upload_url("template-1"),
                        "contentUrl": "https://onedrive.example/callout_template.xlsx",
                        "uniqueId": "unique-1",
                        "fileType": "xlsx",
                    },
                },
            )
        )
        await bot.say(
            message_activity(
                url,
                "<at>Callouts</at> template",
                conversation_id=f"{CHANNEL};messageid=9",
                conversation_type="channel",
                channel_id=CHANNEL,
                team_id=TEAM,
            )
        )
        return dict(attachment)

    attachment = bot.run(scenario)
    assert attachment["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert attachment["name"] == "callout_template.xlsx"
    uploaded = connector.uploads["template-1"]
    # the size shown on the offer (the workbook is rebuilt at upload: its timestamps differ)
    assert abs(attachment["content"]["sizeInBytes"] - len(uploaded)) < 100
    import io

    assert {"Configures", "Questions", "Receivers"} <= set(
        load_workbook(io.BytesIO(uploaded)).sheetnames
    )
    sends = [c for c in connector.calls if c.operation == "send"]
    info = sends[1].body or {}
    assert info["attachments"][0]["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert info["attachments"][0]["contentUrl"].startswith("https://onedrive.example/")
    assert "personal chat" in sends[2].text()  # a channel gets a pointer, not a file


def test_do_not_call_command_adds_for_starters_and_checks_for_admins_only(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, tmp_path: Any
) -> None:
    from backend.domain.dnc import is_listed
    from backend.local.dnc import SqliteDoNotCall

    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    bot = Bot(issuer, connector, CALLOUTS_TEAMS_ADMIN_USERS="admin-aad")
    bot.h.bot.deps.dnc = dnc
    url = connector.service_url
    admin = {"id": "29:admin", "name": "Ada Admin", "aadObjectId": "admin-aad"}

    async def scenario(bot: Bot) -> None:
        await bot.say(message_activity(url, "dnc add +852 9123 4567"))
        await bot.say(message_activity(url, "dnc check +85291234567"))
        as_admin = message_activity(url, "dnc check +85291234567")
        as_admin["from"] = admin
        await bot.say(as_admin)
        await bot.say(message_activity(url, "dnc add 12"))

    bot.run(scenario)
    added, refused, checked, bad = (c.text() for c in connector.calls)
    assert is_listed(dnc, "+85291234567")
    assert "****4567 is on the do-not-call list" in added
    assert "Only admins" in refused
    assert "is on the do-not-call list" in checked
    assert "country code" in bad
    assert "91234567" not in " ".join(c.text() for c in connector.calls)


def test_cancel_on_a_preview_withdraws_it(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> list[Any]:
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        job_id = _start_data(bot.sent_cards()[0])["job_id"]
        discarded = await bot.invoke(execute(url, cards.DISCARD, job_id=job_id))
        stale = await bot.invoke(execute(url, cards.START, job_id=job_id))  # an older copy
        return [discarded, stale]

    discarded, stale = bot.run(scenario)
    assert "Cancelled by Pat Teacher: nobody was called" in json.dumps(discarded["value"])
    assert not _actions(discarded["value"])
    assert "no longer have this job" in stale["value"]
    assert bot.submitter.submits == []


def test_retry_unreached_on_a_finished_card_calls_only_them(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    from bot.core.state import FINISHED

    bot = Bot(issuer, connector)
    url = connector.service_url
    file_server.files["evening.xlsx"] = example_workbook()

    async def scenario(bot: Bot) -> list[Any]:
        await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
        job_id = str(_start_data(bot.sent_cards()[0])["job_id"])
        await bot.invoke(execute(url, cards.START, job_id=job_id))
        card = bot.state.card(job_id)
        assert card is not None
        job = bot.submitter.jobs[job_id]
        first, *others = [r.id for r in job.receivers]
        card.statuses = {first: "CallCompleted", **dict.fromkeys(others, "NoAnswer")}
        card.state = FINISHED
        bot.state.save_card(card)
        answer = await bot.invoke(execute(url, cards.RETRY, job_id=job_id))
        return [job_id, others, answer]

    job_id, others, answer = bot.run(scenario)
    assert f"Calling the {len(others)} people not reached" in answer["value"]
    retry_id = bot.submitter.submits[-1]
    assert retry_id != job_id
    assert sorted(r.id for r in bot.submitter.jobs[retry_id].receivers) == sorted(others)
