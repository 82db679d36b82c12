"""The Teams job dialog's language and SMS fields, and the preview's estimate and SMS lines (the
core's view model, as in Slack), the estimate capped by the stack's line budget."""

from __future__ import annotations

import json
from typing import Any

from bot.core.forms import LANGUAGE, SMS, language_choices
from bot.teams import cards
from bot.teams.dialog import SUBMIT
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
