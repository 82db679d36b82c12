"""Intake of the SMS template: read from the Configures sheet and JSON, checked like the spoken
templates (same sandbox), plain text (no SSML), at most 1,600 characters rendered per receiver."""

from __future__ import annotations

from collections.abc import Callable

from backend.domain.intake import job_from_json, read_workbook
from backend.domain.sms import MAX_SMS_CHARS, sms_body, sms_template

Builder = Callable[..., bytes]
CONFIG = (("Key", "Value"), ("greeting", "Hello {{ name }}."), ("ending", "Bye."))
QUESTIONS = (("question_template", "question_type"), ("Coming?", "Yes/No"))


def _config(template: str) -> tuple[tuple[object, ...], ...]:
    return (*CONFIG, ("phone_prefix", 852), ("sms_template", template))


def test_the_sms_template_is_read_and_rendered_as_plain_text(workbook: Builder) -> None:
    result = read_workbook(
        workbook(config=_config("Hi {{ name }} & co: call us <back>."), questions=QUESTIONS)
    )
    assert result.problems == []
    job = result.job
    assert job is not None
    assert job.sms_template == "Hi {{ name }} & co: call us <back>."
    # '&' and '<' are fine in a text (the SSML check is for spoken templates only); values too.
    ann = job.receivers[0].model_copy(update={"fields": {"name": "Tom & <Jerry>"}})
    assert sms_body(sms_template(job), ann) == "Hi Tom & <Jerry> & co: call us <back>."


def test_an_unknown_variable_in_the_sms_names_its_cell(workbook: Builder) -> None:
    result = read_workbook(workbook(config=_config("Hi {{ nmae }}"), questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row, problem.column) == ("Configures", 5, "Value")
    assert "the SMS uses {{ nmae }}" in problem.message


def test_a_template_error_in_the_sms_names_its_cell(workbook: Builder) -> None:
    result = read_workbook(workbook(config=_config("Hi {{ name "), questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row) == ("Configures", 5)
    assert "the SMS has a template error" in problem.message


def test_the_phone_number_cannot_be_texted_back(workbook: Builder) -> None:
    result = read_workbook(workbook(config=_config("{{ phone_number }}"), questions=QUESTIONS))
    assert result.job is None
    assert "phone number is never read out" in result.problems[0].message


def test_an_sms_over_1600_characters_for_one_receiver_names_that_row(workbook: Builder) -> None:
    receivers = (
        ("id", "phone_number", "name", "note"),
        (1, "51234567", "Ann", "short"),
        (2, "51234568", "Bob", "x" * 1_595),  # "Hi Bob: " makes it 1,603
    )
    result = read_workbook(
        workbook(
            config=_config("Hi {{ name }}: {{ note }}"), questions=QUESTIONS, receivers=receivers
        )
    )
    (problem,) = result.problems
    assert (problem.sheet, problem.row) == ("Receivers", 3)
    assert f"an SMS can carry at most {MAX_SMS_CHARS:,}" in problem.message
    assert result.job is not None
    assert [r.id for r in result.job.receivers] == ["1"]
    assert not result.ok  # never submitted with a problem


def test_a_long_template_itself_is_refused_at_its_cell(workbook: Builder) -> None:
    result = read_workbook(workbook(config=_config("a" * 3_001), questions=QUESTIONS))
    assert result.job is None
    (problem,) = result.problems
    assert (problem.sheet, problem.row) == ("Configures", 5)
    assert "the SMS is 3,001 characters long" in problem.message


def test_a_json_job_takes_sms_template_and_names_the_field() -> None:
    job = {
        "job_id": "j1",
        "greeting": "Hi",
        "ending": "Bye",
        "sms_template": "Sorry we missed you, {{ name }}",
        "questions": [{"template": "Coming?", "type": "Yes/No"}],
        "receivers": [{"id": "1", "phone_number": "+85251234567", "fields": {"name": "Ann"}}],
        "extra_columns": ["name"],
    }
    ok = job_from_json(job)
    assert ok.ok
    assert ok.job is not None
    assert ok.job.sms_template == "Sorry we missed you, {{ name }}"
    bad = job_from_json({**job, "sms_template": "{{ name | shout }}"})
    (problem,) = bad.problems
    assert problem.field == "sms_template"
    assert "the filter 'shout', which does not exist" in problem.message


def test_the_sandbox_guards_the_sms_too(workbook: Builder) -> None:
    result = read_workbook(workbook(config=_config("{{ name.__class__ }}"), questions=QUESTIONS))
    assert result.job is None
    assert "names starting with _ are not allowed" in result.problems[0].message


def test_an_sms_of_exactly_1600_characters_passes(workbook: Builder) -> None:
    receivers = (("id", "phone_number", "name", "note"), (1, "51234567", "Bob", "x" * 1_592))
    result = read_workbook(
        workbook(
            config=_config("Hi {{ name }}: {{ note }}"), questions=QUESTIONS, receivers=receivers
        )
    )
    assert result.ok, result.problems
    assert result.job is not None
    assert len(sms_body(sms_template(result.job), result.job.receivers[0])) == MAX_SMS_CHARS
