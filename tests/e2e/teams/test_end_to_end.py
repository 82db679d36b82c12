"""A workbook sent in the personal chat -> preview -> Start -> local engine with simulated phones
-> the job card updated in place, results as batched replies (numbers masked), the report
delivered (a file consent card in the personal chat); and Retry unreached on the finished card."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from backend.local.engine import LocalEngine
from backend.local.simulator import random_people
from backend.local.store import SqliteStore
from bot.core.notifier import ChatNotifier
from bot.core.state import FINISHED, SqliteBotState
from bot.teams import cards
from bot.teams.where import PLATFORM
from tests.e2e.teams.conftest import FileServer, execute, file_message
from tests.e2e.teams.test_conversation import _start_data, example_workbook
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_harness import PERSONAL_CONVERSATION, TeamsHarness
from tests.fakes.teams_issuer import FakeTeamsIssuer

E164_LIKE = re.compile(r"\+\d{8,15}")
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"


def test_workbook_to_report_through_the_local_engine(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    state = SqliteBotState(tmp_path / "bot.sqlite3")
    engine_box: dict[str, Any] = {}

    class LateEngine:  # the harness needs the submitter before the notifier has its sink
        def submit(self, job: Any) -> bool:
            return bool(engine_box["engine"].submit(job))

        def cancel(self, job_id: str, requested_by: str | None = None) -> bool:
            return bool(engine_box["engine"].cancel(job_id, requested_by))

    h = TeamsHarness(issuer, connector, state, LateEngine())
    notifier = ChatNotifier(
        {PLATFORM: h.bot.deps.sink},
        state,
        batch_size=3,
        flush_seconds=0.05,
        min_post_interval=0.01,
        min_update_interval=0.01,
    )
    engine = LocalEngine(
        SqliteStore(tmp_path / "jobs.sqlite3"),
        people=lambda job: random_people(job, 3),
        listeners=[notifier],
        report_dir=tmp_path / "reports",
    )
    engine_box["engine"] = engine
    file_server.files["class_3a.xlsx"] = example_workbook()
    url = connector.service_url

    async def scenario() -> str:
        async with h.running():
            await h.post(file_message(url, "class_3a.xlsx", file_server.url("class_3a.xlsx")))
            await h.worker.run_all()
            job_id = str(_start_data(connector.calls[0].cards()[0])["job_id"])
            answer = await h.post(execute(url, cards.START, job_id=job_id))
            assert answer["status"] == 200
            assert await asyncio.to_thread(engine.wait, job_id, 60)
            await asyncio.to_thread(notifier.close)
            return job_id

    try:
        job_id = asyncio.run(scenario())
    finally:
        notifier.close()

    calls = connector.calls
    card = state.card(job_id)
    pending = state.pending(job_id)
    assert card is not None
    assert pending is not None
    assert card.state == FINISHED
    assert card.done == card.total
    chat = [c for c in calls if c.conversation_id == PERSONAL_CONVERSATION]
    assert len(chat) == len(calls)  # everything went to the personal chat
    sent = [c for c in chat if c.operation == "send"]
    (_card_post,) = [c for c in sent if c.activity_id is None and _is_job_card(c.cards())]
    updates = [c for c in chat if c.operation == "update"]
    assert updates
    assert {c.activity_id for c in updates} == {card.card_ref}
    final = json.dumps(updates[-1].cards()[0], ensure_ascii=False)
    assert f"{card.total}/{card.total}" in final
    assert "Finished" in final
    batches = [
        x for c in sent for x in c.cards() if str(x.get("fallbackText", "")).endswith("results")
    ]
    lines = [line for b in batches for line in b["body"][0]["text"].split("\n")]
    assert len(lines) == card.total
    assert len(batches) > 1
    names = [r["fields"]["name"] for r in pending.job["receivers"]]
    assert sorted(line.split("**")[1] for line in lines) == sorted(names)  # named, each once
    assert not E164_LIKE.search(" ".join(c.text() for c in calls))  # numbers always masked
    assert any(FILE_CONSENT in c.text() for c in sent), "the report is offered as a file"


def _is_job_card(sent: list[dict[str, Any]]) -> bool:
    return any(cards.CANCEL in json.dumps(x) for x in sent)
