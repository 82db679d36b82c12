"""Who gets the SMS after a job (domain.sms), and that nobody gets two."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.dnc import DO_NOT_CALL, DncEntry
from backend.domain.models import CallJob, CallResult, CallStatus, Receiver
from backend.domain.sms import (
    INTERRUPTED,
    NOT_SET_UP,
    OUTSIDE_HOURS,
    SmsResult,
    SmsSendError,
    SmsStatus,
    SmsTally,
    sms_off_warning,
    text_the_unreached,
)

NOON_HK = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Tuesday 12:00 in Hong Kong
NIGHT_HK = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Wednesday 00:00 in Hong Kong


class Outbox:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], str] = {}
        self.outcomes: dict[tuple[str, str], SmsResult] = {}

    def claim(self, job_id: str, receiver_id: str, body: str, at: datetime) -> bool:
        if (job_id, receiver_id) in self.claims:
            return False
        self.claims[(job_id, receiver_id)] = body
        return True

    def finish(self, result: SmsResult) -> None:
        self.outcomes.setdefault((result.job_id, result.receiver_id), result)

    def outcome(self, job_id: str, receiver_id: str) -> SmsResult | None:
        return self.outcomes.get((job_id, receiver_id))


class Gateway:
    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[tuple[str, str]] = []  # (phone, body)
        self.refuse = refuse

    def send(self, job_id: str, receiver_id: str, phone_number: str, body: str) -> str:
        if phone_number in self.refuse:
            raise SmsSendError("ValidationException: invalid number")
        self.sent.append((phone_number, body))
        return f"m{len(self.sent)}"


class Dnc:
    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers

    def key(self, phone_number: str) -> str:
        return phone_number

    def add_key(self, key: str, source: str, now: datetime | None = None) -> bool:
        return True

    def remove_key(self, key: str) -> bool:
        return True

    def listed_keys(self, keys: object) -> set[str]:
        return {k for k in keys if k in self.numbers}  # type: ignore[attr-defined]

    def entries(self) -> list[DncEntry]:
        return []


def job_of(count: int, template: str = "Hi {{ name }}, we missed you.") -> CallJob:
    return CallJob(
        job_id="j1",
        greeting="Hello",
        ending="Bye",
        sms_template=template,
        receivers=tuple(
            Receiver(id=f"r{i}", phone_number=f"+8525123{i:04d}", fields={"name": f"N{i}"})
            for i in range(count)
        ),
        extra_columns=("name",),
    )


def results_of(job: CallJob, statuses: list[CallStatus]) -> list[CallResult]:
    return [
        CallResult(job_id=job.job_id, receiver_id=r.id, status=s)
        for r, s in zip(job.receivers, statuses, strict=True)
    ]


def text(job: CallJob, results: list[CallResult], **kwargs: object) -> dict[str, SmsResult]:
    options: dict[str, object] = {
        "outbox": Outbox(),
        "sender": Gateway(),
        "dnc": None,
        "now": NOON_HK,
    }
    options.update(kwargs)
    return text_the_unreached(job, results, **options)  # type: ignore[arg-type]


def test_only_the_textable_statuses_are_texted() -> None:
    statuses = list(CallStatus)
    job = job_of(len(statuses))
    gateway = Gateway()
    texted = text(job, results_of(job, statuses), sender=gateway)
    by_status = {s: texted.get(f"r{i}") for i, s in enumerate(statuses)}
    assert {s for s, r in by_status.items() if r is not None} == {
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.NO_HUMAN,
        CallStatus.EXPIRED,
    }
    assert all(r.status is SmsStatus.SENT for r in texted.values())
    assert sorted(body for _, body in gateway.sent) == sorted(
        f"Hi N{i}, we missed you." for i, s in enumerate(statuses) if s.textable
    )


def test_no_template_or_a_cancelled_job_texts_nobody() -> None:
    job = job_of(2)
    results = results_of(job, [CallStatus.NO_ANSWER, CallStatus.BUSY])
    gateway = Gateway()
    assert text(job, results, sender=gateway, cancelled=True) == {}
    assert text(job.model_copy(update={"sms_template": " "}), results, sender=gateway) == {}
    assert gateway.sent == []


def test_do_not_call_hours_and_no_sender_skip_with_the_reason() -> None:
    job = job_of(2)
    results = results_of(job, [CallStatus.NO_ANSWER, CallStatus.NO_ANSWER])
    listed = {job.receivers[0].phone_number}
    gateway = Gateway()
    texted = text(job, results, sender=gateway, dnc=Dnc(listed))
    assert texted["r0"].label == f"Skipped: {DO_NOT_CALL}"
    assert texted["r1"].label == "Sent"
    assert [phone for phone, _ in gateway.sent] == [job.receivers[1].phone_number]
    assert text(job, results, now=NIGHT_HK)["r1"].label == f"Skipped: {OUTSIDE_HOURS}"
    assert text(job, results, sender=None)["r1"].label == f"Skipped: {NOT_SET_UP}"


def test_a_refused_message_is_failed_with_the_providers_reason() -> None:
    job = job_of(1)
    refused = Gateway(refuse=frozenset({job.receivers[0].phone_number}))
    texted = text(job, results_of(job, [CallStatus.BUSY]), sender=refused)
    assert texted["r0"].label == "Failed: ValidationException: invalid number"


def test_nobody_is_texted_twice_and_an_interrupted_claim_is_never_resent() -> None:
    job = job_of(3)
    results = results_of(job, [CallStatus.NO_ANSWER] * 3)
    outbox, gateway = Outbox(), Gateway()
    first = text(job, results, outbox=outbox, sender=gateway)
    outbox.claims[("j1", "ghost")] = "x"  # unrelated
    del outbox.outcomes[("j1", "r2")]  # as if the run died after sending r2, before the outcome
    second = text(job, results, outbox=outbox, sender=gateway)
    assert len(gateway.sent) == 3
    assert second["r0"] == first["r0"]
    assert second["r2"].label == f"Failed: {INTERRUPTED}"


def test_the_tally_sentence() -> None:
    assert SmsTally(12, 1, 0).sentence() == "Texted 12 people who were not reached; 1 failed."
    assert SmsTally(1, 0, 2).sentence() == "Texted 1 person who was not reached; 2 skipped."
    assert (
        SmsTally(0, 2, 1).sentence() == "Texted 0 people who were not reached; 2 failed, 1 skipped."
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(CallStatus)), st.booleans(), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_never_texts_the_reached_the_opted_out_or_the_listed(
    people: list[tuple[CallStatus, bool, bool]], cancelled: bool
) -> None:
    job = job_of(len(people))
    statuses = [status for status, _, _ in people]
    listed = {r.phone_number for r, (_, dnc, _) in zip(job.receivers, people, strict=True) if dnc}
    outbox, gateway = Outbox(), Gateway()
    for _ in range(2):  # a second run of the same job sends nothing more
        text(
            job,
            results_of(job, statuses),
            outbox=outbox,
            sender=gateway,
            dnc=Dnc(listed),
            cancelled=cancelled,
        )
    texted_phones = [phone for phone, _ in gateway.sent]
    assert len(texted_phones) == len(set(texted_phones))
    expected = {
        r.phone_number
        for r, (status, dnc, _) in zip(job.receivers, people, strict=True)
        if status.textable and not dnc and not cancelled
    }
    assert set(texted_phones) == expected
    for receiver, (status, _, _) in zip(job.receivers, people, strict=True):
        if status.reached or status in (CallStatus.NOT_CALLABLE, CallStatus.CANCELLED):
            assert receiver.phone_number not in texted_phones


@pytest.mark.parametrize("status", list(CallStatus))
def test_textable_is_the_retryable_plus_expired(status: CallStatus) -> None:
    assert status.textable == (status.retryable or status is CallStatus.EXPIRED)
    assert not (status.textable and status.reached)


def test_the_sms_off_warning_names_the_field_only_for_a_job_with_a_template() -> None:
    warning = sms_off_warning(job_of(1))
    assert warning is not None
    assert warning.field == "sms_template"
    assert "SmsOriginationIdentity" in warning.message
    assert sms_off_warning(job_of(1, template="")) is None
