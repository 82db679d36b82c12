"""The platform-neutral origin and bot state: Slack records stored before them still load."""

from __future__ import annotations

import json

from backend.domain.intake import job_from_json, job_to_json
from backend.domain.models import CallJob, ChatOrigin
from bot.core.state import START_CLAIM_SECONDS, JobCard, PendingJob, SqliteBotState


def _job() -> CallJob:
    return CallJob.model_validate(
        {
            "job_id": "j1",
            "greeting": "Hello",
            "ending": "Goodbye",
            "questions": [{"template": "Coming?", "type": "Yes/No"}],
            "receivers": [{"id": "R1", "phone_number": "+85291234567"}],
        }
    )


def test_an_old_slack_origin_loads_as_a_slack_chat_origin() -> None:
    stored = {
        "team_id": "T",
        "channel_id": "C",
        "user_id": "U",
        "thread_ts": "1.1",
        "card_ts": "2.2",
    }
    origin = ChatOrigin.model_validate(stored)
    assert origin == ChatOrigin(
        platform="slack", team_id="T", channel_id="C", user_id="U", thread_ref="1.1", card_ref="2.2"
    )


def test_a_queued_job_with_the_old_origin_json_loads() -> None:
    payload = job_to_json(_job())
    payload["origin"] = {"team_id": "T", "channel_id": "C", "user_id": "U", "card_ts": "9.9"}
    result = job_from_json(payload)
    assert result.ok, result.problems
    assert result.job is not None
    assert result.job.origin is not None
    assert result.job.origin.card_ref == "9.9"
    assert result.job.origin.platform == "slack"


def test_a_teams_origin_round_trips_through_the_job_json() -> None:
    origin = ChatOrigin(
        platform="teams",
        tenant_id="tenant",
        channel_id="19:abc@thread.tacv2",
        user_id="aad-1",
        service_url="https://smba.trafficmanager.net/emea/",
    )
    job = _job().model_copy(update={"origin": origin})
    result = job_from_json(json.loads(json.dumps(job_to_json(job))))
    assert result.job is not None
    assert result.job.origin == origin


def test_old_pending_and_card_records_load_with_message_refs() -> None:
    pending = PendingJob.from_json(
        json.dumps(
            {
                "job": {},
                "team_id": "T",
                "channel_id": "C",
                "user_id": "U",
                "thread_ts": "1.1",
                "preview_ts": "1.2",
                "filename": "a.xlsx",
                "created_at": 1.0,
            }
        )
    )
    assert (pending.thread_ref, pending.preview_ref, pending.platform) == ("1.1", "1.2", "slack")
    card = JobCard.for_job(_job().model_copy(update={"origin": pending.origin()}), card_ref="3.3")
    raw = json.loads(card.to_json())
    raw["card_ts"] = raw.pop("card_ref")
    raw["thread_ts"] = raw.pop("thread_ref")
    for key in ("platform", "tenant_id", "service_url"):
        raw.pop(key)
    old = JobCard.from_json(json.dumps(raw))
    assert old.card_ref == "3.3"
    assert old.thread_ref == "1.1"
    assert old.platform == "slack"
    assert old.origin() == card.origin()


def test_a_start_claim_whose_card_was_never_posted_expires() -> None:
    state = SqliteBotState()
    assert state.claim_start("j1", "U1", now=1000.0)
    assert not state.claim_start("j1", "U2", now=1000.0 + START_CLAIM_SECONDS - 1)
    # The run that claimed it died before posting the card: the workbook can be started again.
    assert state.claim_start("j1", "U2", now=1000.0 + START_CLAIM_SECONDS + 1)
    assert not state.claim_start("j1", "U3", now=1000.0 + START_CLAIM_SECONDS + 2)


def test_a_start_claim_with_a_card_never_expires() -> None:
    state = SqliteBotState()
    job = _job().model_copy(update={"origin": ChatOrigin(channel_id="C", user_id="U")})
    assert state.claim_start("j1", "U1", now=1000.0)
    state.save_card(JobCard.for_job(job, card_ref="1.1"))
    assert not state.claim_start("j1", "U2", now=1000.0 + 10 * START_CLAIM_SECONDS)


def test_a_withdrawn_preview_is_gone() -> None:
    state = SqliteBotState()
    state.save_pending("j1", PendingJob(job={}, team_id="T", channel_id="C", user_id="U"))
    state.withdraw_pending("j1")
    assert state.pending("j1") is None
