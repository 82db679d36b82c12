"""/callout subcommands and request signing, through app.dispatch with signed requests."""

from __future__ import annotations

import io
import json
import time

import pytest
from openpyxl import load_workbook
from slack_sdk.models.views import View

from bot.core.state import FINISHED, REJECTED, STOPPED
from tests.e2e.slack.conftest import CHANNEL, USER, Harness, form_headers, slash_body


def test_unsigned_request_is_rejected(harness: Harness) -> None:
    body = slash_body("help")
    response = harness.dispatch(body, {"content-type": "application/x-www-form-urlencoded"})
    assert response.status == 401
    assert harness.fake.calls == []


def test_request_signed_with_another_secret_is_rejected(harness: Harness) -> None:
    body = slash_body("new")
    response = harness.dispatch(body, form_headers(body, secret="not-the-secret"))
    assert response.status == 401
    assert harness.fake.calls_to("views.open") == []


def test_stale_request_is_rejected(harness: Harness) -> None:
    body = slash_body("new")
    response = harness.dispatch(body, form_headers(body, timestamp=int(time.time()) - 600))
    assert response.status == 401
    assert harness.fake.calls_to("views.open") == []


def test_help_and_unknown_subcommands_answer_usage_privately(harness: Harness) -> None:
    for text in ("help", "frobnicate"):
        response = harness.command(text)
        assert response.status == 200
        assert "/callout template" in response.body
    assert harness.fake.calls_to("chat.postMessage") == []


def test_no_argument_opens_the_modal(harness: Harness) -> None:
    response = harness.command("")
    assert response.status == 200
    (call,) = harness.fake.calls_to("views.open")
    assert call.args["trigger_id"] == "1337.42.abcd"
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    parsed = View(**view)
    assert parsed.callback_id == "callout_job_modal"
    assert json.loads(view["private_metadata"])["c"] == CHANNEL
    block_ids = [b.get("block_id") for b in view["blocks"]]
    assert {"job_name", "greeting", "q0_template", "q0_type", "receivers"} <= set(block_ids)


def test_template_posts_a_blank_workbook_into_the_channel(harness: Harness) -> None:
    harness.command("template")
    (complete,) = harness.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == CHANNEL
    (upload,) = [u for u in harness.fake.uploads.values() if u.completed]
    assert upload.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(upload.content), read_only=True)
    assert {"Configures", "Questions", "Receivers"} <= set(book.sheetnames)


def test_status_without_jobs_says_so_privately(harness: Harness) -> None:
    harness.command("status")
    (call,) = harness.fake.calls_to("chat.postEphemeral")
    assert call.args["user"] == USER
    assert "No call jobs" in call.text()


def test_cancel_of_an_unknown_job_is_refused_privately(harness: Harness) -> None:
    harness.command("cancel nope-123")
    (call,) = harness.fake.calls_to("chat.postEphemeral")
    assert "nope-123" in call.text()
    assert harness.submitter.cancels == []


def test_app_mention_answers_usage_in_thread(harness: Harness) -> None:
    response = harness.event(
        {"type": "app_mention", "user": USER, "channel": CHANNEL, "ts": "99.1", "text": "<@UBOT>"}
    )
    assert response.status == 200
    (call,) = harness.fake.calls_to("chat.postMessage")
    assert call.args["thread_ts"] == "99.1"
    assert "/callout" in call.args["text"]


def test_file_shared_and_plain_messages_are_acknowledged(harness: Harness) -> None:
    assert (
        harness.event({"type": "file_shared", "file_id": "F1", "channel_id": CHANNEL}).status == 200
    )
    assert (
        harness.event({"type": "message", "channel": CHANNEL, "user": USER, "ts": "1.1"}).status
        == 200
    )
    assert harness.fake.calls == []


def test_slack_timeout_retries_are_acknowledged_without_work(harness: Harness) -> None:
    response = harness.event(
        {"type": "app_mention", "user": USER, "channel": CHANNEL, "ts": "99.1", "text": "hi"},
        **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
    )
    assert response.status == 200
    assert harness.fake.calls == []


def test_a_signed_body_replayed_with_altered_content_is_rejected(harness: Harness) -> None:
    signed = slash_body("status")
    altered = slash_body("cancel class-3a")
    response = harness.dispatch(altered, form_headers(signed))
    assert response.status == 401
    assert harness.fake.calls == []


def test_missing_timestamp_header_is_rejected(harness: Harness) -> None:
    body = slash_body("new")
    headers = form_headers(body)
    del headers["x-slack-request-timestamp"]
    assert harness.dispatch(body, headers).status == 401
    assert harness.fake.calls == []


def test_edited_and_bot_messages_are_acknowledged_and_ignored(harness: Harness) -> None:
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": CHANNEL,
        "ts": "2.2",
        "message": {"type": "message", "user": USER, "text": "fixed", "ts": "1.1"},
        "previous_message": {"type": "message", "user": USER, "text": "fxied", "ts": "1.1"},
    }
    from_bot = {
        "type": "message",
        "subtype": "bot_message",
        "channel": CHANNEL,
        "bot_id": "B9",
        "ts": "3.3",
        "text": "beep",
    }
    for event in (edited, from_bot):
        assert harness.event(event).status == 200
    assert harness.fake.calls == []


def test_http_error_retries_are_handled_once(harness: Harness) -> None:
    response = harness.event(
        {"type": "app_mention", "user": USER, "channel": CHANNEL, "ts": "99.2", "text": "hi"},
        **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_error"},
    )
    assert response.status == 200
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


def test_status_and_cancel_of_another_teams_job_are_refused(harness: Harness) -> None:
    from backend.domain.models import ChatOrigin
    from bot.core.state import JobCard
    from tests.e2e.slack.test_notifier import slack_job

    job = slack_job().model_copy(
        update={"origin": ChatOrigin(team_id="T9OTHER", channel_id=CHANNEL, user_id=USER)}
    )
    harness.state.save_card(JobCard.for_job(job))
    harness.command(f"status {job.job_id}")
    harness.command(f"cancel {job.job_id}")
    assert harness.submitter.cancels == []
    for call in harness.fake.calls_to("chat.postEphemeral"):
        assert "0/8" not in call.text()
        assert "No call job" in call.text()


def test_a_command_in_a_channel_without_the_bot_answers_through_response_url(
    harness: Harness,
) -> None:
    harness.fake.error_next("chat.postEphemeral", "channel_not_found")
    harness.command("status")
    (answer,) = harness.fake.calls_to("respond")
    assert "/invite" in answer.text()
    assert answer.args["response_type"] == "ephemeral"

    harness.fake.error_next("files.completeUploadExternal", "not_in_channel")
    harness.command("template")
    assert "/invite" in harness.fake.calls_to("respond")[-1].text()


@pytest.mark.parametrize("ended", [FINISHED, REJECTED, STOPPED])
def test_cancel_of_a_job_that_ended_is_refused(harness: Harness, ended: str) -> None:
    from bot.core.state import JobCard
    from tests.e2e.slack.test_notifier import slack_job

    card = JobCard.for_job(slack_job())
    card.state = ended
    harness.state.save_card(card)
    harness.command(f"cancel {card.job_id}")
    assert harness.submitter.cancels == []
    (call,) = harness.fake.calls_to("chat.postEphemeral")
    assert "already ended" in call.text()
    assert harness.state.card(card.job_id).state == ended
