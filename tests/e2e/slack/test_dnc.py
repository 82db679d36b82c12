"""`/callout dnc add|remove|check NUMBER`, the preview's do-not-call count and the card's counts,
through signed requests against the fake Slack Web API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.domain.dnc import DO_NOT_CALL, add_number, is_listed
from backend.domain.models import CallResult, CallStatus
from backend.local.dnc import SqliteDoNotCall
from bot.core.state import JobCard, SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.views import card_blocks
from tests.e2e.slack.conftest import (
    ADMIN,
    CHANNEL,
    USER,
    Harness,
    RecordingSubmitter,
    SyncExecutor,
    example_workbook,
    make_settings,
)
from tests.fakes.slack_api import FakeSlack

NUMBER = "+85291234567"


@pytest.fixture
def dnc(tmp_path: Path) -> SqliteDoNotCall:
    return SqliteDoNotCall.beside(tmp_path / "callouts.db")


@pytest.fixture
def bot(fake_slack: FakeSlack, dnc: SqliteDoNotCall) -> Harness:
    config = make_settings(fake_slack)
    state = SqliteBotState()
    submitter = RecordingSubmitter()
    app = build_app(
        config,
        lazy_client(config),
        submitter,
        state,
        listener_executor=SyncExecutor(),
        dnc=dnc,
    )
    return Harness(fake_slack, app, state, submitter)


def replies(bot: Harness) -> list[str]:
    return [str(call.args["text"]) for call in bot.fake.calls_to("chat.postEphemeral")]


def test_an_admin_adds_checks_and_removes_a_number_shown_masked(
    bot: Harness, dnc: SqliteDoNotCall
) -> None:
    assert bot.command("dnc add +852 9123 4567", user=ADMIN).status == 200
    assert is_listed(dnc, NUMBER)
    bot.command("dnc check +85291234567", user=ADMIN)
    bot.command("dnc remove +85291234567", user=ADMIN)
    assert not is_listed(dnc, NUMBER)
    texts = replies(bot)
    assert len(texts) == 3
    assert "+852****4567 is on the do-not-call list: no job will call it" in texts[0]
    assert "is on the do-not-call list" in texts[1]
    assert "is off the do-not-call list" in texts[2]
    assert all("91234567" not in text for text in texts)
    assert all(call.args["user"] == ADMIN for call in bot.fake.calls_to("chat.postEphemeral"))
    assert dnc.entries() == []  # removed: nothing left


def test_anyone_who_may_start_jobs_may_add_but_only_admins_remove_or_check(
    bot: Harness, dnc: SqliteDoNotCall
) -> None:
    bot.command("dnc add +85291234567", user=USER)
    assert is_listed(dnc, NUMBER)
    bot.command("dnc remove +85291234567", user=USER)
    bot.command("dnc check +85291234567", user=USER)
    assert is_listed(dnc, NUMBER)
    texts = replies(bot)
    assert "Only admins can remove" in texts[1]
    assert "Only admins can check" in texts[2]


def test_a_number_without_country_code_is_refused_with_advice(
    bot: Harness, dnc: SqliteDoNotCall
) -> None:
    bot.command("dnc add call-me-never", user=ADMIN)
    (text,) = replies(bot)
    assert "country code" in text
    assert dnc.entries() == []


def test_dnc_without_a_number_answers_its_usage_privately(bot: Harness) -> None:
    response = bot.command("dnc add")
    assert response.status == 200
    assert "/callout dnc add NUMBER" in response.body
    assert bot.fake.calls_to("chat.postEphemeral") == []


def test_the_preview_says_how_many_are_on_the_list(bot: Harness, dnc: SqliteDoNotCall) -> None:
    from backend.domain.intake import read_workbook

    job = read_workbook(example_workbook()).job
    assert job is not None
    for receiver in job.receivers[:3]:
        add_number(dnc, receiver.phone_number, "test")
    bot.share_file("call_job.xlsx", example_workbook())
    (preview,) = bot.fake.calls_to("chat.postMessage")
    blocks = json.dumps(preview.args["blocks"])
    assert f"3 of {len(job.receivers)}* on the do-not-call list" in blocks


def _card() -> JobCard:
    return JobCard(
        job_id="j1",
        name="Picnic",
        team_id="T",
        channel_id=CHANNEL,
        user_id=USER,
        card_ref="1.1",
        thread_ref=None,
        total=3,
        questions=["Coming?"],
    )


def test_the_card_counts_opted_out_and_do_not_call_and_never_retries_them() -> None:
    card = _card()
    results: list[dict[str, Any]] = [
        {"receiver_id": "1", "status": CallStatus.OPTED_OUT, "answers": (None,)},
        {"receiver_id": "2", "status": CallStatus.NOT_CALLABLE, "error": DO_NOT_CALL},
        {"receiver_id": "3", "status": CallStatus.NO_ANSWER},
    ]
    for values in results:
        assert card.add(CallResult(job_id="j1", **values))
    text = json.dumps([block.to_dict() for block in card_blocks(card)])
    assert "*OptedOut*: 1" in text
    assert "*NotCallable*: 1 (1 do-not-call)" in text
    assert card.unreached() == ["3"]  # a retry never calls who said stop
    assert JobCard.from_json(card.to_json()).do_not_call == 1
