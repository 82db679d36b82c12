"""The /callout modal: add/remove question rows in place, submission through the shared intake."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.core.forms import parse_receivers
from bot.slack.modal import ADD_QUESTION, REMOVE_QUESTION, ModalMeta, job_modal
from bot.slack.views import START_ACTION
from tests.e2e.slack.conftest import CHANNEL, TEAM, USER, Harness


def _text(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def _select(key: str) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": key}}}


def _number(value: str) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": value}}


def submission(
    *, receivers: str, questions: list[tuple[str, str]], greeting: str = "Hello {{ name }}."
) -> dict[str, Any]:
    rows = list(range(len(questions)))
    values: dict[str, Any] = {
        "job_name": _text("Trip reminder"),
        "greeting": _text(greeting),
        "ending": _text("Goodbye."),
        "phone_prefix": _text("+852"),
        "receivers": _text(receivers),
        "max_attempts": _number("2"),
        "call_timeout": _number("300"),
    }
    for row, (template, key) in enumerate(questions):
        values[f"q{row}_template"] = _text(template)
        values[f"q{row}_type"] = _select(key)
    view = job_modal(ModalMeta(channel_id=CHANNEL, rows=rows)).to_dict()
    view.update({"id": "V123", "hash": "h1", "state": {"values": values}})
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "school"},
        "user": {"id": USER, "team_id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": "1.2.3",
        "view": view,
    }


RECEIVERS = (
    "id, phone, name, class\nS1, 51234567, Chan Tai Man, 3A\nS2, 61234567, Wong Siu Ming, 3B"
)


def test_modal_is_valid_block_kit_within_limits() -> None:
    view = job_modal(ModalMeta(channel_id=CHANNEL, rows=list(range(10))))
    parsed = View(**view.to_dict())
    assert len(parsed.blocks) <= 100
    assert len(view.to_dict()["title"]["text"]) <= 24
    actions = [b for b in view.to_dict()["blocks"] if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions[0]["elements"]]
    assert ADD_QUESTION not in ids  # at most 10 questions
    assert REMOVE_QUESTION in ids


def test_add_question_updates_the_view_in_place_keeping_block_ids(harness: Harness) -> None:
    payload = submission(receivers=RECEIVERS, questions=[("Coming?", "YesNo")])
    payload.update(
        type="block_actions",
        actions=[
            {
                "type": "button",
                "action_id": ADD_QUESTION,
                "block_id": "question_buttons",
                "value": "add",
                "action_ts": "1",
            }
        ],
        container={"type": "view", "view_id": "V123"},
    )
    harness.payload(payload)
    (call,) = harness.fake.calls_to("views.update")
    assert call.args["view_id"] == "V123"
    assert call.args["hash"] == "h1"
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    ids = [b.get("block_id") for b in view["blocks"]]
    assert ids.index("q0_template") < ids.index("q1_template")
    assert json.loads(view["private_metadata"])["r"] == [0, 1]

    payload["view"] = {**view, "id": "V123", "hash": "h2"}
    payload["actions"][0]["action_id"] = REMOVE_QUESTION
    harness.payload(payload)
    second = harness.fake.calls_to("views.update")[-1].args["view"]
    second = json.loads(second) if isinstance(second, str) else second
    assert "q1_template" not in [b.get("block_id") for b in second["blocks"]]


def test_valid_submission_closes_and_posts_a_preview(harness: Harness) -> None:
    response = harness.payload(
        submission(receivers=RECEIVERS, questions=[("Is {{ name }} coming?", "YesNo")])
    )
    assert response.status == 200
    assert response.body == ""
    (preview,) = harness.fake.calls_to("chat.postMessage")
    assert preview.args["channel"] == CHANNEL
    text = preview.text()
    assert "2 calls" in text
    assert "Is Chan Tai Man coming?" in text
    blocks = preview.blocks()
    start = [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == START_ACTION
    ]
    assert start
    assert harness.state.pending(start[0]["value"]) is not None
    job = harness.state.pending(start[0]["value"]).job
    assert job["extra_columns"] == ["name", "class"]


def test_problems_come_back_as_inline_errors(harness: Harness) -> None:
    response = harness.payload(
        submission(
            receivers="S1, 12ab, Chan\nS1, 61234567, Wong",
            questions=[("Is {{ nickname }} coming?", "YesNo")],
        )
    )
    assert response.status == 200
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    assert "receivers" in body["errors"]
    assert "q0_template" in body["errors"]
    assert "nickname" in body["errors"]["q0_template"]
    assert harness.fake.calls_to("chat.postMessage") == []


def test_receiver_lines_without_header_get_a_name_column() -> None:
    receivers, extra, problems = parse_receivers("1, 51234567, Chan Tai Man\n\n2\t61234567\n3")
    assert extra == ["name"]
    assert [(r[0], r[1], r[3]) for r in receivers] == [("1", "51234567", 1), ("2", "61234567", 3)]
    assert "line 4" in problems["receivers"]


def _errors(harness: Harness, payload: dict[str, Any]) -> dict[str, str]:
    response = harness.payload(payload)
    assert response.status == 200
    body = json.loads(response.body or "{}")
    assert body.get("response_action") == "errors", body
    assert harness.fake.calls_to("chat.postMessage") == []  # no preview, modal stays open
    return dict(body["errors"])


YES_NO = [("Is {{ name }} coming?", "YesNo")]


@pytest.mark.parametrize(
    ("receivers", "block", "words"),
    [
        ("", "receivers", "at least one line"),
        ("id, phone, name", "receivers", "no receivers"),
        ("S1", "receivers", "line 1"),
        ("S1, 5123abcd, Chan", "receivers", "letters"),
        ("id, phone, name, name\nS1, 51234567, Chan, Tai", "receivers", "'name' twice"),
        ("id, phone, name\nS1, 51234567, Chan, 3A", "receivers", "line 2: 4 values"),
        ("S1, 51234567, A\nS1, 61234567, B", "receivers", "duplicate id"),
    ],
)
def test_bad_receiver_lines_are_inline_errors_on_the_receivers_input(
    harness: Harness, receivers: str, block: str, words: str
) -> None:
    errors = _errors(harness, submission(receivers=receivers, questions=YES_NO))
    assert words in errors[block]
    # The receivers' problem is not echoed as a confusing template error elsewhere.
    assert "greeting" not in errors


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("Is {{ nickname }} coming?", "nickname"),
        ("<speak>Coming?</speak>", "<speak>"),
        ("{{ ''.__class__.__mro__ }}", "not allowed"),
        ("{{ name ", "template error"),
        ("", "empty"),
    ],
)
def test_bad_templates_are_inline_errors_on_their_question(
    harness: Harness, template: str, words: str
) -> None:
    errors = _errors(harness, submission(receivers=RECEIVERS, questions=[(template, "YesNo")]))
    assert words in errors["q0_template"]


def test_blank_greeting_is_an_inline_error(harness: Harness) -> None:
    errors = _errors(harness, submission(receivers=RECEIVERS, questions=YES_NO, greeting="   "))
    assert "greeting" in errors


def test_more_than_ten_questions_is_an_inline_error(harness: Harness) -> None:
    errors = _errors(harness, submission(receivers=RECEIVERS, questions=YES_NO * 11))
    assert "10" in errors["q10_template"]


@pytest.mark.parametrize(
    ("attempts", "timeout", "block"),
    [
        ("abc", "300", "max_attempts"),
        ("0", "300", "max_attempts"),
        ("99", "300", "max_attempts"),
        ("2", "5", "call_timeout"),
        ("2", "99999", "call_timeout"),
        ("2", "1.5", "call_timeout"),
    ],
)
def test_bad_settings_are_inline_errors_on_their_input(
    harness: Harness, attempts: str, timeout: str, block: str
) -> None:
    payload = submission(receivers=RECEIVERS, questions=YES_NO)
    payload["view"]["state"]["values"]["max_attempts"] = _number(attempts)
    payload["view"]["state"]["values"]["call_timeout"] = _number(timeout)
    assert list(_errors(harness, payload)) == [block]


def test_unreadable_private_metadata_is_an_error_not_a_crash(harness: Harness) -> None:
    payload = submission(receivers=RECEIVERS, questions=YES_NO)
    payload["view"]["private_metadata"] = "{not json"
    assert _errors(harness, payload)


def test_control_characters_in_pasted_lines_do_not_crash(harness: Harness) -> None:
    response = harness.payload(submission(receivers="S1, 51234567, Chan\x00\x1b", questions=YES_NO))
    assert response.status == 200


def test_a_form_for_a_channel_without_the_bot_is_previewed_in_a_dm(harness: Harness) -> None:
    harness.fake.error_next("chat.postMessage", "not_in_channel")
    harness.payload(submission(receivers=RECEIVERS, questions=YES_NO))
    failed, dm = harness.fake.calls_to("chat.postMessage")
    assert failed.args["channel"] == CHANNEL
    assert dm.args["channel"] == USER
    assert "/invite" in dm.text()
    start = [
        e
        for b in dm.blocks()
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == START_ACTION
    ]
    harness.action(START_ACTION, start[0]["value"], channel=USER)
    assert list(harness.submitter.jobs) == [start[0]["value"]]


def test_the_optional_language_sets_the_job_language(harness: Harness) -> None:
    """A job typed in Spanish speaks Spanish to everyone: Lupe, the es_US bots, Spanish hints."""
    payload = submission(
        receivers=RECEIVERS,
        questions=[("¿Viene {{ name }}?", "YesNo")],
        greeting="Hola {{ name }}.",
    )
    payload["view"]["state"]["values"]["language"] = _select("es-US")
    assert harness.payload(payload).status == 200
    (preview,) = harness.fake.calls_to("chat.postMessage")
    assert "¿Viene Chan Tai Man? Diga sí o no" in preview.text()
    start = next(
        e
        for b in preview.blocks()
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == START_ACTION
    )
    pending = harness.state.pending(start["value"])
    assert pending is not None
    assert pending.job["settings"]["language"] == "es-US"
