"""The Teams Adaptive Cards: what they show, their buttons, and their size at 100,000 people."""

from __future__ import annotations

import json
import random
from typing import Any

from microsoft_teams.cards import AdaptiveCard

from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    ChatOrigin,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.problems import Problem
from bot.core.preview import Preview
from bot.core.state import FINISHED, JobCard
from bot.teams import cards

ORIGIN = ChatOrigin(
    platform="teams",
    tenant_id="tenant-1",
    channel_id="a:personal-chat",
    user_id="user-1",
    service_url="http://connector.test",
)


def make_job(people: int, *, questions: int = 2, job_id: str = "big-job") -> CallJob:
    """A job; receivers are built without validation (fast at 100,000)."""
    kinds = [QuestionType.YES_NO, QuestionType.NUMBER, QuestionType.MULTIPLE_CHOICE]
    return CallJob.model_construct(
        job_id=job_id,
        name="Parents' evening",
        greeting="Hello {{ name }}",
        ending="Goodbye",
        questions=tuple(
            Question(template=f"Question {n} for {{{{ name }}}}?", type=kinds[n % len(kinds)])
            for n in range(questions)
        ),
        receivers=tuple(
            Receiver.model_construct(
                id=f"S{n:06d}",
                phone_number=f"+8529{n:07d}",
                fields={"name": f"Person Number {n} With A Long Name"},
            )
            for n in range(people)
        ),
        origin=ORIGIN,
    )


def dumped(card: AdaptiveCard) -> dict[str, Any]:
    data = card.model_dump(by_alias=True, exclude_none=True)
    assert data["type"] == "AdaptiveCard"
    assert data["version"] == "1.5"
    AdaptiveCard.model_validate(data)  # it reads back as the SDK's model
    return data


def texts(card: AdaptiveCard) -> str:
    return json.dumps(dumped(card), ensure_ascii=False)


def actions(card: AdaptiveCard) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(dumped(card))
    return found


def test_preview_shows_calls_questions_first_person_and_start_cancel() -> None:
    job = make_job(3)
    preview = Preview(
        title="evening.xlsx",
        job=job,
        problems=(),
        first_hears=("Hello Person Number 0", "Question 0?"),
    )
    card = cards.preview_card(preview)
    text = texts(card)
    assert "3 calls" in text
    assert "2 questions" in text
    assert "What the first person (S000000, " in text
    assert "+85290000000" not in text  # numbers are masked
    buttons = actions(card)
    assert [(b["type"], b["data"]["action"]) for b in buttons] == [
        ("Action.Execute", cards.START),
        ("Action.Execute", cards.DISCARD),
    ]
    assert all(b["data"]["job_id"] == "big-job" for b in buttons)


def test_preview_with_problems_lists_each_and_offers_no_start() -> None:
    problems = [
        Problem(f"phone number '+8529{n:07d}' is too short", "Receivers", n + 2, "phone_number")
        for n in range(3)
    ]
    preview = Preview(title="bad.xlsx", job=None, problems=problems)
    text = texts(cards.preview_card(preview))
    assert "3 problems to fix" in text
    for n in range(3):
        assert f"row {n + 2}" in text
    assert "+8529000000" not in text
    assert not actions(cards.preview_card(preview))


def test_preview_offers_where_to_report_when_there_is_a_choice() -> None:
    preview = Preview(title="t", job=make_job(2), problems=())
    card = cards.preview_card(
        preview,
        report_choices=[("a:chat", "This chat"), ("19:c@thread.tacv2", "Class 5 › General")],
    )
    data = dumped(card)
    choice = next(
        e for e in data["body"] if e.get("type") == "Input.ChoiceSet" and e["id"] == cards.REPORT_TO
    )
    assert choice["value"] == "a:chat"
    assert [c["value"] for c in choice["choices"]] == ["a:chat", "19:c@thread.tacv2"]


def test_a_100000_person_preview_with_thousands_of_problems_stays_under_80_kb() -> None:
    first = make_job(1, questions=10)
    job = first.model_copy(update={"receivers": first.receivers * 100_000})
    problems = [
        Problem(f"phone number '{n}' has letters: write digits only", "Receivers", n, "phone")
        for n in range(5_000)
    ]
    preview = Preview(title="huge.xlsx", job=job, problems=problems, first_hears=("x" * 400,) * 12)
    card = cards.preview_card(preview)
    assert cards.card_bytes(card) < cards.MAX_CARD_BYTES
    assert "more problems" in texts(card)


def test_a_100000_person_job_card_stays_under_80_kb_and_shows_counts_and_tallies() -> None:
    card = JobCard.for_job(make_job(1, questions=10), card_ref="card-1")
    rng = random.Random(1)
    statuses = [status.value for status in CallStatus]
    # The counts as 100,000 results leave them (JobCard.add is tested with the core).
    card.total = 100_000
    card.statuses = {f"S{n:06d}": rng.choice(statuses) for n in range(100_000)}
    card.tallies = [{str(n): 10 for n in range(10_000)} for _ in card.questions]
    card.state = FINISHED
    rendered = cards.job_card(card)
    assert cards.card_bytes(rendered) < cards.MAX_CARD_BYTES
    data = dumped(rendered)
    facts = next(e for e in data["body"] if e.get("type") == "FactSet")["facts"]
    assert sum(int(f["value"].split()[0]) for f in facts) == 100_000
    assert "100000/100000" in texts(rendered)
    retry = [a for a in actions(rendered) if a["data"]["action"] == cards.RETRY]
    assert len(retry) == 1
    assert retry[0]["type"] == "Action.Execute"


def test_running_job_card_offers_cancel_only() -> None:
    card = JobCard.for_job(make_job(4), card_ref="card-1")
    card.add(
        CallResult(
            job_id="big-job",
            receiver_id="S000000",
            status=CallStatus.CALL_COMPLETED,
            answers=("Yes", "12"),
        )
    )
    rendered = cards.job_card(card)
    assert [a["data"]["action"] for a in actions(rendered)] == [cards.CANCEL]
    text = texts(rendered)
    assert "1/4" in text
    assert "CallCompleted" in text
    assert "Yes 1" in text


def test_result_batch_names_people_with_masked_numbers_and_fits() -> None:
    job = make_job(2_000)
    results = [
        CallResult(job_id=job.job_id, receiver_id=r.id, status=CallStatus.NO_ANSWER, attempts=3)
        for r in job.receivers
    ]
    fit = cards.fitting_results(job, results)
    assert 10 < fit < len(results)
    batch = cards.results_card(job, results[:fit])
    assert cards.card_bytes(batch) < cards.MAX_CARD_BYTES
    text = texts(batch)
    assert "Person Number 0 With A Long Name" in text
    assert "+85290000000" not in text
    assert "****0000" in text
    assert "NoAnswer" in text
    assert "3 attempts" in text


def test_a_batch_of_names_in_any_script_fits_one_reply() -> None:
    job = make_job(3_000)
    job = job.model_copy(
        update={
            "receivers": tuple(
                r.model_copy(update={"fields": {"name": "陳大文" * 26}}) for r in job.receivers
            )
        }
    )
    results = [
        CallResult(job_id=job.job_id, receiver_id=r.id, status=CallStatus.CALL_COMPLETED)
        for r in job.receivers
    ]
    fit = cards.fitting_results(job, results)
    assert 1 < fit < len(results)
    assert cards.card_bytes(cards.results_card(job, results[:fit])) < cards.MAX_CARD_BYTES
    assert cards.fitting_results(job, results[:1]) == 1


def test_new_job_card_opens_the_form_dialog() -> None:
    (button,) = actions(cards.new_job_card())
    assert button["type"] == "Action.Submit"
    assert button["data"]["dialog_id"] == cards.FORM
    assert button["data"]["msteams"]["type"] == "task/fetch"


def test_help_names_every_command_with_the_mention() -> None:
    text = texts(cards.help_card())
    for command in ("new", "template", "status", "cancel JOB", "help"):
        assert f"@Callouts {command}" in text


def test_an_ended_job_card_says_how_many_unreached_were_texted() -> None:
    card = JobCard.for_job(make_job(4), card_ref="card-1")
    assert "Texted" not in texts(cards.job_card(card))  # no SMS yet: no line
    card.state = FINISHED
    card.sms = {"sent": 7, "failed": 1, "skipped": 0}
    text = texts(cards.job_card(card))
    assert "Texted 7 people who were not reached; 1 failed" in text


def test_help_lists_call_me_first_only_when_the_bot_has_it() -> None:
    assert "@Callouts test number NUMBER" not in texts(cards.help_card())
    text = texts(cards.help_card(test_calls=True))
    assert "@Callouts test [JOB]" in text
    assert "@Callouts test number NUMBER" in text
    assert "@Callouts schedule cancel ID" in text
