"""Call me first in Teams (signed activities, the fake Bot Connector): the preview's button and
its number dialog (asked once, then remembered), `test` / `test number`, a listed number refused,
and on AWS the queued call whose outcome the notifier posts in the chat."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from backend.domain.dnc import add_number
from backend.domain.models import CallJob
from backend.local.dnc import SqliteDoNotCall
from bot.core.call_me_first import QueuedTestCalls, SimulatedTestCalls, SqliteNumberBook, user_key
from bot.core.stream import TEST_CALL_DETAIL_TYPE, StreamNotifier
from bot.teams import cards
from bot.teams.call_me_first import NUMBER_FIELD, NUMBER_SUBMIT, tell_outcome
from bot.teams.cards import TEST_CALL
from tests.e2e.teams.conftest import FileServer, dialog_fetch, dialog_submit, file_message
from tests.e2e.teams.test_conversation import Bot, _actions, _start_data, _walk, example_workbook
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import PERSONAL_CONVERSATION, TENANT_ID, USER_AAD, message_activity
from tests.fakes.teams_issuer import FakeTeamsIssuer

ME = "+852 5123 4567"
ME_E164 = "+85251234567"
KEY = user_key("teams", TENANT_ID, USER_AAD)


class RecordingQueue:
    """The job-queue submitter's `request_test_call`, recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def request_test_call(self, job: CallJob, to: str, test_id: str, **kw: Any) -> None:
        self.requests.append({"job_id": job.job_id, "to": to, "test_id": test_id, **kw})


def make_bot(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, placer: Any, dnc: Any = None
) -> tuple[Bot, SqliteNumberBook]:
    numbers = SqliteNumberBook()
    options = {"test_calls": placer, "numbers": numbers, "dnc": dnc}
    return Bot(issuer, connector, bot_options=options), numbers


async def preview(bot: Bot, file_server: FileServer) -> str:
    file_server.files["evening.xlsx"] = example_workbook()
    url = bot.connector.service_url
    await bot.say(file_message(url, "evening.xlsx", file_server.url("evening.xlsx")))
    return str(_start_data(bot.sent_cards()[-1])["job_id"])


def dialog_card(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(answer["task"]["value"]["card"]["content"])


def closed_text(answer: dict[str, Any]) -> str:
    assert answer["task"]["type"] == "message", answer
    return str(answer["task"]["value"])


def test_the_button_asks_the_number_once_then_calls_and_posts_the_outcome_in_the_chat(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    bot, numbers = make_bot(issuer, connector, SimulatedTestCalls(dnc), dnc)
    url = connector.service_url

    async def scenario(bot: Bot) -> list[Any]:
        job_id = await preview(bot, file_server)
        opened = await bot.invoke(dialog_fetch(url, {"dialog_id": TEST_CALL, "job_id": job_id}))
        bad = await bot.invoke(
            dialog_submit(url, {"action": NUMBER_SUBMIT, "job_id": job_id, NUMBER_FIELD: "12"})
        )
        sent_before = len(connector.calls)
        good = await bot.invoke(
            dialog_submit(url, {"action": NUMBER_SUBMIT, "job_id": job_id, NUMBER_FIELD: ME})
        )
        outcome = connector.calls[sent_before:]
        again = await bot.invoke(dialog_fetch(url, {"dialog_id": TEST_CALL, "job_id": job_id}))
        return [opened, bad, good, outcome, again]

    opened, bad, good, outcome, again = bot.run(scenario)
    preview_card = bot.sent_cards()[0]
    assert _actions(preview_card) == [cards.START, TEST_CALL, cards.DISCARD]
    assert any(n.get("id") == NUMBER_FIELD for n in _walk(dialog_card(opened)))
    errors = [n for n in _walk(dialog_card(bad)) if n.get("color") == "Attention"]
    assert errors, "the problem is shown under the field"
    assert "CallCompleted" in closed_text(good) or "****4567" in closed_text(good)
    (posted,) = outcome  # the outcome, with what was said and heard, in the chat
    assert posted.conversation_id == PERSONAL_CONVERSATION
    text = json.dumps(posted.cards())
    assert "****4567" in text
    assert "Callouts:" in text  # the transcript
    assert "@Callouts test number" in text  # Teams' way to change it, not Slack's
    assert "51234567" not in json.dumps([c.body for c in connector.calls])
    assert numbers.test_number(KEY) == ME_E164  # remembered for the next time
    assert "****4567" in closed_text(again)  # no number asked the second time
    assert bot.submitter.submits == []  # a test is not the job: nothing was started


def test_test_commands_use_the_last_preview_and_change_the_number(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    bot, numbers = make_bot(issuer, connector, SimulatedTestCalls(dnc), dnc)
    url = connector.service_url

    async def scenario(bot: Bot) -> list[str]:
        await bot.say(message_activity(url, "test"))  # nothing previewed yet
        job_id = await preview(bot, file_server)
        await bot.say(message_activity(url, "test"))  # no number yet: a button to give it
        ask = bot.connector.calls[-1].cards()
        await bot.say(message_activity(url, "test number 12"))
        await bot.say(message_activity(url, f"test number {ME}"))
        await bot.say(message_activity(url, "test"))
        add_number(dnc, ME_E164, source="test")
        await bot.say(message_activity(url, f"test {job_id}"))
        await bot.say(message_activity(url, "help"))
        return [json.dumps(ask), *(c.text() for c in connector.calls[-6:])]

    ask, *texts = bot.run(scenario)
    no_job = connector.calls[0].text()
    assert "Which job? Preview one first, or `@Callouts test JOB_ID`" in no_job
    assert TEST_CALL in ask  # the button opens the number dialog
    _ask, not_changed, changed, called, refused, help_text = texts
    assert "Not changed" in not_changed
    assert "Test calls now go to +852****4567" in changed
    assert "****4567" in called
    assert "Callouts:" in json.dumps(connector.calls[-3].cards())  # the transcript
    assert "do-not-call" in refused
    assert "@Callouts test number NUMBER" in help_text  # help lists the test commands
    assert numbers.test_number(KEY) == ME_E164
    assert "51234567" not in json.dumps([c.body for c in connector.calls])
    assert bot.submitter.submits == []


def test_on_aws_the_call_is_queued_and_the_notifier_posts_its_outcome_in_the_chat(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:
    queue = RecordingQueue()
    bot, numbers = make_bot(issuer, connector, QueuedTestCalls(queue))
    numbers.remember_test_number(KEY, ME_E164)
    url = connector.service_url
    sink = bot.h.bot.deps.sink
    stream = StreamNotifier(
        None,  # type: ignore[arg-type]  # only test-call events here
        load_job=lambda job_id: None,
        all_results=lambda job_id: [],
        decode=lambda image: None,  # type: ignore[arg-type,return-value]
        test_call_tellers={"teams": lambda detail: tell_outcome(sink, detail)},
    )

    async def scenario(bot: Bot) -> Any:
        job_id = await preview(bot, file_server)
        answer = await bot.invoke(dialog_fetch(url, {"dialog_id": TEST_CALL, "job_id": job_id}))
        (request,) = queue.requests
        event = {
            "source": "callouts",
            "detail-type": TEST_CALL_DETAIL_TYPE,
            "detail": {
                "test": True,
                "masked_to": "****4567",
                "status": "CallCompleted",
                "summary": "Test call to ****4567: CallCompleted.",
                "origin": request["origin"],
            },
        }
        await asyncio.to_thread(stream.handle, event)
        return answer, request

    answer, request = bot.run(scenario)
    assert "Calling +852****4567 now" in closed_text(answer)
    assert request["to"] == ME_E164
    assert request["origin"]["platform"] == "teams"
    assert request["origin"]["channel_id"] == PERSONAL_CONVERSATION
    assert request["requested_by"] == USER_AAD
    told = connector.calls[-1]
    assert told.conversation_id == PERSONAL_CONVERSATION
    assert "Test call to ****4567: CallCompleted." in json.dumps(told.cards())
    assert bot.submitter.submits == []
