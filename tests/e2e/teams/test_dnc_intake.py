"""Teams doors (a workbook sent in the chat, the form dialog): a receiver on the do-not-call list
is marked at intake, counted on the preview card, carried in the job Start submits, and ends
`NotCallable (do-not-call)` when that job runs on the local engine, never rung."""

from __future__ import annotations

import json
from pathlib import Path

from backend.domain.dnc import DO_NOT_CALL, add_number
from backend.domain.intake import read_workbook
from backend.domain.models import CallJob, CallStatus
from backend.local.dialer import SimulatorDialer
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import LocalEngine
from backend.local.simulator import random_people
from backend.local.store import SqliteStore
from bot.teams import cards
from bot.teams.dialog import SUBMIT
from tests.e2e.teams.conftest import FileServer, dialog_submit, execute, file_message
from tests.e2e.teams.test_conversation import Bot, _start_data, example_workbook
from tests.fakes.dialer import RecordingDialer
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.fakes.teams_issuer import FakeTeamsIssuer


def _bot(issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, dnc: SqliteDoNotCall) -> Bot:
    bot = Bot(issuer, connector)
    bot.h.bot.deps.dnc = dnc
    return bot


def _started(bot: Bot) -> CallJob:
    """Press Start on the preview card; the job the submitter was given."""
    url = bot.connector.service_url
    data = _start_data(bot.sent_cards()[0])
    bot.run(lambda bot: bot.invoke(execute(url, cards.START, job_id=data["job_id"])))
    job: CallJob = bot.submitter.jobs[data["job_id"]]
    return job


def _run(job: CallJob, tmp_path: Path, dnc: SqliteDoNotCall) -> tuple[dict[str, object], list[str]]:
    store = SqliteStore(tmp_path / "jobs.sqlite3")
    dialer = RecordingDialer(
        SimulatorDialer(store, lambda job: random_people(job, 5), opt_outs=dnc)
    )
    engine = LocalEngine(store, dialer=dialer, report_dir=tmp_path / "reports", dnc=dnc)
    results = {r.receiver_id: (r.status, r.error, r.attempts) for r in engine.run(job)}
    return dict(results), dialer.rung


def test_a_workbook_sent_in_the_chat(
    issuer: FakeTeamsIssuer,
    connector: FakeTeamsConnector,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    read = read_workbook(example_workbook()).job
    assert read is not None
    listed = read.receivers[0]
    add_number(dnc, listed.phone_number, "test")
    bot = _bot(issuer, connector, dnc)
    url = connector.service_url
    file_server.files["class.xlsx"] = example_workbook()
    bot.run(lambda bot: bot.say(file_message(url, "class.xlsx", file_server.url("class.xlsx"))))
    assert f"1 of {len(read.receivers)}** on the do-not-call list" in json.dumps(
        bot.sent_cards()[0]
    )
    job = _started(bot)
    assert job.do_not_call == (listed.id,)
    results, rung = _run(job, tmp_path, dnc)
    assert results[listed.id] == (CallStatus.NOT_CALLABLE, DO_NOT_CALL, 0)
    assert listed.phone_number not in rung
    assert len(set(rung)) == len(read.receivers) - 1


def test_the_form_dialog(
    issuer: FakeTeamsIssuer, connector: FakeTeamsConnector, tmp_path: Path
) -> None:
    dnc = SqliteDoNotCall.beside(tmp_path / "callouts.db")
    add_number(dnc, "+85291234568", "test")  # Bob
    bot = _bot(issuer, connector, dnc)
    form = {
        "action": SUBMIT,
        "rows": "[1]",
        "job_name": "Trip",
        "greeting": "Hello {{ name }}",
        "q1_template": "Will you come?",
        "q1_type": "YesNo",
        "ending": "Thank you",
        "phone_prefix": "+852",
        "receivers": "S1, 9123 4567, Ann\nS2, 9123 4568, Bob",
    }
    bot.run(lambda bot: bot.invoke(dialog_submit(connector.service_url, form)))
    assert "1 of 2** on the do-not-call list" in json.dumps(bot.sent_cards()[0])
    job = _started(bot)
    assert job.do_not_call == ("S2",)
    results, rung = _run(job, tmp_path, dnc)
    assert results["S2"] == (CallStatus.NOT_CALLABLE, DO_NOT_CALL, 0)
    assert rung == ["+85291234567"]
