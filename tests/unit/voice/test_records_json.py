"""The voice path's dataclass records: CallResult and CallSession invariants and stored JSON.

They replaced pydantic models (the flow Lambda's cold start) and must behave as those did:
same JSON, same equality and hashing, and a corrupt stored record is a clear error naming the
field, never a silent default.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from backend.domain import models
from backend.domain.question_types import QuestionType
from backend.domain.record_json import FieldError, dumps
from backend.domain.results import CallResult, CallStatus
from backend.domain.session import CallSession
from tests.unit.voice.test_session import T0, make_session

HK = timezone(timedelta(hours=8))


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def full_result(**changes: Any) -> CallResult:
    fields: dict[str, Any] = {
        "job_id": "job-1",
        "receiver_id": "7",
        "status": CallStatus.DROP_CALL,
        "answers": ("Yes", None),
        "error": "timed out after 90 s",
        "call_at": datetime(2026, 11, 28, 18, 0, 0, 250_000, tzinfo=HK),
        "attempts": 2,
        "duration_seconds": 41.5,
    }
    return CallResult(**(fields | changes))


def test_models_re_exports_the_one_call_result() -> None:
    assert (models.CallResult, models.CallStatus) == (CallResult, CallStatus)
    assert models.QuestionType is QuestionType


def test_a_result_round_trips_and_its_json_is_what_pydantic_wrote() -> None:
    result = full_result()
    data = result.to_json()
    assert data == {
        "job_id": "job-1",
        "receiver_id": "7",
        "status": "DropCall",
        "answers": ["Yes", None],
        "error": "timed out after 90 s",
        "call_at": "2026-11-28T18:00:00.250000+08:00",
        "attempts": 2,
        "duration_seconds": 41.5,
    }
    assert CallResult.from_json(data) == result
    assert CallResult.from_json(json.dumps(data)) == result
    utc = full_result(call_at=T0, duration_seconds=3)
    assert utc.to_json()["call_at"] == "2026-11-28T10:00:00Z"  # pydantic's form of UTC
    assert isinstance(utc.duration_seconds, float)
    assert full_result(answers=["Yes", None]).answers == ("Yes", None)  # a list is kept as a tuple
    assert dumps(utc.to_json()).endswith('"attempts":2,"duration_seconds":3.0}')


def test_a_result_read_with_only_its_required_fields_gets_the_defaults() -> None:
    loaded = CallResult.from_json('{"job_id": "j", "receiver_id": "r", "status": "Busy"}')
    assert loaded == CallResult(job_id="j", receiver_id="r", status=CallStatus.BUSY)
    assert (loaded.answers, loaded.attempts, loaded.duration_seconds) == ((), 1, 0.0)


def test_results_compare_and_hash_by_value_and_are_frozen() -> None:
    assert full_result() == full_result()
    assert hash(full_result()) == hash(full_result())
    assert full_result() != full_result(attempts=3)
    assert len({full_result(), full_result(), full_result(error=None)}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        full_result().attempts = 5  # type: ignore[misc]
    assert dataclasses.replace(full_result(), attempts=3).attempts == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attempts": -1}, "attempts: must be 0 or more, not -1"),
        ({"attempts": True}, "attempts: must be a whole number"),
        ({"duration_seconds": -0.5}, "duration_seconds: must be 0 or more"),
        ({"status": "Busy"}, "status: must be a CallStatus, not 'Busy'"),
        ({"answers": "Yes"}, "answers: must be a tuple, not str"),
        ({"answers": ("Yes", 3)}, "answers[1]: must be a string"),
        ({"call_at": "2026-11-28"}, "call_at: must be a datetime"),
        ({"receiver_id": None}, "receiver_id: must be a string, not null"),
    ],
)
def test_a_result_keeps_its_invariants(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FieldError, match=message.replace("[", r"\[").replace("]", r"\]")):
        full_result(**changes)
    with pytest.raises(FieldError):  # replace checks them too
        dataclasses.replace(full_result(), **changes)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("status"), "status: is required in a call result"),
        (lambda d: d.update(colour="red"), "colour: is not a field of a call result"),
        (lambda d: d.update(status="Maybe"), "status: 'Maybe' is not a call status"),
        (lambda d: d.update(attempts="2"), "attempts: must be a whole number, not the text '2'"),
        (lambda d: d.update(duration_seconds="1"), "duration_seconds: must be a number"),
        (lambda d: d.update(answers="Yes"), "answers: must be a list"),
        (lambda d: d.update(answers=[1]), "answers[0]: must be a string"),
        (lambda d: d.update(call_at="yesterday"), "call_at: 'yesterday' is not an ISO 8601"),
        (lambda d: d.update(error=7), "error: must be a string"),
    ],
)
def test_a_bad_result_json_names_the_field(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = full_result().to_json()
    edit(data)
    with pytest.raises(FieldError, match=message.replace("[", r"\[").replace("]", r"\]")):
        CallResult.from_json(data)


def test_a_result_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FieldError, match="a call result must be a JSON object, not list"):
        CallResult.from_json("[1]")
    with pytest.raises(FieldError, match="a call result is not valid JSON"):
        CallResult.from_json("{nope")


# --- sessions ------------------------------------------------------------------------------


def _dialing() -> CallSession:
    session = make_session(QuestionType.YES_NO, QuestionType.NUMBER)
    session.task_token, session.number_key = "token-1", "hash-1"
    return session


def _in_progress() -> CallSession:
    session = _dialing()
    session.start(at(5))
    session.record_answer("YesIntent", None, at(9))
    session.transcript.append("caller: yes")
    return session


def _ended(end: Callable[[CallSession], object]) -> Callable[[], CallSession]:
    def build() -> CallSession:
        session = _in_progress()
        end(session)
        return session

    return build


STATES = {
    "dialing": _dialing,
    "in progress": _in_progress,
    "completed": _ended(lambda s: s.record_answer("NumberIntent", "12", at(20))),
    "opted out": _ended(lambda s: s.opt_out(at(12))),
    "dropped": _ended(lambda s: s.end_from_disconnect("CUSTOMER_DISCONNECT", True, at(30))),
    "timed out": _ended(lambda s: s.timed_out(at(300))),
    "failed": _ended(lambda s: s.end_with(CallStatus.FAILED, "dialer error", at(30))),
    "no human": _ended(lambda s: s.end_with(CallStatus.NO_HUMAN, None, at(30))),
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_a_session_round_trips_in_every_state(state: str) -> None:
    session = STATES[state]()
    stored = dumps(session.to_json())
    loaded = CallSession.from_json(stored)
    assert loaded == session
    assert loaded.to_json() == session.to_json()
    assert dumps(loaded.to_json()) == stored  # the stored text is stable across loads
    if session.result is not None:
        assert loaded.result == session.result
        assert json.loads(stored)["result"] == session.result.to_json()  # nested, not a string


def test_a_session_keeps_datetimes_with_their_offsets() -> None:
    session = _in_progress()
    session.connected_at = datetime(2026, 11, 28, 18, 0, 5, tzinfo=HK)
    data = session.to_json()
    assert data["started_at"] == "2026-11-28T10:00:00Z"
    assert data["connected_at"] == "2026-11-28T18:00:05+08:00"
    loaded = CallSession.from_json(data)
    assert loaded.connected_at is not None
    assert loaded.connected_at.utcoffset() == HK.utcoffset(None)
    assert loaded.answered_at == [at(9)]


def test_a_session_stored_before_the_dataclass_reads_back() -> None:
    # What the pydantic model wrote (model_dump_json) for a dialing session, fields in its order.
    stored = (
        '{"call_id":"job-1:7:1","job_id":"job-1","receiver_id":"7","attempt":1,'
        '"greeting":"<speak>Hi</speak>","questions":[{"prompt":"<speak>Q?</speak>",'
        '"type":"Yes/No"}],"ending":"<speak>Bye</speak>","voicemail":"","voice":"Joanna",'
        '"language":"en-US","no_input_limit":2,"index":0,"answers":[],"answered_at":[],'
        '"retries":0,"no_inputs":0,"status":"dialing","started_at":"2026-11-28T10:00:00Z",'
        '"connected_at":null,"ended_at":null,"task_token":"t","number_key":null,"test":false,'
        '"transcript":[],"result":null,"turn":0,"last_response":null,"version":0}'
    )
    session = CallSession.from_json(stored)
    assert session.started_at == T0
    assert session.questions[0].type is QuestionType.YES_NO
    assert dumps(session.to_json()) == stored


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("started_at"), "started_at: is required in a call session"),
        (lambda d: d.update(attempt=0), "attempt: must be 1 or more, not 0"),
        (lambda d: d.update(no_input_limit=0), "no_input_limit: must be 1 or more"),
        (lambda d: d.update(status="ringing"), "status: 'ringing' is not one of dialing"),
        (lambda d: d.update(turn="3"), "turn: must be a whole number"),
        (lambda d: d.update(test="no"), "test: must be true or false"),
        (lambda d: d.update(answered_at=["soon"]), "answered_at[0]: 'soon' is not an ISO 8601"),
        (lambda d: d.update(secret="x"), "secret: is not a field of a call session"),
        (lambda d: d["questions"][1].update(type="Essay"), "questions[1].type: 'Essay' is not"),
        (lambda d: d["result"].update(status="Won"), "result.status: 'Won' is not a call status"),
        (lambda d: d["result"].pop("job_id"), "result.job_id: is required in a call result"),
        (lambda d: d.update(last_response={"action": 1}), "last_response.action: must be a"),
    ],
)
def test_a_corrupt_stored_session_is_a_clear_error(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = STATES["completed"]().to_json()
    edit(data)
    with pytest.raises(FieldError, match=message.replace("[", r"\[").replace("]", r"\]")):
        CallSession.from_json(json.dumps(data))


def test_a_new_session_keeps_its_constraints() -> None:
    session = _dialing()
    with pytest.raises(FieldError, match="attempt: must be 1 or more"):
        dataclasses.replace(session, attempt=0)
    with pytest.raises(FieldError, match="no_input_limit: must be 1 or more"):
        dataclasses.replace(session, no_input_limit=0)
    assert session.started_at.tzinfo is UTC
