"""Call me first in Slack (signed requests, the fake Web API): the preview's button and estimate,
the number form asked once, `/callout test`, and the AWS outcome posted by the notifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.domain.dnc import add_number
from backend.domain.models import CallJob
from backend.local.dnc import SqliteDoNotCall
from bot.core.call_me_first import QueuedTestCalls, SimulatedTestCalls, SqliteNumberBook
from bot.core.state import SqliteBotState
from bot.core.stream import StreamNotifier
from bot.slack.app import build_app
from bot.slack.call_me_first import tell_outcome
from bot.slack.client import lazy_client
from bot.slack.views import TEST_CALL_ACTION, TEST_NUMBER_BLOCK, TEST_NUMBER_CALLBACK
from tests.e2e.slack.conftest import (
    CHANNEL,
    TEAM,
    USER,
    Harness,
    RecordingSubmitter,
    SyncExecutor,
    example_workbook,
    make_settings,
)
from tests.e2e.slack.test_notifier import FakeClock, make_notifier
from tests.fakes.slack_api import FakeSlack

ME = "+85291234567"


class RecordingQueue:
    """The job-queue submitter's `request_test_call`, recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def request_test_call(self, job: CallJob, to: str, test_id: str, **kw: Any) -> None:
        self.requests.append({"job_id": job.job_id, "to": to, "test_id": test_id, **kw})


@pytest.fixture
def dnc(tmp_path: Path) -> SqliteDoNotCall:
    return SqliteDoNotCall.beside(tmp_path / "callouts.db")


def make_bot(
    fake: FakeSlack, placer: Any, dnc: SqliteDoNotCall | None = None, **settings: Any
) -> Harness:
    config = make_settings(fake, **settings)
    submitter = RecordingSubmitter()
    app = build_app(
        config,
        lazy_client(config),
        submitter,
        SqliteBotState(),
        listener_executor=SyncExecutor(),
        dnc=dnc,
        test_calls=placer,
        numbers=SqliteNumberBook(),
    )
    return Harness(fake, app, SqliteBotState(), submitter)


@pytest.fixture
def bot(fake_slack: FakeSlack, dnc: SqliteDoNotCall) -> Harness:
    return make_bot(fake_slack, SimulatedTestCalls(dnc), dnc)


def preview(bot: Harness) -> tuple[str, dict[str, Any]]:
    bot.share_file("call_job.xlsx", example_workbook())
    [posted] = bot.fake.calls_to("chat.postMessage")
    actions = [b for b in posted.blocks() if b["type"] == "actions"]
    [button] = [e for e in actions[0]["elements"] if e["action_id"] == TEST_CALL_ACTION]
    return str(button["value"]), posted.args


def submit_number(bot: Harness, job_id: str, number: str) -> Any:
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": TEST_NUMBER_CALLBACK,
        "private_metadata": json.dumps({"job_id": job_id, "channel": CHANNEL, "thread_ts": None}),
        "state": {
            "values": {TEST_NUMBER_BLOCK: {"number": {"type": "plain_text_input", "value": number}}}
        },
    }
    return bot.payload(
        {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "school"},
            "user": {"id": USER, "team_id": TEAM},
            "api_app_id": "A0001",
            "trigger_id": "1.2.3",
            "view": view,
        }
    )


def ephemerals(bot: Harness) -> list[str]:
    return [str(call.args["text"]) for call in bot.fake.calls_to("chat.postEphemeral")]


def test_the_preview_shows_the_estimate_and_the_button(bot: Harness) -> None:
    _job_id, posted = preview(bot)
    text = json.dumps(posted)
    assert "Expected duration: about " in text
    assert "Expected cost: about $" in text


def test_the_preview_estimate_uses_the_stacks_line_budget_when_lower(
    fake_slack: FakeSlack,
) -> None:
    bot = make_bot(fake_slack, SimulatedTestCalls(), CALLOUTS_MAX_CONCURRENT_CALLS="1")
    _job_id, posted = preview(bot)
    assert "1 at a time" in json.dumps(posted)


def test_the_number_is_asked_once_then_the_call_is_played_and_its_outcome_told(
    bot: Harness,
) -> None:
    job_id, _ = preview(bot)
    bot.action(TEST_CALL_ACTION, job_id)
    [opened] = bot.fake.calls_to("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == TEST_NUMBER_CALLBACK
    assert ephemerals(bot) == []  # nobody called yet

    refused = submit_number(bot, job_id, "call me")
    assert json.loads(refused.body)["response_action"] == "errors"
    assert "letters" in json.loads(refused.body)["errors"][TEST_NUMBER_BLOCK]
    assert ephemerals(bot) == []

    accepted = submit_number(bot, job_id, "9123 4567")
    assert accepted.status == 200
    [told] = ephemerals(bot)
    assert "CallCompleted" in told
    assert "+852****4567" in told
    assert "91234567" not in json.dumps([c.args for c in bot.fake.calls_to("chat.postEphemeral")])
    blocks = json.dumps(bot.fake.calls_to("chat.postEphemeral")[0].blocks())
    assert "Callouts:" in blocks  # the transcript

    bot.action(TEST_CALL_ACTION, job_id)  # remembered: no second form
    assert len(bot.fake.calls_to("views.open")) == 1
    assert len(ephemerals(bot)) == 2


def test_slash_test_uses_the_last_preview_and_the_number_can_change(bot: Harness) -> None:
    preview(bot)
    bot.command("test number +852 6123 4567")
    assert "+852****4567" in ephemerals(bot)[-1]
    bot.command("test")
    assert "CallCompleted" in ephemerals(bot)[-1]
    assert bot.fake.calls_to("views.open") == []
    bot.command("test number nonsense")
    assert "Not changed" in ephemerals(bot)[-1]


def test_a_listed_number_is_refused(bot: Harness, dnc: SqliteDoNotCall) -> None:
    add_number(dnc, ME, "cli")
    job_id, _ = preview(bot)
    bot.command(f"test number {ME}")
    bot.action(TEST_CALL_ACTION, job_id)
    assert "do-not-call" in ephemerals(bot)[-1]
    assert "CallCompleted" not in ephemerals(bot)[-1]


def test_an_unknown_job_is_said(bot: Harness) -> None:
    bot.command("test no-such-job")
    assert "no longer have this job" in ephemerals(bot)[-1]


def test_on_aws_the_call_is_queued_and_the_notifier_posts_the_outcome(
    fake_slack: FakeSlack,
) -> None:
    queue = RecordingQueue()
    bot = make_bot(fake_slack, QueuedTestCalls(queue))
    job_id, _ = preview(bot)
    bot.command(f"test number {ME}")
    bot.action(TEST_CALL_ACTION, job_id)
    [request] = queue.requests
    assert request["to"] == ME
    assert request["origin"]["channel_id"] == CHANNEL
    assert request["origin"]["user_id"] == USER
    assert "Calling +852****4567 now" in ephemerals(bot)[-1]

    notifier = make_notifier(fake_slack, SqliteBotState(), FakeClock())
    client = lazy_client(make_settings(fake_slack))
    stream = StreamNotifier(
        notifier,
        load_job=lambda _: None,
        all_results=lambda _: [],
        decode=lambda _: None,  # type: ignore[arg-type,return-value]
        test_call_tellers={"slack": lambda detail: tell_outcome(client, detail)},
    )
    detail = {
        "test": True,
        "test_id": request["test_id"],
        "job_id": job_id,
        "masked_to": "+852****4567",
        "status": "NoAnswer",
        "summary": "Test call to +852****4567 (job x): NoAnswer. Not part of the job's results.",
        "origin": request["origin"],
    }
    stream.handle(
        {"source": "callouts", "detail-type": "Callout Test Call Finished", "detail": detail}
    )
    assert "NoAnswer" in ephemerals(bot)[-1]
