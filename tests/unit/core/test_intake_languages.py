"""Per-person language at intake: translation columns and keys, the receivers' language column,
missing translations and unsupported languages as problems naming the row, JSON field paths."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from backend.domain.intake import job_from_json, read_workbook
from backend.domain.intake.languages import disabled_languages
from backend.domain.speech import Speech
from tests.fakes.bilingual import bilingual_job, bilingual_payload


def workbook(
    config: list[tuple[str, str]],
    questions: list[tuple[str, ...]],
    receivers: list[tuple[str, ...]],
    question_header: tuple[str, ...] = (
        "question_template",
        "question_type",
        "question_template:es-US",
    ),
) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Configures"
    sheet.append(("Key", "Value"))
    for row in [("phone_prefix", "+1"), ("calling_window", "any"), *config]:
        sheet.append(row)
    sheet = book.create_sheet("Questions")
    sheet.append(question_header)
    for question in questions:
        sheet.append(question)
    sheet = book.create_sheet("Receivers")
    sheet.append(("id", "phone_number", "name", "language"))
    for receiver in receivers:
        sheet.append(receiver)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CONFIG = [
    ("greeting", "Hello {{ name }}."),
    ("greeting:es-US", "Hola {{ name }}."),
    ("ending", "Goodbye."),
    ("ending:es-US", "Adiós."),
]
QUESTION = ("Will you come?", "Yes/No", "¿Vendrá?")
PEOPLE = [
    ("1", "4155550101", "Ann", ""),
    ("2", "4155550102", "Ana", "es-US"),
]


def test_translations_give_each_person_their_language() -> None:
    result = read_workbook(workbook(CONFIG, [QUESTION], PEOPLE))
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    assert job.translations == {"es-US": {"greeting": "Hola {{ name }}.", "ending": "Adiós."}}
    assert job.questions[0].translations == {"es-US": "¿Vendrá?"}
    speech = Speech(job)
    english, spanish = (speech.prompts(receiver) for receiver in job.receivers)
    assert english.greeting.startswith("<speak>Hello Ann.")
    assert spanish.greeting.startswith("<speak>Hola Ana. Para no recibir más llamadas")
    assert spanish.questions[0].startswith("<speak>¿Vendrá? Diga sí o no")
    assert spanish.ending == "<speak>Adiós.</speak>"
    assert job.languages == ("en-US", "es-US")


def test_a_missing_translation_is_a_problem_naming_the_row_and_what_is_missing() -> None:
    config = [item for item in CONFIG if item[0] != "ending:es-US"]
    questions = [QUESTION, ("When?", "Date", "")]
    result = read_workbook(workbook(config, questions, PEOPLE))
    (problem,) = result.problems
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 3, "language")
    assert "question_template:es-US (row 3)" in problem.message
    assert "ending:es-US" in problem.message
    assert "greeting:es-US" not in problem.message
    assert result.job is not None  # the English person can still be called (preview)
    assert [receiver.id for receiver in result.job.receivers] == ["1"]


def test_an_unsupported_language_names_the_row_and_the_supported_ones() -> None:
    people = [*PEOPLE, ("3", "4155550103", "Kim", "ko-KR")]
    result = read_workbook(workbook(CONFIG, [QUESTION], people))
    (problem,) = result.problems
    assert (problem.sheet, problem.row, problem.column) == ("Receivers", 4, "language")
    assert "language 'ko-KR' is not supported" in problem.message
    assert "en-US (English (US)), es-US (Spanish (US))" in problem.message


def test_a_translation_in_an_unsupported_language_is_a_problem_on_its_key_or_column() -> None:
    header = ("question_template", "question_type", "question_template:xx")
    result = read_workbook(
        workbook([*CONFIG, ("greeting:fr-FR", "Bonjour")], [QUESTION], PEOPLE[:1], header)
    )
    messages = {(p.sheet, p.column): p.message for p in result.problems}
    assert "is not a supported language" in messages[("Configures", "Value")]
    assert "greeting:fr-fr" in messages[("Configures", "Value")].lower()
    assert "'xx' is not a supported language" in messages[("Questions", "question_template:xx")]
    assert result.job is None


def test_the_job_language_applies_when_the_column_is_empty() -> None:
    config = [
        ("language", "es-US"),
        ("greeting", "Hola {{ name }}."),
        ("ending", "Adiós."),
        ("greeting:en-US", "Hello {{ name }}."),
        ("ending:en-US", "Goodbye."),
    ]
    question = ("¿Vendrá?", "Yes/No", "Will you come?")
    header = ("question_template", "question_type", "question_template:en-US")
    people = [("1", "4155550101", "Ana", ""), ("2", "4155550102", "Ann", "en-US")]
    result = read_workbook(workbook(config, [question], people, header))
    assert result.ok, result.problems
    job = result.job
    assert job is not None
    spanish, english = (Speech(job).prompts(r) for r in job.receivers)
    assert spanish.greeting.startswith("<speak>Hola Ana.")
    assert english.questions[0].startswith("<speak>Will you come? Say yes or no")


def test_a_translation_is_checked_like_any_template() -> None:
    config = [*CONFIG[:3], ("ending:es-US", "Adiós {{ apellido }}.")]
    result = read_workbook(workbook(config, [QUESTION], PEOPLE))
    (problem,) = result.problems
    assert (problem.sheet, problem.column) == ("Configures", "Value")
    assert "the ending (es-US) uses {{ apellido }}" in problem.message


def test_json_jobs_carry_translations_and_problems_name_field_paths() -> None:
    job = bilingual_job()
    assert [job.language_of(r) for r in job.receivers] == ["en-US", "es-US", "es-US", "en-US"]
    payload: dict[str, Any] = bilingual_payload()
    del payload["questions"][1]["translations"]
    payload["receivers"][3]["fields"]["language"] = "tlh"
    result = job_from_json(payload)
    fields = {problem.field: problem.message for problem in result.problems}
    assert "question_template:es-US (row 1)" in fields["receivers[1].fields.language"]
    assert "question_template:es-US (row 1)" in fields["receivers[2].fields.language"]
    assert "'tlh' is not supported" in fields["receivers[3].fields.language"]
    payload = bilingual_payload()
    payload["translations"]["es-US"]["greeting"] = "Hola {{ nombre }}"
    (problem,) = job_from_json(payload).problems
    assert problem.field == "translations.es-US.greeting"


def test_a_deployment_without_a_language_refuses_the_job_naming_it() -> None:
    job = bilingual_job()
    assert disabled_languages(job, ("en-US", "es-US")) is None
    why = disabled_languages(job, ("en-US",))
    assert why is not None
    assert "do not speak es-US" in why
    assert "BotLocales" in why
