"""Scheduling from Slack: the preview's Schedule button and form, Start on a job with its own
start_at, `/callout schedule` list and cancel (who may cancel: the job-cancel rule), and the local
scheduler starting each occurrence with the channel as its origin. Signed requests against the
fake Slack Web API; the schedules in a real local store."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from backend.domain.models import CallJob
from backend.local.schedules import LocalScheduleBook, LocalScheduler, SqliteScheduleStore
from bot.core.state import SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.schedule import SCHEDULE_ACTION, SCHEDULE_CALLBACK, VALUE, schedule_modal
from bot.slack.views import START_ACTION
from tests.fakes.slack_api import FakeSlack

from .conftest import (
    ADMIN,
    CHANNEL,
    TEAM,
    USER,
    Harness,
    RecordingSubmitter,
    SyncExecutor,
    example_workbook,
    make_settings,
)


def _monday_10(after: datetime) -> datetime:
    """The next Monday 10:00 UTC (18:00 in Hong Kong: inside the example's calling hours)."""
    day = after.date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> SqliteScheduleStore:
    return SqliteScheduleStore.beside(tmp_path / "jobs.db")


@pytest.fixture
def bot(fake_slack: FakeSlack, store: SqliteScheduleStore) -> Harness:
    config = make_settings(fake_slack)
    state, submitter = SqliteBotState(), RecordingSubmitter()
    app = build_app(
        config,
        lazy_client(config),
        submitter,
        state,
        listener_executor=SyncExecutor(),
        schedules=LocalScheduleBook(store, lambda: datetime.now(UTC)),
    )
    return Harness(fake_slack, app, state, submitter)


def _preview(bot: Harness, content: bytes) -> dict[str, Any]:
    bot.share_file("call_job.xlsx", content)
    [preview] = [
        c for c in bot.fake.calls_to("chat.postMessage") if "preview_actions" in json.dumps(c.args)
    ]
    return preview.args


def _button(preview: dict[str, Any], action_id: str) -> str:
    for block in (
        preview["blocks"] if isinstance(preview["blocks"], list) else json.loads(preview["blocks"])
    ):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element["action_id"] == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


def _submit(bot: Harness, job_id: str, when: str, repeat: str = "", user: str = USER) -> Any:
    view = schedule_modal(job_id, TEAM, CHANNEL).to_dict()
    view["id"] = "V9"
    view["state"] = {
        "values": {
            "when": {VALUE: {"type": "plain_text_input", "value": when}},
            "repeat": {VALUE: {"type": "plain_text_input", "value": repeat or None}},
        }
    }
    return bot.payload(
        {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "school"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0001",
            "trigger_id": "1.2.3",
            "view": view,
        }
    )


def _ephemerals(bot: Harness) -> list[str]:
    return [str(call.args["text"]) for call in bot.fake.calls_to("chat.postEphemeral")]


def test_schedule_from_the_preview_then_list_and_cancel(
    bot: Harness, store: SqliteScheduleStore
) -> None:
    job_id = _button(_preview(bot, example_workbook()), SCHEDULE_ACTION)
    assert bot.action(SCHEDULE_ACTION, job_id).status == 200
    [opened] = bot.fake.calls_to("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == SCHEDULE_CALLBACK

    past = _submit(bot, job_id, "2020-01-06 10:00")
    assert json.loads(past.body)["errors"]["when"].endswith(
        "is in the past: give a time such as 2026-12-07 18:00, tomorrow 18:00 or monday 08:30 "
        "(in the job's timezone), or an ISO time with an offset"
    )
    bad_rule = _submit(bot, job_id, "monday 10:00", "fortnightly")
    assert "not a rule" in json.loads(bad_rule.body)["errors"]["repeat"]
    assert store.schedules() == []

    first = _monday_10(datetime.now(UTC))
    assert _submit(bot, job_id, f"{first:%Y-%m-%d} 10:00", "weekly 2 times").status == 200
    [kept] = store.schedules()
    assert kept.created_by == USER
    assert kept.job.origin is not None
    assert kept.job.origin.channel_id == CHANNEL
    assert [at.astimezone(UTC) for at in kept.schedule.occurrences()] == [
        first,
        first + timedelta(days=7),
    ]
    assert any(f"Scheduled `{kept.schedule_id}`" in text for text in _ephemerals(bot))
    assert bot.submitter.submits == []  # nobody is called now

    bot.command("schedule")
    assert f"`{kept.schedule_id}` – next " in _ephemerals(bot)[-1]
    bot.command(f"schedule cancel {kept.schedule_id}", user="U0OTHER")
    assert "Only who scheduled" in _ephemerals(bot)[-1]
    assert store.schedules() != []
    bot.command(f"schedule cancel {kept.schedule_id}", user=ADMIN)
    assert f"Schedule `{kept.schedule_id}` cancelled" in _ephemerals(bot)[-1]
    assert store.schedules() == []
    bot.command("schedule")
    assert _ephemerals(bot)[-1] == "No scheduled call jobs."


def test_start_on_a_job_with_its_own_start_at_schedules_it_and_the_scheduler_runs_it_here(
    bot: Harness, store: SqliteScheduleStore
) -> None:
    first = _monday_10(datetime.now(UTC))
    book = openpyxl.load_workbook(io.BytesIO(example_workbook()))
    book["Configures"].append(["start_at", f"{first:%Y-%m-%d %H:%M}"])
    content = io.BytesIO()
    book.save(content)
    job_id = _button(_preview(bot, content.getvalue()), START_ACTION)

    bot.action(START_ACTION, job_id)
    assert bot.submitter.submits == []
    [kept] = store.schedules()
    assert kept.schedule.occurrences() == [first]
    assert any("Scheduled by" in json.dumps(call.args) for call in bot.fake.calls_to("chat.update"))

    started = RecordingSubmitter()

    def start(job: CallJob, at: datetime) -> None:
        started.submit(job)

    scheduler = LocalScheduler(store, start)
    assert scheduler.tick(first - timedelta(minutes=1)) == []
    scheduler.tick(first)
    scheduler.tick(first)  # a second tick starts nothing more
    [occurrence] = started.jobs.values()
    assert occurrence.job_id == f"{kept.schedule_id}-{first:%Y%m%dT%H%MZ}"
    assert occurrence.origin is not None
    assert occurrence.origin.channel_id == CHANNEL
    assert occurrence.origin.card_ref is None  # the notifier posts its own card
    assert occurrence.settings.start_at is None


def test_without_a_scheduler_the_bot_says_so(harness: Harness) -> None:
    harness.command("schedule")
    [reply] = [str(c.args["text"]) for c in harness.fake.calls_to("chat.postEphemeral")]
    assert reply == "Scheduled jobs are not set up for this bot."


def test_on_aws_an_occurrence_gets_its_card_posted_by_the_notifier_once(
    fake_slack: FakeSlack,
) -> None:
    from tests.e2e.slack.test_notifier import result, slack_job
    from tests.e2e.slack.test_stream import Readers, make_stream, record

    base = slack_job()
    assert base.origin is not None
    occurrence = base.model_copy(
        update={
            "job_id": "class-3a-20261207T1000Z",
            "origin": base.origin.model_copy(update={"card_ref": None}),
        }
    )
    stream = make_stream(fake_slack, Readers(occurrence))
    stream.handle({"Records": [record(result(occurrence, 0), "1")]})
    stream.handle({"Records": [record(result(occurrence, 1), "2")]})
    posts = fake_slack.calls_to("chat.postMessage")
    cards = [c for c in posts if c.args.get("thread_ts") is None]
    assert len(cards) == 1  # one card, posted before the first results
    assert posts[0] is cards[0]
    assert all(c.args.get("thread_ts") for c in posts[1:])  # results go to its thread
