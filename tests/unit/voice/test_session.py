"""CallSession operations and the disconnect table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.disconnects import status_for
from backend.domain.models import (
    CallJob,
    CallStatus,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.session import CallSession, join_ssml
from backend.domain.speech import Prompts

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def make_job(*types: QuestionType) -> CallJob:
    return CallJob(
        job_id="job-1",
        greeting="Hello",
        ending="Bye",
        questions=tuple(Question(template=f"Q{i + 1}", type=t) for i, t in enumerate(types)),
        receivers=(Receiver(id="7", phone_number="+85291234567"),),
    )


def make_session(*types: QuestionType, attempt: int = 1) -> CallSession:
    job = make_job(*types)
    prompts = Prompts(
        "<speak>Hello Ann.</speak>",
        tuple(f"<speak>Question {i + 1}?</speak>" for i in range(len(types))),
        "<speak>Goodbye.</speak>",
    )
    return CallSession.new(job, job.receivers[0], attempt, prompts, now=T0)


def test_call_id_is_unique_per_attempt() -> None:
    assert make_session(QuestionType.OK).call_id == "job-1:7:1"
    assert make_session(QuestionType.OK, attempt=2).call_id == "job-1:7:2"


def test_start_greets_and_asks_the_first_question() -> None:
    session = make_session(QuestionType.YES_NO, QuestionType.NUMBER)
    action = session.start(T0)
    assert action.to_map() == {
        "action": "ask",
        "prompt": "<speak>Hello Ann. Question 1?</speak>",
        "question_type": "YesNo",
        "question_number": "1",
        "turn": "1",
        "voice": "Joanna",
        "language": "en-US",
    }
    assert session.status == "in_progress"
    assert session.connected_at == T0


def test_answers_are_normalised_and_the_call_completes() -> None:
    session = make_session(QuestionType.YES_NO, QuestionType.NUMBER, QuestionType.MULTIPLE_CHOICE)
    session.start(T0)
    second = session.record_answer("YesIntent", None, T0)
    assert (second.action, second.question_number, second.question_type) == ("ask", "2", "Number")
    assert session.record_answer("NumberIntent", "12", T0).question_type == "MultipleChoice"
    end = session.record_answer("ChoiceIntent", "b", T0 + timedelta(seconds=40))
    assert end.to_map()["action"] == "end"
    assert end.prompt == "<speak>Goodbye.</speak>"
    assert session.result is not None
    assert session.result.status is CallStatus.CALL_COMPLETED
    assert session.result.answers == ("Yes", "12", "B")
    assert session.result.duration_seconds == 40
    assert session.result.attempts == 1


def test_fallback_re_asks_twice_then_moves_on_without_an_answer() -> None:
    session = make_session(QuestionType.OK, QuestionType.YES_NO, QuestionType.OK)
    session.start(T0)
    session.record_answer("OkIntent", None, T0)
    first = session.record_answer("FallbackIntent", None, T0)
    second = session.record_silence(T0)
    assert first.question_number == second.question_number == "2"
    assert "Sorry" in first.prompt
    assert "Question 2?" in first.prompt
    moved = session.record_answer("FallbackIntent", None, T0)
    assert moved.question_number == "3"
    assert session.answers == ["OK", None]
    end = session.record_answer("OkIntent", None, T0)
    assert end.action == "end"
    assert session.result is not None
    assert session.result.answers == ("OK", None, "OK")


def test_repeat_says_the_same_question_again_without_apology() -> None:
    session = make_session(QuestionType.OK)
    session.start(T0)
    again = session.record_answer("RepeatIntent", None, T0)
    assert again.prompt == "<speak>Question 1?</speak>"
    assert again.action == "ask"


def test_a_good_answer_resets_the_retry_count() -> None:
    session = make_session(QuestionType.OK, QuestionType.OK, QuestionType.OK)
    session.start(T0)
    session.record_answer("OkIntent", None, T0)
    session.record_silence(T0)
    session.record_silence(T0)
    session.record_answer("OkIntent", None, T0)
    assert session.record_silence(T0).question_number == "3"
    assert session.record_silence(T0).question_number == "3"


def test_hang_up_midway_keeps_partial_answers_as_drop_call() -> None:
    session = make_session(QuestionType.YES_NO, QuestionType.NUMBER, QuestionType.DATE)
    session.start(T0)
    session.record_answer("NoIntent", None, T0)
    result = session.end_from_disconnect("CUSTOMER_DISCONNECT", True, T0)
    assert result.status is CallStatus.DROP_CALL
    assert result.answers == ("No", None, None)
    assert result.error is None


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("TELECOM_BUSY", CallStatus.BUSY),
        ("TELECOM_UNANSWERED", CallStatus.NO_ANSWER),
        ("TELECOM_NUMBER_INVALID", CallStatus.NOT_CALLABLE),
    ],
)
def test_unanswered_calls_have_no_answers(reason: str, status: CallStatus) -> None:
    result = make_session(QuestionType.OK).end_from_disconnect(reason, False, T0)
    assert result.status is status
    assert result.answers == ()


def test_finish_and_disconnect_are_idempotent() -> None:
    session = make_session(QuestionType.OK)
    session.start(T0)
    session.record_answer("OkIntent", None, T0)
    first = session.result
    assert session.end_from_disconnect("CONTACT_FLOW_DISCONNECT", True, T0) is first
    assert session.finish(T0) is first
    assert session.record_answer("OkIntent", None, T0).action == "end"
    assert session.start(T0).action == "end"


def test_a_job_without_questions_ends_after_the_greeting() -> None:
    session = make_session()
    action = session.start(T0)
    assert action.to_map()["action"] == "end"
    assert action.prompt == "<speak>Hello Ann. Goodbye.</speak>"
    assert session.result is not None
    assert session.result.status is CallStatus.CALL_COMPLETED


def test_session_round_trips_through_json() -> None:
    session = make_session(QuestionType.TIME)
    session.task_token = "token-abc"
    session.start(T0)
    copy = CallSession.from_json(json.dumps(session.to_json()))
    assert copy == session
    assert CallSession.from_json(session.to_json()) == session


def test_join_ssml() -> None:
    assert join_ssml("<speak>a</speak>", "b", "<speak> </speak>") == "<speak>a b</speak>"


@pytest.mark.parametrize(
    ("reason", "connected", "status", "error"),
    [
        ("CUSTOMER_DISCONNECT", True, CallStatus.DROP_CALL, None),
        ("CUSTOMER_DISCONNECT", False, CallStatus.NO_ANSWER, None),
        ("TELECOM_BUSY", False, CallStatus.BUSY, None),
        ("telecom_unanswered", False, CallStatus.NO_ANSWER, None),
        ("TELECOM_NUMBER_INVALID", False, CallStatus.NOT_CALLABLE, None),
        (
            "CONTACT_FLOW_DISCONNECT",
            True,
            CallStatus.DROP_CALL,
            "disconnected: CONTACT_FLOW_DISCONNECT",
        ),
        ("TELECOM_PROBLEM", False, CallStatus.FAILED, "disconnected: TELECOM_PROBLEM"),
        ("SOMETHING_NEW", True, CallStatus.FAILED, "unknown disconnect reason: SOMETHING_NEW"),
        (
            "TELECOM_POTENTIAL_BLOCKING",
            False,
            CallStatus.FAILED,
            "disconnected: TELECOM_POTENTIAL_BLOCKING",
        ),
        (
            "CUSTOMER_NEVER_ARRIVED",
            False,
            CallStatus.NO_ANSWER,
            "disconnected: CUSTOMER_NEVER_ARRIVED",
        ),
        ("OTHER", False, CallStatus.FAILED, "disconnected: OTHER"),
        ("OTHER", True, CallStatus.DROP_CALL, "disconnected: OTHER"),
    ],
)
def test_disconnect_table(
    reason: str | None, connected: bool, status: CallStatus, error: str | None
) -> None:
    disposition = status_for(reason, connected)
    assert (disposition.status, disposition.error) == (status, error)
