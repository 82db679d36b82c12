"""What a teacher saw trying the Slack bot (issue 12), fixed in the chat-ops core."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.views import DISCARD_ACTION, START_ACTION
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
