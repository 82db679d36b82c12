"""Step Functions callbacks: the end of a call is the success of its task token."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.aws.clients import ClientError, error_code
from backend.aws.observability import count
from backend.aws.sessions import DynamoSessionStore
from backend.domain.results import CallResult
from backend.domain.session import CallCompletion, CallSession

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

    def heartbeat(self, token: str) -> bool:
        """SendTaskHeartbeat: False when the task already ended (the call must not be made)."""
        try:
            self.sfn.send_task_heartbeat(taskToken=token)
        except ClientError as error:
            if error_code(error) in _GONE:
                return False
            raise
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._send(taskToken=token, error=error, cause=cause[:32_000])


class StepFunctionsCompletion:
    """`backend.domain.session.CallCompletion`: SendTaskSuccess with the session's token, then
    the session's `completion_sent` mark.

    A send that fails (throttled, Step Functions unavailable) raises and leaves the mark unset:
    the DISCONNECTED handler and the sweeper send the result again. A task that already ended
    (timed out, completed by the other path) is marked too: nobody waits for that result.
    """

    def __init__(self, sfn: Any, sessions: DynamoSessionStore) -> None:
        self.callbacks = StepFunctionsCallbacks(sfn)
        self.sessions = sessions

    def complete(self, session: CallSession, result: CallResult) -> None:
        if not session.task_token:
            log.warning("call %s has no task token", session.call_id)
        elif not self.callbacks.result(session.task_token, result):
            log.info("call %s: its task had ended, the result is not sent", session.call_id)
        self.sessions.mark_sent(session.call_id)


@dataclass
class RoutedCompletion:
    """The one `CallCompletion` of the call path: a test's result never reaches a job task."""

    jobs: CallCompletion
    tests: Callable[[], CallCompletion]  # built on first use (the flow Lambda's cold start)

    def complete(self, session: CallSession, result: CallResult) -> None:
        if session.test:
            self.tests().complete(session, result)
        else:
            self.jobs.complete(session, result)
