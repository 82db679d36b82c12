"""What a teacher saw trying the Slack bot (issue 12), fixed in the chat-ops core."""

from __future__ import annotations

import json
from typing import Any

from backend.domain.models import CallJob, CallResult, CallStatus
from bot.core.preview import Preview
from bot.core.state import FINISHED, CardState, JobCard
from bot.slack.views import (
    DISCARD_ACTION,
    RETRY_ACTION,
    RUN_AGAIN_ACTION,
    START_ACTION,
    batch_blocks,
    card_blocks,
    preview_blocks,
    result_line,
)
from tests.e2e.slack.conftest import Harness, action_payload, example_workbook


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _upload(harness: Harness, name: str = "class_3a.xlsx", ts: str = "1700.0001") -> dict:
    harness.share_file(name, example_workbook(), ts=ts)
    (preview,) = [
        c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == ts
    ]
    return preview.args


def _press(harness: Harness, action: str, preview: dict, **kw: Any) -> None:
    job_id = _buttons(_blocks(preview))[action]["value"]
    message = {"ts": "9.9", "blocks": _blocks(preview)}
    harness.payload(action_payload(action, job_id, message=message, **kw))


def test_a_refused_start_leaves_the_preview_untouched(make_harness: Any) -> None:
    harness = make_harness(CALLOUTS_ALLOWED_USERS="UTEACHER")
    preview = _upload(harness)
    _press(harness, START_ACTION, preview, user="USTRANGER")
    assert harness.submitter.jobs == {}
    assert "not on the list" in harness.fake.calls_to("chat.postEphemeral")[-1].text()
    assert harness.fake.calls_to("chat.update") == []  # Start is still there for a teacher
    _press(harness, START_ACTION, preview, user="UTEACHER")
    assert len(harness.submitter.jobs) == 1
    (update,) = harness.fake.calls_to("chat.update")
    assert "Started by <@UTEACHER>" in json.dumps(_blocks(update.args))


def test_a_failed_start_leaves_the_preview_untouched(harness: Harness) -> None:
    preview = _upload(harness)
    harness.fake.error_next("chat.postMessage", "rate_limited")
    _press(harness, START_ACTION, preview)
    assert harness.submitter.jobs == {}
    assert "Try again in a minute" in harness.fake.calls_to("chat.postEphemeral")[-1].text()
    assert harness.fake.calls_to("chat.update") == []
    _press(harness, START_ACTION, preview)  # the claim was released: it starts now
    assert len(harness.submitter.jobs) == 1


def test_cancel_on_a_preview_withdraws_it_so_a_stale_start_is_refused(harness: Harness) -> None:
    preview = _upload(harness)
    job_id = _buttons(_blocks(preview))[START_ACTION]["value"]
    _press(harness, DISCARD_ACTION, preview)
    assert harness.state.pending(job_id) is None
    _press(harness, START_ACTION, preview)  # a stale copy of the preview (another device)
    assert harness.submitter.jobs == {}
    assert "no longer have" in harness.fake.calls_to("chat.postEphemeral")[-1].text()


def _started_card(harness: Harness, preview: dict) -> JobCard:
    _press(harness, START_ACTION, preview)
    (job_id,) = harness.submitter.jobs
    card = harness.state.card(job_id)
    assert card is not None
    return card


def test_the_retry_card_keeps_the_workbooks_name(harness: Harness) -> None:
    card = _started_card(harness, _upload(harness, name="class_3a.xlsx"))
    assert card.name == "class_3a"
    job = harness.submitter.jobs[card.job_id]
    card.statuses = {r.id: CallStatus.NO_ANSWER.value for r in job.receivers}
    card.state = FINISHED
    harness.state.save_card(card)
    harness.action(RETRY_ACTION, card.job_id)
    (retry_id,) = [j for j in harness.submitter.jobs if j != card.job_id]
    retry_card = harness.state.card(retry_id)
    assert retry_card is not None
    assert retry_card.name == "class_3a (retry)"


def test_one_result_and_one_question_are_singular() -> None:
    job = CallJob.model_validate(
        {
            "job_id": "j1",
            "greeting": "Hello",
            "ending": "Bye",
            "questions": [{"template": "Coming?", "type": "Yes/No"}],
            "receivers": [
                {"id": "S1", "phone_number": "+85291234567", "fields": {"name": "Chan Tai Man"}}
            ],
        }
    )
    result = CallResult(job_id="j1", receiver_id="S1", status=CallStatus.CALL_COMPLETED)
    text, blocks = batch_blocks(job, [result])
    assert text == "1 result"
    blocks = preview_blocks(Preview("t", job, problems=()))
    preview = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)
    assert "*1 call* · 1 question ·" in preview
    assert "This phones 1 person now." in preview


def test_result_lines_name_the_person_beside_the_masked_number() -> None:
    job = CallJob.model_validate(
        {
            "job_id": "j1",
            "receivers": [
                {"id": "S1", "phone_number": "+85291234567", "fields": {"name": "Chan <Tai> Man"}},
                {"id": "S2", "phone_number": "+85291234568"},
            ],
        }
    )
    first, second = (
        result_line(job, CallResult(job_id="j1", receiver_id=rid, status=CallStatus.NO_ANSWER))
        for rid in ("S1", "S2")
    )
    assert "`S1` Chan &lt;Tai&gt; Man +852****4567 *NoAnswer*" in first
    assert "`S2` +852****4568 *NoAnswer*" in second


def test_status_lists_jobs_in_words(harness: Harness) -> None:
    card = _started_card(harness, _upload(harness))
    card.state = CardState.REJECTED
    harness.state.save_card(card)
    harness.command("status")
    listing = json.dumps(_blocks(harness.fake.calls_to("chat.postEphemeral")[-1].args))
    assert "could not start, 0/8 calls" in listing
    assert "rejected" not in listing


def _end(harness: Harness, card: JobCard, state: CardState = FINISHED) -> None:
    card.state = state
    harness.state.save_card(card)


def test_a_reupload_during_the_job_is_deduplicated_after_it_a_new_run(harness: Harness) -> None:
    card = _started_card(harness, _upload(harness, ts="1700.0001"))
    again = _upload(harness, ts="1700.0002")  # the same file while the job runs
    assert START_ACTION not in _buttons(_blocks(again))
    assert "already started" in json.dumps(_blocks(again))

    _end(harness, card)
    fresh = _upload(harness, ts="1700.0003")  # the same file once the job has ended
    run_id = _buttons(_blocks(fresh))[START_ACTION]["value"]
    assert run_id == f"{card.job_id}.run2"
    _press(harness, START_ACTION, fresh)
    assert list(harness.submitter.jobs) == [card.job_id, run_id]
    job = harness.submitter.jobs[run_id]
    assert job.origin is not None
    assert job.origin.thread_ref == "1700.0003"


def test_run_again_on_an_ended_card_starts_the_next_run_once(harness: Harness) -> None:
    card = _started_card(harness, _upload(harness))
    assert RUN_AGAIN_ACTION not in _buttons(
        [b.to_dict() for b in card_blocks(card)]
    )  # not while it runs
    harness.action(RUN_AGAIN_ACTION, card.job_id)
    assert "still running" in harness.fake.calls_to("chat.postEphemeral")[-1].text()
    _end(harness, card, CardState.STOPPED)
    assert RUN_AGAIN_ACTION in _buttons([b.to_dict() for b in card_blocks(card)])

    harness.action(RUN_AGAIN_ACTION, card.job_id)
    harness.action(RUN_AGAIN_ACTION, card.job_id)  # double click
    run_id = f"{card.job_id}.run2"
    assert list(harness.submitter.jobs) == [card.job_id, run_id]
    again = harness.submitter.jobs[run_id]
    assert len(again.receivers) == card.total
    run_card = harness.state.card(run_id)
    assert run_card is not None
    assert run_card.name == card.name
    assert "already been started" in harness.fake.calls_to("chat.postEphemeral")[-1].text()

    _end(harness, run_card)  # Run again on the second run: the third
    harness.action(RUN_AGAIN_ACTION, run_id)
    assert f"{card.job_id}.run3" in harness.submitter.jobs


def test_a_rejected_job_offers_no_run_again(harness: Harness) -> None:
    card = _started_card(harness, _upload(harness))
    _end(harness, card, CardState.REJECTED)
    assert RUN_AGAIN_ACTION not in _buttons([b.to_dict() for b in card_blocks(card)])


def test_the_card_links_to_its_preview_and_the_preview_to_its_card(harness: Harness) -> None:
    preview = _upload(harness)
    job_id = _buttons(_blocks(preview))[START_ACTION]["value"]
    pending = harness.state.pending(job_id)
    assert pending is not None
    assert pending.preview_ref is not None
    harness.fake.clear()
    card = _started_card(harness, preview)
    assert card.preview_ref == pending.preview_ref
    (card_post,) = [
        c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") is None
    ]
    preview_link = f"archives/C0001/p{pending.preview_ref.replace('.', '')}|Its preview>"
    assert preview_link in json.dumps(_blocks(card_post.args))
    assert card.card_ref is not None
    (update,) = harness.fake.calls_to("chat.update")
    card_link = f"archives/C0001/p{card.card_ref.replace('.', '')}|see its card>"
    assert card_link in json.dumps(_blocks(update.args))
    again = _upload(harness, ts="1700.0009")  # the same workbook while the job runs
    assert card_link in json.dumps(_blocks(again))
