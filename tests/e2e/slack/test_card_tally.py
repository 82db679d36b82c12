"""The job card counts incrementally (AWS: one stream batch at a time) but must show exactly what
backend.domain.summary computes for the report: same statuses, same answer order and categories."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.answers import NO_ANSWER
from backend.domain.models import CallResult, CallStatus
from backend.domain.summary import summary
from bot.core.state import JobCard
from bot.slack.views import card_blocks
from tests.e2e.slack.test_notifier import slack_job

JOB = slack_job(receivers=40)  # questions: OK, Yes/No, Multiple Choice, Number, Date, Time
ANSWERS = st.one_of(
    st.none(),
    st.sampled_from(["OK", "Yes", "No", "A", "C", "E", "2026-12-01", "15:30", "weird"]),
    st.integers(0, 30).map(str),
)
RESULT = st.tuples(
    st.sampled_from(list(CallStatus)),
    st.lists(ANSWERS, max_size=len(JOB.questions) + 1),
)


def _card(results: list[CallResult]) -> JobCard:
    card = JobCard.for_job(JOB)
    for result in results:
        card.add(result)
    return JobCard.from_json(card.to_json())  # what the AWS notifier reloads


@settings(max_examples=60, deadline=None)
@given(st.lists(RESULT, max_size=len(JOB.receivers)))
def test_card_tallies_equal_the_report_summary(drawn: list[tuple[CallStatus, list]]) -> None:
    results = [
        CallResult(job_id=JOB.job_id, receiver_id=receiver.id, status=status, answers=answers)
        for receiver, (status, answers) in zip(JOB.receivers, drawn, strict=False)
    ]
    card = _card(results)
    expected = summary(JOB, results)
    assert card.answer_tallies() == expected.questions
    assert {s: n for s, n in expected.statuses.items() if n} == {
        CallStatus(s): n for s, n in card.counts().items()
    }
    assert card.done == expected.done


def test_a_call_without_answers_counts_as_no_answer_on_every_question() -> None:
    card = _card([CallResult(job_id=JOB.job_id, receiver_id="R0000", status=CallStatus.NO_ANSWER)])
    for tally in card.answer_tallies():
        assert tally.count(NO_ANSWER) == 1


def test_the_card_lists_answers_in_the_reports_order() -> None:
    results = [
        CallResult(job_id=JOB.job_id, receiver_id=f"R{i:04d}", status=status, answers=answers)
        for i, (status, answers) in enumerate(
            [
                (CallStatus.CALL_COMPLETED, ("OK", "No", "E")),
                (CallStatus.CALL_COMPLETED, ("OK", "No", "E")),
                (CallStatus.CALL_COMPLETED, ("OK", "Yes", "A")),
                (CallStatus.BUSY, ()),
            ]
        )
    ]
    text = json.dumps([b.to_dict() for b in card_blocks(_card(results))], ensure_ascii=False)
    # Yes before No and A..E in order (as in the report), not by count; "No answer" last.
    assert "Yes 1 · No 2 · No answer 1" in text
    assert "A 1 · B 0 · C 0 · D 0 · E 2 · No answer 1" in text
