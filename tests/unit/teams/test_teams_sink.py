"""The Teams ChatSink driven by the core's ChatNotifier against the fake Bot Connector: the job
card is a new channel thread updated in place, results are batched replies in it (numbers
masked), the report is a link card in a channel and a file consent card in the personal chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from microsoft_teams.api import ApiClient
from microsoft_teams.common import Client, ClientOptions

from backend.domain.intake import read_workbook
from backend.domain.models import CallJob, CallResult, CallStatus, ChatOrigin
from backend.domain.ports import ReportFiles
from bot.core.notifier import ChatNotifier
from bot.core.ports import CardGone, DeliveryError
from bot.core.state import JobCard, SqliteBotState
from bot.teams.loop import BackgroundLoop
from bot.teams.reports import LocalReports
from bot.teams.sender import RetryPolicy, TeamsSender
from bot.teams.sink import REPORT_KIND, TeamsSink
from tests.fakes.teams_connector import BOT_TOKEN, FakeTeamsConnector
from tests.fakes.teams_harness import (
    APP_ID,
    CHANNEL_ID,
    PERSONAL_CONVERSATION,
    TEAM_ID,
    TENANT_ID,
    USER_AAD,
    RecordingSubmitter,
    TeamsHarness,
    message_activity,
)
from tests.fakes.teams_issuer import FakeTeamsIssuer

ROOT = Path(__file__).resolve().parents[3]
E164_LIKE = re.compile(r"\+\d{8,15}")
CONSENT = "application/vnd.microsoft.teams.card.file.consent"


class Clock:
    """Virtual time for the sender's pacing and back-off (sleeps return at once)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def loop() -> Iterator[BackgroundLoop]:
    runner = BackgroundLoop("test-teams")
    yield runner
    runner.stop()


@pytest.fixture
def reports(tmp_path: Path) -> LocalReports:
    return LocalReports(tmp_path, "http://localhost:3978", 3600)


@pytest.fixture
def sink(connector: FakeTeamsConnector, loop: BackgroundLoop, reports: LocalReports) -> TeamsSink:
    clock = Clock()
    connector.clock = clock
    api = ApiClient(connector.service_url, Client(ClientOptions(token=lambda: BOT_TOKEN)))
    sender = TeamsSender(
        api,
        APP_ID,
        tenant_id=TENANT_ID,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
        policy=RetryPolicy(attempts=3),
    )
    return TeamsSink(sender, loop, reports)


def teams_job(connector: FakeTeamsConnector, *, channel: bool, receivers: int = 9) -> CallJob:
    job = read_workbook((ROOT / "examples" / "call_job.xlsx").read_bytes(), job_id="class-3a").job
    assert job is not None
    base = job.receivers[0]
    job = job.model_copy(
        update={
            "receivers": tuple(
                base.model_copy(update={"id": f"R{i:03d}", "phone_number": f"+8525{i:07d}"})
                for i in range(receivers)
            )
        }
    )
    origin = ChatOrigin(
        platform="teams",
        team_id=TEAM_ID if channel else "",
        tenant_id=TENANT_ID,
        channel_id=CHANNEL_ID if channel else PERSONAL_CONVERSATION,
        user_id=USER_AAD,
        service_url=connector.service_url,
    )
    return job.model_copy(update={"origin": origin})


def result(job: CallJob, index: int) -> CallResult:
    answers = ("Yes", "B", "3", "2026-12-01", "15:30", "OK")[: len(job.questions)]
    return CallResult(
        job_id=job.job_id,
        receiver_id=job.receivers[index].id,
        status=CallStatus.CALL_COMPLETED,
        answers=answers,
    )


def notifier(sink: TeamsSink, state: SqliteBotState) -> ChatNotifier:
    return ChatNotifier({"teams": sink}, state, batch_size=4, background=False)


def run_job(
    job: CallJob, sink: TeamsSink, tmp_path: Path, state: SqliteBotState
) -> list[CallResult]:
    chat = notifier(sink, state)
    chat.on_job_started(job)
    results = [result(job, i) for i in range(len(job.receivers))]
    for r in results:
        chat.on_result(job, r)
        chat.flush()
    (tmp_path / f"{job.job_id}.xlsx").write_bytes(b"the report")
    report = ReportFiles.in_dir(tmp_path, job.job_id)
    chat.on_job_finished(job, results, report)
    chat.flush(force=True)
    return results


def test_a_channel_job_card_is_a_thread_updated_in_place_with_batched_replies(
    connector: FakeTeamsConnector, sink: TeamsSink, tmp_path: Path
) -> None:
    job = teams_job(connector, channel=True)
    state = SqliteBotState()
    run_job(job, sink, tmp_path, state)

    create, *rest = connector.ok_calls()
    assert create.operation == "create_conversation"
    assert create.body is not None
    assert create.body["channelData"] == {"channel": {"id": CHANNEL_ID}}
    thread = create.conversation_id
    card_id = create.activity_id
    assert thread == f"{CHANNEL_ID};messageid={card_id}"
    assert all(c.conversation_id == thread for c in rest)  # everything else in the thread
    updates = [c for c in rest if c.operation == "update"]
    assert updates
    assert all(c.activity_id == card_id for c in updates)
    replies = [c for c in rest if c.operation == "send"]
    everything = " ".join(c.text() for c in connector.calls)  # card, updates, replies
    for receiver in job.receivers:
        assert receiver.phone_number not in everything  # masked
    assert not E164_LIKE.search(everything)
    assert len(replies) <= 9 // 4 + 3  # batched, plus the report reply
    report = replies[-1].text()
    assert "http://localhost:3978/reports/" in report
    assert state.card(job.job_id) is not None


def test_a_personal_chat_job_gets_the_report_as_a_file_consent_card(
    connector: FakeTeamsConnector, sink: TeamsSink, tmp_path: Path
) -> None:
    job = teams_job(connector, channel=False, receivers=3)
    run_job(job, sink, tmp_path, SqliteBotState())

    assert not connector.ok_calls("create_conversation")  # a chat has no threads
    sends = connector.ok_calls("send")
    assert all(c.conversation_id == PERSONAL_CONVERSATION for c in sends)
    body: dict[str, Any] = sends[-1].body or {}
    (consent,) = body["attachments"]
    assert consent["contentType"] == CONSENT
    assert consent["name"] == f"{job.job_id}.xlsx"
    assert consent["content"]["acceptContext"] == {"callouts": REPORT_KIND, "job_id": job.job_id}
    assert consent["content"]["sizeInBytes"] == len(b"the report")


def test_delivery_failures_become_the_cores_errors(
    connector: FakeTeamsConnector, sink: TeamsSink
) -> None:
    job = teams_job(connector, channel=True)
    card = JobCard.for_job(job)
    connector.fail_next(429, operation="create_conversation")
    card.card_ref = sink.post_card(card)  # retried after the 429
    assert [c.status for c in connector.calls] == [429, 200]

    connector.fail_next(404, operation="update")
    with pytest.raises(CardGone):
        sink.update_card(card)
    connector.fail_next(403)
    with pytest.raises(DeliveryError):
        sink.post_text(card, "Cancelled.")
    connector.fail_next(502, times=3)
    with pytest.raises(DeliveryError):
        sink.post_text(card, "Cancelled.")
    assert asyncio.iscoroutinefunction(sink.sender.send)


def consent_invoke(connector: FakeTeamsConnector, job_id: str, conversation: str) -> dict[str, Any]:
    invoke = message_activity(
        connector.service_url,
        text="",
        conversation_id=conversation,
        type="invoke",
        name="fileConsent/invoke",
    )
    invoke["value"] = {
        "type": "fileUpload",
        "action": "accept",
        "context": {"callouts": REPORT_KIND, "job_id": job_id},
        "uploadInfo": {
            "name": f"{job_id}.xlsx",
            "uploadUrl": connector.upload_url(f"{job_id}.xlsx"),
            "contentUrl": f"https://onedrive.example/{job_id}.xlsx",
            "uniqueId": "unique-1",
            "fileType": "xlsx",
        },
    }
    return invoke


def test_accepting_the_report_offer_uploads_it_into_that_chat_only(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, tmp_path: Path
) -> None:
    state = SqliteBotState()
    job = teams_job(connector, channel=False, receivers=3)
    card = JobCard.for_job(job)
    card.card_ref = "1"
    state.save_card(card)
    (tmp_path / f"{job.job_id}.xlsx").write_bytes(b"the report")
    reports = LocalReports(tmp_path, "http://localhost:3978", 3600)
    h = TeamsHarness(issuer, connector, state, RecordingSubmitter(), reports=reports)

    async def scenario() -> list[Any]:
        async with h.running():
            elsewhere = await h.post(consent_invoke(connector, job.job_id, "a:someone-else"))
            ours = await h.post(consent_invoke(connector, job.job_id, PERSONAL_CONVERSATION))
            return [elsewhere, ours]

    elsewhere, ours = asyncio.run(scenario())
    assert elsewhere["status"] == ours["status"] == 200
    assert connector.uploads == {f"{job.job_id}.xlsx": b"the report"}  # once: our chat's accept
    (sent,) = connector.ok_calls("send")
    assert sent.conversation_id == PERSONAL_CONVERSATION
    body: dict[str, Any] = sent.body or {}
    (info,) = body["attachments"]
    assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert info["contentUrl"] == f"https://onedrive.example/{job.job_id}.xlsx"


def test_a_card_links_to_its_teams_message() -> None:
    from typing import cast

    from bot.teams.sink import TeamsSink

    sink = TeamsSink(cast(Any, None), cast(Any, None), cast(Any, None))
    link = sink.permalink("19:abc@thread.tacv2", "1700000000000")
    assert link == "https://teams.microsoft.com/l/message/19%3Aabc%40thread.tacv2/1700000000000"
    assert sink.permalink("19:abc@thread.tacv2", "") is None
