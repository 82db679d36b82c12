"""Workbook uploads -> preview in the thread -> Start / Cancel, via signed events and actions."""

from __future__ import annotations

import io
import json
import re

from openpyxl import load_workbook

from bot.core.state import CardState
from bot.slack.views import DISCARD_ACTION, START_ACTION
from tests.e2e.slack.conftest import (
    CHANNEL,
    TEAM,
    TOKEN,
    USER,
    Harness,
    action_payload,
    example_workbook,
)

E164_LIKE = re.compile(r"\+\d{8,15}")


def _preview(harness: Harness) -> dict:
    (call,) = harness.fake.calls_to("chat.postMessage")
    return call.args


def _buttons(blocks: list[dict]) -> dict[str, dict]:
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _blocks(args: dict) -> list[dict]:
    blocks = args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _with_bad_phone(content: bytes) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book["Receivers"]
    sheet.cell(row=3, column=2).value = "12ab"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_uploaded_workbook_gets_a_preview_in_its_thread(harness: Harness) -> None:
    response = harness.share_file("class_3a.xlsx", example_workbook(), ts="1700.0001")
    assert response.status == 200
    (download,) = harness.fake.calls_to("files.download")
    assert download.headers["Authorization"] == f"Bearer {TOKEN}"
    preview = _preview(harness)
    assert preview["channel"] == CHANNEL
    assert preview["thread_ts"] == "1700.0001"
    text = json.dumps(_blocks(preview), ensure_ascii=False)
    assert "8 calls" in text
    assert "will hear" in text
    assert "Chan Tai Man" in text
    assert not E164_LIKE.search(text), "phone numbers must be masked"
    start = _buttons(_blocks(preview))[START_ACTION]
    assert harness.state.pending(start["value"]) is not None
    assert len(start["value"]) < 100  # only the job id travels in the button


def test_non_workbook_files_are_ignored(harness: Harness) -> None:
    harness.share_file("photo.png", b"\x89PNG....", filetype="png")
    assert harness.fake.calls == []


def test_own_bot_uploads_are_ignored(harness: Harness) -> None:
    url = harness.fake.add_download("report.xlsx", example_workbook())
    harness.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": CHANNEL,
            "bot_id": "BBOT",
            "user": "UBOT",
            "ts": "5.5",
            "files": [
                {"id": "F9", "name": "report.xlsx", "filetype": "xlsx", "url_private_download": url}
            ],
        }
    )
    assert harness.fake.calls_to("chat.postMessage") == []


def test_broken_workbook_gets_a_clear_reply_without_start(harness: Harness) -> None:
    harness.share_file("broken.xlsx", b"id,phone\n1,2\n", ts="1700.0002")
    preview = _preview(harness)
    assert preview["thread_ts"] == "1700.0002"
    assert "problem" in json.dumps(_blocks(preview)).lower()
    assert START_ACTION not in _buttons(_blocks(preview))


def test_problems_are_listed_per_row_and_start_is_absent(harness: Harness) -> None:
    harness.share_file("bad.xlsx", _with_bad_phone(example_workbook()))
    blocks = _blocks(_preview(harness))
    text = json.dumps(blocks)
    assert "Receivers" in text
    assert "row 3" in text
    assert START_ACTION not in _buttons(blocks)


def test_start_submits_once_with_the_slack_origin(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook(), ts="1700.0001")
    preview = _preview(harness)
    job_id = _buttons(_blocks(preview))[START_ACTION]["value"]
    message = {"ts": preview.get("ts", "111.222"), "blocks": _blocks(preview)}

    harness.action(START_ACTION, job_id, message=message)
    harness.action(START_ACTION, job_id, message=message)  # double click

    assert list(harness.submitter.jobs) == [job_id]
    job = harness.submitter.jobs[job_id]
    assert job.origin is not None
    assert (job.origin.team_id, job.origin.channel_id, job.origin.user_id) == (TEAM, CHANNEL, USER)
    assert job.origin.thread_ref == "1700.0001"
    card_post = [
        c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") is None
    ]
    assert len(card_post) == 1
    assert job.origin.card_ref is not None
    assert "0/8" in card_post[0].text()
    refusals = harness.fake.calls_to("chat.postEphemeral")
    assert len(refusals) == 1
    assert "already been started" in refusals[0].text()
    updated = harness.fake.calls_to("chat.update")
    assert updated
    assert START_ACTION not in _buttons(_blocks(updated[0].args))


def test_reupload_of_a_started_workbook_does_not_offer_start_again(harness: Harness) -> None:
    content = example_workbook()
    harness.share_file("class_3a.xlsx", content, ts="1700.0001")
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.action(START_ACTION, job_id)
    harness.fake.clear()

    harness.share_file("class_3a.xlsx", content, ts="1700.0009")
    (again,) = list(harness.fake.calls_to("chat.postMessage"))
    assert START_ACTION not in _buttons(_blocks(again.args))
    assert "already started" in again.text()
    assert harness.submitter.submits == [job_id]


def test_start_is_refused_outside_the_allowed_channels(make_harness) -> None:
    harness = make_harness(CALLOUTS_ALLOWED_CHANNELS="COTHER")
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.action(START_ACTION, job_id)
    assert harness.submitter.jobs == {}
    (refusal,) = harness.fake.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == USER
    assert "channel" in refusal.text()


def test_start_checks_user_groups_at_start(make_harness) -> None:
    harness = make_harness(CALLOUTS_ALLOWED_USERGROUPS="S0TEACHERS")
    harness.fake.usergroups["S0TEACHERS"] = ["UTEACHER"]
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]

    harness.action(START_ACTION, job_id, user="UPARENT")
    assert harness.submitter.jobs == {}
    harness.action(START_ACTION, job_id, user="UTEACHER")
    assert list(harness.submitter.jobs) == [job_id]
    assert harness.fake.calls_to("usergroups.users.list")[0].args["usergroup"] == "S0TEACHERS"


def test_cancel_on_the_preview_discards_without_calling(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook())
    preview = _preview(harness)
    job_id = _buttons(_blocks(preview))[DISCARD_ACTION]["value"]
    harness.payload(
        action_payload(DISCARD_ACTION, job_id, message={"ts": "9.9", "blocks": _blocks(preview)})
    )
    assert harness.submitter.jobs == {}
    (update,) = harness.fake.calls_to("chat.update")
    assert update.args["ts"] == "9.9"
    assert "Discarded" in update.text()
    assert _buttons(_blocks(update.args)) == {}


def test_card_cancel_only_by_its_starter_or_an_admin(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.action(START_ACTION, job_id)

    harness.command(f"cancel {job_id}", user="USTRANGER")
    assert harness.submitter.cancels == []
    assert "Only" in harness.fake.calls_to("chat.postEphemeral")[-1].text()

    harness.action("callout_cancel", job_id, user="UADMIN")
    assert harness.submitter.cancels == [(job_id, "UADMIN")]
    card = harness.state.card(job_id)
    said = harness.fake.calls_to("chat.postMessage")[-1]
    assert said.args["thread_ts"] == card.card_ref
    assert "cancelled" in said.text()


def test_a_workbook_over_the_size_limit_is_not_downloaded(harness: Harness) -> None:
    url = harness.fake.add_download("huge.xlsx", b"PK")
    harness.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": CHANNEL,
            "user": USER,
            "ts": "8.8",
            "files": [
                {
                    "id": "F2",
                    "name": "huge.xlsx",
                    "filetype": "xlsx",
                    "size": 25_000_000,
                    "url_private_download": url,
                }
            ],
        }
    )
    assert harness.fake.calls_to("files.download") == []
    (reply,) = harness.fake.calls_to("chat.postMessage")
    assert reply.args["thread_ts"] == "8.8"
    assert "10 MB" in reply.args["text"]


def _share_url(harness: Harness, name: str, url: str, ts: str = "6.6") -> None:
    harness.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": CHANNEL,
            "user": USER,
            "ts": ts,
            "files": [
                {
                    "id": "F3",
                    "name": name,
                    "filetype": "xlsx",
                    "size": 1234,
                    "url_private_download": url,
                }
            ],
        }
    )


def test_an_html_page_instead_of_the_file_names_the_scope_and_channel(harness: Harness) -> None:
    # Slack answers a token without files:read with its sign-in page (200, HTML).
    url = harness.fake.add_download("class.xlsx", b"<!DOCTYPE html><html><body>Sign in")
    _share_url(harness, "class.xlsx", url)
    (reply,) = harness.fake.calls_to("chat.postMessage")
    assert reply.args["thread_ts"] == "6.6"
    text = reply.args["text"]
    assert "could not download" in text
    assert "files:read" in text
    assert "in the channel" in text
    assert harness.state.pending("class") is None


def test_a_download_that_fails_says_so_in_the_thread(harness: Harness) -> None:
    _share_url(harness, "gone.xlsx", f"{harness.fake.url}/files-pri/gone.xlsx")
    (reply,) = harness.fake.calls_to("chat.postMessage")
    assert "could not download" in reply.args["text"]
    assert "files:read" in reply.args["text"]


def test_a_file_without_a_download_url_gets_a_reply_not_a_crash(harness: Harness) -> None:
    harness.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": CHANNEL,
            "user": USER,
            "ts": "7.7",
            "files": [{"id": "F4", "name": "x.xlsx", "filetype": "xlsx", "mode": "tombstone"}],
        }
    )
    (reply,) = harness.fake.calls_to("chat.postMessage")
    assert "could not download" in reply.args["text"]


def test_a_corrupt_workbook_gets_a_clear_reply(harness: Harness) -> None:
    harness.share_file("corrupt.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50, ts="9.1")
    (preview,) = harness.fake.calls_to("chat.postMessage")
    assert preview.args["thread_ts"] == "9.1"
    assert "problem" in preview.text().lower()
    assert START_ACTION not in _buttons(_blocks(preview.args))


def test_start_with_an_unknown_or_empty_job_id_is_refused(harness: Harness) -> None:
    for value in ("nope-123", ""):
        response = harness.action(START_ACTION, value)
        assert response.status == 200
    assert harness.submitter.jobs == {}
    refusals = harness.fake.calls_to("chat.postEphemeral")
    assert len(refusals) == 2
    assert all("no longer have" in r.text() for r in refusals)


def test_start_from_another_team_or_channel_is_refused(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]

    other_team = action_payload(START_ACTION, job_id)
    other_team["team"] = {"id": "T9OTHER"}
    other_team["user"]["team_id"] = "T9OTHER"
    harness.payload(other_team)
    harness.action(START_ACTION, job_id, channel="C9OTHER")

    assert harness.submitter.jobs == {}
    assert len(harness.fake.calls_to("chat.postEphemeral")) == 2
    harness.action(START_ACTION, job_id)  # the right place still works
    assert list(harness.submitter.jobs) == [job_id]


def test_timeout_retry_of_a_file_share_does_not_preview_twice(harness: Harness) -> None:
    url = harness.fake.add_download("class.xlsx", example_workbook())
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": CHANNEL,
        "user": USER,
        "ts": "4.4",
        "files": [
            {
                "id": "F5",
                "name": "class.xlsx",
                "filetype": "xlsx",
                "size": 10,
                "url_private_download": url,
            }
        ],
    }
    harness.event(event)
    harness.event(event, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    assert len(harness.fake.calls_to("chat.postMessage")) == 1


def test_cancel_marks_the_card_cancelling_once(harness: Harness) -> None:
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.action(START_ACTION, job_id)
    card_ts = harness.state.card(job_id).card_ref
    harness.fake.clear()

    harness.action("callout_cancel", job_id)
    assert harness.state.card(job_id).state is CardState.CANCELLING
    (update,) = [c for c in harness.fake.calls_to("chat.update") if c.args["ts"] == card_ts]
    assert "Cancelling" in update.text()
    assert "callout_cancel" not in _buttons(_blocks(update.args))

    harness.action("callout_cancel", job_id)  # a second click
    assert harness.submitter.cancels == [(job_id, USER)]
    assert "already" in harness.fake.calls_to("chat.postEphemeral")[-1].text()


def test_start_with_unreadable_user_groups_refuses_and_says_why(make_harness) -> None:
    harness = make_harness(CALLOUTS_ALLOWED_USERGROUPS="S0TEACHERS")
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.fake.error_next("usergroups.users.list", "missing_scope")
    harness.action(START_ACTION, job_id, user="UTEACHER")
    assert harness.submitter.jobs == {}
    (refusal,) = harness.fake.calls_to("chat.postEphemeral")
    assert "usergroups:read" in refusal.text()


def test_a_file_message_without_the_file_share_subtype_is_previewed(harness: Harness) -> None:
    # Slack has sent uploads as plain `message` events with `files` (no subtype) too.
    url = harness.fake.add_download("class.xlsx", example_workbook())
    harness.event(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": USER,
            "ts": "3.3",
            "upload": True,
            "files": [
                {
                    "id": "F6",
                    "name": "class.xlsx",
                    "filetype": "xlsx",
                    "size": 10,
                    "url_private_download": url,
                }
            ],
        }
    )
    (preview,) = harness.fake.calls_to("chat.postMessage")
    assert preview.args["thread_ts"] == "3.3"
    assert START_ACTION in _buttons(_blocks(preview.args))


def test_start_by_a_user_not_on_the_allow_list_is_refused_admins_may(make_harness) -> None:
    harness = make_harness(CALLOUTS_ALLOWED_USERS="UTEACHER", CALLOUTS_ALLOWED_CHANNELS="C0001")
    harness.share_file("class_3a.xlsx", example_workbook())
    job_id = _buttons(_blocks(_preview(harness)))[START_ACTION]["value"]
    harness.action(START_ACTION, job_id, user="USTRANGER")
    assert harness.submitter.jobs == {}
    assert "not on the list" in harness.fake.calls_to("chat.postEphemeral")[-1].text()
    harness.action(START_ACTION, job_id, user="UADMIN")
    assert list(harness.submitter.jobs) == [job_id]
