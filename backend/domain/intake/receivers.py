"""Receiver rows -> Receivers: ids, phone numbers (E.164, allowed countries), duplicates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from backend.domain.intake.locations import Where
from backend.domain.intake.problem_log import ProblemLog
from backend.domain.intake.rows import ReceiverRow
from backend.domain.models import JobSettings, Receiver
from backend.domain.phones import PhoneError, to_e164

MAX_ID_LENGTH = 100
# Spaces other than " " (no-break, thin, ideographic) and format characters (zero-width space,
# direction marks and isolates contact apps add, BOM, word joiner): invisible in a phone number.
_INVISIBLE = re.compile(r"[\u00a0\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\u00ad]")


def visible_phone(text: str) -> str:
    """The phone number without the invisible characters pasted around and inside it."""
    if text.isascii():
        return text
    cleaned = _INVISIBLE.sub(" ", text)
    return "".join(" " if unicodedata.category(ch) == "Cf" else ch for ch in cleaned)


def check_receivers(
    receivers: Sequence[ReceiverRow],
    prefix: str | None,
    settings: JobSettings,
    extra_columns: Sequence[str],
    where: Where,
    problems: ProblemLog,
    *,
    max_value_chars: int = 3_000,
) -> list[tuple[Receiver, int]]:
    """The valid receivers with their rows; every other row gets a row problem.

    `prefix` None means phone_prefix is broken (already reported): numbers are not checked.
    """
    allowed = frozenset(settings.allowed_countries)
    known_fields = frozenset(extra_columns)
    ids: dict[str, int] = {}
    phones: dict[str, int] = {}
    valid: list[tuple[Receiver, int]] = []
    for row in receivers:
        good = True
        receiver_id = row.id.strip()
        if not receiver_id:
            problems.add(
                where.receiver(row.row, "id", "the id is empty: give every receiver an id"),
                job_level=False,
            )
            good = False
        elif len(receiver_id) > MAX_ID_LENGTH:
            problems.add(
                where.receiver(row.row, "id", f"the id is longer than {MAX_ID_LENGTH} characters"),
                job_level=False,
            )
            good = False
        elif receiver_id in ids:
            problems.add(
                where.receiver(
                    row.row,
                    "id",
                    f"duplicate id '{receiver_id}': already used on {where.ref(ids[receiver_id])}; "
                    "give every receiver its own id",
                ),
                job_level=False,
            )
            good = False
        else:
            ids[receiver_id] = row.row
        phone = ""
        try:
            if prefix is not None:
                phone = to_e164(visible_phone(row.phone), prefix, allowed)
        except PhoneError as error:
            problems.add(where.receiver(row.row, "phone_number", str(error)), job_level=False)
            good = False
        if phone:
            first = phones.get(phone)
            if first is not None:
                problems.add(
                    where.receiver(
                        row.row,
                        "phone_number",
                        f"duplicate phone number: the same number is on {where.ref(first)}; "
                        "each person is called once per job",
                    ),
                    job_level=False,
                )
                good = False
            else:
                phones[phone] = row.row
        for name, value in row.fields.items():
            if len(value) > max_value_chars:
                problems.add(
                    where.receiver(
                        row.row,
                        name,
                        f"the value is {len(value):,} characters long, over the limit of "
                        f"{max_value_chars:,} (more than one prompt can say): shorten it",
                    ),
                    job_level=False,
                )
                good = False
        if known_fields:
            for name in row.fields:
                if name not in known_fields:
                    problems.add(
                        where.receiver(
                            row.row, name, f"field '{name}' is not one of the extra_columns"
                        ),
                        job_level=False,
                    )
                    good = False
        if good:
            receiver = Receiver.model_construct(
                id=receiver_id, phone_number=phone, fields=row.fields
            )
            valid.append((receiver, row.row))
    return valid
