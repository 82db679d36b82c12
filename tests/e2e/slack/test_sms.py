"""Text the unreached in Slack: the preview shows the text (and warns when SMS is off), the
finished card says how many were texted (local engine and the AWS completion event), and the
form has an optional SMS field."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from backend.domain.models import CallStatus
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore
from bot.core.forms import SMS, form_errors, read_form
from bot.core.state import FINISHED, JobCard, SqliteBotState
from bot.slack.app import build_app
from bot.slack.client import lazy_client
from bot.slack.notifier import slack_notifier
from bot.slack.views import START_ACTION
from tests.e2e.slack.conftest import Harness, SyncExecutor, example_workbook, make_settings
from tests.e2e.slack.test_end_to_end import _blocks, _start_value
from tests.e2e.slack.test_notifier import result, slack_job
from tests.e2e.slack.test_stream import Readers, make_stream
from tests.fakes.slack_api import FakeSlack
from tests.fakes.sms import RecordingSmsGateway

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 in Hong Kong
TEMPLATE = "Hello {{ name }}, we could not reach you about the picnic: please call 2345 6789."
ANSWERS = ["okay", "yes I do", "B", "three", "the fourth of December 2026", "half past four p m"]


def sms_workbook() -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(example_workbook()))
    book["Configures"].append(["sms_template", TEMPLATE])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_job_with_an_sms_template_texts_its_unreached_and_the_card_says_so(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = make_settings(fake_slack)
    client = lazy_client(settings)
    state = SqliteBotState(tmp_path / "bot.sqlite3")
    notifier = slack_notifier(
        client, state, flush_seconds=0.05, min_post_interval=0.01, min_update_interval=0.01
    )
    gateway = RecordingSmsGateway()
    people = {
        rid: [SimulatedPerson(utterances=ANSWERS)] for rid in ("1", "3", "5", "6", "S07", "S08")
    }
    people["2"] = [SimulatedPerson(pickup="no_answer")]
    people["4"] = [SimulatedPerson(pickup="busy")]
    engine = LocalEngine(
        SqliteStore(tmp_path / "jobs.sqlite3"),
        people=people,
        listeners=[notifier],
        report_dir=tmp_path / "reports",
        clock=lambda: T0,
        sms_sender=gateway,
    )
    app = build_app(settings, client, engine, state, listener_executor=SyncExecutor())
    harness = Harness(fake_slack, app, state, engine)
    try:
        harness.share_file("picnic.xlsx", sms_workbook(), ts="1700.0001")
        (preview,) = fake_slack.calls_to("chat.postMessage")
        shown = json.dumps(_blocks(preview.args))
        assert "SMS to the unreached (first person" in shown
        assert "SmsOriginationIdentity" not in shown  # SMS works locally: no warning
        job_id = _start_value(preview.args)
        harness.action(START_ACTION, job_id)
        assert engine.wait(job_id, timeout=60)
    finally:
        notifier.close()

    card = state.card(job_id)
    assert card is not None
    assert card.state == FINISHED
    statuses = {rid: CallStatus(s) for rid, s in card.statuses.items()}
    texted = sorted(rid for rid, s in statuses.items() if s.textable)
    assert len(gateway.requests) == len(texted) == 2  # "2" no answer, "4" busy: one text each
    assert sorted(rid for rid, _ in gateway.texts()) == texted
    final = json.dumps(_blocks(fake_slack.calls_to("chat.update")[-1].args))
    assert "Texted 2 people who were not reached." in final


def test_the_preview_warns_when_sms_is_not_set_up(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = make_settings(fake_slack, CALLOUTS_SMS_ENABLED="false")
    client = lazy_client(settings)
    state = SqliteBotState(tmp_path / "bot.sqlite3")
    submitter: Any = None
    app = build_app(settings, client, submitter, state, listener_executor=SyncExecutor())
    Harness(fake_slack, app, state, submitter).share_file(
        "picnic.xlsx", sms_workbook(), ts="1700.0002"
    )
    (preview,) = fake_slack.calls_to("chat.postMessage")
    shown = json.dumps(_blocks(preview.args))
    assert "SmsOriginationIdentity is empty" in shown
    assert START_ACTION in shown  # a warning: the job may still start


def test_the_aws_completion_event_puts_the_sms_line_on_the_card(fake_slack: FakeSlack) -> None:
    job = slack_job()
    readers = Readers(job)
    readers.results[job.job_id] = [
        result(job, i, CallStatus.NO_ANSWER) for i in range(len(job.receivers))
    ]
    state = SqliteBotState()
    state.save_card(JobCard.for_job(job))
    stream = make_stream(fake_slack, readers, state)
    stream.notifier.read_report = lambda report: b"xlsx"
    event = {
        "source": "callouts",
        "detail-type": "Callout Job Finished",
        "detail": {
            "job_id": job.job_id,
            "xlsx_key": "reports/x.xlsx",
            "sms": {"sent": 7, "failed": 1, "skipped": 0},
        },
    }
    assert stream.handle(event) == {}
    assert "Texted 7 people who were not reached; 1 failed." in (
        fake_slack.calls_to("chat.update")[-1].text()
    )
    card = state.card(job.job_id)
    assert card is not None
    assert card.sms == {"sent": 7, "failed": 1, "skipped": 0}


def test_the_form_reads_the_sms_field_and_puts_its_problems_next_to_it() -> None:
    values = {
        "greeting": "Hello {{ name }}",
        "receivers": "S1, 91234567, Ann",
        SMS: "Hi {{ nmae }}",
    }
    inp = read_form(values, [1])
    assert inp.config["sms_template"] == "Hi {{ nmae }}"
    from bot.core.forms import form_job

    outcome = form_job(inp, b"x")
    errors = form_errors(outcome.problems, [1])
    assert "the SMS uses {{ nmae }}" in errors[SMS]
