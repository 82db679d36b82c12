"""A Slack job the start-job Lambda rejected, or whose execution failed before its report: the
notifier Lambda turns the "Callout Job Rejected" / "Callout Job Failed" events into a final card
("Could not start" / "Stopped") and the reason in the card's thread. Other jobs: nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.aws.rejections import Rejection
from backend.domain.models import CallStatus
from backend.domain.problems import Problem
from bot.core.ports import DeliveryError as SlackDeliveryError
from bot.core.state import FINISHED, REJECTED, STOPPED, CardState, JobCard, SqliteBotState
from bot.slack.views import card_blocks
from tests.e2e.slack.test_aws import _job, _state, aws  # noqa: F401 - aws is a fixture
from tests.e2e.slack.test_notifier import CARD_TS, result, slack_job
from tests.e2e.slack.test_stream import Readers, make_stream, record, thread_posts
from tests.fakes.slack_api import FakeSlack

PROBLEMS = [
    Problem("phone number '+85291234567' is not a valid number", "Receivers", 4, "C"),
    Problem("a question needs a type", "Questions", 2, "B"),
]


def rejected_event(job_id: str | None, problems: list[Problem] = PROBLEMS) -> dict[str, Any]:
    detail = Rejection("queue", problems, job_id=job_id, message_id="m-1").to_json()
    return {"source": "callouts", "detail-type": "Callout Job Rejected", "detail": detail}


def failed_event(job_id: str, **extra: Any) -> dict[str, Any]:
    """As the state machine's AnnounceFailure state sends it: its input plus `failure`."""
    cause = {"errorType": "NoSuchKey", "errorMessage": "the job document is gone"}
    detail = {
        "job_id": job_id,
        "tasks": {"bucket": "data", "key": f"tasks/{job_id}.json"},
        "max_concurrency": 2,
        "failure": {"Error": "NoSuchKey", "Cause": json.dumps(cause)},
        **extra,
    }
    return {"source": "callouts", "detail-type": "Callout Job Failed", "detail": detail}


def saved_state(*cards: JobCard) -> SqliteBotState:
    state = SqliteBotState()
    for card in cards:
        state.save_card(card)
    return state


def test_a_rejected_slack_job_says_could_not_start_and_lists_every_problem(
    fake_slack: FakeSlack,
) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(), state)  # a rejected job was never stored

    assert stream.handle(rejected_event(job.job_id)) == {}

    card = fake_slack.calls_to("chat.update")[-1]
    assert card.args["ts"] == CARD_TS
    assert "Could not start: sheet Receivers, row 4, column C" in card.text()
    assert "and 1 more problem" in card.text()
    assert "Fix what is listed in this thread and start the job again" in card.text()
    assert "Cancel job" not in card.text()
    (post,) = thread_posts(fake_slack)
    listed = post.text()
    assert "sheet Questions, row 2, column B: a question needs a type" in listed
    assert "****4567" in listed
    everything = json.dumps([c.args for c in fake_slack.calls])
    assert "91234567" not in everything.replace("****4567", "")
    assert state.card(job.job_id).state == REJECTED


def test_a_failed_execution_stops_the_card_with_the_error_and_keeps_the_counts(
    fake_slack: FakeSlack,
) -> None:
    job = slack_job()
    card = JobCard.for_job(job)
    card.add(result(job, 0))
    card.add(result(job, 1, CallStatus.NO_ANSWER))
    state = saved_state(card)
    stream = make_stream(fake_slack, Readers(job), state)

    assert stream.handle(failed_event(job.job_id)) == {}

    update = fake_slack.calls_to("chat.update")[-1]
    shown = update.text()
    assert "Stopped: the report could not be written (NoSuchKey: the job document is gone)" in shown
    assert "2/8" in shown
    assert "Ask your Callouts admin to write the report again" in shown
    assert update.args["text"] == f"{card.name}: stopped after 2/8 calls"
    (post,) = thread_posts(fake_slack)
    assert "the job document is gone" in post.text()
    assert state.card(job.job_id).state == STOPPED


@pytest.mark.parametrize("kind", ["rejected", "failed"])
def test_jobs_not_from_slack_are_ignored(fake_slack: FakeSlack, kind: str) -> None:
    other = slack_job().model_copy(update={"job_id": "api-job", "origin": None})
    stream = make_stream(fake_slack, Readers(other), saved_state())
    event = rejected_event("api-job") if kind == "rejected" else failed_event("api-job")
    assert stream.handle(event) == {}
    assert stream.handle(rejected_event(None)) == {}  # an upload that named no job
    assert fake_slack.calls == []


def test_a_redelivered_event_is_shown_once(fake_slack: FakeSlack) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(), state)
    stream.handle(rejected_event(job.job_id))
    stream.handle(rejected_event(job.job_id))
    stream.handle(failed_event(job.job_id))
    assert len(thread_posts(fake_slack)) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_slack_down_raises_so_the_event_is_delivered_again_and_then_shown(
    fake_slack: FakeSlack,
) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(job), state)
    fake_slack.error_next("chat.postMessage", "internal_error")

    with pytest.raises(SlackDeliveryError):
        stream.handle(failed_event(job.job_id))
    assert state.card(job.job_id).state is CardState.RUNNING  # not marked as shown

    stream.handle(failed_event(job.job_id))
    _refused, delivered = thread_posts(fake_slack)  # the fake records the refused call too
    assert "the job document is gone" in delivered.text()
    assert state.card(job.job_id).state == STOPPED


def test_a_deleted_card_is_posted_again_with_the_final_state(fake_slack: FakeSlack) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(), state)
    fake_slack.error_next("chat.update", "message_not_found")

    stream.handle(rejected_event(job.job_id))

    new_card, post = fake_slack.calls_to("chat.postMessage")
    assert "thread_ts" not in new_card.args
    assert "Could not start" in new_card.text()
    assert post.args["thread_ts"] == state.card(job.job_id).card_ref != CARD_TS


@pytest.mark.parametrize("already", ["finished", "has results"])
def test_a_rejection_never_overrides_a_job_that_started(
    fake_slack: FakeSlack, already: str
) -> None:
    job = slack_job()
    card = JobCard.for_job(job)
    if already == "finished":
        card.state = FINISHED
    else:
        card.add(result(job, 0))
    state = saved_state(card)
    stream = make_stream(fake_slack, Readers(job), state)
    stream.handle(rejected_event(job.job_id))
    assert fake_slack.calls == []
    assert state.card(job.job_id).state == card.state


def test_a_failure_after_the_report_was_written_finishes_the_job_with_its_report(
    fake_slack: FakeSlack,
) -> None:
    """Only the completion notice failed (SNS): the report exists, so Slack gets it."""
    job = slack_job()
    readers = Readers(job)
    readers.results[job.job_id] = [result(job, i) for i in range(len(job.receivers))]
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, readers, state)
    stream.notifier.read_report = lambda report: b"report:" + report.xlsx.encode()

    stream.handle(failed_event(job.job_id, xlsx_key="reports/class-3a.xlsx"))

    (upload,) = [u for u in fake_slack.uploads.values() if u.completed]
    assert upload.content == b"report:reports/class-3a.xlsx"
    assert state.card(job.job_id).state == FINISHED


def test_late_results_keep_a_stopped_card_stopped(fake_slack: FakeSlack) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(job), state)
    stream.handle(failed_event(job.job_id))

    assert stream.handle({"Records": [record(result(job, 0), "1")]}) == {"batchItemFailures": []}

    shown = fake_slack.calls_to("chat.update")[-1].text()
    assert "Stopped: the report could not be written" in shown
    assert "1/8" in shown
    assert state.card(job.job_id).state == STOPPED


def test_a_long_reason_is_shortened_and_escaped() -> None:
    card = JobCard.for_job(slack_job())
    card.state = STOPPED
    blocks = json.dumps([b.to_dict() for b in card_blocks(card, "<b>" + "x" * 2000)])
    assert "&lt;b&gt;" in blocks
    assert "x" * 600 not in blocks


class _Events:
    """Records what RejectionNotifier puts on the bus, delivered as EventBridge delivers it."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}

    def delivered(self) -> list[dict[str, Any]]:
        return [
            {
                "source": e["Source"],
                "detail-type": e["DetailType"],
                "detail": json.loads(e["Detail"]),
            }
            for e in self.entries
        ]


@pytest.mark.usefixtures("aws")
def test_the_notifier_lambda_shows_a_job_message_the_start_job_lambda_rejected(
    fake_slack: FakeSlack,
) -> None:
    """The real parts end to end: the bot's job message, the starter's parse, the rejection it
    publishes, the notifier Lambda with the DynamoDB card."""
    import bot.notifier_handler as notifier_handler
    from backend.aws.rejections import RejectionNotifier
    from backend.aws.starter import BadJobMessage, JobStarter
    from backend.domain.intake import job_to_json

    job = _job()
    _state().save_card(JobCard.for_job(job))
    message = job_to_json(job)
    message["receivers"][0]["phone_number"] = "12"
    starter = JobStarter(None, None, None, None, "", 1, 1)  # type: ignore[arg-type]
    with pytest.raises(BadJobMessage) as refused:
        starter.parse(json.dumps(message))
    events = _Events()
    rejection = Rejection("queue", refused.value.problems, job_id=refused.value.job_id)
    RejectionNotifier(None, events, topic_arn="").publish(rejection)

    for event in events.delivered():
        assert notifier_handler.handler(event, None) == {}

    (update,) = fake_slack.calls_to("chat.update")
    assert update.args["ts"] == "77.7"
    assert "Could not start" in update.text()
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == "77.7"
    assert "receivers" in post.text()
    assert _state().card(job.job_id).state == REJECTED


def test_a_redrawn_card_still_says_why_the_job_stopped(fake_slack: FakeSlack) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    make_stream(fake_slack, Readers(job), state).handle(failed_event(job.job_id))

    stored = state.card(job.job_id)
    assert stored.state == STOPPED
    redrawn = json.dumps([block.to_dict() for block in card_blocks(stored)])
    assert "the job document is gone" in redrawn
