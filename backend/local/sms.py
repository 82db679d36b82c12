"""SMS on a laptop: the simulated outbox (a table of the job database) and a simulated gateway.

Nothing leaves the machine. The gateway accepts a message for a number that can take texts and
refuses one for a landline (`phonenumbers` says the number is fixed-line only), as a real
gateway's carrier would: so a job can show a Failed SMS without a network.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import phonenumbers

from backend.domain.sms import SmsResult, SmsSendError
from backend.local.lease import RunId
from backend.local.store import SqliteStore

LANDLINE = "the number is a landline and cannot receive texts"


class StoreOutbox:
    """`domain.sms.SmsOutbox` on the job database, every write under the run's lease."""

    def __init__(self, store: SqliteStore, run: RunId) -> None:
        self.store = store
        self.run = run

    def claim(self, job_id: str, receiver_id: str, body: str, at: datetime) -> bool:
        return self.store.claim_sms(job_id, receiver_id, body, at, self.run)

    def finish(self, result: SmsResult) -> None:
        self.store.finish_sms(result, self.run)

    def outcome(self, job_id: str, receiver_id: str) -> SmsResult | None:
        return self.store.sms_outcome(job_id, receiver_id)


class SimulatedSmsGateway:
    """`domain.sms.SmsSender` that delivers into the outbox table (the claim holds the text);
    it keeps no record of its own (tests count from tests/fakes/sms.py)."""

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        number = phonenumbers.parse(phone_number)
        if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
            raise SmsSendError(LANDLINE)
        digest = hashlib.sha256(f"{job_id}:{receiver_id}".encode()).hexdigest()[:12]
        return f"sim-{digest}"
