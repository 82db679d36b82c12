"""An execution that timed out, was stopped by hand or failed outside the state machine's Catch:
the "Callout Job Failed" event the execution-events Lambda sends (job_id, status, failure; no
job input) stops the Slack card with a reason a person understands."""

from __future__ import annotations

from typing import Any

import pytest

from backend.aws.execution_events import ExecutionEnd
from bot.core.state import STOPPED, JobCard
from tests.e2e.slack.test_aws import aws  # noqa: F401 - a fixture
from tests.e2e.slack.test_notifier import result, slack_job
from tests.e2e.slack.test_stopped_jobs import saved_state
from tests.e2e.slack.test_stream import Readers, make_stream, thread_posts
from tests.fakes.slack_api import FakeSlack


def ended_event(job_id: str, status: str, error: str = "", cause: str = "") -> dict[str, Any]:
    """As backend.aws.execution_events sends it."""
    end = ExecutionEnd(
        job_id, f"arn:aws:states:::execution:callouts:{job_id}", status, error, cause
    )
    return {
        "source": "callouts",
        "detail-type": "Callout Job Failed",
        "detail": end.detail(error, cause),
    }


@pytest.mark.parametrize(
    ("status", "error", "cause", "reason"),
    [
        ("TIMED_OUT", "States.Timeout", "", "the job timed out"),
        ("TIMED_OUT", "", "", "the job timed out"),
        ("ABORTED", "", "", "the job was stopped"),
        ("ABORTED", "Operator", "wrong list", "the job was stopped (Operator: wrong list)"),
        (
            "FAILED",
            "States.Runtime",
            "The JSONPath '$.tasks' could not be found",
            "the job failed (States.Runtime: The JSONPath '$.tasks' could not be found)",
        ),
        ("FAILED", "", "", "the job failed"),
    ],
)
def test_an_ended_execution_stops_the_card_with_a_plain_reason(
    fake_slack: FakeSlack, status: str, error: str, cause: str, reason: str
) -> None:
    job = slack_job()
    card = JobCard.for_job(job)
    card.add(result(job, 0))
    state = saved_state(card)
    stream = make_stream(fake_slack, Readers(job), state)

    assert stream.handle(ended_event(job.job_id, status, error, cause)) == {}

    shown = fake_slack.calls_to("chat.update")[-1].text()
    assert f"Stopped: {reason}" in shown
    assert "report could not be written" not in shown
    assert "1/8" in shown
    (post,) = thread_posts(fake_slack)
    assert reason in post.text()
    assert state.card(job.job_id).state == STOPPED


def test_an_ended_execution_after_the_state_machine_announced_it_is_shown_once(
    fake_slack: FakeSlack,
) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(job), state)

    stream.handle(ended_event(job.job_id, "ABORTED"))
    stream.handle(ended_event(job.job_id, "ABORTED"))  # redelivered

    assert len(thread_posts(fake_slack)) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_a_report_failure_without_an_error_name_still_shows_its_cause(
    fake_slack: FakeSlack,
) -> None:
    job = slack_job()
    state = saved_state(JobCard.for_job(job))
    stream = make_stream(fake_slack, Readers(job), state)
    event = {
        "source": "callouts",
        "detail-type": "Callout Job Failed",
        "detail": {"job_id": job.job_id, "failure": {"Error": "", "Cause": "bucket gone"}},
    }

    stream.handle(event)

    shown = fake_slack.calls_to("chat.update")[-1].text()
    assert "Stopped: the report could not be written (bucket gone)" in shown


@pytest.mark.usefixtures("aws")
def test_the_notifier_lambda_stops_the_card_of_an_execution_stopped_by_hand(
    fake_slack: FakeSlack,
) -> None:
    """The real parts end to end: the job record, the execution-events service with the
    EventBridge status change, the event it puts on the bus, the notifier Lambda."""
    import boto3

    import bot.notifier_handler as notifier_handler
    from backend.aws.execution_events import ExecutionEndHandler
    from backend.aws.jobs import JobsTable
    from backend.domain.job_state import JobState
    from tests.e2e.slack.test_aws import JOBS, _job, _state
    from tests.e2e.slack.test_stopped_jobs import _Events

    job = _job()
    _state().save_card(JobCard.for_job(job))
    jobs = JobsTable(boto3.client("dynamodb"), JOBS)
    jobs.create(job, JobState.RUNNING)
    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:stack-callouts"
    events = _Events()
    status_change = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": f"{machine.replace(':stateMachine:', ':execution:')}:{job.job_id}",
            "stateMachineArn": machine,
            "name": job.job_id,
            "status": "ABORTED",
            "error": None,
            "cause": None,
        },
    }
    ExecutionEndHandler(jobs, None, events, machine, "default").handle(status_change)

    for event in events.delivered():
        assert notifier_handler.handler(event, None) == {}

    (update,) = fake_slack.calls_to("chat.update")
    assert update.args["ts"] == "77.7"
    assert "Stopped: the job was stopped" in update.text()
    assert _state().card(job.job_id).state == STOPPED
    assert jobs.state(job.job_id) is JobState.STOPPED
