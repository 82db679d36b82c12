"""handle_flow_event with Connect-shaped events, against the SQLite session store."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.domain.call_flow import ERROR_RESPONSE, handle_flow_event
from backend.domain.models import (
    CallJob,
    CallResult,
    CallStatus,
    JobSettings,
    Question,
    QuestionType,
    Receiver,
)
from backend.domain.session import CallSession, StaleSession
from backend.domain.speech import Prompts
from backend.local.store import SqliteStore

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class RecordingCompletion:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, CallResult]] = []
        self.fail = fail

    def complete(self, session: CallSession, result: CallResult) -> None:
        self.calls.append((session.call_id, result))
        if self.fail:
            raise RuntimeError("SendTaskSuccess failed")


def connect_event(call_id: str | None, parameters: dict[str, str]) -> dict[str, Any]:
    """The shape Amazon Connect sends to a Lambda invoked from a flow."""
    attributes = {"call_id": call_id} if call_id is not None else {}
    return {
        "Details": {
            "ContactData": {
                "Attributes": attributes,
                "Channel": "VOICE",
                "ContactId": "5ca32fbd-8f92-46af-92a5-6b0f970f0efe",
                "CustomerEndpoint": {"Address": "+85291234567", "Type": "TELEPHONE_NUMBER"},
                "InitialContactId": "5ca32fbd-8f92-46af-92a5-6b0f970f0efe",
                "InitiationMethod": "OUTBOUND",
                "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/abc",
                "LanguageCode": "en-US",
                "MediaStreams": {"Customer": {"Audio": None}},
                "PreviousContactId": "5ca32fbd-8f92-46af-92a5-6b0f970f0efe",
                "Queue": None,
                "SystemEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
            },
            "Parameters": parameters,
        },
        "Name": "ContactFlowEvent",
    }


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "flow.db")


def new_session(store: SqliteStore, *types: QuestionType, no_input_limit: int = 2) -> str:
    job = CallJob(
        job_id="job-9",
        questions=tuple(Question(template="q", type=t) for t in types),
        receivers=(Receiver(id="r1", phone_number="+85291234567"),),
        settings=JobSettings(no_input_limit=no_input_limit),
    )
    prompts = Prompts(
        "<speak>Hi.</speak>",
        tuple(f"<speak>Q{i + 1}</speak>" for i in range(len(types))),
        "<speak>Bye.</speak>",
    )
    session = CallSession.new(job, job.receivers[0], 1, prompts, now=T0)
    session.task_token = "secret-token"
    store.create(session)
    return session.call_id


def test_a_whole_call_one_invocation_per_question(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.YES_NO, QuestionType.DATE)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    assert start == {
        "action": "ask",
        "prompt": "<speak>Hi. Q1</speak>",
        "question_type": "YesNo",
        "question_number": "1",
        "turn": "1",
        "voice": "Joanna",
        "language": "en-US",
    }
    answer = {"event": "answer", "intent": "YesIntent", "answer": ""}
    second = handle_flow_event(connect_event(call_id, answer), store, done)
    assert second["question_type"] == "Date"
    assert second["question_number"] == "2"
    date_answer = {"event": "answer", "intent": "DateIntent", "answer": "2026-11-30"}
    end = handle_flow_event(connect_event(call_id, date_answer), store, done)
    assert end["action"] == "end"
    assert end["prompt"] == "<speak>Bye.</speak>"
    assert all(isinstance(v, str) for v in end.values())
    assert len(done.calls) == 1
    result = done.calls[0][1]
    assert result.status is CallStatus.CALL_COMPLETED
    assert result.answers == ("Yes", "2026-11-30")
    stored = store.get(call_id)
    assert stored is not None
    assert stored.result == result
    # the task token stays in the store and never reaches what the flow sees
    assert "secret-token" not in str([start, second, end])


def test_events_after_the_end_never_complete_twice(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    done = RecordingCompletion()
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    ok = connect_event(call_id, {"event": "answer", "intent": "OkIntent"})
    handle_flow_event(ok, store, done)
    again = handle_flow_event(copy.deepcopy(ok), store, done)
    assert again["action"] == "end"
    assert len(done.calls) == 1


def test_silence_and_fallback_re_ask_at_most_twice(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.NUMBER, QuestionType.OK)
    done = RecordingCompletion()
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    ok = connect_event(call_id, {"event": "answer", "intent": "OkIntent"})
    assert handle_flow_event(ok, store, done)["question_number"] == "2"
    silence = connect_event(call_id, {"event": "silence"})
    fallback = connect_event(call_id, {"event": "answer", "intent": "FallbackIntent"})
    assert handle_flow_event(silence, store, done)["question_number"] == "2"
    assert handle_flow_event(fallback, store, done)["question_number"] == "2"
    assert handle_flow_event(silence, store, done)["question_number"] == "3"


@pytest.mark.parametrize(
    "event",
    [
        None,
        "not an event",
        {},
        {"Details": "x"},
        {"Details": {"ContactData": [], "Parameters": {}}},
        connect_event(None, {"event": "start"}),
        connect_event("job-9:r1:1", {}),
        connect_event("job-9:r1:1", {"event": "dance"}),
    ],
)
def test_malformed_events_end_the_call_politely(store: SqliteStore, event: Any) -> None:
    new_session(store, QuestionType.OK)
    assert handle_flow_event(event, store, RecordingCompletion()) == ERROR_RESPONSE


def test_unknown_call_id_ends_the_call(store: SqliteStore) -> None:
    done = RecordingCompletion()
    response = handle_flow_event(connect_event("nope:1:1", {"event": "start"}), store, done)
    assert response["action"] == "end"
    assert response["prompt"] == "<speak>Sorry, something went wrong. Goodbye.</speak>"
    assert done.calls == []


def test_a_failing_completion_still_ends_the_call(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    done = RecordingCompletion(fail=True)
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    end = handle_flow_event(
        connect_event(call_id, {"event": "answer", "intent": "OkIntent"}), store, done
    )
    assert end["action"] == "end"
    assert end["prompt"] == "<speak>Bye.</speak>"
    assert len(done.calls) == 1


def test_a_store_failure_is_not_raised(store: SqliteStore) -> None:
    class BrokenStore:
        def create(self, session: CallSession) -> None: ...
        def get(self, call_id: str) -> CallSession | None:
            raise OSError("disk gone")

        def save(self, session: CallSession) -> None: ...

    event = connect_event("job-9:r1:1", {"event": "start"})
    assert handle_flow_event(event, BrokenStore(), RecordingCompletion()) == ERROR_RESPONSE


def test_a_concurrent_write_is_retried_on_the_fresh_session(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.OK)

    class RacingStore:
        """The first save loses the optimistic lock to another writer."""

        def __init__(self) -> None:
            self.raced = False

        def create(self, session: CallSession) -> None:
            store.create(session)

        def get(self, call_id: str) -> CallSession | None:
            return store.get(call_id)

        def save(self, session: CallSession) -> None:
            if not self.raced:
                self.raced = True
                other = store.get(session.call_id)
                assert other is not None
                store.save(other)
            store.save(session)

    response = handle_flow_event(
        connect_event(call_id, {"event": "start"}), RacingStore(), RecordingCompletion()
    )
    assert response["question_number"] == "1"
    stored = store.get(call_id)
    assert stored is not None
    assert stored.version == 2
    assert stored.status == "in_progress"


def test_sqlite_session_store_checks_versions(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    first = store.get(call_id)
    second = store.get(call_id)
    assert first is not None
    assert second is not None
    store.save(first)
    with pytest.raises(StaleSession):
        store.save(second)
    with pytest.raises(StaleSession):
        store.create(first)


# ------------------------------------------------------------ retries, replays and odd events


def answer_event(call_id: str, previous: dict[str, str], intent: str, slot: str = "") -> Any:
    """An answer event as the flow sends it: it echoes the last response's turn and question."""
    return connect_event(
        call_id,
        {
            "event": "answer",
            "intent": intent,
            "answer": slot,
            "turn": previous["turn"],
            "question_number": previous["question_number"],
        },
    )


def silence_event(call_id: str, previous: dict[str, str]) -> Any:
    return connect_event(
        call_id,
        {
            "event": "silence",
            "turn": previous["turn"],
            "question_number": previous["question_number"],
        },
    )


def new_voiced_session(store: SqliteStore, voice: str, *types: QuestionType) -> str:
    job = CallJob(
        job_id="job-voiced",
        questions=tuple(Question(template="q", type=t) for t in types),
        receivers=(Receiver(id="r1", phone_number="+85291234567"),),
        settings=JobSettings(voice=voice),
    )
    prompts = Prompts(
        "<speak>Hi.</speak>", tuple("<speak>Q</speak>" for _ in types), "<speak>Bye.</speak>"
    )
    session = CallSession.new(job, job.receivers[0], 1, prompts, now=T0)
    store.create(session)
    return session.call_id


def test_the_start_response_carries_the_jobs_voice(store: SqliteStore) -> None:
    call_id = new_voiced_session(store, "Amy", QuestionType.OK)
    start = handle_flow_event(
        connect_event(call_id, {"event": "start"}), store, RecordingCompletion()
    )
    assert start["voice"] == "Amy"
    assert ERROR_RESPONSE["voice"] == "Joanna"  # the error path still names a voice Connect knows


def test_a_retried_answer_is_recorded_once_and_gets_the_same_response(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.YES_NO, QuestionType.NUMBER, QuestionType.OK)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    yes = answer_event(call_id, start, "YesIntent")
    first = handle_flow_event(yes, store, done)
    again = handle_flow_event(copy.deepcopy(yes), store, done)  # Connect retried the Lambda
    assert again == first
    assert first["question_number"] == "2"
    second = handle_flow_event(answer_event(call_id, again, "NumberIntent", "7"), store, done)
    assert second["question_number"] == "3"
    handle_flow_event(answer_event(call_id, second, "OkIntent"), store, done)
    (completed,) = done.calls
    assert completed[1].answers == ("Yes", "7", "OK")


def test_a_retried_fallback_does_not_use_up_a_re_ask(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.NUMBER, QuestionType.OK, no_input_limit=3)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    first = handle_flow_event(answer_event(call_id, start, "FallbackIntent"), store, done)
    fallback = answer_event(call_id, first, "FallbackIntent")
    second = handle_flow_event(fallback, store, done)
    for _ in range(3):  # retries of the second fallback: still two re-asks, not a skip
        assert handle_flow_event(copy.deepcopy(fallback), store, done) == second
    assert second["question_number"] == "1"
    third = handle_flow_event(answer_event(call_id, second, "NumberIntent", "12"), store, done)
    assert third["question_number"] == "2"
    handle_flow_event(answer_event(call_id, third, "OkIntent"), store, done)
    assert done.calls[0][1].answers == ("12", "OK")


def test_an_answer_naming_an_answered_question_is_ignored(store: SqliteStore) -> None:
    """Without a turn (an older flow), the echoed question number still guards the answers."""
    call_id = new_session(store, QuestionType.YES_NO, QuestionType.YES_NO)
    done = RecordingCompletion()
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    late = {"event": "answer", "intent": "NoIntent", "question_number": "1"}
    assert handle_flow_event(connect_event(call_id, late), store, done)["question_number"] == "2"
    replay = handle_flow_event(connect_event(call_id, late), store, done)
    assert replay["question_number"] == "2"
    assert replay["action"] == "ask"
    end = handle_flow_event(
        connect_event(call_id, {"event": "answer", "intent": "YesIntent", "question_number": "2"}),
        store,
        done,
    )
    assert end["action"] == "end"
    assert done.calls[0][1].answers == ("No", "Yes")


def test_a_retried_start_repeats_the_greeting_and_first_question(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    assert handle_flow_event(connect_event(call_id, {"event": "start"}), store, done) == start


def test_an_answer_after_the_end_changes_nothing(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    end = handle_flow_event(answer_event(call_id, start, "OkIntent"), store, done)
    for parameters in (
        {"event": "answer", "intent": "OkIntent"},
        {"event": "silence"},
        {"event": "answer", "intent": "OkIntent", "turn": "99", "question_number": "1"},
    ):
        late = handle_flow_event(connect_event(call_id, parameters), store, done)
        assert late["action"] == "end"
        assert late["prompt"] == end["prompt"]
    assert len(done.calls) == 1
    stored = store.get(call_id)
    assert stored is not None
    assert stored.result is not None
    assert stored.result.answers == ("OK",)


def test_a_disconnect_after_completion_keeps_the_completed_result(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    handle_flow_event(answer_event(call_id, start, "OkIntent"), store, done)
    session = store.get(call_id)
    assert session is not None
    result = session.end_from_disconnect("CUSTOMER_DISCONNECT", connected=True, now=T0)
    assert result.status is CallStatus.CALL_COMPLETED
    assert result == done.calls[0][1]


def test_silence_three_times_moves_on_and_the_call_completes(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.YES_NO)
    done = RecordingCompletion()
    response = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    response = handle_flow_event(answer_event(call_id, response, "OkIntent"), store, done)
    numbers = []
    for _ in range(3):
        response = handle_flow_event(silence_event(call_id, response), store, done)
        numbers.append(response["question_number"])
    assert numbers == ["2", "2", ""]
    assert response["action"] == "end"
    (completed,) = done.calls
    assert completed[1].status is CallStatus.CALL_COMPLETED
    assert completed[1].answers == ("OK", None)


def test_silence_on_the_first_question_hangs_up_as_no_human(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.YES_NO)
    done = RecordingCompletion()
    response = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    response = handle_flow_event(silence_event(call_id, response), store, done)
    assert response["action"] == "ask"
    response = handle_flow_event(silence_event(call_id, response), store, done)
    assert (response["action"], response["prompt"]) == ("hangup", "")
    (ended,) = done.calls
    assert ended[1].status is CallStatus.NO_HUMAN
    assert ended[1].answers == ()


def test_asking_to_repeat_forever_still_ends_the_call(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.OK)
    done = RecordingCompletion()
    response = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    events = 0
    while response["action"] == "ask":
        response = handle_flow_event(answer_event(call_id, response, "RepeatIntent"), store, done)
        events += 1
        assert events <= 6
    assert events == 6  # three hearings of each question
    # somebody asked to repeat, but nothing was answered: not CallCompleted (docs/statuses.md)
    assert done.calls[0][1].status is CallStatus.NO_HUMAN
    assert done.calls[0][1].answers == ()


def test_an_intent_of_another_bot_is_not_an_answer(store: SqliteStore) -> None:
    call_id = new_session(store, QuestionType.NUMBER)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    wrong = handle_flow_event(answer_event(call_id, start, "YesIntent", "yes"), store, done)
    assert wrong["question_number"] == "1"
    assert wrong["prompt"].startswith("<speak>Sorry")
    handle_flow_event(answer_event(call_id, wrong, "NumberIntent", "3"), store, done)
    assert done.calls[0][1].answers == ("3",)


@pytest.mark.parametrize("slot", ["9" * 100_000, "x" * 100_000, "<speak>" * 5_000])
def test_a_huge_slot_value_is_no_answer_and_no_crash(store: SqliteStore, slot: str) -> None:
    call_id = new_session(store, QuestionType.NUMBER)
    done = RecordingCompletion()
    start = handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    response = handle_flow_event(answer_event(call_id, start, "NumberIntent", slot), store, done)
    assert response["action"] == "ask"
    assert response["question_number"] == "1"
    assert len(json.dumps(response)) < 2_000
    stored = store.get(call_id)
    assert stored is not None
    assert len(json.dumps(stored.to_json())) < 5_000


@pytest.mark.parametrize(
    "parameters",
    [
        {"event": "answer", "intent": "OkIntent", "turn": "not-a-number"},
        {"event": "answer", "intent": "OkIntent", "question_number": "x"},
        {"event": "answer", "intent": ["OkIntent"], "answer": {"a": 1}},
        {"event": "answer"},
    ],
)
def test_odd_parameter_values_never_raise(store: SqliteStore, parameters: dict[str, Any]) -> None:
    call_id = new_session(store, QuestionType.OK, QuestionType.OK)
    done = RecordingCompletion()
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    response = handle_flow_event(connect_event(call_id, parameters), store, done)
    assert response["action"] in {"ask", "end"}
    assert all(isinstance(value, str) for value in response.values())
