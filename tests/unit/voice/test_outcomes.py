"""What a call's status means (docs/statuses.md): NoHuman, time-outs keeping answers, disconnect
reasons, and the derived call time-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.call_time import call_timeout, derived_call_timeout, timeout_problem
from backend.domain.disconnects import KNOWN_REASONS, ReasonNotYetKnown, status_for
from backend.domain.models import (
    CallJob,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.session import CallSession
from backend.domain.speech import Speech

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
OK = QuestionType.OK


def make_job(count: int = 2, **settings: object) -> CallJob:
    return CallJob(
        job_id="job-1",
        greeting="Hello {{ name }}",
        ending="Bye",
        voicemail_message=str(settings.pop("voicemail", "")),
        questions=tuple(Question(template=f"Question {i + 1}?", type=OK) for i in range(count)),
        receivers=(Receiver(id="7", phone_number="+85291234567", fields={"name": "Ann"}),),
        settings=JobSettings.model_validate(settings),
    )


def make_session(count: int = 2, **settings: object) -> CallSession:
    job = make_job(count, **settings)
    prompts = Speech(job).prompts(job.receivers[0])
    return CallSession.new(job, job.receivers[0], 1, prompts, now=T0)


# --- no human, no answer ------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_silence_on_the_first_question_ends_as_no_human_after_the_limit(limit: int) -> None:
    session = make_session(no_input_limit=limit)
    session.start(T0)
    for _ in range(limit - 1):
        assert session.record_silence(T0).action == "ask"
    action = session.record_silence(T0)
    assert action.action == "hangup"
    assert action.prompt == ""
    assert session.result is not None
    assert session.result.status is CallStatus.NO_HUMAN
    assert session.result.status.retryable
    assert session.result.answers == ()


def test_the_default_limit_is_two_and_unrecognised_speech_counts() -> None:
    session = make_session()
    session.start(T0)
    assert session.record_answer("FallbackIntent", None, T0).action == "ask"  # a voicemail greeting
    assert session.record_silence(T0).action == "hangup"  # then it records
    assert session.result is not None
    assert session.result.status is CallStatus.NO_HUMAN


def test_the_voicemail_message_is_rendered_and_said_before_hanging_up() -> None:
    session = make_session(voicemail="We will call {{ name }} again later.")
    session.start(T0)
    session.record_silence(T0)
    action = session.record_silence(T0)
    assert action.to_map()["action"] == "end"
    assert action.prompt == "<speak>We will call Ann again later.</speak>"
    # a retried event after the end says the same, never the job's ending
    assert session.record_silence(T0).prompt == action.prompt


def test_asking_to_repeat_is_a_person_and_resets_the_count() -> None:
    session = make_session()
    session.start(T0)
    session.record_silence(T0)
    session.record_answer("RepeatIntent", None, T0)
    assert session.record_silence(T0).action == "ask"  # one no-input since the repeat
    assert session.result is None


def test_silence_on_a_later_question_is_not_no_human() -> None:
    session = make_session(3)
    session.start(T0)
    session.record_answer("OkIntent", None, T0)
    for _ in range(3):
        session.record_silence(T0)
    assert session.result is None
    assert session.answers == ["OK", None]


def test_reaching_the_end_with_no_answer_is_not_call_completed() -> None:
    session = make_session(2, no_input_limit=3)
    session.start(T0)
    session.record_answer("RepeatIntent", None, T0)  # somebody is there
    for _ in range(2):
        session.record_silence(T0)  # the first question is given up without an answer
    for _ in range(3):
        session.record_silence(T0)
    assert session.result is not None
    assert session.result.status is CallStatus.NO_HUMAN


def test_a_call_answered_then_hung_up_before_any_answer_is_no_human() -> None:
    session = make_session()
    session.start(T0)
    result = session.end_from_disconnect("CUSTOMER_DISCONNECT", True, T0)
    assert result.status is CallStatus.NO_HUMAN


def test_one_answer_makes_it_call_completed_or_drop_call() -> None:
    completed = make_session(2)
    completed.start(T0)
    completed.record_answer("OkIntent", None, T0)
    for _ in range(3):
        completed.record_silence(T0)
    assert completed.result is not None
    assert completed.result.status is CallStatus.CALL_COMPLETED
    assert completed.result.answers == ("OK", None)
    dropped = make_session(2)
    dropped.start(T0)
    dropped.record_answer("OkIntent", None, T0)
    assert dropped.end_from_disconnect("CUSTOMER_DISCONNECT", True, T0).status is (
        CallStatus.DROP_CALL
    )


def test_no_input_limit_is_bounded() -> None:
    with pytest.raises(ValueError, match="no_input_limit"):
        JobSettings(no_input_limit=4)
    with pytest.raises(ValueError, match="no_input_limit"):
        JobSettings(no_input_limit=0)


# --- time-outs keep answers -------------------------------------------------------------------


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_time_out_keeps_the_answers_given_by_then_as_drop_call() -> None:
    session = make_session(3)
    session.start(at(5))
    session.record_answer("OkIntent", None, at(20))
    session.record_answer("OkIntent", None, at(40))
    result = session.timed_out(at(60))
    assert result.status is CallStatus.DROP_CALL
    assert result.answers == ("OK", "OK", None)
    assert result.error == "timed out after 60 s"
    assert session.timed_out(at(90)) is result  # idempotent
    assert session.record_answer("OkIntent", None, at(70)).action == "end"


def test_a_time_out_drops_what_a_call_run_ahead_recorded_after_it() -> None:
    session = make_session(3)
    session.start(at(5))
    for moment in (20, 40, 80):
        session.record_answer("OkIntent", None, at(moment))
    assert session.result is not None
    assert session.result.status is CallStatus.CALL_COMPLETED
    result = session.timed_out(at(60))
    assert result.status is CallStatus.DROP_CALL
    assert result.answers == ("OK", "OK", None)


def test_a_result_reached_before_the_time_out_stands() -> None:
    session = make_session(1)
    session.start(at(5))
    session.record_answer("OkIntent", None, at(20))
    assert session.timed_out(at(60)).status is CallStatus.CALL_COMPLETED


def test_a_time_out_without_answers_is_no_human_or_failed() -> None:
    picked_up = make_session()
    picked_up.start(at(5))
    assert picked_up.timed_out(at(60)).status is CallStatus.NO_HUMAN
    never = make_session()
    result = never.timed_out(at(60))
    assert result.status is CallStatus.FAILED
    assert result.error == "timed out after 60 s, before the call was answered"


# --- disconnect reasons -----------------------------------------------------------------------

# Every voice and outbound-campaign DisconnectReason of Connect's contact-record data model.
CONNECT_VOICE_REASONS = {
    "CUSTOMER_DISCONNECT",
    "AGENT_DISCONNECT",
    "THIRD_PARTY_DISCONNECT",
    "TELECOM_PROBLEM",
    "TELECOM_BUSY",
    "TELECOM_NUMBER_INVALID",
    "TELECOM_POTENTIAL_BLOCKING",
    "TELECOM_UNANSWERED",
    "TELECOM_TIMEOUT",
    "TELECOM_ORIGINATOR_CANCEL",
    "CUSTOMER_NEVER_ARRIVED",
    "BARGED",
    "CONTACT_FLOW_DISCONNECT",
    "OTHER",
    "OUTBOUND_DESTINATION_ENDPOINT_ERROR",
    "OUTBOUND_RESOURCE_ERROR",
    "OUTBOUND_ATTEMPT_FAILED",
    "OUTBUND_PREVIEW_DISCARDED",
    "EXPIRED",
}


def test_every_connect_voice_reason_is_mapped() -> None:
    assert CONNECT_VOICE_REASONS <= KNOWN_REASONS
    for reason in CONNECT_VOICE_REASONS:
        assert not (status_for(reason, False).error or "").startswith("unknown")


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_a_missing_reason_is_not_an_outcome_yet(reason: str | None) -> None:
    with pytest.raises(ReasonNotYetKnown):
        status_for(reason, True)
    session = make_session()
    session.start(T0)
    with pytest.raises(ReasonNotYetKnown):
        session.end_from_disconnect(reason, True, T0)
    assert session.result is None
    assert session.status == "in_progress"


# --- the derived call time-out ----------------------------------------------------------------


def test_the_default_time_out_grows_with_the_questions() -> None:
    short, six = make_job(1), make_job(6)
    assert derived_call_timeout(short) < derived_call_timeout(six)
    assert derived_call_timeout(six) > 300  # the old fixed default cut off six questions
    assert call_timeout(six) == derived_call_timeout(six)
    assert derived_call_timeout(six) % 30 == 0


def test_an_explicit_time_out_wins_but_not_below_the_derived_one() -> None:
    needed = derived_call_timeout(make_job(2))
    assert call_timeout(make_job(2, call_timeout_seconds=needed + 100)) == needed + 100
    assert timeout_problem(make_job(2, call_timeout_seconds=needed)) is None
    problem = timeout_problem(make_job(2, call_timeout_seconds=needed - 1))
    assert problem is not None
    assert f"give at least {needed}" in problem
