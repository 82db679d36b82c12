"""One result as a chat line's parts (numbers masked); adapters format them."""

from __future__ import annotations

from dataclasses import dataclass

from backend.domain.models import CallJob, CallResult, CallStatus
from backend.domain.phones import mask_phone

NAME_COLUMN = "name"  # the receivers' name column (workbook "Name", form line `id, phone, name`)


@dataclass(frozen=True)
class ResultLine:
    receiver_id: str
    name: str  # the receiver's name column ("" when there is none): numbers alone are ambiguous
    phone: str  # masked: only the last 4 digits
    status: CallStatus
    answers: str  # "Yes, –": one per question asked, "–" for no answer
    attempts: int


def result_line(job: CallJob, result: CallResult) -> ResultLine:
    try:
        receiver = job.receiver(result.receiver_id)
    except KeyError:
        phone, name = "****", ""
    else:
        phone, name = mask_phone(receiver.phone_number), receiver.fields.get(NAME_COLUMN, "")
    return ResultLine(
        receiver_id=result.receiver_id,
        name=name.strip(),
        phone=phone,
        status=result.status,
        answers=", ".join(a if a is not None else "–" for a in result.answers),
        attempts=result.attempts,
    )
