"""Slack doors (a shared workbook, the /callout form): a receiver on the do-not-call list is
marked at intake, counted by the preview, and ends `NotCallable (do-not-call)` when the job runs
on the local engine; the simulated phones never ring them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.domain.dnc import DO_NOT_CALL, add_number
from backend.domain.intake import read_workbook
from backend.domain.models import CallStatus
from backend.local.dialer import SimulatorDialer
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import LocalEngine
from backend.local.simulator import random_people
from backend.local.store import SqliteStore
from bot.core.state import SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.views import START_ACTION
from tests.e2e.slack.conftest import Harness, SyncExecutor, example_workbook, make_settings
from tests.e2e.slack.test_modal import RECEIVERS, submission
from tests.fakes.dialer import RecordingDialer
from tests.fakes.slack_api import FakeSlack


class Bot:
    def __init__(self, fake: FakeSlack, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "jobs.sqlite3")
        self.dnc = SqliteDoNotCall.beside(store.path)
        self.dialer = RecordingDialer(
            SimulatorDialer(store, lambda job: random_people(job, 5), opt_outs=self.dnc)
        )
        self.engine = LocalEngine(
            store, dialer=self.dialer, report_dir=tmp_path / "reports", dnc=self.dnc
        )
        settings = make_settings(fake)
        state = SqliteBotState(tmp_path / "bot.sqlite3")
        app = build_app(
            settings,
            lazy_client(settings),
            self.engine,
            state,
            listener_executor=SyncExecutor(),
            dnc=self.dnc,
        )
        self.harness = Harness(fake, app, state, self.engine)

    def start_previewed(self) -> dict[str, Any]:
        """Press Start on the preview; the job's results by receiver id once it ran."""
        (preview,) = self.harness.fake.calls_to("chat.postMessage")[-1:]
        [job_id] = [
            element["value"]
            for block in preview.blocks()
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == START_ACTION
        ]
        self.harness.action(START_ACTION, job_id)
        assert self.engine.wait(job_id, timeout=60)
        return {r.receiver_id: r for r in self.engine.store.results(job_id)}


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Bot:
    return Bot(fake_slack, tmp_path)


def test_a_shared_workbook(bot: Bot) -> None:
    job = read_workbook(example_workbook()).job
    assert job is not None
    listed = job.receivers[2]
    add_number(bot.dnc, listed.phone_number, "test")
    bot.harness.share_file("call_job.xlsx", example_workbook())
    preview = bot.harness.fake.calls_to("chat.postMessage")[0]
    assert f"1 of {len(job.receivers)}* on the do-not-call list" in str(preview.blocks())
    results = bot.start_previewed()
    result = results[listed.id]
    assert (result.status, result.error, result.attempts) == (
        CallStatus.NOT_CALLABLE,
        DO_NOT_CALL,
        0,
    )
    assert len(results) == len(job.receivers)
    assert listed.phone_number not in bot.dialer.rung
    assert set(bot.dialer.rung) == {r.phone_number for r in job.receivers} - {listed.phone_number}


def test_the_form(bot: Bot) -> None:
    add_number(bot.dnc, "+85261234567", "test")  # S2 of the form's receivers
    response = bot.harness.payload(
        submission(receivers=RECEIVERS, questions=[("Is {{ name }} coming?", "YesNo")])
    )
    assert response.status == 200
    preview = bot.harness.fake.calls_to("chat.postMessage")[0]
    assert "1 of 2* on the do-not-call list" in str(preview.blocks())
    results = bot.start_previewed()
    assert (results["S2"].status, results["S2"].error) == (CallStatus.NOT_CALLABLE, DO_NOT_CALL)
    assert bot.dialer.rung == ["+85251234567"]
