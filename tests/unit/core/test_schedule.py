"""Scheduled and recurring jobs: start_at and repeat, read, checked and expanded (domain)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.domain.intake import job_from_json, read_workbook
from backend.domain.models import CallJob, JobSettings
from backend.domain.repeat import ScheduleError, parse_repeat
from backend.domain.schedule import (
    MAX_OCCURRENCES,
    occurrence_job,
    occurrence_job_id,
    parse_start_at,
    schedule_id_for,
    schedule_of,
)
from backend.domain.weekdays import Weekday
from tests.unit.core.conftest import build_workbook

HK = ZoneInfo("Asia/Hong_Kong")
# Wednesday 2 December 2026, 10:00 in Hong Kong.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 18:00", datetime(2026, 12, 3, 18, 0, tzinfo=HK)),
        ("today 7pm", datetime(2026, 12, 2, 19, 0, tzinfo=HK)),
        ("monday 08:30", datetime(2026, 12, 7, 8, 30, tzinfo=HK)),
        ("Wednesday 09:00", datetime(2026, 12, 9, 9, 0, tzinfo=HK)),  # today's 09:00 is gone
        ("wednesday at 11:00", datetime(2026, 12, 2, 11, 0, tzinfo=HK)),
        ("2026-12-07 18:00", datetime(2026, 12, 7, 18, 0, tzinfo=HK)),
        ("2026-12-07T18:00+00:00", datetime(2026, 12, 7, 18, 0, tzinfo=UTC)),
        ("09:30", datetime(2026, 12, 3, 9, 30, tzinfo=HK)),  # the next 09:30
    ],
)
def test_start_at_reads_iso_and_natural_forms_in_the_job_zone(
    text: str, expected: datetime
) -> None:
    assert parse_start_at(text, HK, NOW) == expected


@pytest.mark.parametrize("text", ["", "soon", "tomorrow", "2026-12-07", "monday 25:00", "13pm"])
def test_unreadable_start_at_says_what_to_write(text: str) -> None:
    with pytest.raises(ScheduleError, match="tomorrow 18:00"):
        parse_start_at(text, HK, NOW)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Daily", "daily"),
        ("weekdays", "weekdays"),
        ("weekly", "weekly"),
        ("weekly on Thursday, monday", "weekly on mon,thu"),
        ("every mon and wed", "weekly on mon,wed"),
        ("weekly until 2027-03-31", "weekly until 2027-03-31"),
        ("daily 10 times", "daily 10 times"),
        ("weekly on mon,tue,wed,thu,fri", "weekdays"),
    ],
)
def test_repeat_rules_read_back_to_one_canonical_form(text: str, canonical: str) -> None:
    assert parse_repeat(text).text == canonical
    assert parse_repeat(canonical).text == canonical


@pytest.mark.parametrize(
    "text", ["hourly", "weekly on funday", "daily until tomorrow", "daily 0 times"]
)
def test_unreadable_repeat_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="repeat"):
        parse_repeat(text)


def _job(**settings: object) -> CallJob:
    return CallJob(job_id="weekly-check", settings=JobSettings.model_validate(settings))


def test_weekly_occurrences_keep_local_wall_clock_across_daylight_saving() -> None:
    job = _job(
        start_at="2027-03-01T18:00:00-05:00",
        timezone="America/New_York",
        repeat="weekly on monday,thursday until 2027-03-22",
    )
    schedule = schedule_of(job)
    assert schedule is not None
    found = schedule.occurrences()
    assert [at.date() for at in found] == [date(2027, 3, d) for d in (1, 4, 8, 11, 15, 18, 22)]
    assert {at.hour for at in found} == {18}  # 18:00 local before and after 14 March
    assert found[0].utcoffset() != found[-1].utcoffset()


def test_count_ends_a_repeat_and_a_repeat_ends_within_a_year() -> None:
    counted = schedule_of(_job(start_at="2026-12-07T09:00:00+00:00", repeat="weekdays 3 times"))
    assert counted is not None
    assert [at.day for at in counted.occurrences()] == [7, 8, 9]
    endless = schedule_of(_job(start_at="2026-12-07T09:00:00+00:00", repeat="weekly"))
    assert endless is not None
    weekly = endless.occurrences()
    assert len(weekly) == 53
    assert all(at.weekday() == 0 for at in weekly)
    assert weekly[-1] - weekly[0] <= timedelta(days=366)


def test_occurrence_job_ids_are_deterministic_per_occurrence_and_fit_the_job_id_pattern() -> None:
    long_id = "x" * 80
    schedule_id = schedule_id_for(long_id)
    assert len(schedule_id) <= 64
    assert schedule_id == schedule_id_for(long_id)
    at = datetime(2026, 12, 7, 18, 0, tzinfo=HK)
    first = occurrence_job_id(schedule_id, at)
    assert first == occurrence_job_id(schedule_id, at.astimezone(UTC))
    assert first != occurrence_job_id(schedule_id, at + timedelta(days=7))
    job = occurrence_job(_job(start_at=at.isoformat(), repeat="weekly"), schedule_id, at)
    assert job.job_id == first
    assert len(first) <= 80
    assert job.settings.start_at is None
    assert job.settings.repeat is None
    CallJob.model_validate(job.model_dump())  # the id is a valid job id


def _config(*rows: tuple[str, str]) -> bytes:
    return build_workbook(
        config=(
            ("Key", "Value"),
            ("greeting", "Hello {{ name }}."),
            ("ending", "Goodbye."),
            ("phone_prefix", "+852"),
            ("timezone", "Asia/Hong_Kong"),
            *rows,
        )
    )


def _read(*rows: tuple[str, str]) -> tuple[list[str], list[str], CallJob | None]:

    result = read_workbook(_config(*rows), filename="job.xlsx", now=NOW)
    return [str(p) for p in result.problems], [str(w) for w in result.warnings], result.job


def test_workbook_start_at_and_repeat_become_job_settings() -> None:
    problems, _, job = _read(("start_at", "monday 18:00"), ("repeat", "Weekly on Thursday,Monday"))
    assert problems == []
    assert job is not None
    assert job.settings.start_at == datetime(2026, 12, 7, 18, 0, tzinfo=HK)
    assert job.settings.repeat == "weekly on mon,thu"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ((("start_at", "2026-12-01 18:00"),), "is in the past"),
        ((("start_at", "next blue moon"),), "is not a time Callouts can read"),
        ((("repeat", "weekly"),), "repeat needs a start_at"),
        ((("start_at", "monday 18:00"), ("repeat", "daily until 2026-12-05")), "never fires"),
        ((("start_at", "monday 18:00"), ("repeat", "daily 400 times")), f"{MAX_OCCURRENCES}"),
        (
            (("start_at", "monday 18:00"), ("repeat", "weekly until 2028-12-31")),
            "longer than a year",
        ),
        ((("start_at", "monday 18:00"), ("repeat", "fortnightly")), "not a rule"),
    ],
)
def test_bad_schedules_are_problems_naming_the_configures_cell(
    rows: tuple[tuple[str, str], ...], expected: str
) -> None:
    problems, _, job = _read(*rows)
    assert job is None
    assert any(
        expected in p and "sheet Configures" in p and "column Value" in p for p in problems
    ), problems


def test_a_start_outside_everybody_s_calling_hours_is_a_warning_not_a_problem() -> None:
    problems, warnings, job = _read(("start_at", "sunday 18:00"))  # the default window: Mon-Sat
    assert problems == []
    assert job is not None
    assert any(
        "outside everybody's calling hours" in w and "start_at" in w.lower() for w in warnings
    )
    _, quiet, _ = _read(("start_at", "monday 18:00"))
    assert not any("calling hours" in w for w in quiet)


def _json(settings: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "job_id": "json-job",
            "greeting": "Hello.",
            "ending": "Bye.",
            "questions": [{"template": "OK?", "type": "OK"}],
            "receivers": [{"id": "1", "phone_number": "+85251234567"}],
            "settings": settings,
        }
    ).encode()


def test_json_settings_read_start_at_like_the_workbook_and_name_the_field() -> None:
    ok = job_from_json(_json({"start_at": "tomorrow 18:00", "timezone": "Asia/Hong_Kong"}), now=NOW)
    assert ok.ok
    assert ok.job is not None
    assert ok.job.settings.start_at == datetime(2026, 12, 3, 18, 0, tzinfo=HK)
    bad = job_from_json(_json({"start_at": "whenever"}), now=NOW)
    assert not bad.ok
    assert [p.field for p in bad.problems] == ["settings.start_at"]
    past = job_from_json(_json({"start_at": "2026-11-30T18:00:00+08:00"}), now=NOW)
    assert [p.field for p in past.problems] == ["settings.start_at"]
    rule = job_from_json(
        _json({"start_at": "2026-12-07T18:00:00+08:00", "repeat": "yearly"}), now=NOW
    )
    assert [p.field for p in rule.problems] == ["settings.repeat"]


def test_the_stored_job_json_reads_back_the_same() -> None:
    ok = job_from_json(
        _json({"start_at": "2026-12-07T18:00:00+08:00", "repeat": "weekdays 5 times"}), now=NOW
    )
    assert ok.job is not None
    again = job_from_json(json.dumps(ok.job.model_dump(mode="json")), now=NOW)
    assert again.job == ok.job
    assert Weekday.MON in (schedule_of(ok.job).rule.days or ())  # type: ignore[union-attr]
