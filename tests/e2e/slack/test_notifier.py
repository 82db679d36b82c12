"""ChatNotifier against the fake Slack Web API: card updates, thread batches, pacing, report."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from backend.domain.intake import read_workbook
from backend.domain.models import CallJob, CallResult, CallStatus, ChatOrigin
from backend.domain.ports import ReportFiles
from bot.core.notifier import ChatNotifier
from bot.core.state import CardState, JobCard, SqliteBotState
from bot.slack.client import lazy_client
from bot.slack.notifier import slack_notifier
from tests.e2e.slack.conftest import CHANNEL, TEAM, USER, example_workbook, make_settings
from tests.fakes.slack_api import FakeSlack

E164_LIKE = re.compile(r"\+\d{8,15}")
CARD_TS = "1700000000.000100"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def slack_job(receivers: int | None = None) -> CallJob:
    job = read_workbook(example_workbook(), filename="class.xlsx", job_id="class-3a").job
    assert job is not None
    if receivers is not None:
        base = job.receivers[0]
        job = job.model_copy(
            update={
                "receivers": tuple(
                    base.model_copy(update={"id": f"R{i:04d}", "phone_number": f"+8525{i:07d}"})
                    for i in range(receivers)
                )
            }
        )
    origin = ChatOrigin(
        team_id=TEAM, channel_id=CHANNEL, user_id=USER, thread_ref="1.1", card_ref=CARD_TS
    )
    return job.model_copy(update={"origin": origin})


def result(job: CallJob, index: int, status: CallStatus = CallStatus.CALL_COMPLETED) -> CallResult:
    answers = ("OK", "Yes", "B", "3", "2026-12-01", "15:30")[: len(job.questions)]
    return CallResult(
        job_id=job.job_id,
        receiver_id=job.receivers[index].id,
        status=status,
        answers=answers if status.reached else (),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state() -> SqliteBotState:
    return SqliteBotState()


def make_notifier(
    fake: FakeSlack, state: SqliteBotState, clock: FakeClock, **kw: object
) -> ChatNotifier:
    options: dict[str, object] = {
        "batch_size": 4,
        "flush_seconds": 5.0,
        "min_post_interval": 1.0,
        "min_update_interval": 1.2,
        "background": False,
        "clock": clock,
        "sleep": clock.sleep,
    }
    options.update(kw)
    options.setdefault("max_per_message", options["batch_size"])
    return slack_notifier(lazy_client(make_settings(fake)), state, **options)  # type: ignore[arg-type]


def report_files(tmp_path: Path) -> ReportFiles:
    (tmp_path / "class-3a.xlsx").write_bytes(b"PK\x03\x04 fake report")
    return ReportFiles.in_dir(tmp_path, "class-3a")


def thread_posts(fake: FakeSlack) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == CARD_TS]


def test_results_go_to_the_card_thread_in_batches_then_the_report(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=10)
    state.save_card(JobCard.for_job(job))
    notifier = make_notifier(fake_slack, state, clock)
    notifier.on_job_started(job)
    statuses = [CallStatus.CALL_COMPLETED] * 7 + [
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.NOT_CALLABLE,
    ]
    results = [result(job, i, s) for i, s in enumerate(statuses)]
    for item in results:
        notifier.on_result(job, item)
        clock.now += 0.5
        notifier.flush()
    notifier.on_job_finished(job, results, report_files(tmp_path))

    posts = thread_posts(fake_slack)
    assert len(posts) == 3  # 4 + 4 + 2, never one per person
    listed = "".join(json.dumps(p["blocks"]) for p in posts)
    for item in results:
        assert listed.count(f"`{item.receiver_id}`") == 1
    everything = "".join(c.text() for c in fake_slack.calls)
    assert not E164_LIKE.search(everything), "phone numbers must be masked everywhere"

    final = fake_slack.calls_to("chat.update")[-1].args
    assert final["ts"] == CARD_TS
    card_text = json.dumps(final["blocks"], ensure_ascii=False)
    assert "10/10" in card_text
    assert "Finished" in card_text
    assert "Retry unreached (2)" in card_text  # NoAnswer + Busy; NotCallable is not retried
    assert "Yes 7" in card_text

    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == CARD_TS
    assert complete.args["channel_id"] == CHANNEL
    assert "CallCompleted 7" in complete.args["initial_comment"]
    (upload,) = [u for u in fake_slack.uploads.values() if u.completed]
    assert upload.content == b"PK\x03\x04 fake report"
    assert state.card(job.job_id).report_posted


def test_a_lone_result_is_flushed_after_flush_seconds(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock
) -> None:
    job = slack_job(receivers=3)
    notifier = make_notifier(fake_slack, state, clock, batch_size=50, flush_seconds=5.0)
    notifier.on_result(job, result(job, 0))
    notifier.flush()
    assert thread_posts(fake_slack) == []
    clock.now += 5.1
    notifier.flush()
    assert len(thread_posts(fake_slack)) == 1


def test_posts_are_paced_one_per_second_per_channel(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=20)
    notifier = make_notifier(fake_slack, state, clock, batch_size=3, max_per_message=3)
    moments: list[float] = []
    original = notifier._pace

    def pace(channel: str) -> None:
        original(channel)
        moments.append(clock.now)

    notifier._pace = pace  # type: ignore[method-assign]
    results = [result(job, i) for i in range(20)]
    for item in results:
        notifier.on_result(job, item)
    notifier.on_job_finished(job, results, report_files(tmp_path))
    assert len(thread_posts(fake_slack)) == 7
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert gaps
    assert min(gaps) >= 1.0


def test_card_updates_are_coalesced(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock
) -> None:
    job = slack_job(receivers=100)
    notifier = make_notifier(fake_slack, state, clock, batch_size=100, flush_seconds=60)
    for i in range(100):
        notifier.on_result(job, result(job, i))
        clock.now += 0.1  # 100 results in 10 s
        notifier.flush()
    updates = len(fake_slack.calls_to("chat.update"))
    assert 1 <= updates <= 10  # at most one per 1.2 s: ~50 per minute


def test_jobs_without_slack_origin_are_ignored(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=2).model_copy(update={"origin": None})
    notifier = make_notifier(fake_slack, state, clock)
    notifier.on_job_started(job)
    notifier.on_result(job, result(job, 0))
    notifier.on_job_finished(job, [result(job, 0)], report_files(tmp_path))
    assert fake_slack.calls == []


def test_a_repeated_result_is_counted_and_listed_once(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=2)
    notifier = make_notifier(fake_slack, state, clock)
    first = result(job, 0)
    notifier.on_result(job, first)
    notifier.on_result(job, first)  # a stream redelivery
    notifier.on_job_finished(job, [first, result(job, 1)], report_files(tmp_path))
    listed = "".join(json.dumps(p["blocks"]) for p in thread_posts(fake_slack))
    assert listed.count(f"`{first.receiver_id}`") == 1
    assert state.card(job.job_id).done == 2


def test_rate_limited_post_is_retried_not_lost(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=2)
    notifier = make_notifier(fake_slack, state, clock)
    fake_slack.rate_limit_next("chat.postMessage", retry_after=0)
    results = [result(job, 0), result(job, 1)]
    notifier.on_result(job, results[0])
    notifier.on_job_finished(job, results, report_files(tmp_path))
    attempts = fake_slack.calls_to("chat.postMessage")
    assert len(attempts) == 2  # the 429, then the retry after Retry-After
    assert len(thread_posts(fake_slack)) == 2
    assert "`R0000`" in json.dumps(attempts[-1].args["blocks"])


def test_background_flush_delivers_without_more_results(
    fake_slack: FakeSlack, state: SqliteBotState
) -> None:
    job = slack_job(receivers=3)
    notifier = slack_notifier(
        lazy_client(make_settings(fake_slack)), state, batch_size=50, flush_seconds=0.05
    )
    try:
        notifier.on_result(job, result(job, 0))
        posts = fake_slack.wait_for("chat.postMessage", 1)
    finally:
        notifier.close()
    assert posts[0].args["thread_ts"] == CARD_TS


def _run_ticks(
    fake: FakeSlack,
    notifier: ChatNotifier,
    clock: FakeClock,
    arrivals: list[tuple[float, CallJob, CallResult]],
    *,
    tick: float = 0.5,
) -> tuple[dict[str, float], list[float], list[float]]:
    """Drive the notifier like its background loop (a flush per tick) on a fake clock; return
    when each receiver reached a thread, the moments of thread posts and of card updates."""
    seen_at: dict[str, float] = {}
    posts: list[float] = []
    updates: list[float] = []
    pending = sorted(arrivals, key=lambda a: a[0])
    counted = {"chat.postMessage": 0, "chat.update": 0}
    end = pending[-1][0] + 30
    while clock.now <= end:
        while pending and pending[0][0] <= clock.now:
            _, job, res = pending.pop(0)
            notifier.on_result(job, res)
        notifier.flush()
        for call in fake.calls_to("chat.postMessage")[counted["chat.postMessage"] :]:
            posts.append(clock.now)
            for rid in re.findall(r"`(R\d{4})`", json.dumps(call.args.get("blocks"))):
                seen_at.setdefault(f"{call.args.get('thread_ts')}/{rid}", clock.now)
        counted["chat.postMessage"] = len(fake.calls_to("chat.postMessage"))
        updates.extend(clock.now for _ in fake.calls_to("chat.update")[counted["chat.update"] :])
        counted["chat.update"] = len(fake.calls_to("chat.update"))
        clock.now += tick
    return seen_at, posts, updates


def test_with_the_real_timings_every_result_reaches_the_thread_within_15_s(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock
) -> None:
    # Defaults of BotSettings/ChatNotifier: batch 40, flush after 5 s, pacing 1.1 s / 1.2 s.
    notifier = slack_notifier(
        lazy_client(make_settings(fake_slack)),
        state,
        background=False,
        clock=clock,
        sleep=clock.sleep,
    )
    # Three jobs in one channel: a steady 10 results/s, a trickle, and a lone straggler.
    jobs = []
    for k, n in enumerate((300, 20, 1)):
        job = slack_job(receivers=n)
        origin = job.origin.model_copy(update={"card_ref": f"1700.{k}"})  # type: ignore[union-attr]
        jobs.append(job.model_copy(update={"job_id": f"job-{k}", "origin": origin}))
    start = clock.now
    arrivals = [(start + i * 0.1, jobs[0], result(jobs[0], i)) for i in range(300)]
    arrivals += [(start + i * 1.7, jobs[1], result(jobs[1], i)) for i in range(20)]
    arrivals += [(start + 12.3, jobs[2], result(jobs[2], 0))]
    seen_at, posts, updates = _run_ticks(fake_slack, notifier, clock, arrivals)

    delays = []
    for when, job, res in arrivals:
        key = f"{job.origin.card_ref}/{res.receiver_id}"  # type: ignore[union-attr]
        assert key in seen_at, f"{key} never reached the thread"
        delays.append(seen_at[key] - when)
    assert len(seen_at) == len(arrivals)
    assert max(delays) <= 15.0
    # At most one post per second in the channel, and ≤ 50 card updates a minute per card.
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(posts))
    assert all(sum(1 for t in updates if s <= t < s + 60) <= 50 * len(jobs) for s in updates)


def test_a_deleted_card_is_posted_again_and_the_thread_follows_it(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=3)
    state.save_card(JobCard.for_job(job))
    notifier = make_notifier(fake_slack, state, clock, batch_size=1)
    fake_slack.error_next("chat.update", "message_not_found")
    notifier.on_result(job, result(job, 0))
    notifier.flush()
    reposted = [c for c in fake_slack.calls_to("chat.postMessage") if not c.args.get("thread_ts")]
    assert len(reposted) == 1
    assert "1/3" in reposted[0].text()
    new_ts = state.card(job.job_id).card_ref
    assert new_ts not in (None, CARD_TS)

    clock.now += 2
    notifier.on_result(job, result(job, 1))
    notifier.flush()
    last = fake_slack.calls_to("chat.postMessage")[-1]
    assert last.args["thread_ts"] == new_ts
    assert fake_slack.calls_to("chat.update")[-1].args["ts"] == new_ts


def test_a_batch_too_big_for_one_message_is_split_never_cut(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    job = slack_job(receivers=60)
    notifier = make_notifier(fake_slack, state, clock, batch_size=60)
    long = tuple("x" * 3000 for _ in job.questions)  # one 2,900-character section per person
    results = [
        CallResult(
            job_id=job.job_id, receiver_id=r.id, status=CallStatus.CALL_COMPLETED, answers=long
        )
        for r in job.receivers
    ]
    notifier.on_job_finished(job, results, report_files(tmp_path))
    posts = thread_posts(fake_slack)
    assert len(posts) >= 2
    assert all(
        len(json.loads(p["blocks"]) if isinstance(p["blocks"], str) else p["blocks"]) <= 50
        for p in posts
    )
    listed = "".join(json.dumps(p["blocks"]) for p in posts)
    for r in job.receivers:
        assert listed.count(f"`{r.id}`") == 1


def test_the_notifier_keeps_a_cancelling_card_cancelling(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock
) -> None:
    job = slack_job(receivers=3)
    state.save_card(JobCard.for_job(job))
    notifier = make_notifier(fake_slack, state, clock, batch_size=1)
    notifier.on_result(job, result(job, 0))
    clock.now += 2
    notifier.flush()
    card = state.card(job.job_id)
    card.state = CardState.CANCELLING  # the bot's Cancel button, meanwhile
    state.save_card(card)
    notifier.on_result(job, result(job, 1, CallStatus.CANCELLED))
    clock.now += 2
    notifier.flush()
    assert "Cancelling" in fake_slack.calls_to("chat.update")[-1].text()
    assert state.card(job.job_id).state is CardState.CANCELLING


def test_a_failed_report_upload_on_aws_is_raised_so_the_event_is_retried(
    fake_slack: FakeSlack, state: SqliteBotState, clock: FakeClock, tmp_path: Path
) -> None:
    from bot.core.ports import DeliveryError as SlackDeliveryError

    job = slack_job(receivers=2)
    state.save_card(JobCard.for_job(job))
    results = [result(job, 0), result(job, 1)]
    fake_slack.error_next("files.getUploadURLExternal", "internal_error")
    with pytest.raises(SlackDeliveryError):
        make_notifier(fake_slack, state, clock).on_job_finished(
            job, results, report_files(tmp_path)
        )
    # EventBridge delivers the completion event again (a new container, say).
    make_notifier(fake_slack, state, clock).on_job_finished(job, results, report_files(tmp_path))
    assert len([u for u in fake_slack.uploads.values() if u.completed]) == 1
    listed = "".join(json.dumps(p["blocks"]) for p in thread_posts(fake_slack))
    assert listed.count("`R0000`") == 1
    assert state.card(job.job_id).report_posted
