"""handle_flow_event with Connect-shaped events, against the SQLite session store."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.domain.call_flow import ERROR_RESPONSE, handle_flow_event
from backend.domain.models import CallJob, CallResult, CallStatus, Question, QuestionType, Receiver
from backend.domain.session import CallSession, StaleSession
from backend.local.store import SqliteStore

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class _Prompts:
    greeting: str
    questions: tuple[str, ...]
    ending: str


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


def new_session(store: SqliteStore, *types: QuestionType) -> str:
    job = CallJob(
        job_id="job-9",
        questions=tuple(Question(template="q", type=t) for t in types),
        receivers=(Receiver(id="r1", phone_number="+85291234567"),),
    )
    prompts = _Prompts(
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
    call_id = new_session(store, QuestionType.NUMBER, QuestionType.OK)
    done = RecordingCompletion()
    handle_flow_event(connect_event(call_id, {"event": "start"}), store, done)
    silence = connect_event(call_id, {"event": "silence"})
    fallback = connect_event(call_id, {"event": "answer", "intent": "FallbackIntent"})
    assert handle_flow_event(silence, store, done)["question_number"] == "1"
    assert handle_flow_event(fallback, store, done)["question_number"] == "1"
    assert handle_flow_event(silence, store, done)["question_number"] == "2"


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
