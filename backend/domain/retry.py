"""Retry the unreached: one rule for the Slack "Retry unreached" button and `callouts retry`.

A retry is a new job with the same questions and settings and only the receivers a new call may
still reach. Its id is derived from the original job and that set of receivers, so asking twice
for the same retry gives the same job (started once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from backend.domain.models import CallJob, CallResult, CallStatus


def may_reach(status: CallStatus) -> bool:
    """Whether a new call may reach a person whose job ended with `status`.

    Not those reached (CallCompleted, DropCall, OptedOut), nor a number that cannot be called;
    everyone else (NoAnswer, Busy, NoHuman, Failed, Expired, Cancelled) is unreached.
    """
    return not status.reached and status is not CallStatus.NOT_CALLABLE


def unreached(results: Iterable[CallResult]) -> list[str]:
    """Receiver ids of the unreached, in the order of `results`."""
    return [r.receiver_id for r in results if may_reach(r.status)]


def retry_job_id(job_id: str, receiver_ids: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(receiver_ids)).encode()).hexdigest()[:8]
    return f"{job_id[:68]}-r{digest}"


def retry_job(job: CallJob, receiver_ids: Iterable[str]) -> CallJob:
    """The retry of `job` for `receiver_ids` (in the job's order); no origin: the caller sets it;
    no SMS template (the first job texted)."""
    wanted = set(receiver_ids)
    return job.model_copy(
        update={
            "job_id": retry_job_id(job.job_id, wanted),
            "name": f"{job.name or job.job_id} (retry)",
            "receivers": tuple(r for r in job.receivers if r.id in wanted),
            "origin": None,
            # The first job texted its unreached already (docs/sms.md): a retry sends no SMS.
            "sms_template": "",
        }
    )
