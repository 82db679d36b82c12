"""Upload the example workbook -> preview -> Start -> local engine with simulated phones -> job
card updated, results in thread batches, report file uploaded; and Retry unreached."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from backend.domain.intake import job_to_json, read_workbook
from backend.domain.models import CallStatus, ChatOrigin
from backend.local.engine import LocalEngine
from backend.local.simulator import random_people
from backend.local.store import SqliteStore
from bot.core.state import FINISHED, JobCard, PendingJob, SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.notifier import slack_notifier
from bot.slack.views import RETRY_ACTION, START_ACTION
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
from tests.fakes.slack_api import FakeSlack

E164_LIKE = re.compile(r"\+\d{8,15}")


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _start_value(args: dict[str, Any]) -> str:
    for block in _blocks(args):
        for element in block.get("elements", []):
            if element.get("action_id") == START_ACTION:
                return str(element["value"])
    raise AssertionError("no Start button")


def test_workbook_to_report_through_the_local_engine(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = make_settings(fake_slack)
    client = lazy_client(settings)
    state = SqliteBotState(tmp_path / "bot.sqlite3")
    notifier = slack_notifier(
        client,
        state,
        batch_size=3,
        flush_seconds=0.05,
        min_post_interval=0.01,
        min_update_interval=0.01,
    )
    engine = LocalEngine(
        SqliteStore(tmp_path / "jobs.sqlite3"),
        people=lambda job: random_people(job, 3),
        listeners=[notifier],
        report_dir=tmp_path / "reports",
    )
    app = build_app(settings, client, engine, state, listener_executor=SyncExecutor())
    harness = Harness(fake_slack, app, state, engine)
    try:
        harness.share_file("class_3a.xlsx", example_workbook(), ts="1700.0001")
        (preview,) = fake_slack.calls_to("chat.postMessage")
        job_id = _start_value(preview.args)
        harness.action(START_ACTION, job_id)
        assert engine.wait(job_id, timeout=60)
    finally:
        notifier.close()

    card = state.card(job_id)
    assert card is not None
    assert card.state == FINISHED
    assert card.done == card.total == 8
    thread = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == card.card_ref
    ]
    listed = "".join(json.dumps(_blocks(c.args)) for c in thread)
    receivers = read_workbook(example_workbook(), job_id="x").job.receivers  # type: ignore[union-attr]
    for receiver in receivers:
        assert listed.count(f"`{receiver.id}`") == 1, receiver.id
    assert len(thread) < 8  # batched, not one message per person

    final = fake_slack.calls_to("chat.update")[-1].args
    assert final["ts"] == card.card_ref
    assert "8/8" in json.dumps(_blocks(final))

    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == card.card_ref
    (upload,) = [u for u in fake_slack.uploads.values() if u.completed]
    book = load_workbook(io.BytesIO(upload.content), read_only=True)
    assert "Results" in book.sheetnames

    everything = "".join(c.text() for c in fake_slack.calls)
    assert not E164_LIKE.search(everything), "a phone number reached Slack unmasked"


def test_retry_unreached_starts_a_new_job_with_only_them(make_harness: Any) -> None:
    harness: Harness = make_harness()
    job = read_workbook(example_workbook(), filename="class.xlsx", job_id="class-3a").job
    assert job is not None
    harness.state.save_pending(
        job.job_id,
        PendingJob(job=job_to_json(job), team_id=TEAM, channel_id=CHANNEL, user_id=USER),
    )
    card = JobCard.for_job(job.model_copy(update={"origin": _origin()}), card_ref="55.5")
    statuses = [
        CallStatus.CALL_COMPLETED,
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.NOT_CALLABLE,
    ]
    for receiver, status in zip(job.receivers, statuses, strict=False):
        card.statuses[receiver.id] = status.value
    card.state = FINISHED
    harness.state.save_card(card)

    harness.action(RETRY_ACTION, job.job_id)
    harness.action(RETRY_ACTION, job.job_id)  # double click: one retry job

    submitter: RecordingSubmitter = harness.submitter
    assert len(submitter.jobs) == 1
    (retry,) = submitter.jobs.values()
    assert retry.job_id != job.job_id
    assert [r.id for r in retry.receivers] == [job.receivers[1].id, job.receivers[2].id]
    assert retry.origin is not None
    assert retry.origin.thread_ref == "55.5"


def _origin() -> ChatOrigin:
    return ChatOrigin(team_id=TEAM, channel_id=CHANNEL, user_id=USER)
