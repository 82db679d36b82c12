"""Connect refusing a call because of the stack's set-up is a deployment fault, loudly.

An existing instance given with a wrong or unclaimed caller id makes Connect answer
`InvalidParameterException` for every call: that stops the job and raises the alarm's metric,
never a NotCallable result for everyone.
"""

from __future__ import annotations

import json

import pytest

from backend.aws.jobs import JobStore
from backend.aws.wiring import jobs_table
from backend.deploy.monitoring import DEPLOYMENT_FAULT_METRIC
from backend.domain.models import CallJob
from backend.handlers import dialer

from .conftest import LambdaContext, RecordingSfn, Stack, example_job, sqs_event


def _task(job: CallJob, receiver: str, token: str) -> dict[str, str]:
    body = {"task_token": token, "job_id": job.job_id, "receiver_id": receiver, "attempt": 1}
    return {"Body": json.dumps(body), "MessageId": f"{receiver}-{token}"}


@pytest.mark.parametrize(
    "code",
    ["InvalidParameterException", "OutboundContactNotPermittedException", "AccessDeniedException"],
)
def test_a_refused_set_up_stops_the_job_and_counts_a_deployment_fault(
    code: str,
    stack: Stack,
    recording_sfn: RecordingSfn,
    ctx: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = example_job()
    JobStore(stack.s3, stack.data_bucket).save(job)
    jobs_table().create(job)
    for receiver in job.receivers:
        stack.connect.refuse[receiver.phone_number] = code

    dialer.handler(sqs_event([_task(job, "1", "token-1")]), ctx)
    dialer.handler(sqs_event([_task(job, "2", "token-2")]), ctx)

    [(token, error, cause)] = recording_sfn.failures
    assert (token, error) == ("token-1", "Callouts.DeploymentFault")
    assert code in cause
    assert len(stack.connect.requests) == 1  # the job stopped: receiver 2 was never dialled
    [(token, output)] = recording_sfn.successes
    assert token == "token-2"
    assert output["result"]["status"] == "Cancelled"  # not NotCallable
    lines = capsys.readouterr().out.splitlines()
    emitted = [json.loads(line) for line in lines if '"_aws"' in line]
    counted = [m for m in emitted if DEPLOYMENT_FAULT_METRIC in m]
    assert counted
    assert counted[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Callouts"
    assert counted[0]["service"] == "callouts"  # the alarm's dimension
