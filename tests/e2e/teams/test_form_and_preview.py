"""The Teams job dialog's attempts, timeout, language and SMS fields, and the preview's estimate and
SMS lines (the core's view model, as in Slack), the estimate capped by the stack's line budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.domain.models import JobSettings, setting_bounds
from bot.core.forms import ATTEMPTS, LANGUAGE, SMS, TIMEOUT, language_choices
from bot.teams import cards
from bot.teams.dialog import ADD, SUBMIT
from tests.e2e.teams.conftest import dialog_fetch, dialog_submit
from tests.e2e.teams.test_conversation import Bot, _start_data, _walk
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_issuer import FakeTeamsIssuer

FORM = {
    "action": SUBMIT,
    "rows": "[1]",
    "job_name": "Trip",
    "greeting": "Hola {{ name }}.",
    "q1_template": "¿Viene {{ name }}?",
    "q1_type": "YesNo",
    "ending": "Gracias.",
    "phone_prefix": "+852",
    "receivers": "S1, 9123 4567, Ann\nS2, 9123 4568, Bob\nS3, 9123 4569, Cy",
}


def test_the_dialog_offers_the_languages_and_an_sms_and_the_preview_shows_their_lines(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector, CALLOUTS_MAX_CONCURRENT_CALLS="1")
    url = connector.service_url
    form = {**FORM, LANGUAGE: "es-US", SMS: "Hola {{ name }}, llame a la escuela."}

    async def scenario(bot: Bot) -> Any:
        opened = await bot.invoke(dialog_fetch(url, {"dialog_id": cards.FORM}))
        await bot.invoke(dialog_submit(url, form))
        return opened

    opened = bot.run(scenario)
    fields = {n["id"]: n for n in _walk(opened["task"]["value"]["card"]["content"]) if "id" in n}
    assert [c["value"] for c in fields[LANGUAGE]["choices"]] == [
        code for code, _ in language_choices()
    ]
    assert SMS in fields
    (preview,) = bot.sent_cards()
    text = json.dumps(preview, ensure_ascii=False)
    assert "Diga sí o no" in text  # the calls speak the chosen language
    assert "Expected duration: about " in text
    assert "1 at a time" in text  # the stack's one line, not the job's concurrency
    assert "Expected cost: about $" in text
    assert "SMS to the unreached (first person's): Hola Ann, llame a la escuela." in text
    pending = bot.state.pending(str(_start_data(preview)["job_id"]))
    assert pending is not None
    assert pending.job["settings"]["language"] == "es-US"


def _inputs(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    card = answer["task"]["value"]["card"]["content"]
    return {n["id"]: n for n in _walk(card) if str(n.get("type", "")).startswith("Input.")}


def test_the_dialog_offers_attempts_and_timeout_within_the_job_settings_bounds(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    typed = {ATTEMPTS: "4", TIMEOUT: 90, "greeting": "Hi"}

    async def scenario(bot: Bot) -> list[Any]:
        opened = await bot.invoke(dialog_fetch(url, {"dialog_id": cards.FORM}))
        added = await bot.invoke(dialog_submit(url, {"action": ADD, "rows": "[1]", **typed}))
        return [opened, added]

    opened, added = bot.run(scenario)
    fields = _inputs(opened)
    attempts, timeout = fields[ATTEMPTS], fields[TIMEOUT]
    assert attempts["type"] == timeout["type"] == "Input.Number"
    assert (attempts["min"], attempts["max"]) == setting_bounds("max_attempts")
    assert attempts["value"] == JobSettings().max_attempts
    assert (timeout["min"], timeout["max"]) == setting_bounds("call_timeout_seconds")
    assert "value" not in timeout  # empty: derived from the job
    kept = _inputs(added)  # adding a question keeps what was typed
    assert (kept[ATTEMPTS]["value"], kept[TIMEOUT]["value"]) == (4, 90)
    assert "q2_template" in kept


@pytest.mark.parametrize(("attempts", "timeout"), [(3, 240), ("3", "240"), (3.0, "240.0")])
def test_attempts_and_timeout_from_the_dialog_are_the_jobs_settings(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, attempts: Any, timeout: Any
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    form = {**FORM, ATTEMPTS: attempts, TIMEOUT: timeout}
    answer = bot.run(lambda bot: bot.invoke(dialog_submit(url, form)))
    assert "preview" in answer["task"]["value"].lower()
    (preview,) = bot.sent_cards()
    pending = bot.state.pending(str(_start_data(preview)["job_id"]))
    assert pending is not None
    settings = pending.job["settings"]
    assert (settings["max_attempts"], settings["call_timeout_seconds"]) == (3, 240)


@pytest.mark.parametrize(
    ("attempts", "timeout", "field"),
    [
        (99, "", ATTEMPTS),
        ("0", "", ATTEMPTS),
        ("abc", "", ATTEMPTS),
        (2, "99999", TIMEOUT),
        (2, "45", TIMEOUT),  # shorter than the 150 s a call of this job can take
    ],
)
def test_an_out_of_range_setting_is_shown_under_its_field_and_starts_nothing(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, attempts: Any, timeout: Any, field: str
) -> None:
    bot = Bot(issuer, connector)
    url = connector.service_url
    form = {**FORM, ATTEMPTS: attempts, TIMEOUT: timeout}
    answer = bot.run(lambda bot: bot.invoke(dialog_submit(url, form)))
    body = answer["task"]["value"]["card"]["content"]["body"]
    at = next(i for i, node in enumerate(body) if node.get("id") == field)
    under = body[at + 1]
    assert under["color"] == "Attention"
    assert str(attempts if field == ATTEMPTS else timeout) in under["text"]
    errors = [n for n in body if n.get("color") == "Attention"]
    assert len(errors) == 2  # the "fix what is marked" line and this field's message
    assert bot.sent_cards() == []
    assert bot.submitter.jobs == {}
