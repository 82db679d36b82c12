"""One result as a chat line's parts (numbers masked); adapters format them."""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.models import CallJob, CallResult, CallStatus
from backend.domain.phones import mask_phone


@dataclass(frozen=True)
class ResultLine:
    receiver_id: str
    phone: str  # masked: only the last 4 digits
    status: CallStatus
    answers: str  # "Yes, –": one per question asked, "–" for no answer
    attempts: int


def result_line(job: CallJob, result: CallResult) -> ResultLine:
    try:
        phone = mask_phone(job.receiver(result.receiver_id).phone_number)
    except KeyError:
        phone = "****"
    return ResultLine(
        receiver_id=result.receiver_id,
        phone=phone,
        status=result.status,
        answers=", ".join(a if a is not None else "–" for a in result.answers),
        attempts=result.attempts,
    )
