"""Block Kit built by the bot stays within Slack's limits and parses back with slack_sdk models."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from backend.domain.intake import read_workbook
from backend.domain.models import ChatOrigin
from backend.domain.problems import Problem
from bot.core.card import progress_bar
from bot.core.preview import Preview
from bot.core.state import JobCard
from bot.slack.views import START_ACTION, card_blocks, preview_blocks
from tests.e2e.slack.conftest import TEAM, Harness, example_workbook


def _check_limits(blocks: list[Block]) -> list[dict]:
    dicts = [b.to_dict() for b in blocks]
    assert len(dicts) <= 50
    for raw in dicts:
        assert Block.parse(raw) is not None
        text = raw.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= 3000
    return dicts


def test_a_thousand_problems_fit_one_message_with_and_n_more() -> None:
    problems = [
        Problem(
            f"phone number 'x{i}' has letters: write digits only",
            "Receivers",
            i + 2,
            "phone_number",
        )
        for i in range(1000)
    ]
    dicts = _check_limits(preview_blocks(Preview(job=None, problems=problems, title="big.xlsx")))
    text = str(dicts)
    assert "1000 problems" in text
    assert "more problems" in text
    assert "row 2," in text  # the first rows are listed with where they are
    assert START_ACTION not in text


def test_card_within_limits_and_progress_bar() -> None:
    job = read_workbook(example_workbook(), filename="c.xlsx", job_id="c").job
    assert job is not None
    card = JobCard.for_job(
        job.model_copy(update={"origin": ChatOrigin(team_id="T", channel_id="C", user_id="U")})
    )
    card.statuses = {"1": "CallCompleted", "2": "NoAnswer"}
    card.tallies = [{"OK": 1, "": 1}] + [{} for _ in job.questions[1:]]
    dicts = _check_limits(card_blocks(card))
    assert "callout_cancel" in str(dicts)
    assert progress_bar(12, 40, width=10) == "▓▓▓░░░░░░░ 12/40"
    assert progress_bar(0, 0, width=4) == "░░░░ 0/0"


def test_status_of_a_job_shows_its_card_privately(harness: Harness) -> None:
    job = read_workbook(example_workbook(), filename="c.xlsx", job_id="class-3a").job
    assert job is not None
    card = JobCard.for_job(
        job.model_copy(
            update={"origin": ChatOrigin(team_id=TEAM, channel_id="C0001", user_id="U")}
        ),
        card_ref="5.5",
    )
    harness.state.save_card(card)
    harness.command("status class-3a")
    (call,) = harness.fake.calls_to("chat.postEphemeral")
    assert "0/8" in call.text()
    harness.command("status")
    assert "class-3a" in harness.fake.calls_to("chat.postEphemeral")[-1].text()


def test_phone_numbers_in_problems_are_masked() -> None:
    problems = [
        Problem(
            "phone number '+44 909 8790000': premium-rate numbers are not allowed",
            "Receivers",
            3,
            "phone_number",
        ),
        Problem(
            "phone number '+8529123456789' has the wrong length: check the digits",
            "Receivers",
            4,
            "phone_number",
        ),
        Problem("duplicate phone 85291234567 on row 2", "Receivers", 5, "phone_number"),
    ]
    text = str(_check_limits(preview_blocks(Preview(job=None, problems=problems, title="x.xlsx"))))
    for secret in ("909 8790000", "9123456789", "85291234567"):
        assert secret not in text
    assert "****0000" in text  # the last digits still say which one
    assert "row 3" in text
