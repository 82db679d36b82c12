"""The job's voice and language settings: checked at intake, carried to the flow, never ignored."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from pydantic import ValidationError

from backend.domain.intake import job_from_json, read_workbook
from backend.domain.models import JobSettings
from backend.domain.voices import DEFAULT_VOICE, VOICES

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "call_job.xlsx"


def example_with(*rows: tuple[str, str]) -> bytes:
    book = openpyxl.load_workbook(EXAMPLE)
    sheet = next(s for s in book.worksheets if s.title.lower().startswith("config"))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_defaults_are_joanna_and_en_us() -> None:
    settings = JobSettings()
    assert (settings.voice, settings.language) == (DEFAULT_VOICE, "en-US")


@pytest.mark.parametrize(("given", "kept"), [("amy", "Amy"), (" Matthew ", "Matthew")])
def test_voice_names_are_normalised(given: str, kept: str) -> None:
    assert JobSettings(voice=given).voice == kept


@pytest.mark.parametrize("given", ["en_US", "EN-us", "en-US"])
def test_language_spellings_are_normalised(given: str) -> None:
    assert JobSettings(language=given).language == "en-US"


@pytest.mark.parametrize("voice", ["Bob", "Hans", "", "Joanna; DROP"])
def test_a_voice_polly_cannot_speak_neurally_is_rejected(voice: str) -> None:
    with pytest.raises(ValidationError, match="not a voice the calls can use"):
        JobSettings(voice=voice)


@pytest.mark.parametrize("language", ["fr-FR", "zh-HK", "english"])
def test_a_language_the_bots_do_not_have_is_rejected(language: str) -> None:
    with pytest.raises(ValidationError, match="not a supported language: calls can speak en-US"):
        JobSettings(language=language)


def test_every_listed_voice_is_accepted() -> None:
    assert all(JobSettings(voice=voice).voice == voice for voice in VOICES)


def test_workbook_names_the_bad_voice_and_language_rows() -> None:
    result = read_workbook(example_with(("voice", "Bob"), ("language", "fr-FR")))
    assert not result.ok
    messages = " | ".join(str(problem) for problem in result.problems)
    assert "voice 'Bob'" in messages
    assert "Joanna" in messages
    assert "language 'fr-FR'" in messages
    assert "calls can speak en-US (English (US)), es-US (Spanish (US))" in messages
    assert all(problem.row is not None for problem in result.problems)


def test_workbook_voice_reaches_the_job() -> None:
    result = read_workbook(example_with(("voice", "brian")))
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.settings.voice == "Brian"


def test_json_job_names_the_settings_field() -> None:
    good = read_workbook(EXAMPLE.read_bytes()).job
    assert good is not None
    payload = good.model_dump(mode="json")
    payload["settings"]["voice"] = "Bob"
    result = job_from_json(payload)
    assert not result.ok
    (problem,) = result.problems
    assert problem.field == "settings.voice"
    assert "Amazon Polly neural voice" in problem.message
    assert "Joanna" in problem.message
