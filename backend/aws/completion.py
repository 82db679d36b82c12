"""Step Functions callbacks: the end of a call is the success of its task token."""

from __future__ import annotations

import json
import logging
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.observability import count
from backend.domain.models import CallResult
from backend.domain.session import CallSession

log = logging.getLogger(__name__)

# The task is already over (completed by the other path, timed out, execution stopped).
_GONE = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist"}

DEPLOYMENT_FAULT = "Callouts.DeploymentFault"


class StepFunctionsCallbacks:
    """Sends the outcome of one call task; every method returns False when the task was gone."""

    def __init__(self, sfn: Any) -> None:
        self.sfn = sfn

    def _send(self, **kwargs: Any) -> bool:
        method = self.sfn.send_task_failure if "error" in kwargs else self.sfn.send_task_success
        try:
            method(**kwargs)
        except ClientError as error:
            if error_code(error) in _GONE:
                log.info("task already closed: %s", error_code(error))
                return False
            raise
        return True

    def result(self, token: str, result: CallResult) -> bool:
        """The call's final result for this attempt (the state machine saves or retries it)."""
        output = json.dumps({"result": result.to_json()})
        sent = self._send(taskToken=token, output=output)
        if sent:  # calls ended, per status (timeouts are counted by the report)
            count("CallsEnded")
            count(f"Calls_{result.status.value}")
        return sent

    def wait(self, token: str, seconds: int) -> bool:
        """Outside the calling window: the state machine waits, then asks again."""
        return self._send(taskToken=token, output=json.dumps({"wait_seconds": max(1, seconds)}))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._send(taskToken=token, error=error, cause=cause[:32_000])


class StepFunctionsCompletion:
    """`backend.domain.session.CallCompletion`: SendTaskSuccess with the session's token."""

    def __init__(self, sfn: Any) -> None:
        self.callbacks = StepFunctionsCallbacks(sfn)

    def complete(self, session: CallSession, result: CallResult) -> None:
        if not session.task_token:
            log.warning("call %s has no task token", session.call_id)
            return
        self.callbacks.result(session.task_token, result)
