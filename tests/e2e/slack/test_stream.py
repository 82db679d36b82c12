"""bot.core.stream.StreamNotifier (the notifier Lambda's logic) with in-memory readers: no AWS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from backend.domain.models import CallJob, CallResult, CallStatus
from bot.core.state import JobCard, SqliteBotState
from bot.core.stream import StreamNotifier
from tests.e2e.slack.test_notifier import CARD_TS, FakeClock, make_notifier, result, slack_job
from tests.fakes.slack_api import FakeSlack


class Readers:
    """The job store, results table and stream decoding, in memory."""

    def __init__(self, *jobs: CallJob) -> None:
        self.jobs = {job.job_id: job for job in jobs}
        self.results: dict[str, list[CallResult]] = {}
        self.loads: list[str] = []
        self.fail_loads = 0

    def load_job(self, job_id: str) -> CallJob | None:
        self.loads.append(job_id)
        if self.fail_loads:
            self.fail_loads -= 1
            raise OSError("S3 is having a bad day")
        return self.jobs.get(job_id)

    def all_results(self, job_id: str) -> list[CallResult]:
        return self.results.get(job_id, [])

    @staticmethod
    def decode(image: Mapping[str, Any]) -> CallResult:
        return CallResult.from_json(image["result"])


def record(res: CallResult, seq: str, event: str = "INSERT") -> dict[str, Any]:
    return {
        "eventName": event,
        "dynamodb": {"SequenceNumber": seq, "NewImage": {"result": res.to_json()}},
    }


def make_stream(
    fake: FakeSlack, readers: Readers, state: SqliteBotState | None = None
) -> StreamNotifier:
    notifier = make_notifier(fake, state or SqliteBotState(), FakeClock())
    return StreamNotifier(
        notifier, load_job=readers.load_job, all_results=readers.all_results, decode=readers.decode
    )


def thread_posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == CARD_TS]


def test_a_batch_becomes_one_thread_message_and_a_card_update(fake_slack: FakeSlack) -> None:
    job = slack_job()
    stream = make_stream(fake_slack, Readers(job))
    answer = stream.handle({"Records": [record(result(job, i), str(i)) for i in range(3)]})
    assert answer == {"batchItemFailures": []}
    assert len(thread_posts(fake_slack)) == 1
    assert "3/8" in fake_slack.calls_to("chat.update")[-1].text()


def test_a_job_that_cannot_be_read_now_is_retried_not_dropped(fake_slack: FakeSlack) -> None:
    job = slack_job()
    readers = Readers(job)
    readers.fail_loads = 1
    stream = make_stream(fake_slack, readers)
    records = {"Records": [record(result(job, i), f"s{i}") for i in range(2)]}

    assert stream.handle(records) == {
        "batchItemFailures": [{"itemIdentifier": "s0"}, {"itemIdentifier": "s1"}]
    }
    assert fake_slack.calls == []
    # Redelivered by Lambda: the job is read again (the failure was not cached as "not ours").
    assert stream.handle(records) == {"batchItemFailures": []}
    assert len(thread_posts(fake_slack)) == 1
    assert readers.loads == [job.job_id, job.job_id]


def test_unknown_jobs_and_jobs_not_from_slack_are_ignored_and_cached(
    fake_slack: FakeSlack,
) -> None:
    other = slack_job().model_copy(update={"job_id": "api-job", "origin": None})
    readers = Readers(other)
    stream = make_stream(fake_slack, readers)
    records = [record(result(other, 0), "1"), record(result(slack_job(), 1), "2")]
    assert stream.handle({"Records": records}) == {"batchItemFailures": []}
    assert stream.handle({"Records": records}) == {"batchItemFailures": []}
    assert fake_slack.calls == []
    assert sorted(readers.loads) == ["api-job", "class-3a"]


def test_removes_and_unreadable_records_are_skipped(fake_slack: FakeSlack) -> None:
    job = slack_job()
    stream = make_stream(fake_slack, Readers(job))
    records = [
        {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "1", "OldImage": {}}},
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "NewImage": {"x": 1}}},
        {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "3"}},
        record(result(job, 0), "4"),
    ]
    assert stream.handle({"Records": records}) == {"batchItemFailures": []}
    (post,) = thread_posts(fake_slack)
    assert post.args["text"] == "1 result"


def test_slack_failure_returns_only_that_jobs_records(fake_slack: FakeSlack) -> None:
    job = slack_job()
    stream = make_stream(fake_slack, Readers(job))
    fake_slack.error_next("chat.postMessage", "internal_error")
    answer = stream.handle({"Records": [record(result(job, 0), "a"), record(result(job, 1), "b")]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}


def test_completion_rereads_every_result_and_posts_the_report(fake_slack: FakeSlack) -> None:
    job = slack_job()
    readers = Readers(job)
    readers.results[job.job_id] = [
        result(job, i, CallStatus.NO_ANSWER) for i in range(len(job.receivers))
    ]
    state = SqliteBotState()
    state.save_card(JobCard.for_job(job))
    stream = make_stream(fake_slack, readers, state)
    stream.notifier.read_report = lambda report: b"report:" + report.xlsx.encode()
    event = {
        "source": "callouts",
        "detail-type": "Callout Job Finished",
        "detail": {"job_id": job.job_id, "xlsx_key": "reports/class-3a.xlsx"},
    }
    assert stream.handle(event) == {}
    assert "8/8" in fake_slack.calls_to("chat.update")[-1].text()
    (upload,) = [u for u in fake_slack.uploads.values() if u.completed]
    assert upload.content == b"report:reports/class-3a.xlsx"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {}},
        {"source": "callouts", "detail-type": "Callout Job Finished", "detail": {}},
        {"source": "callouts", "detail-type": "Callout Job Finished"},
    ],
)
def test_other_or_incomplete_events_do_nothing(fake_slack: FakeSlack, event: dict) -> None:
    stream = make_stream(fake_slack, Readers(slack_job()))
    assert stream.handle(event) == {}
    assert fake_slack.calls == []
