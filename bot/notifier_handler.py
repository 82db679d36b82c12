"""AWS Lambda: results-table stream records and the job-completion event -> SlackNotifier.

Each stream batch becomes one thread message and one card update per job (the event source's
batching window paces them); the completion event posts the final card and the report file.
Jobs that did not come from Slack (no origin) are ignored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from backend.domain.models import CallJob, CallResult
from backend.domain.ports import ReportFiles
from bot.notifier import SlackNotifier

log = logging.getLogger(__name__)

_notifier: SlackNotifier | None = None
_jobs: dict[str, CallJob | None] = {}


def notifier() -> SlackNotifier:
    global _notifier
    if _notifier is None:
        from bot.app import lazy_client
        from bot.aws_runtime import bot_settings, bot_state

        settings = bot_settings()
        _notifier = SlackNotifier(
            lazy_client(settings),
            bot_state(),
            batch_size=settings.batch_size,
            background=False,
            read_report=_read_s3_report,
        )
    return _notifier


def _read_s3_report(report: ReportFiles) -> bytes:
    from backend.aws import clients
    from backend.aws.settings import settings

    body = clients.client("s3").get_object(Bucket=settings().data_bucket, Key=report.xlsx)["Body"]
    content: bytes = body.read()
    return content


def load_job(job_id: str) -> CallJob | None:
    """The job (cached per container); None when it is unknown or did not come from Slack."""
    if job_id not in _jobs:
        from backend.aws import clients
        from backend.aws.jobs import JobStore
        from backend.aws.settings import settings

        try:
            job: CallJob | None = JobStore(clients.client("s3"), settings().data_bucket).load(
                job_id
            )
        except Exception:
            log.exception("job %s not found", job_id)
            job = None
        _jobs[job_id] = job if job is not None and job.origin is not None else None
    return _jobs[job_id]


def all_results(job_id: str) -> list[CallResult]:
    from backend.aws import clients
    from backend.aws.results import ResultsTable
    from backend.aws.settings import settings

    return ResultsTable(clients.client("dynamodb"), settings().results_table).results(job_id)


def handle_stream(records: list[dict[str, Any]]) -> dict[str, Any]:
    from backend.aws.results import result_from_stream_image

    by_job: dict[str, list[tuple[str, CallResult]]] = defaultdict(list)
    failures: list[dict[str, str]] = []
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
            continue
        try:
            result = result_from_stream_image(image)
        except Exception:
            log.exception("unreadable results-table record")
            continue
        by_job[result.job_id].append((record.get("dynamodb", {}).get("SequenceNumber", ""), result))
    slack = notifier()
    for job_id, items in by_job.items():
        job = load_job(job_id)
        if job is None:
            continue
        slack.forget(job_id)
        try:
            for _, result in items:
                slack.on_result(job, result)
            slack.flush(job_id, force=True)
            delivered = slack.undelivered(job_id) == 0
        except Exception:
            log.exception("job %s: results not delivered to Slack", job_id)
            delivered = False
        if not delivered:
            slack.forget(job_id)
            failures.extend({"itemIdentifier": seq} for seq, _ in items if seq)
    return {"batchItemFailures": failures}


def handle_finished(detail: dict[str, Any]) -> None:
    job_id = str(detail["job_id"])
    job = load_job(job_id)
    if job is None:
        return
    report = ReportFiles(
        xlsx=str(detail.get("xlsx_key") or f"reports/{job_id}.xlsx"),
        json=str(detail.get("json_key") or ""),
        csv=str(detail.get("csv_key") or ""),
        url=detail.get("url"),
    )
    notifier().on_job_finished(job, all_results(job_id), report)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return handle_stream(event["Records"])
    if event.get("source") == "callouts" and event.get("detail-type") == "Callout Job Finished":
        handle_finished(event.get("detail") or {})
    return {}
