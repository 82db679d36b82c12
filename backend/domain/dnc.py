"""Nobody called against their wish or too often: the do-not-call list and the daily cap.

- **Opt-out in the call** (`backend.domain.opt_out`): "stop" or `*` ends the call as `OptedOut`
  and the flow Lambda puts the session's `number_key` on the list at once.
- **Do-not-call list**: numbers are kept as a keyed hash (HMAC-SHA256 with a per-deployment
  secret), never as the number itself. The list holds `DncEntry(key, added_at, source)`.
- **Daily cap**: at most `JobSettings.max_calls_per_day` dials per number per local day, across
  jobs. A dial is counted when it is admitted, before the call leaves (`DialCounter.admit`).

Two checks, one list:
- **At intake** `mark_do_not_call` writes the job's listed receivers into `CallJob.do_not_call`
  (every door: workbook, JSON, chat form; and again when a runner starts the job). Each ends as
  `do_not_call_result` without a call; the previews count `CallJob.do_not_call`.
- **Just before dialling** `check_dial`, the backstop for a number listed after intake: the local
  engine's pre-dial gate and the AWS dialer call it with their adapters (`backend/local/dnc.py`,
  `backend/aws/dnc.py`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.domain.results import CallResult, CallStatus

if TYPE_CHECKING:  # the flow Lambda puts opt-outs on the list and imports no job models
    from backend.domain.models import CallJob, Receiver

DO_NOT_CALL = "do-not-call"  # the error of a NotCallable result for a number on the list
MIN_SECRET_BYTES = 16


class NumberHasher:
    """HMAC-SHA256 of an E.164 number with the deployment's secret: the list's only key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the do-not-call secret needs at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def key(self, phone_number: str) -> str:
        return hmac.new(self._secret, phone_number.strip().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class DncEntry:
    """One number on the list: its keyed hash, when and how it was added."""

    key: str
    added_at: datetime
    source: str


class DoNotCallLookup(Protocol):
    """What intake needs of the list: is a number on it (by its keyed hash)?"""

    def key(self, phone_number: str) -> str:
        """The keyed hash this list stores for a number."""
        ...

    def listed_keys(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` that are on the list."""
        ...


class DoNotCallList(DoNotCallLookup, Protocol):
    """The do-not-call list across jobs: SQLite locally, DynamoDB on AWS."""

    def add_key(self, key: str, source: str, now: datetime | None = None) -> bool:
        """Put a hashed number on the list; False if it was there already (kept as it was)."""
        ...

    def remove_key(self, key: str) -> bool:
        """Take a hashed number off the list; False if it was not there."""
        ...

    def entries(self) -> list[DncEntry]:
        """Every entry, oldest first."""
        ...


class DialCounter(Protocol):
    """Dials per hashed number and local day, across jobs."""

    def admit(self, key: str, day: str, call_id: str, cap: int) -> bool:
        """Count `call_id` as a dial of `key` on `day` unless `cap` dials are counted already.

        The same `call_id` again is admitted without being counted twice (a redelivered task).
        """
        ...


def add_number(dnc: DoNotCallList, phone_number: str, source: str) -> bool:
    return dnc.add_key(dnc.key(phone_number), source)


def remove_number(dnc: DoNotCallList, phone_number: str) -> bool:
    return dnc.remove_key(dnc.key(phone_number))


def is_listed(dnc: DoNotCallList, phone_number: str) -> bool:
    key = dnc.key(phone_number)
    return key in dnc.listed_keys([key])


def listed_receivers(job: CallJob, dnc: DoNotCallLookup) -> list[Receiver]:
    """The job's receivers whose number is on the list now."""
    keys = {receiver.id: dnc.key(receiver.phone_number) for receiver in job.receivers}
    listed = dnc.listed_keys(keys.values()) if keys else set()
    return [receiver for receiver in job.receivers if keys[receiver.id] in listed]


def mark_do_not_call(job: CallJob, dnc: DoNotCallLookup) -> CallJob:
    """The job with `do_not_call` naming exactly its receivers on the list now.

    The intake rule of every door, applied again by each runner as it starts the job (the list
    may have changed since the preview): those receivers end as `do_not_call_result`, never
    dialled.
    """
    listed = tuple(receiver.id for receiver in listed_receivers(job, dnc))
    return job if listed == job.do_not_call else job.model_copy(update={"do_not_call": listed})


def do_not_call_result(job_id: str, receiver_id: str, attempts: int = 0) -> CallResult:
    """The final result of a receiver on the list: `NotCallable`, error `do-not-call`, with the
    calls already made (0 when intake marked them)."""
    return CallResult(
        job_id=job_id,
        receiver_id=receiver_id,
        status=CallStatus.NOT_CALLABLE,
        error=DO_NOT_CALL,
        attempts=attempts,
    )


def intake_results(job: CallJob) -> dict[str, CallResult]:
    """The results intake decided (receivers on the list), by receiver id, in job order."""
    return {rid: do_not_call_result(job.job_id, rid) for rid in job.do_not_call}


# --- the daily cap -------------------------------------------------------------------------------


def _zone_of(phone_number: str) -> ZoneInfo:
    from backend.domain.phones import time_zones

    for name in time_zones(phone_number):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def call_day(phone_number: str, at: datetime) -> tuple[str, datetime]:
    """The number's local calendar day at `at` (ISO date) and when the next one starts (UTC).

    The day is that of the number's first time zone (`phonenumbers`), UTC when unknown.
    """
    zone = _zone_of(phone_number)
    local = at.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return local.date().isoformat(), midnight.astimezone(UTC)


class DialVerdict(StrEnum):
    DIAL = "dial"
    DO_NOT_CALL = "do_not_call"  # on the list: a final NotCallable (`DO_NOT_CALL`)
    CAPPED = "capped"  # the number had its calls today: wait until `wait_until`


@dataclass(frozen=True, slots=True)
class DialCheck:
    verdict: DialVerdict
    number_key: str
    wait_until: datetime | None = None


def check_dial(
    job: CallJob,
    receiver: Receiver,
    call_id: str,
    at: datetime,
    dnc: DoNotCallList,
    counter: DialCounter,
) -> DialCheck:
    """May `call_id` ring `receiver` now? Checked just before dialling, in both runners.

    A number on the list is never dialled. Otherwise the dial is counted against the number's
    daily cap; once `max_calls_per_day` dials are counted for its local day, the call waits for
    the next day (the attempt is not used up).
    """
    key = dnc.key(receiver.phone_number)
    if dnc.listed_keys([key]):
        return DialCheck(DialVerdict.DO_NOT_CALL, key)
    day, next_day = call_day(receiver.phone_number, at)
    if counter.admit(key, day, call_id, job.settings.max_calls_per_day):
        return DialCheck(DialVerdict.DIAL, key)
    return DialCheck(DialVerdict.CAPPED, key, next_day)
