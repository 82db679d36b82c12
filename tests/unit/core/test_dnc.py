"""The do-not-call list and daily cap: hashing, the SQLite adapter, its key file, check_dial."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.domain.dnc import (
    DO_NOT_CALL,
    DialVerdict,
    NumberHasher,
    add_number,
    call_day,
    check_dial,
    is_listed,
    listed_receivers,
    remove_number,
)
from backend.domain.models import CallJob, JobSettings, Receiver
from backend.domain.opt_out import is_opt_out
from backend.local.dnc import DncKeyError, SqliteDoNotCall, load_or_create_key

HK = "+85291234567"
UK = "+447400123456"
T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong


@pytest.fixture
def dnc(tmp_path: Path) -> SqliteDoNotCall:
    return SqliteDoNotCall.beside(tmp_path / "callouts.db")


def job_of(*numbers: str, cap: int = 3) -> CallJob:
    return CallJob(
        job_id="j1",
        receivers=tuple(Receiver(id=str(i), phone_number=n) for i, n in enumerate(numbers, 1)),
        settings=JobSettings(max_calls_per_day=cap),
    )


def test_numbers_are_stored_as_keyed_hashes_never_as_numbers(
    tmp_path: Path, dnc: SqliteDoNotCall
) -> None:
    assert add_number(dnc, HK, "cli")
    assert not add_number(dnc, HK, "cli")  # already there: kept as it was
    (entry,) = dnc.entries()
    assert entry.key == dnc.key(HK)
    assert len(entry.key) == 64
    assert entry.source == "cli"
    raw = (tmp_path / "donotcall.db").read_bytes()
    assert HK.encode() not in raw
    assert b"91234567" not in raw
    assert is_listed(dnc, HK)
    assert not is_listed(dnc, UK)
    assert remove_number(dnc, HK)
    assert not remove_number(dnc, HK)
    assert not is_listed(dnc, HK)


def test_the_hash_depends_on_the_deployment_secret() -> None:
    one, other = NumberHasher(b"a" * 32), NumberHasher(b"b" * 32)
    assert one.key(HK) == one.key(HK) != other.key(HK)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        NumberHasher(b"short")


def test_the_key_file_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "home" / "donotcall.key"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == first
    assert len(first) == 32
    # the list survives a new process: same key, same hashes
    a = SqliteDoNotCall.beside(tmp_path / "home" / "callouts.db")
    add_number(a, HK, "test")
    b = SqliteDoNotCall.beside(tmp_path / "home" / "callouts.db")
    assert is_listed(b, HK)


def test_a_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "donotcall.key"
    path.write_text("not hex at all")
    with pytest.raises(DncKeyError, match="restore it"):
        load_or_create_key(path)


def test_listed_receivers_of_a_job(dnc: SqliteDoNotCall) -> None:
    add_number(dnc, UK, "cli")
    job = job_of(HK, UK, "+85261234567")
    assert [r.id for r in listed_receivers(job, dnc)] == ["2"]


def test_check_dial_never_admits_a_listed_number(dnc: SqliteDoNotCall) -> None:
    job = job_of(HK)
    add_number(dnc, HK, "cli")
    check = check_dial(job, job.receivers[0], "j1:1:1", T0, dnc, dnc)
    assert check.verdict is DialVerdict.DO_NOT_CALL
    assert dnc.dials(dnc.key(HK), "2026-11-28") == 0  # a refused dial is not counted
    assert DO_NOT_CALL == "do-not-call"


def test_the_daily_cap_counts_dials_across_jobs_per_local_day(dnc: SqliteDoNotCall) -> None:
    job = job_of(HK, cap=2)
    receiver = job.receivers[0]
    assert check_dial(job, receiver, "a:1:1", T0, dnc, dnc).verdict is DialVerdict.DIAL
    assert check_dial(job, receiver, "b:1:1", T0, dnc, dnc).verdict is DialVerdict.DIAL
    # the same call again (a redelivered task) is admitted and not counted twice
    assert check_dial(job, receiver, "b:1:1", T0, dnc, dnc).verdict is DialVerdict.DIAL
    capped = check_dial(job, receiver, "c:1:1", T0, dnc, dnc)
    assert capped.verdict is DialVerdict.CAPPED
    # next Hong Kong midnight, in UTC
    assert capped.wait_until == datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    assert dnc.dials(dnc.key(HK), "2026-11-28") == 2
    tomorrow = capped.wait_until + timedelta(hours=2)
    assert check_dial(job, receiver, "c:1:1", tomorrow, dnc, dnc).verdict is DialVerdict.DIAL


def test_call_day_is_the_numbers_local_date() -> None:
    late = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # 01:00 on the 29th in Hong Kong
    assert call_day(HK, late)[0] == "2026-11-29"
    assert call_day(UK, late)[0] == "2026-11-28"


@pytest.mark.parametrize(
    ("intent", "slot", "expected"),
    [
        ("OptOutIntent", None, True),
        ("AMAZON.OptOutIntent", "", True),
        ("FallbackIntent", "*", True),
        ("*", None, True),
        ("YesIntent", None, False),
        (None, None, False),
        ("NumberIntent", "12", False),
    ],
)
def test_is_opt_out(intent: str | None, slot: str | None, expected: bool) -> None:
    assert is_opt_out(intent, slot) is expected


def test_the_summary_and_report_count_do_not_call_and_opted_out(tmp_path: Path) -> None:
    import openpyxl

    from backend.domain.models import CallResult, CallStatus
    from backend.domain.report import write_xlsx
    from backend.domain.summary import summary

    job = job_of(HK, UK, "+85261234567")
    results = [
        CallResult(job_id="j1", receiver_id="1", status=CallStatus.NOT_CALLABLE, error=DO_NOT_CALL),
        CallResult(job_id="j1", receiver_id="2", status=CallStatus.NOT_CALLABLE, error="invalid"),
        CallResult(job_id="j1", receiver_id="3", status=CallStatus.OPTED_OUT),
    ]
    counted = summary(job, results)
    assert counted.do_not_call == 1
    assert counted.statuses[CallStatus.OPTED_OUT] == 1
    assert counted.to_json()["do_not_call"] == 1
    write_xlsx(job, results, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Summary"]
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert cells["Do-not-call"] == 1
    assert cells["OptedOut"] == 1
