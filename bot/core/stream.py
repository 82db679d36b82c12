"""The notifier on AWS: results-table stream batches and the job events -> ChatNotifier (which
picks the Slack or Teams sink by the job's origin platform).

Each stream batch becomes one thread message and one card update per job (the event source's
batching window paces them); the completion event posts the final card and the report file.
A job the start-job Lambda rejected ("Callout Job Rejected") or whose execution failed, timed
out or was stopped before its report ("Callout Job Failed") gets a final card ("Could not
start" / "Stopped") and the reason in its thread, so no card stays "Calling…" forever. Jobs that
did not come from a chat (no origin, no card) are ignored. Nothing here talks to AWS directly:
`bot.aws_runtime.stream_notifier()` wires S3 and DynamoDB in through the callables below.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from backend.domain.problems import Problem
from bot.core.notifier import ChatNotifier
from bot.core.state import REJECTED, STOPPED

if TYPE_CHECKING:
    from backend.domain.sms import SmsTally

log = logging.getLogger(__name__)

FINISHED_SOURCE = "callouts"
FINISHED_DETAIL_TYPE = "Callout Job Finished"
REJECTED_DETAIL_TYPE = "Callout Job Rejected"  # backend.aws.rejections
# The state machine's AnnounceFailure state, and backend.aws.execution_events for an execution
# that timed out, was stopped or failed outside a Catch (its detail has the execution's status).
FAILED_DETAIL_TYPE = "Callout Job Failed"
TEST_CALL_DETAIL_TYPE = "Callout Test Call Finished"  # backend.aws.test_call_outcomes
ENDED_REASONS = {
    "TIMED_OUT": "the job timed out",
    "ABORTED": "the job was stopped",
    "FAILED": "the job failed",
}

JobLoader = Callable[[str], CallJob | None]  # None: no such job; raises: could not read it now
ResultsReader = Callable[[str], list[CallResult]]  # every stored result of a job
ImageDecoder = Callable[[Mapping[str, Any]], CallResult]  # a stream NEW_IMAGE -> CallResult
TestCallTeller = Callable[[Mapping[str, Any]], None]  # a "Callout Test Call Finished" detail


class JobNotReadable(RuntimeError):
    """The job could not be read now (the records are retried)."""


class StreamNotifier:
    def __init__(
        self,
        notifier: ChatNotifier,
        *,
        load_job: JobLoader,
        all_results: ResultsReader,
        decode: ImageDecoder,
        test_call_tellers: Mapping[str, TestCallTeller] | None = None,
    ) -> None:
        self.notifier = notifier
        # Call me first: per platform, who tells a requester their test call's outcome.
        self._test_call_tellers = dict(test_call_tellers or {})
        self._load_job = load_job
        self._all_results = all_results
        self._decode = decode
        self._jobs: dict[str, CallJob | None] = {}  # per container; None = not a chat job

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The Lambda event: a stream batch, or a finished/rejected/failed job event (anything
        else: no-op)."""
        if "Records" in event:
            return self.handle_records(event["Records"])
        if event.get("source") != FINISHED_SOURCE:
            return {}
        detail = event.get("detail")
        detail = detail if isinstance(detail, Mapping) else {}
        kind = event.get("detail-type")
        if kind == FINISHED_DETAIL_TYPE:
            self.handle_finished(detail)
        elif kind == REJECTED_DETAIL_TYPE:
            self.handle_rejected(detail)
        elif kind == FAILED_DETAIL_TYPE:
            self.handle_failed(detail)
        elif kind == TEST_CALL_DETAIL_TYPE:
            self.handle_test_call(detail)
        return {}

    def handle_test_call(self, detail: Mapping[str, Any]) -> None:
        """Call me first: the outcome goes to the requester, through their platform's teller."""
        origin = detail.get("origin")
        if not isinstance(origin, Mapping):
            return  # asked by a system on the job queue: the event itself is the answer
        tell = self._test_call_tellers.get(str(origin.get("platform") or "slack"))
        if tell is not None:
            tell(detail)

    def job(self, job_id: str) -> CallJob | None:
        """The job of a result, cached; None when unknown or not from a chat. A job that could
        not be read is not cached, and raises JobNotReadable."""
        if job_id not in self._jobs:
            try:
                job = self._load_job(job_id)
            except Exception as error:
                raise JobNotReadable(f"job {job_id} could not be read: {error}") from error
            if job is None:
                log.warning("job %s not found: its results are not posted to a chat", job_id)
            self._jobs[job_id] = job if job is not None and job.origin is not None else None
        return self._jobs[job_id]

    def handle_records(self, records: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Post a stream batch; the records of jobs whose results did not reach the chat are
        returned as `batchItemFailures`, so Lambda delivers them again (never dropped)."""
        by_job: dict[str, list[tuple[str, CallResult]]] = defaultdict(list)
        for record in records:
            change = record.get("dynamodb") or {}
            image = change.get("NewImage")
            if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
                continue
            try:
                result = self._decode(image)
            except Exception:  # a record that can never be read must not block the stream
                log.exception("unreadable results-table record %s", change.get("SequenceNumber"))
                continue
            by_job[result.job_id].append((str(change.get("SequenceNumber") or ""), result))
        failures: list[dict[str, str]] = []
        for job_id, items in by_job.items():
            if not self._deliver(job_id, [result for _, result in items]):
                failures.extend({"itemIdentifier": seq} for seq, _ in items if seq)
        return {"batchItemFailures": failures}

    def _deliver(self, job_id: str, results: list[CallResult]) -> bool:
        chat = self.notifier
        try:
            job = self.job(job_id)
        except JobNotReadable:
            log.exception("job %s: results kept for a retry", job_id)
            return False
        if job is None:
            return True
        chat.forget(job_id)  # another container may have updated the card since
        try:
            # A job no chat button started (a scheduled occurrence, docs/schedule.md) has no
            # card yet: it is posted first (a no-op for every other job).
            chat.on_job_started(job)
            for result in results:
                chat.on_result(job, result)
            chat.flush(job_id, force=True)
            delivered = chat.undelivered(job_id) == 0
        except Exception:
            log.exception("job %s: results not delivered to the chat", job_id)
            delivered = False
        if not delivered:
            chat.forget(job_id)
        return delivered

    def handle_finished(self, detail: Mapping[str, Any]) -> None:
        """Final card and report; every stored result is re-read, so late stream records cannot
        leave the card short. Raises when the chat could not be reached (the event is retried)."""
        job_id = str(detail.get("job_id") or "")
        if not job_id:
            log.error("completion event without a job_id: %s", dict(detail))
            return
        job = self.job(job_id)
        if job is None:
            return
        report = ReportFiles(
            xlsx=str(detail.get("xlsx_key") or f"reports/{job_id}.xlsx"),
            json=str(detail.get("json_key") or ""),
            csv=str(detail.get("csv_key") or ""),
            url=detail.get("url"),
            sms=_sms_tally(detail.get("sms")),
        )
        self.notifier.forget(job_id)
        self.notifier.on_job_finished(job, self._all_results(job_id), report)

    def handle_rejected(self, detail: Mapping[str, Any]) -> None:
        """The start-job Lambda refused the job: "Could not start" and every problem listed.
        A rejected job may never have been stored: its card is what marks it as ours."""
        job_id = detail.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            return  # an upload or message that named no job: not one the bot started
        problems = [_problem(item) for item in detail.get("problems") or [] if item]
        total = detail.get("problem_count")
        total = total if isinstance(total, int) and total > len(problems) else len(problems)
        if problems:
            reason = str(problems[0])
            if total > 1:
                reason += f" (and {total - 1} more problem{'s' if total > 2 else ''})"
        else:
            reason = "the job was refused"
        self.notifier.on_job_stopped(job_id, REJECTED, reason, problems)

    def handle_failed(self, detail: Mapping[str, Any]) -> None:
        """The execution ended without a report: "Stopped" with why (the report failed, or
        `status` says the execution timed out, was stopped or failed). When the report was
        written (only its notice failed) the job is finished as usual, report and all."""
        job_id = detail.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            log.error("failure event without a job_id: %s", dict(detail))
            return
        if detail.get("xlsx_key"):
            self.handle_finished(detail)
            return
        failure = detail.get("failure")
        failure = failure if isinstance(failure, Mapping) else {}
        status = str(detail.get("status") or "")  # the execution itself ended (not the report)
        reason = ENDED_REASONS.get(status, "the report could not be written")
        error = _error_text(failure)
        # The status alone (or a plain timeout) says it all: no "(ABORTED: ...)" after it.
        plain = status in ENDED_REASONS and failure.get("Error") in (status, "States.Timeout")
        if error and not plain:
            reason += f" ({error})"
        self.notifier.on_job_stopped(job_id, STOPPED, reason)


def _problem(item: Any) -> Problem:
    """A problem of a rejection event (backend.aws.rejections.problem_json)."""
    if not isinstance(item, Mapping):
        return Problem(str(item))
    row = item.get("row")
    return Problem(
        message=str(item.get("message") or "unreadable problem"),
        sheet=_text(item.get("sheet")),
        row=row if isinstance(row, int) else None,
        column=_text(item.get("column")),
        field=_text(item.get("field")),
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _error_text(failure: Mapping[str, Any]) -> str:
    """`Error: message` of a Catch's error output; a Lambda's Cause is its error JSON."""
    error = str(failure.get("Error") or "")
    cause: Any = failure.get("Cause") or ""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping):
            cause = parsed.get("errorMessage") or parsed.get("Message") or cause
    cause = str(cause)
    return ": ".join(part for part in (error, cause) if part)


def _sms_tally(data: Any) -> SmsTally | None:
    """The completion event's `sms` counts (a job with an SMS template), for the card's line."""
    from backend.domain.sms import SmsTally  # the template sandbox loads only when needed

    return SmsTally.from_json(data)
