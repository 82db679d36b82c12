"""Intake of the NoHuman and time-out settings: no_input_limit, voicemail_message and an explicit
call_timeout_seconds shorter than the job needs, each named by its Configures cell."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.domain.call_time import derived_call_timeout
from backend.domain.intake import job_from_json, read_workbook
from backend.domain.speech import Speech

Builder = Callable[..., bytes]
CONFIG = (("Key", "Value"), ("greeting", "Hello {{ name }}."), ("ending", "Bye."))
QUESTIONS = (("question_template", "question_type"), ("Coming?", "Yes/No"))


def test_no_input_limit_and_voicemail_message_are_read(workbook: Builder) -> None:
    config = (
        *CONFIG,
        ("phone_prefix", 852),
        ("no_input_limit", 3),
        ("voicemail_message", "We will call {{ name }} again."),
    )
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.problems == []
    job = result.job
    assert job is not None
    assert job.settings.no_input_limit == 3
    prompts = Speech(job).prompts(job.receivers[0])
    assert prompts.voicemail == "<speak>We will call Ann again.</speak>"


@pytest.mark.parametrize("value", [0, 4, "twice"])
def test_a_bad_no_input_limit_names_its_cell(value: object, workbook: Builder) -> None:
    config = (*CONFIG, ("phone_prefix", 852), ("no_input_limit", value))
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 5, "Value")
    assert f"no_input_limit '{value}' must be a whole number from 1 to 3" in problem.message


def test_a_voicemail_message_with_an_unknown_variable_names_its_cell(workbook: Builder) -> None:
    config = (*CONFIG, ("phone_prefix", 852), ("voicemail_message", "Hi {{ nmae }}"))
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row) == ("Configures", 5)
    assert "voicemail message uses {{ nmae }}" in problem.message


def test_a_call_timeout_shorter_than_the_job_needs_is_a_problem(workbook: Builder) -> None:
    ok = read_workbook(workbook(config=(*CONFIG, ("phone_prefix", 852)), questions=QUESTIONS))
    assert ok.job is not None
    needed = derived_call_timeout(ok.job)
    config = (*CONFIG, ("phone_prefix", 852), ("call_timeout_seconds", needed - 30))
    result = read_workbook(workbook(config=config, questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 5, "Value")
    assert f"give at least {needed}" in problem.message
    enough = (*CONFIG, ("phone_prefix", 852), ("call_timeout_seconds", needed))
    assert read_workbook(workbook(config=enough, questions=QUESTIONS)).ok


def test_a_json_job_with_a_short_time_out_names_the_field() -> None:
    job = {
        "job_id": "j1",
        "greeting": "Hi",
        "ending": "Bye",
        "questions": [{"template": "Coming?", "type": "Yes/No"}] * 6,
        "receivers": [{"id": "1", "phone_number": "+85251234567"}],
        "settings": {"call_timeout_seconds": 300},
    }
    result = job_from_json(job)
    assert result.job is None
    (problem,) = result.problems
    assert problem.field == "settings.call_timeout_seconds"
    assert "shorter than" in problem.message
