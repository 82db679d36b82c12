"""Workbook intake: good paths and every bad-input case, with the problem's exact location."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.domain.intake import IntakeLimits, default_job_id, read_workbook
from backend.domain.models import QuestionType
from backend.domain.problems import Problem
from backend.domain.speech import Speech

Builder = Callable[..., bytes]
HK_MOBILE, HK_MOBILE_2, HK_FIXED, GB_MOBILE = "51234567", "51234568", "21234567", "+447400123456"

CONFIG = (("Key", "Value"), ("greeting", "Hello {{ name }}."), ("ending", "Bye."))
QUESTIONS = (("question_template", "question_type"), ("Coming?", "Yes/No"))


def receivers(*rows: tuple[object, ...], header: tuple[str, ...] = ("id", "phone_number", "name")):
    return (header, *rows)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- good paths -----------------------------------------------------------------------------


def test_good_workbook_gives_a_job_without_problems(workbook: Builder) -> None:
    result = read_workbook(workbook(), filename="Trip 3A.xlsx")
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    assert job.job_id.startswith("trip-3a-")
    assert [q.type for q in job.questions] == [QuestionType.YES_NO, QuestionType.NUMBER]
    assert [r.phone_number for r in job.receivers] == ["+85251234567", "+85251234568"]
    assert job.receivers[0].fields == {"name": "Ann"}
    assert job.phone_prefix == "+852"


@pytest.mark.parametrize(
    "titles", [("config", "QUESTIONS", "receivers"), ("Configuration", "Questions", " Receivers ")]
)
def test_sheet_names_match_case_insensitively_with_aliases(
    titles: tuple[str, str, str], workbook: Builder
) -> None:
    result = read_workbook(workbook(titles=titles))
    assert result.ok, result.problems


def test_headers_match_case_and_space_insensitively(workbook: Builder) -> None:
    data = workbook(
        questions=(("Question Template", " QUESTION_TYPE "), ("Coming?", "yes/no")),
        receivers=(("ID", "Phone Number", "Name"), (1, HK_MOBILE, "Ann")),
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.questions[0].type is QuestionType.YES_NO


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(12345678, "12345678"), (1.0, "1"), (8.52e10, "85200000000"), ("A-7", "A-7")],
)
def test_numeric_ids_become_text(cell: object, expected: str, workbook: Builder) -> None:
    data = workbook(receivers=receivers((cell, HK_MOBILE, "Ann")))
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.receivers[0].id == expected


@pytest.mark.parametrize("prefix", ["+852", "852", 852])
def test_phone_prefix_with_or_without_plus(prefix: object, workbook: Builder) -> None:
    config = (*CONFIG, ("phone_prefix", prefix))
    data = workbook(
        config=config, receivers=receivers((1, 51234567, "Ann"), (2, 85251234568.0, "Bob"))
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert [r.phone_number for r in result.job.receivers] == ["+85251234567", "+85251234568"]


def test_extra_columns_kept_in_order_and_are_template_variables(workbook: Builder) -> None:
    data = workbook(
        config=(
            *CONFIG[:1],
            ("greeting", "{{ class_name }} {{ first_name }} {{ id }}"),
            ("ending", "Bye."),
            ("phone_prefix", "852"),
        ),
        questions=QUESTIONS,
        receivers=(
            ("Class Name", "id", "First Name", "phone_number", "Guardian"),
            ("3A", 1, "Ann", HK_MOBILE, "Mo"),
        ),
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    assert job.extra_columns == ("class_name", "first_name", "guardian")
    assert list(job.receivers[0].fields) == ["class_name", "first_name", "guardian"]
    assert Speech(job).greeting(job.receivers[0]) == "<speak>3A Ann 1</speak>"


def test_empty_rows_are_skipped(workbook: Builder) -> None:
    data = workbook(
        questions=(("question_template", "question_type"), (None, None), ("Coming?", "Yes/No")),
        receivers=receivers(
            (None, None, None), (1, HK_MOBILE, "Ann"), (None, None, None), (2, HK_FIXED, "Bob")
        ),
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert len(result.job.receivers) == 2
    assert len(result.job.questions) == 1


def test_empty_questions_sheet_is_a_call_without_questions(workbook: Builder) -> None:
    data = workbook(questions=(("question_template", "question_type"),))
    result = read_workbook(data)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.questions == ()


def test_settings_in_configures(workbook: Builder) -> None:
    config = (
        *CONFIG,
        ("phone_prefix", "+852"),
        ("max_attempts", 3),
        ("retry_delay_seconds", "60"),
        ("concurrency", 5.0),
        ("allowed_countries", "hk, gb"),
        ("calling_window", "09:00-20:00"),
        ("timezone", "Asia/Hong_Kong"),
        ("voice", "Amy"),
        ("name", "Trip reminder"),
    )
    data = workbook(
        config=config, receivers=receivers((1, HK_MOBILE, "Ann"), (2, GB_MOBILE, "Bob"))
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    settings = job.settings
    assert (settings.max_attempts, settings.retry_delay_seconds, settings.concurrency) == (3, 60, 5)
    assert settings.allowed_countries == ("HK", "GB")
    assert (settings.calling_window.start, settings.calling_window.end) == ("09:00", "20:00")
    assert settings.timezone == "Asia/Hong_Kong"
    assert settings.voice == "Amy"
    assert job.name == "Trip reminder"


def test_receiver_values_are_escaped_in_prompts(workbook: Builder) -> None:
    data = workbook(
        receivers=receivers((1, HK_MOBILE, '<break time="100s"/>'), (2, HK_MOBILE_2, "Tom & Jerry"))
    )
    result = read_workbook(data)
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    speech = Speech(job)
    assert (
        speech.greeting(job.receivers[0])
        == "<speak>Hello &lt;break time=&quot;100s&quot;/&gt;.</speak>"
    )
    assert speech.greeting(job.receivers[1]) == "<speak>Hello Tom &amp; Jerry.</speak>"


def test_path_source_uses_the_file_name_for_the_job_id(tmp_path: Path, workbook: Builder) -> None:
    path = tmp_path / "Parents Evening.xlsx"
    path.write_bytes(workbook())
    result = read_workbook(path)
    assert result.ok
    assert result.job is not None
    assert result.job.job_id == default_job_id("Parents Evening.xlsx", path.read_bytes())


def test_default_job_id_is_stable_and_safe() -> None:
    first = default_job_id("Term 1 / Trip (final).xlsx", b"abc")
    assert first == default_job_id("Term 1 / Trip (final).xlsx", b"abc")
    assert first != default_job_id("Term 1 / Trip (final).xlsx", b"abd")
    assert first.startswith("trip-final-")
    long_id = default_job_id("x" * 300 + ".xlsx", b"abc")
    assert len(long_id) <= 80
    assert default_job_id("???.xlsx", b"").startswith("job-")


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_missing_sheet_is_named(missing: int, workbook: Builder) -> None:
    parts: list[object] = [CONFIG, QUESTIONS, receivers((1, HK_MOBILE, "Ann"))]
    parts[missing] = None
    result = read_workbook(workbook(*parts))  # type: ignore[arg-type]
    problem = only(result.problems)
    wanted = ("Configures", "Questions", "Receivers")[missing]
    assert problem.sheet == wanted
    assert f"no {wanted} sheet" in problem.message
    assert result.job is None


@pytest.mark.parametrize(
    ("header", "column"), [(("id", "name"), "phone_number"), (("phone_number", "name"), "id")]
)
def test_missing_receiver_column_is_named(
    header: tuple[str, ...], column: str, workbook: Builder
) -> None:
    data = workbook(receivers=(header, ("1", "Ann")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 1, column)
    assert f"no '{column}' column" in problem.message


def test_missing_question_column_is_named(workbook: Builder) -> None:
    data = workbook(questions=(("question_template",), ("Coming?",)))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Questions", 1, "question_type")


def test_unknown_question_type_lists_the_valid_types(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("Which day?", "Weekday")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Questions", 3, "question_type")
    assert "unknown question type 'Weekday'" in problem.message
    assert "OK, Yes/No, Multiple Choice, Number, Date, Time" in problem.message
    assert result.job is None


def test_empty_receivers_sheet(workbook: Builder) -> None:
    for rows in ((("id", "phone_number", "name"),), ()):
        result = read_workbook(workbook(receivers=rows))
        problem = only(result.problems)
        assert problem.sheet == "Receivers"
        assert "no receivers" in problem.message or "sheet is empty" in problem.message
        assert result.job is None


def test_more_receivers_than_the_limit(workbook: Builder) -> None:
    rows = [(i, f"5123{i:04d}", "x") for i in range(1, 6)]
    result = read_workbook(
        workbook(receivers=receivers(*rows)), limits=IntakeLimits(max_receivers=3)
    )
    problem = only(result.problems)
    assert problem.sheet == "Receivers"
    assert "more than 3 receivers" in problem.message
    assert result.job is None


def test_template_syntax_error_names_the_question_row(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("Bring {{ thing ?", "OK")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Questions", 3, "question_template")
    assert "template error" in problem.message


def test_template_syntax_error_in_greeting_names_the_configures_row(workbook: Builder) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("phone_prefix", 852),
            ("greeting", "Hi {% if %}"),
            ("ending", "Bye."),
        )
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 3, "Value")
    assert "the greeting has a template error" in problem.message


def test_undefined_variable_is_named_once_for_the_template(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("Hi {{ usernmae }}", "OK")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row) == ("Questions", 3)
    assert "{{ usernmae }}" in problem.message
    assert "no 'usernmae' column" in problem.message
    assert result.job is None


def test_undefined_attribute_found_by_rendering_names_the_receiver_row(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("Hi {{ name.first }}", "OK")))
    result = read_workbook(data)
    assert len(result.problems) == 2  # both receivers
    problem = result.problems[0]
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 2, "first")
    assert "question 2" in problem.message
    assert result.job is None  # no receiver left


def test_sandbox_escape_is_a_problem_not_a_crash(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("{{ ''.__class__.__mro__ }}", "OK")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Questions", 3)
    assert "not allowed" in problem.message


def test_speak_tag_in_template_is_a_problem(workbook: Builder) -> None:
    data = workbook(
        config=(
            ("Key", "Value"),
            ("phone_prefix", 852),
            ("ending", "<speak>Bye</speak>"),
            ("greeting", "Hi."),
        )
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Configures", 3)
    assert "<speak>" in problem.message


def test_bare_ampersand_in_template_is_invalid_ssml(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("Q&A tonight?", "Yes/No")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Questions", 3)
    assert "not valid SSML" in problem.message


def test_formula_cell_is_a_problem_for_that_cell(workbook: Builder) -> None:
    data = workbook(receivers=receivers((1, HK_MOBILE, "=A1&B1"), (2, HK_MOBILE_2, "Bob")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 2, "name")
    assert "type the value, not a formula" in problem.message
    assert result.job is not None  # the other receiver is fine; the job is not ok though
    assert [r.id for r in result.job.receivers] == ["2"]
    assert not result.ok


def test_formula_in_configures_means_no_job(workbook: Builder) -> None:
    data = workbook(
        config=(("Key", "Value"), ("greeting", "=B9"), ("ending", "Bye."), ("phone_prefix", 852))
    )
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 2, "Value")
    assert result.job is None


@pytest.mark.parametrize(
    ("phone", "fragment"),
    [("5123ABCD", "contains letters"), ("123", "too short"), ("+449012345678", "premium-rate")],
)
def test_bad_phone_number_is_a_problem_for_the_row(
    phone: str, fragment: str, workbook: Builder
) -> None:
    data = workbook(receivers=receivers((1, HK_MOBILE, "Ann"), (2, phone, "Bob")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "phone_number")
    assert fragment in problem.message
    assert result.job is not None
    assert [r.id for r in result.job.receivers] == ["1"]


def test_phone_outside_allowed_countries(workbook: Builder) -> None:
    config = (*CONFIG, ("phone_prefix", "+852"), ("allowed_countries", "HK"))
    data = workbook(
        config=config, receivers=receivers((1, HK_MOBILE, "Ann"), (2, GB_MOBILE, "Bob"))
    )
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "phone_number")
    assert "allowed_countries" in problem.message


def test_duplicate_id_names_the_first_row(workbook: Builder) -> None:
    data = workbook(receivers=receivers((7, HK_MOBILE, "Ann"), (7.0, HK_MOBILE_2, "Bob")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "id")
    assert "duplicate id '7'" in problem.message
    assert "row 2" in problem.message


def test_duplicate_phone_number_names_the_first_row(workbook: Builder) -> None:
    data = workbook(receivers=receivers((1, HK_MOBILE, "Ann"), (2, "852 " + HK_MOBILE, "Bob")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "phone_number")
    assert "row 2" in problem.message
    assert HK_MOBILE not in problem.message  # numbers are not repeated in problems


def test_empty_id_is_a_problem(workbook: Builder) -> None:
    data = workbook(receivers=receivers((None, HK_MOBILE, "Ann"), (2, HK_MOBILE_2, "Bob")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 2, "id")


def test_unknown_configures_key_names_row_and_key(workbook: Builder) -> None:
    data = workbook(config=(*CONFIG, ("phone_prefix", 852), ("greating", "Hi")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row) == ("Configures", 5)
    assert "unknown setting 'greating'" in problem.message
    assert result.job is None


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("max_attempts", "lots", "max_attempts 'lots'"),
        ("max_attempts", 99, "max_attempts '99'"),
        ("calling_window", "9 to 5", "calling_window '9 to 5'"),
        ("calling_window", "20:00-09:00", "runs overnight"),
        ("timezone", "Mars/Olympus", "timezone 'Mars/Olympus'"),
        ("allowed_countries", "HK, XX", "XX is not a two-letter country code"),
        ("phone_prefix", "+99999", "phone_prefix"),
    ],
)
def test_bad_setting_value_names_the_row(
    key: str, value: object, fragment: str, workbook: Builder
) -> None:
    data = workbook(config=(("Key", "Value"), ("greeting", "Hi"), (key, value)))
    result = read_workbook(data)
    assert result.job is None
    assert result.problems, "expected a problem"
    problem = result.problems[0]
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 3, "Value")
    assert fragment in problem.message


def test_key_set_twice(workbook: Builder) -> None:
    data = workbook(config=(*CONFIG, ("phone_prefix", 852), ("greeting", "Again")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Configures", 5)
    assert "set twice" in problem.message


def test_every_problem_is_reported_not_only_the_first(workbook: Builder) -> None:
    data = workbook(
        questions=(*QUESTIONS, ("Q", "Maybe")),
        receivers=receivers((1, "abc", "Ann"), (1, "12", "Bob")),
    )
    where = {(p.sheet, p.row, p.column) for p in read_workbook(data).problems}
    assert where == {
        ("Questions", 3, "question_type"),
        ("Receivers", 2, "phone_number"),
        ("Receivers", 3, "id"),
        ("Receivers", 3, "phone_number"),
    }


def test_identical_problems_are_capped_with_a_summary(workbook: Builder) -> None:
    rows = [(i, "12", "x") for i in range(1, 31)]
    result = read_workbook(workbook(receivers=receivers(*rows)))
    assert len(result.problems) == 21
    assert all(p.row is not None for p in result.problems[:20])
    summary = result.problems[-1]
    assert summary.message.startswith("…and 10 more rows with the same problem")
    assert summary.sheet == "Receivers"


def test_bad_prefix_is_one_problem_not_one_per_receiver(workbook: Builder) -> None:
    data = workbook(config=(*CONFIG, ("phone_prefix", "+99999")))
    result = read_workbook(data)
    problem = only(result.problems)
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 4, "Value")
    assert result.job is None


def test_more_questions_than_the_limit(workbook: Builder) -> None:
    rows = [("Q?", "OK")] * 60
    result = read_workbook(workbook(questions=(("question_template", "question_type"), *rows)))
    problem = only(result.problems)
    assert (problem.sheet, problem.row) == ("Questions", 52)
    assert "more than 50 questions" in problem.message
    assert result.job is None


def test_overlong_template(workbook: Builder) -> None:
    data = workbook(questions=(*QUESTIONS, ("word " * 700, "OK")))
    problem = only(read_workbook(data).problems)
    assert (problem.sheet, problem.row) == ("Questions", 3)
    assert "3,499 characters long: keep it under 3,000" in problem.message
