"""Scheduling from Teams (signed activities, the fake Bot Connector, a real local schedule store):
the preview's Schedule dialog with each problem under its field, `schedule` list and `schedule
cancel ID` (who may cancel: the job-cancel rule), the occurrence reporting in the chat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backend.local.schedules import LocalScheduleBook, SqliteScheduleStore
from bot.core.schedules import REPEAT_FIELD, WHEN_FIELD
from bot.teams import cards
from bot.teams.schedule import NOT_SET_UP, SCHEDULE, SCHEDULE_SUBMIT
from tests.e2e.teams.conftest import FileServer, dialog_fetch, dialog_submit
from tests.e2e.teams.test_call_me_first import closed_text, dialog_card, preview
from tests.e2e.teams.test_conversation import OTHER_USER, Bot, _actions, _walk
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import PERSONAL_CONVERSATION, USER_AAD, message_activity
from tests.fakes.teams_issuer import FakeTeamsIssuer


def _monday_10(after: datetime) -> datetime:
    """The next Monday 10:00 UTC (18:00 in Hong Kong: inside the example's calling hours)."""
    day = after.date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _errors_under_fields(card: dict[str, Any]) -> dict[str, str]:
    """field id -> the red text right under it."""
    body = card["body"]
    found = {}
    for at, node in enumerate(body[:-1]):
        after = body[at + 1]
        if node.get("id") and after.get("color") == "Attention":
            found[str(node["id"])] = str(after["text"])
    return found


def test_schedule_from_the_preview_then_list_and_cancel(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    store = SqliteScheduleStore.beside(tmp_path / "jobs.db")
    book = LocalScheduleBook(store, lambda: datetime.now(UTC))
    bot = Bot(issuer, connector, bot_options={"schedules": book}, CALLOUTS_TEAMS_ADMIN_USERS="x")
    url = connector.service_url
    first = _monday_10(datetime.now(UTC))

    def submit(job_id: str, when: str, repeat: str = "") -> dict[str, Any]:
        data = {"action": SCHEDULE_SUBMIT, "job_id": job_id, WHEN_FIELD: when}
        return dialog_submit(url, {**data, REPEAT_FIELD: repeat})

    async def scenario(bot: Bot) -> list[Any]:
        job_id = await preview(bot, file_server)
        opened = await bot.invoke(dialog_fetch(url, {"dialog_id": SCHEDULE, "job_id": job_id}))
        empty = await bot.invoke(submit(job_id, ""))
        past = await bot.invoke(submit(job_id, "2020-01-06 10:00"))
        bad_rule = await bot.invoke(submit(job_id, "monday 10:00", "fortnightly"))
        assert store.schedules() == []
        done = await bot.invoke(submit(job_id, f"{first:%Y-%m-%d} 10:00", "weekly 2 times"))
        (kept,) = store.schedules()
        await bot.say(message_activity(url, "schedule"))
        other = message_activity(url, f"schedule cancel {kept.schedule_id}")
        other["from"] = OTHER_USER
        await bot.say(other)
        refused_left = store.schedules()
        await bot.say(message_activity(url, f"schedule cancel {kept.schedule_id}"))
        await bot.say(message_activity(url, "schedule"))
        return [opened, empty, past, bad_rule, done, kept, refused_left]

    opened, empty, past, bad_rule, done, kept, refused_left = bot.run(scenario)
    assert _actions(bot.sent_cards()[0]) == [cards.START, SCHEDULE, cards.DISCARD]
    inputs = [n.get("id") for n in _walk(dialog_card(opened)) if n.get("id")]
    assert inputs == [WHEN_FIELD, REPEAT_FIELD]
    assert "When should it start?" in _errors_under_fields(dialog_card(empty))[WHEN_FIELD]
    assert "is in the past" in _errors_under_fields(dialog_card(past))[WHEN_FIELD]
    rule_card = dialog_card(bad_rule)
    assert "not a rule" in _errors_under_fields(rule_card)[REPEAT_FIELD]
    assert any(n.get("value") == "fortnightly" for n in _walk(rule_card))  # typed text kept
    assert f"Scheduled `{kept.schedule_id}`" in closed_text(done)
    assert kept.created_by == USER_AAD
    assert kept.job.origin.platform == "teams"
    assert kept.job.origin.channel_id == PERSONAL_CONVERSATION  # occurrences report here
    assert kept.job.origin.service_url == url
    assert [at.astimezone(UTC) for at in kept.schedule.occurrences()] == [
        first,
        first + timedelta(days=7),
    ]
    assert bot.submitter.submits == []  # nobody is called now
    texts = [c.text() for c in connector.calls if c.operation == "send"]
    said, listing, refused, cancelled, empty_list = texts[-5:]
    assert f"Pat Teacher: Scheduled `{kept.schedule_id}`" in said
    assert "**Scheduled call jobs**" in listing  # Teams' bold
    assert f"`{kept.schedule_id}` – next " in listing
    assert "by you" in listing
    assert "Only who scheduled" in refused
    assert refused_left != []
    assert f"Schedule `{kept.schedule_id}` cancelled" in cancelled
    assert "No scheduled call jobs." in empty_list
    assert store.schedules() == []


def test_without_a_scheduler_or_test_calls_there_are_no_buttons_and_the_commands_say_so(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, file_server: FileServer
) -> None:

    bot = Bot(issuer, connector)
    url = connector.service_url

    async def scenario(bot: Bot) -> None:
        await preview(bot, file_server)
        await bot.say(message_activity(url, "schedule"))
        await bot.say(message_activity(url, "test"))

    bot.run(scenario)
    assert _actions(bot.sent_cards()[0]) == [cards.START, cards.DISCARD]
    assert NOT_SET_UP in connector.calls[-2].text()
    assert "Test calls are not set up for this bot." in connector.calls[-1].text()


def test_start_on_a_job_with_its_own_start_at_schedules_it(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    import io

    import openpyxl

    from tests.e2e.teams.conftest import execute, file_message
    from tests.e2e.teams.test_conversation import _start_data, example_workbook

    store = SqliteScheduleStore.beside(tmp_path / "jobs.db")
    book = LocalScheduleBook(store, lambda: datetime.now(UTC))
    bot = Bot(issuer, connector, bot_options={"schedules": book})
    url = connector.service_url
    first = _monday_10(datetime.now(UTC))
    workbook = openpyxl.load_workbook(io.BytesIO(example_workbook()))
    workbook["Configures"].append(["start_at", f"{first:%Y-%m-%d %H:%M}"])
    content = io.BytesIO()
    workbook.save(content)
    file_server.files["later.xlsx"] = content.getvalue()

    async def scenario(bot: Bot) -> Any:
        await bot.say(file_message(url, "later.xlsx", file_server.url("later.xlsx")))
        job_id = _start_data(bot.sent_cards()[-1])["job_id"]
        return await bot.invoke(execute(url, cards.START, job_id=job_id))

    answer = bot.run(scenario)
    assert bot.submitter.submits == []  # nobody is called now
    (kept,) = store.schedules()
    assert kept.schedule.occurrences() == [first]
    assert "Scheduled by Pat Teacher" in json.dumps(answer["value"])
    assert not _actions(answer["value"])  # the preview loses its buttons
    assert f"Scheduled `{kept.schedule_id}`" in connector.calls[-1].text()
