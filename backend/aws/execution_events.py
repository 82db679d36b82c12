"""An execution that ended without its report: end the job record and announce it.

The state machine announces the failures it catches itself (AnnounceFailure). An execution that
times out, is stopped by hand (StopExecution) or fails outside a Catch sends nothing: the
EventBridge "Step Functions Execution Status Change" event (FAILED, TIMED_OUT, ABORTED) is how
the stack learns it. The job record is ended (FAILED / STOPPED, so it counts as over everywhere)
and a "Callout Job Failed" event, the one AnnounceFailure sends, tells Slack why. A job that
already ended (its report was written) is left as it is; a redelivered event finds the record
ended and does nothing (events are delivered at least once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backend.aws.clients import ClientError
from backend.aws.jobs import JobsTable
from backend.aws.rejections import SOURCE
from backend.domain.job_state import ENDED, JobState

log = logging.getLogger(__name__)

DETAIL_TYPE = "Callout Job Failed"  # also sent by the state machine's AnnounceFailure state
STATUS_CHANGE = "Step Functions Execution Status Change"
# The ASL's JobFailed state: AnnounceFailure has announced the failure already.
ANNOUNCED_ERROR = "Callouts.JobFailed"

JOB_STATES = {"FAILED": JobState.FAILED, "TIMED_OUT": JobState.FAILED, "ABORTED": JobState.STOPPED}
DEFAULT_CAUSES = {
    "TIMED_OUT": "the execution ran longer than its timeout",
    "ABORTED": "the execution was stopped (StopExecution)",
    "FAILED": "the execution failed",
}


class EndOutcome(StrEnum):
    IGNORED = "ignored"  # another state machine, a child execution, not an end without report
    ALREADY_ENDED = "already_ended"  # finished with a report, or ended by an earlier delivery
    ENDED = "ended"  # the record ended; AnnounceFailure had announced it
    ANNOUNCED = "announced"  # the record ended and "Callout Job Failed" was sent


@dataclass(frozen=True, slots=True)
class ExecutionEnd:
    """A failed, timed-out or aborted execution of the callouts state machine."""

    job_id: str  # the execution name (backend.aws.starter names executions after the job)
    execution_arn: str
    status: str  # FAILED | TIMED_OUT | ABORTED
    error: str | None  # None: the event did not say (DescribeExecution will)
    cause: str | None

    def detail(self, error: str, cause: str) -> dict[str, Any]:
        """The "Callout Job Failed" detail: job_id and failure {Error, Cause}, as the state
        machine's AnnounceFailure sends it, plus the execution's status."""
        return {
            "job_id": self.job_id,
            "execution_arn": self.execution_arn,
            "status": self.status,
            "failure": {
                "Error": error or self.status,
                "Cause": cause or DEFAULT_CAUSES[self.status],
            },
        }


def execution_end(event: Mapping[str, Any], state_machine_arn: str) -> ExecutionEnd | None:
    """The end an EventBridge event reports; None for anything else."""
    if event.get("source") != "aws.states" or event.get("detail-type") != STATUS_CHANGE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return None
    # Distributed Map children run under "<state machine>/<map run>": not a job.
    if detail.get("stateMachineArn") != state_machine_arn:
        return None
    status, name, arn = detail.get("status"), detail.get("name"), detail.get("executionArn")
    if status not in JOB_STATES or not isinstance(name, str) or not name:
        return None
    reported = "error" in detail or "cause" in detail
    return ExecutionEnd(
        job_id=name,
        execution_arn=arn if isinstance(arn, str) else "",
        status=str(status),
        error=_text(detail.get("error")) if reported else None,
        cause=_text(detail.get("cause")) if reported else None,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ExecutionEndHandler:
    def __init__(
        self, jobs: JobsTable, sfn: Any, events: Any, state_machine_arn: str, event_bus: str
    ) -> None:
        self.jobs = jobs
        self.sfn = sfn
        self.events = events
        self.state_machine_arn = state_machine_arn
        self.event_bus = event_bus

    def handle(self, event: Mapping[str, Any]) -> tuple[EndOutcome, ExecutionEnd | None]:
        end = execution_end(event, self.state_machine_arn)
        if end is None:
            return EndOutcome.IGNORED, None
        record = self.jobs.get(end.job_id)
        if record is not None and record.get("status", {}).get("S") in ENDED:
            return EndOutcome.ALREADY_ENDED, end
        error, cause = self._error_and_cause(end)
        outcome = EndOutcome.ENDED
        if error != ANNOUNCED_ERROR:
            # Announced before the record is ended: a failed update is retried and at worst
            # announces twice (the Slack card ignores a second stop), never not at all.
            self._announce(end.detail(error, cause))
            outcome = EndOutcome.ANNOUNCED
        if not self.jobs.end(end.job_id, JOB_STATES[end.status], error or end.status, cause):
            log.warning("job %s: no queued or running record to end", end.job_id)
        return outcome, end

    def _error_and_cause(self, end: ExecutionEnd) -> tuple[str, str]:
        if end.error is not None and end.cause is not None:
            return end.error, end.cause
        try:
            described = self.sfn.describe_execution(executionArn=end.execution_arn)
        except ClientError:
            log.exception("execution %s could not be described", end.execution_arn)
            return "", ""
        return _text(described.get("error")), _text(described.get("cause"))

    def _announce(self, detail: dict[str, Any]) -> None:
        response = self.events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "EventBusName": self.event_bus,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the failure event: {response['Entries']}")
