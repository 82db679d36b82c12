"""Second-pass intake cases: odd layouts, calling windows, template bombs, unsupported settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.domain.intake import IntakeLimits, job_from_json, job_to_json, read_workbook
from backend.domain.models import MAX_RECEIVERS
from backend.domain.problems import Problem

Builder = Callable[..., bytes]
HK_MOBILE, HK_MOBILE_2 = "51234567", "51234568"
CONFIG = (("Key", "Value"), ("greeting", "Hello {{ name }}."), ("ending", "Bye."))
QUESTIONS = (("question_template", "question_type"), ("Coming?", "Yes/No"))
RECEIVERS = (("id", "phone_number", "name"), (1, HK_MOBILE, "Ann"), (2, HK_MOBILE_2, "Bob"))


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def with_setting(key: str, value: object) -> tuple[tuple[object, ...], ...]:
    return (*CONFIG, ("phone_prefix", "+852"), (key, value))


def test_row_of_whitespace_only_cells_is_skipped_like_an_empty_row(workbook: Builder) -> None:
    data = workbook(receivers=(*RECEIVERS, ("  ", " ", "\t")))
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert len(result.job.receivers) == 2


def test_title_rows_above_the_header_are_skipped(workbook: Builder) -> None:
    data = workbook(
        questions=(("Questions for the picnic",), (), *QUESTIONS),
        receivers=(("Class 3A parents", None, None), ("updated 1 May",), *RECEIVERS),
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert [r.id for r in result.job.receivers] == ["1", "2"]
    assert len(result.job.questions) == 1


def test_missing_header_names_the_columns_to_add(workbook: Builder) -> None:
    data = workbook(receivers=(("Class list",), ("name", "tel"), ("Ann", HK_MOBILE)))
    problems = read_workbook(data).problems
    assert {p.column for p in problems} == {"id", "phone_number"}
    assert all(p.sheet == "Receivers" for p in problems)


@pytest.mark.parametrize("window", ["09:00-24:30", "25:00-26:00", "09:60-10:00"])
def test_impossible_calling_window_is_a_problem(window: str, workbook: Builder) -> None:
    result = read_workbook(workbook(config=with_setting("calling_window", window)))
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 5, "Value")
    assert f"calling_window '{window}'" in problem.message


def test_window_may_end_at_midnight(workbook: Builder) -> None:
    result = read_workbook(workbook(config=with_setting("calling_window", "18:00-24:00")))
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.settings.calling_window is not None
    assert result.job.settings.calling_window.end == "24:00"


def test_overnight_window_is_refused_with_the_reason(workbook: Builder) -> None:
    problem = only(
        read_workbook(workbook(config=with_setting("calling_window", "20:00-08:00"))).problems
    )
    assert "overnight" in problem.message
    assert problem.row == 5


def _json_job(workbook: Builder) -> dict[str, object]:
    job = read_workbook(workbook()).job
    assert job is not None
    return job_to_json(job)


@pytest.mark.parametrize(
    ("start", "end"), [("25:00", "26:00"), ("20:00", "08:00"), ("09:00", "24:30")]
)
def test_json_calling_window_is_checked_like_the_workbook(
    start: str, end: str, workbook: Builder
) -> None:
    payload = _json_job(workbook)
    payload["settings"] = {"calling_window": {"start": start, "end": end}}
    result = job_from_json(payload)
    assert result.job is None or result.problems
    problem = only(result.problems)
    assert problem.field == "settings.calling_window"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("two", "max_attempts 'two' must be a whole number from 1 to 10"),
        (0, "max_attempts '0' must be a whole number from 1 to 10"),
        (2.5, "max_attempts '2.5' must be a whole number from 1 to 10"),
    ],
)
def test_number_settings_say_what_is_allowed(
    value: object, fragment: str, workbook: Builder
) -> None:
    problem = only(read_workbook(workbook(config=with_setting("max_attempts", value))).problems)
    assert fragment in problem.message
    assert "Input should" not in problem.message


@pytest.mark.parametrize(
    "greeting",
    ["{% include 'x' %}", "{% import 'x' as y %}", "{% extends 'x' %}", "{% from 'x' import y %}"],
)
def test_include_and_import_are_refused_at_the_template(greeting: str, workbook: Builder) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("greeting", greeting),
            ("ending", "Bye."),
            ("phone_prefix", "+852"),
        )
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 2, "Value")


def test_sandbox_refusal_is_reported_once_at_the_template_not_per_receiver(
    workbook: Builder,
) -> None:
    greeting = '{{ "{0.__class__}".format(name) }}'
    data = workbook(
        config=(
            ("Key", "Value"),
            ("greeting", greeting),
            ("ending", "Bye."),
            ("phone_prefix", "+852"),
        )
    )
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 2, "Value")
    assert "sandbox" in problem.message
    assert result.job is None


def test_prompt_too_long_for_text_to_speech_names_the_receiver_row(workbook: Builder) -> None:
    data = workbook(
        receivers=(
            ("id", "phone_number", "name"),
            (1, HK_MOBILE, "Ann"),
            (2, HK_MOBILE_2, "B" * 3200),
        )
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Receivers", 3)
    assert "3,000" in problem.message


@pytest.mark.parametrize(
    "greeting", ["{% raw %}Hello {{ name }}{% endraw %}", "Hello {{ '{{' }} name }}"]
)
def test_template_markup_that_would_be_read_out_is_a_problem(
    greeting: str, workbook: Builder
) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("greeting", greeting),
            ("ending", "Bye."),
            ("phone_prefix", "+852"),
        )
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 2, "Value")
    assert "read out" in problem.message


def test_headers_with_punctuation_become_template_variables(workbook: Builder) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("greeting", "Hello {{ parent_s_name }} of {{ class_2026 }}."),
            ("ending", "Bye."),
            ("phone_prefix", "+852"),
        ),
        questions=QUESTIONS,
        receivers=(
            ("ID", "Phone Number", "Parent's name", "Class (2026)"),
            (1, HK_MOBILE, "Ann", "3A"),
        ),
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.extra_columns == ("parent_s_name", "class_2026")


@pytest.mark.parametrize(
    "payload", ["[" * 100_000 + "]" * 100_000, '{"job_id": ' + "9" * 5000 + "}"]
)
def test_hostile_json_is_a_problem_not_a_crash(payload: str) -> None:
    from backend.domain.report import ReportInputError, load_results_json

    result = job_from_json(payload)
    assert result.job is None
    assert "not valid JSON" in only(result.problems).message
    with pytest.raises(ReportInputError, match="not valid JSON"):
        load_results_json(payload)


def test_empty_value_spoken_by_a_template_is_a_problem_on_its_cell(workbook: Builder) -> None:
    data = workbook(
        questions=QUESTIONS,
        receivers=(("id", "phone_number", "name"), (1, HK_MOBILE, "Ann"), (2, HK_MOBILE_2, "  ")),
    )
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "name")
    assert "empty" in problem.message
    assert result.job is not None
    assert [r.id for r in result.job.receivers] == ["1"]


@pytest.mark.parametrize(
    "greeting",
    [
        "Hello{% if name %} {{ name }}{% endif %}.",
        "Hello {{ name or 'there' }}.",
        "Hello {{ name|default('there', true) }}.",
        "Hello.",
    ],
)
def test_empty_value_is_fine_when_the_template_handles_it(greeting: str, workbook: Builder) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("greeting", greeting),
            ("ending", "Bye."),
            ("phone_prefix", "+852"),
        ),
        questions=QUESTIONS,
        receivers=(("id", "phone_number", "name"), (1, HK_MOBILE, "Ann"), (2, HK_MOBILE_2, None)),
    )
    result = read_workbook(data)
    assert result.ok, result.problems


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("id", "DATE", "a date"),
        ("phone_number", "DATE", "a date"),
        ("id", True, "TRUE/FALSE"),
        ("phone_number", False, "TRUE/FALSE"),
        ("id", "TIME", "a time"),
    ],
)
def test_dates_and_booleans_in_id_or_phone_cells_are_explained(
    column: str, value: object, kind: str, workbook: Builder
) -> None:
    from datetime import datetime, time

    cell = {"DATE": datetime(2026, 1, 2), "TIME": time(9, 30)}.get(str(value), value)
    row = [1, HK_MOBILE, "Ann"]
    row[0 if column == "id" else 1] = cell
    data = workbook(
        questions=QUESTIONS,
        receivers=(("id", "phone_number", "name"), tuple(row), (2, HK_MOBILE_2, "Bob")),
    )
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 2, column)
    assert kind in problem.message
    assert "Text" in problem.message


@pytest.mark.parametrize(
    ("config", "key", "row"),
    [
        ((("Key", "Value"), ("ending", "Bye."), ("phone_prefix", "+852")), "greeting", None),
        (
            (("Key", "Value"), ("greeting", "  "), ("ending", "Bye."), ("phone_prefix", "+852")),
            "greeting",
            2,
        ),
        ((("Key", "Value"), ("greeting", "Hi."), ("phone_prefix", "+852")), "ending", None),
    ],
)
def test_workbook_greeting_and_ending_are_required(
    config: tuple[tuple[object, ...], ...], key: str, row: int | None, workbook: Builder
) -> None:
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    problem = only(result.problems)
    assert (problem.sheet, problem.row) == ("Configures", row)
    assert f"the {key} is empty" in problem.message
    assert result.job is None


def test_title_rows_above_the_configures_header_are_skipped(workbook: Builder) -> None:
    config = (
        ("Picnic call settings",),
        ("written by Ms Lee", None),
        *CONFIG,
        ("phone_prefix", "+852"),
    )
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.ok, result.problems


def test_configures_without_a_header_row_still_reads_its_first_row(workbook: Builder) -> None:
    config = (("greeting", "Hello {{ name }}."), ("ending", "Bye."), ("phone_prefix", "+852"))
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.ok, result.problems


def test_timezone_is_the_jobs_fallback_zone_and_hours_stay_on(workbook: Builder) -> None:
    result = read_workbook(
        workbook(config=with_setting("timezone", "Asia/Tokyo"), questions=QUESTIONS)
    )
    assert result.job is not None
    window = result.job.settings.calling_window
    assert (window.start, window.end) == ("09:00", "20:00")
    assert result.job.settings.timezone == "Asia/Tokyo"


def test_max_receivers_above_the_limit_is_refused_up_front(workbook: Builder) -> None:
    book = workbook(config=with_setting("max_receivers", 20000))
    problem = only(read_workbook(book, limits=IntakeLimits(max_receivers=10_000)).problems)
    assert (problem.sheet, problem.column) == ("Configures", "Value")
    assert "above the limit of 10,000" in problem.message


def test_max_receivers_raises_the_default_guard_up_to_the_limit(workbook: Builder) -> None:
    assert IntakeLimits().max_receivers == MAX_RECEIVERS == 100_000
    assert read_workbook(workbook(config=with_setting("max_receivers", 100_000))).problems == []
    problem = only(read_workbook(workbook(config=with_setting("max_receivers", 100_001))).problems)
    assert problem.sheet == "Configures"


def test_more_receivers_than_the_jobs_guard_says_how_to_raise_it(workbook: Builder) -> None:
    rows = (("id", "phone_number"), (1, HK_MOBILE), (2, HK_MOBILE_2))
    book = workbook(config=with_setting("max_receivers", 1), receivers=rows)
    problems = read_workbook(book, limits=IntakeLimits(max_receivers=5)).problems
    assert any("set max_receivers (up to 5) in Configures" in p.message for p in problems)


def test_max_receivers_below_the_limit_lowers_it(workbook: Builder) -> None:
    assert read_workbook(workbook(config=with_setting("max_receivers", 500))).problems == []
