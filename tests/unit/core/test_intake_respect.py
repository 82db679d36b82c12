"""Intake of calling hours, days, zones, deadline and caller identification: each bad setting is a
problem naming its cell (workbook) or field (JSON); a missing organisation is only a warning."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.domain.intake import job_from_json, job_to_json, read_workbook
from backend.domain.problems import Problem
from backend.domain.weekdays import ALL_DAYS, Weekday

Builder = Callable[..., bytes]
HK_MOBILE, HK_MOBILE_2 = "51234567", "51234568"
CONFIG = (("Key", "Value"), ("greeting", "Hello {{ name }}."), ("ending", "Bye."))
QUESTIONS = (("question_template", "question_type"), ("Coming?", "Yes/No"))
IDENTIFIED = (("organisation", "Sunshine School"), ("callback_number", "21234567"))


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def settings_rows(*rows: tuple[str, object]) -> tuple[tuple[object, ...], ...]:
    return (*CONFIG, ("phone_prefix", "+852"), *IDENTIFIED, *rows)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("calling_window", "25:00-26:00", "is not a time of day"),
        ("calling_window", "20:00-08:00", "runs overnight"),
        ("calling_window", "9 to 5", "should be two times like 09:00-20:00"),
        ("calling_window", "09:00-09:00", "starts and ends at the same time"),
        ("calling_days", "weekdays-ish", "calling_days 'weekdays-ish': use day names"),
        ("calling_days", "Mon-Funday", "use day names such as Mon-Sat"),
        ("timezone", "Mars/Olympus", "timezone 'Mars/Olympus' is not a time zone name"),
        ("deadline_hours", "0", "deadline_hours '0' must be a whole number from 1 to 720"),
        ("deadline_hours", "soon", "must be a whole number from 1 to 720"),
        ("callback_number", "12", "callback_number: '12' is not a valid phone number"),
    ],
)
def test_bad_setting_is_a_problem_on_its_cell(
    key: str, value: str, fragment: str, workbook: Builder
) -> None:
    rows = [row for row in settings_rows() if row[0] != key]
    result = read_workbook(workbook(config=(*rows, (key, value)), questions=QUESTIONS))
    problem = only(result.problems)
    assert result.job is None
    assert (problem.sheet, problem.row, problem.column) == ("Configures", len(rows) + 1, "Value")
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Mon-Fri", ALL_DAYS[:5]),
        ("monday to friday", ALL_DAYS[:5]),
        ("Mon, Wed, Fri", (Weekday.MON, Weekday.WED, Weekday.FRI)),
        ("Sat-Mon", (Weekday.MON, Weekday.SAT, Weekday.SUN)),
        ("every day", ALL_DAYS),
    ],
)
def test_calling_days_are_read(text: str, days: tuple[Weekday, ...], workbook: Builder) -> None:
    result = read_workbook(
        workbook(config=settings_rows(("calling_days", text)), questions=QUESTIONS)
    )
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.settings.calling_window.days == days


def test_any_turns_calling_hours_off_and_is_said_so(workbook: Builder) -> None:
    result = read_workbook(
        workbook(config=settings_rows(("calling_window", "any")), questions=QUESTIONS)
    )
    assert result.job is not None
    assert result.job.settings.calling_window.always


def test_calling_hours_are_on_without_any_setting(workbook: Builder) -> None:
    result = read_workbook(workbook(config=settings_rows(), questions=QUESTIONS))
    assert result.job is not None
    window = result.job.settings.calling_window
    assert (window.span, window.days) == ("09:00-20:00", ALL_DAYS[:6])
    assert result.job.settings.deadline_hours == 168


def test_missing_organisation_and_callback_are_warnings_not_problems(workbook: Builder) -> None:
    result = read_workbook(workbook(questions=QUESTIONS))
    assert result.ok, result.problems
    assert [(w.sheet, w.column) for w in result.warnings] == [
        ("Configures", "organisation"),
        ("Configures", "callback_number"),
    ]
    assert "organisation is not set" in result.warnings[0].message


def test_identified_job_has_no_warnings_and_an_e164_callback(workbook: Builder) -> None:
    result = read_workbook(workbook(config=settings_rows(), questions=QUESTIONS))
    assert result.ok, result.problems
    assert not result.warnings, result.warnings
    assert result.job is not None
    assert result.job.settings.organisation == "Sunshine School"
    assert result.job.settings.callback_number == "+85221234567"


def test_receiver_timezone_cell_is_checked(workbook: Builder) -> None:
    receivers = (
        ("id", "phone_number", "name", "timezone"),
        (1, HK_MOBILE, "Ann", "Europe/London"),
        (2, HK_MOBILE_2, "Bob", "Europe/Londres"),
    )
    result = read_workbook(
        workbook(config=settings_rows(), questions=QUESTIONS, receivers=receivers)
    )
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "timezone")
    assert "timezone 'Europe/Londres' is not a time zone name" in problem.message


@pytest.mark.parametrize(
    ("number", "window"),
    [("+18005550123", "09:00-17:00"), ("+61412345678", "09:00-13:00")],
)
def test_number_whose_zones_never_share_the_window_asks_for_a_timezone(
    number: str, window: str, workbook: Builder
) -> None:
    receivers = (("id", "phone_number", "name"), (1, HK_MOBILE, "Ann"), (2, number, "Bob"))
    result = read_workbook(
        workbook(
            config=settings_rows(("calling_window", window)),
            questions=QUESTIONS,
            receivers=receivers,
        )
    )
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "timezone")
    assert "never open in all of them" in problem.message
    assert "add a 'timezone' column" in problem.message


def test_a_timezone_cell_makes_such_a_number_callable(workbook: Builder) -> None:
    receivers = (
        ("id", "phone_number", "name", "timezone"),
        (1, "+18005550123", "Ann", "America/Chicago"),
    )
    result = read_workbook(
        workbook(
            config=settings_rows(("calling_window", "09:00-17:00")),
            questions=QUESTIONS,
            receivers=receivers,
        )
    )
    assert result.ok, result.problems


def _json(workbook: Builder) -> dict[str, object]:
    job = read_workbook(workbook(config=settings_rows(), questions=QUESTIONS)).job
    assert job is not None
    return job_to_json(job)


@pytest.mark.parametrize(
    ("settings", "field", "fragment"),
    [
        ({"calling_window": {"start": "25:00", "end": "26:00"}}, "settings.calling_window", "25"),
        ({"calling_window": {"start": "20:00", "end": "08:00"}}, "settings.calling_window", "over"),
        ({"calling_window": {"days": ["Mon", "Funday"]}}, "settings.calling_window.days.1", ""),
        ({"calling_window": {"days": []}}, "settings.calling_window.days", ""),
        ({"timezone": "Mars/Olympus"}, "settings.timezone", "not a time zone name"),
        ({"deadline_hours": 0}, "settings.deadline_hours", ""),
        ({"callback_number": "12"}, "settings.callback_number", "not a valid phone number"),
    ],
)
def test_json_bad_settings_name_their_field(
    settings: dict[str, object], field: str, fragment: str, workbook: Builder
) -> None:
    payload = _json(workbook)
    payload["settings"] = {**settings, "organisation": "Sunshine School"}
    result = job_from_json(payload)
    assert result.job is None or result.problems
    problem = only(result.problems)
    assert problem.field == field
    assert fragment in problem.message


def test_json_any_window_and_null_default(workbook: Builder) -> None:
    payload = _json(workbook)
    payload["settings"] = {"calling_window": "any", "organisation": "S"}
    result = job_from_json(payload)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.settings.calling_window.always
    payload["settings"] = {"calling_window": None, "organisation": "S"}
    result = job_from_json(payload)
    assert result.job is not None
    assert result.job.settings.calling_window.span == "09:00-20:00"
