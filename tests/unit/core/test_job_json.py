"""The JSON form of a job: round trip, committed schema, and field-path problems."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from backend.domain.intake import job_from_json, job_to_json, read_workbook
from backend.schemas import call_job_schema, load_call_job_schema

Builder = Callable[..., bytes]

EXAMPLE: dict[str, Any] = {
    "job_id": "trip-3a-2026",
    "name": "Trip reminder",
    "greeting": "Hello {{ name }}.",
    "ending": "Goodbye.",
    "phone_prefix": "+852",
    "questions": [
        {"template": "Will {{ name }} come?", "type": "Yes/No"},
        {"template": "How many guests?", "type": "Number"},
    ],
    "receivers": [
        {"id": "1", "phone_number": "+85251234567", "fields": {"name": "Ann"}},
        {"id": "2", "phone_number": "51234568", "fields": {"name": "Tom & Jerry"}},
    ],
    "extra_columns": ["name"],
    "settings": {"max_attempts": 3, "allowed_countries": ["HK"]},
}


def test_committed_schema_is_the_generated_one() -> None:
    assert load_call_job_schema() == call_job_schema(), (
        "backend/schemas/call_job.schema.json is stale: run `python -m backend.schemas`"
    )


def test_job_json_validates_against_the_schema(workbook: Builder) -> None:
    schema = load_call_job_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    result = read_workbook(workbook())
    assert result.job is not None
    jsonschema.validate(job_to_json(result.job), schema)
    from_json = job_from_json(EXAMPLE)
    assert from_json.job is not None
    jsonschema.validate(job_to_json(from_json.job), schema)


def test_schema_rejects_a_message_without_job_id() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"receivers": []}, load_call_job_schema())


def test_round_trip(workbook: Builder) -> None:
    job = read_workbook(workbook()).job
    assert job is not None
    text = json.dumps(job_to_json(job))
    result = job_from_json(text)
    assert result.ok, result.problems
    assert result.job == job
    assert job_from_json(text.encode()).job == job


def test_national_numbers_use_the_prefix_like_a_workbook() -> None:
    result = job_from_json(EXAMPLE)
    assert result.ok, result.problems
    assert result.job is not None
    assert [r.phone_number for r in result.job.receivers] == ["+85251234567", "+85251234568"]
    assert result.job.settings.max_attempts == 3


def changed(path: str, value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(EXAMPLE)
    target: Any = payload
    keys = path.replace("]", "").replace("[", ".").split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    target[int(last) if last.isdigit() else last] = value
    return payload


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("receivers[1].phone_number", "5123abcd", "contains letters"),
        ("receivers[1].phone_number", "12", "too short"),
        ("receivers[1].id", "1", "duplicate id '1': already used on receivers[0]"),
        ("questions[1].type", "Maybe", "unknown question type 'Maybe'"),
        ("questions[1].template", "{{ oops", "template error"),
        ("settings.max_attempts", 99, "less than or equal to 10"),
        ("job_id", "bad id!", "job id"),
        ("greeting", "Hi {{ nmae }}", "{{ nmae }}"),
    ],
)
def test_problems_name_the_field_path(path: str, value: Any, fragment: str) -> None:
    result = job_from_json(changed(path, value))
    assert result.problems, "expected a problem"
    paths = {p.field for p in result.problems}
    assert path in paths, result.problems
    assert any(fragment in p.message for p in result.problems), result.problems
    assert not result.ok


def test_duplicate_phone_numbers_in_json() -> None:
    result = job_from_json(changed("receivers[1].phone_number", "+85251234567"))
    problem = result.problems[0]
    assert problem.field == "receivers[1].phone_number"
    assert "receivers[0]" in problem.message


def test_field_not_in_extra_columns_and_unknown_fields() -> None:
    payload = changed("receivers[1].fields", {"name": "Bob", "age": "9"})
    payload["colour"] = "blue"
    result = job_from_json(payload)
    paths = {p.field for p in result.problems}
    assert {"colour", "receivers[1].fields.age"} <= paths
    assert result.job is None


def test_missing_variable_for_one_receiver_names_that_receiver() -> None:
    payload = changed("receivers[1].fields", {})
    del payload["extra_columns"]
    result = job_from_json(payload)
    problem = result.problems[0]
    assert problem.field == "receivers[1].fields.name"
    assert "{{ name }}" in problem.message


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"job_id": "x", "receivers": "all"}, "receivers must be a list"),
        ({"job_id": "x", "receivers": [], "questions": [{}]}, "no receivers"),
    ],
)
def test_malformed_messages_are_problems(payload: Any, fragment: str) -> None:
    result = job_from_json(payload)
    assert any(fragment in p.message for p in result.problems), result.problems
    assert result.job is None


def test_receiver_values_escaped_in_json_jobs() -> None:
    from backend.domain.speech import Speech

    job = job_from_json(EXAMPLE).job
    assert job is not None
    assert Speech(job).greeting(job.receivers[1]) == "<speak>Hello Tom &amp; Jerry.</speak>"
