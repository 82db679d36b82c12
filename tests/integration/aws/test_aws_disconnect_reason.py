"""A DISCONNECTED event whose contact has no DisconnectReason yet decides nothing: the handler
raises so Lambda retries the event, and the retry (once Connect has the reason) ends the call."""

from __future__ import annotations

import json

import pytest

from backend.aws.jobs import JobStore
from backend.aws.wiring import jobs_table, session_store
from backend.domain.disconnects import ReasonNotYetKnown
from backend.domain.models import CallJob
from backend.handlers import connect_flow, contact_events, dialer

from .conftest import (
    LambdaContext,
    RecordingSfn,
    Stack,
    disconnected_event,
    example_job,
    flow_event,
    sqs_event,
)


def _dialled_call(stack: Stack, ctx: LambdaContext) -> tuple[CallJob, str, str]:
    job: CallJob = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    body = {"task_token": "token-1", "job_id": job.job_id, "receiver_id": "1", "attempt": 1}
    dialer.handler(sqs_event([{"Body": json.dumps(body), "MessageId": "1-1"}]), ctx)
    [contact] = stack.connect.dialled
    return job, f"{job.job_id}:1:1", contact


def test_a_disconnect_without_a_reason_yet_is_retried_not_failed(
    stack: Stack, recording_sfn: RecordingSfn, ctx: LambdaContext
) -> None:
    _, call_id, contact = _dialled_call(stack, ctx)
    connect_flow.handler(flow_event(call_id, {"event": "start"}), ctx)
    connect_flow.handler(flow_event(call_id, {"event": "answer", "intent": "OkIntent"}), ctx)
    stack.connect.disconnects[contact] = ("", True)  # DescribeContact: no DisconnectReason yet
    event = disconnected_event(contact)

    with pytest.raises(ReasonNotYetKnown):
        contact_events.handler(event, ctx)
    assert recording_sfn.successes == recording_sfn.failures == []
    session = session_store().get(call_id)
    assert session is not None
    assert session.result is None  # nothing decided, nothing saved

    stack.connect.disconnects[contact] = ("CUSTOMER_DISCONNECT", True)
    # Lambda's retry of the same event (the idempotency record was released by the error)
    assert contact_events.handler(event, LambdaContext()) == {
        "completed": True,
        "status": "DropCall",
    }
    [(_token, output)] = recording_sfn.successes
    assert output["result"]["answers"][0] == "OK"
