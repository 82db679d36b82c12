"""Do-not-call list, opt-out and daily cap on AWS: the DynamoDB adapter, the dialer, the flow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.aws.jobs import JobStore
from backend.aws.wiring import do_not_call, jobs_table, session_store
from backend.domain.dnc import DO_NOT_CALL, add_number, call_day, is_listed
from backend.domain.models import CallJob
from backend.domain.opt_out import OPT_OUT_CONFIRMATION
from backend.handlers import connect_flow, dialer

from .conftest import LambdaContext, RecordingSfn, Stack, example_job, flow_event, sqs_event


def _saved(stack: Stack, job: CallJob) -> CallJob:
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    return job


def _task(job: CallJob, receiver: str, attempt: int = 1, token: str = "t") -> dict[str, Any]:  # noqa: S107
    body = {"task_token": token, "job_id": job.job_id, "receiver_id": receiver, "attempt": attempt}
    return {"Body": json.dumps(body), "MessageId": f"{job.job_id}-{receiver}-{attempt}-{token}"}


def _list() -> Any:
    dnc = do_not_call()
    assert dnc is not None
    return dnc


def test_the_table_holds_keyed_hashes_never_numbers(stack: Stack) -> None:
    dnc = _list()
    number = "+85291234567"
    assert add_number(dnc, number, "slack")
    assert not add_number(dnc, number, "slack")
    assert is_listed(dnc, number)
    assert not is_listed(dnc, "+85291234568")
    assert dnc.admit(dnc.key(number), "2026-11-28", "j:1:1", 3)
    items = stack.ddb.scan(TableName=stack.dnc_table)["Items"]
    assert len(items) == 2  # the entry and one day's dial count
    assert "91234567" not in json.dumps(items)
    (entry,) = dnc.entries()
    assert entry.key == dnc.key(number)
    assert entry.source == "slack"
    assert dnc.remove_key(entry.key)
    assert not dnc.remove_key(entry.key)
    assert dnc.entries() == []


def test_a_whole_job_is_looked_up_in_batches(stack: Stack) -> None:
    dnc = _list()
    numbers = [f"+8529123{i:04d}" for i in range(250)]  # three BatchGetItem batches
    for number in numbers[::50]:
        add_number(dnc, number, "test")
    keys = [dnc.key(number) for number in numbers]
    assert dnc.listed_keys(keys) == {dnc.key(number) for number in numbers[::50]}
    assert dnc.listed_keys([]) == set()


def test_the_daily_count_is_one_conditional_update_per_call(stack: Stack) -> None:
    dnc = _list()
    key = dnc.key("+85291234567")
    assert all(dnc.admit(key, "2026-11-28", f"j:{n}:1", 2) for n in (1, 2))
    assert dnc.admit(key, "2026-11-28", "j:2:1", 2)  # the same call again: not counted twice
    assert not dnc.admit(key, "2026-11-28", "j:3:1", 2)
    assert dnc.dials(key, "2026-11-28") == 2
    assert dnc.admit(key, "2026-11-29", "j:3:1", 2)  # the next day starts afresh
    item = stack.ddb.get_item(
        TableName=stack.dnc_table, Key={"pk": {"S": f"dials#{key}#2026-11-28"}}
    )["Item"]
    assert int(item["expires_at"]["N"]) > datetime(2026, 11, 29, tzinfo=UTC).timestamp()


def test_a_listed_number_is_not_callable_and_never_dialled(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved(stack, example_job())
    add_number(_list(), job.receiver("2").phone_number, "cli")
    dialer.handler(sqs_event([_task(job, "1"), _task(job, "2", token="t2")]), ctx)
    assert [r["DestinationPhoneNumber"] for r in stack.connect.requests] == [
        job.receiver("1").phone_number
    ]
    [(token, output)] = recording_sfn.successes
    assert token == "t2"
    assert output["result"]["status"] == "NotCallable"
    assert output["result"]["error"] == DO_NOT_CALL
    assert output["result"]["attempts"] == 0


def test_stop_in_the_call_lists_the_number_and_the_next_job_skips_it(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved(stack, example_job())
    dialer.handler(sqs_event([_task(job, "1")]), ctx)
    call_id = f"{job.job_id}:1:1"
    session = session_store().get(call_id)
    assert session is not None
    assert session.number_key == _list().key(job.receiver("1").phone_number)
    first = connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    assert "say stop or press star" in first["prompt"]
    ok = connect_flow.handler(
        flow_event(call_id, {"event": "answer", "intent": "OkIntent", "answer": ""}), ctx
    )
    stop = connect_flow.handler(
        flow_event(call_id, {"event": "answer", "intent": "OptOutIntent", "answer": ""}), ctx
    )
    assert ok["action"] == "ask"
    assert stop["action"] == "end"
    assert stop["prompt"] == OPT_OUT_CONFIRMATION
    [(_, output)] = recording_sfn.successes
    assert output["result"]["status"] == "OptedOut"
    assert output["result"]["answers"][:2] == ["OK", None]
    assert is_listed(_list(), job.receiver("1").phone_number)
    # attempt 2 of the same job, and a later job with the same number: nobody rings
    later = _saved(stack, example_job(name="Later job"))
    assert later.job_id != job.job_id
    dialer.handler(sqs_event([_task(job, "1", attempt=2, token="a2")]), ctx)
    dialer.handler(sqs_event([_task(later, "1", token="l1")]), ctx)
    assert len(stack.connect.requests) == 1
    statuses = [(o["result"]["status"], o["result"]["error"]) for _, o in recording_sfn.successes]
    assert statuses[1:] == [("NotCallable", DO_NOT_CALL)] * 2


def test_a_number_over_its_daily_cap_waits_for_the_next_day(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    job = _saved(stack, example_job(max_calls_per_day=2))
    number = job.receiver("1").phone_number
    dialer.handler(sqs_event([_task(job, "1", attempt=1, token="a1")]), ctx)
    dialer.handler(sqs_event([_task(job, "1", attempt=2, token="a2")]), ctx)
    dialer.handler(sqs_event([_task(job, "1", attempt=3, token="a3")]), ctx)
    assert len(stack.connect.requests) == 2
    [(token, output)] = recording_sfn.successes
    assert token == "a3"
    _, next_day = call_day(number, datetime.now(UTC))
    wait = (next_day - datetime.now(UTC)).total_seconds()
    assert abs(output["wait_seconds"] - wait) < 60


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    listed=st.sets(st.sampled_from(["1", "2", "3", "4", "5", "6"]), max_size=4),
    attempts=st.lists(
        st.tuples(st.sampled_from(["1", "2", "3"]), st.integers(min_value=1, max_value=3)),
        min_size=1,
        max_size=10,
    ),
    cap=st.integers(min_value=1, max_value=3),
)
def test_property_listed_numbers_never_ring_and_no_number_goes_over_its_cap(
    stack: Stack,
    recording_sfn: RecordingSfn,
    ctx: LambdaContext,
    listed: set[str],
    attempts: list[tuple[str, int]],
    cap: int,
) -> None:
    stack.connect.requests.clear()
    stack.connect.contacts.clear()
    for item in stack.ddb.scan(TableName=stack.dnc_table)["Items"]:
        stack.ddb.delete_item(TableName=stack.dnc_table, Key={"pk": item["pk"]})
    jobs = [
        _saved(stack, example_job(name=f"Job {n} {cap} {len(attempts)}", max_calls_per_day=cap))
        for n in range(1, 4)
    ]
    numbers = {r.id: r.phone_number for r in jobs[0].receivers}
    for receiver in listed:
        add_number(_list(), numbers[receiver], "test")
    for index, (job_number, attempt) in enumerate(attempts):
        job = jobs[int(job_number) - 1]
        receiver = str(index % 6 + 1)
        dialer.handler(sqs_event([_task(job, receiver, attempt, token=f"p{index}")]), ctx)
    rung = [r["DestinationPhoneNumber"] for r in stack.connect.requests]
    assert not {numbers[r] for r in listed} & set(rung)
    assert all(rung.count(number) <= cap for number in set(rung))
