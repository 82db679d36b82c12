"""The keypad opt-out without the bot: when a Lex turn fails or hears nothing, the contact flow
listens for the keypad itself and `*` (opt_out.OPT_OUT_KEY) is recorded through the flow Lambda
(event `opt_out`): `OptedOut`, on the do-not-call list at once. The flow file says so, the checker
knows the action, and the phone simulator follows the branch as the flow JSON writes it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.domain.call_flow import handle_flow_event
from backend.domain.dnc import DO_NOT_CALL, is_listed
from backend.domain.models import CallJob, CallResult, CallStatus
from backend.domain.opt_out import OPT_OUT_CONFIRMATION, OPT_OUT_KEY, OPT_OUT_SOURCE
from backend.domain.ports import ReportFiles
from backend.domain.session import CallSession
from backend.domain.speech import Prompts
from backend.flows import check_flow, load_flow
from backend.local.dnc import SqliteDoNotCall
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore
from tests.unit.voice.test_opt_out import Completion, event, make_job

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # a Saturday, 10:00 in Hong Kong
FLOW = load_flow()


def _by_id(flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {action["Identifier"]: action for action in flow["Actions"]}


def _error_target(action: dict[str, Any], error: str) -> str:
    [target] = [b["NextAction"] for b in action["Transitions"]["Errors"] if b["ErrorType"] == error]
    return str(target)


# --- the flow file and its checker -----------------------------------------------------------


def test_every_bot_turn_that_fails_or_hears_nothing_listens_for_the_opt_out_key() -> None:
    actions = _by_id(FLOW)
    bots = [a for a in FLOW["Actions"] if a["Type"] == "ConnectParticipantWithLexBot"]
    assert bots
    for bot in bots:
        for error in ("InputTimeLimitExceeded", "NoMatchingError"):
            keypad = actions[_error_target(bot, error)]
            assert keypad["Type"] == "GetParticipantInput", (bot["Identifier"], error)
            [branch] = keypad["Transitions"]["Conditions"]
            assert branch["Condition"] == {"Operator": "Equals", "Operands": [OPT_OUT_KEY]}
            opt_out = actions[branch["NextAction"]]
            assert opt_out["Type"] == "InvokeLambdaFunction"
            assert opt_out["Parameters"]["LambdaInvocationAttributes"] == {
                "event": "opt_out",
                "turn": "$.External.turn",
                "question_number": "$.External.question_number",
            }
            assert opt_out["Transitions"]["NextAction"] == "check-action"
            # no key, another key, or a fault: the no-input path as before
            for other in ("InputTimeLimitExceeded", "NoMatchingCondition", "NoMatchingError"):
                assert _error_target(keypad, other) == "invoke-silence"


def test_the_checker_knows_a_keypad_listener_and_refuses_a_broken_one() -> None:
    assert check_flow(FLOW) == []
    broken = copy.deepcopy(FLOW)
    keypad = _by_id(broken)["listen-keypad"]
    keypad["Parameters"] = {"InputTimeLimitSeconds": "0", "StoreInput": "True"}
    keypad["Transitions"]["Conditions"][0]["Condition"]["Operands"] = ["stop"]
    keypad["Transitions"]["Errors"] = keypad["Transitions"]["Errors"][:1]
    problems = " | ".join(check_flow(broken))
    assert 'InputTimeLimitSeconds must be "1" to "180"' in problems
    assert 'StoreInput must be "False"' in problems
    assert "one key (0-9, * or #), not 'stop'" in problems
    assert "no branch for error NoMatchingCondition" in problems


# --- the flow Lambda --------------------------------------------------------------------------


def test_the_opt_out_event_ends_the_call_lists_the_number_and_a_retry_records_nothing(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "s.db")
    dnc = SqliteDoNotCall.beside(tmp_path / "s.db")
    job = make_job("j1", "+85291234567")
    receiver = job.receivers[0]
    prompts = Prompts("<speak>Hi.</speak>", ("<speak>Q</speak>",) * 3, "<speak>Bye.</speak>")
    session = CallSession.new(job, receiver, 1, prompts, now=T0)
    session.number_key = dnc.key(receiver.phone_number)
    store.create(session)
    done = Completion()

    def flow(params: dict[str, str]) -> dict[str, str]:
        e = event(session.call_id, params)
        return handle_flow_event(e, store, done, now=lambda: T0, opt_outs=dnc)

    first = flow({"event": "start"})
    echo = {"turn": first["turn"], "question_number": first["question_number"]}
    end = flow({"event": "opt_out", **echo})
    assert (end["action"], end["prompt"]) == ("end", OPT_OUT_CONFIRMATION)
    (result,) = done.results
    assert result.status is CallStatus.OPTED_OUT
    assert result.answers == (None, None, None)
    assert [entry.source for entry in dnc.entries()] == [OPT_OUT_SOURCE]
    assert flow({"event": "opt_out", **echo}) == end  # Connect retrying the invocation
    assert len(done.results) == 1


# --- the simulator and the local engine -------------------------------------------------------


def _report(job: CallJob, results: Sequence[CallResult], out: Path) -> ReportFiles:
    return ReportFiles.in_dir(out, job.job_id)


def _run(
    tmp_path: Path, job: CallJob, people: dict[str, list[SimulatedPerson]]
) -> tuple[LocalEngine, dict[str, CallResult]]:
    engine = LocalEngine(
        SqliteStore(tmp_path / "jobs.db"),
        people,
        report_dir=tmp_path / "out",
        clock=lambda: T0,
        report_writer=_report,
    )
    results = {r.receiver_id: r for r in engine.run(job)}
    return engine, results


def test_star_reaches_the_call_when_the_bot_fails_or_times_out_and_the_next_job_skips_them(
    tmp_path: Path,
) -> None:
    numbers = ("+85291230001", "+85291230002", "+85291230003", "+85291230004")
    people = {
        "r1": [SimulatedPerson(utterances=["*"], bot_fails=True)],  # Lex is down
        "r2": [SimulatedPerson(utterances=["ok", "", "*"])],  # Lex hears nothing, then a star
        "r3": [SimulatedPerson(utterances=["ok", "stop"], bot_fails=True)],  # speech needs Lex
        "r4": [SimulatedPerson(utterances=["ok", "", "yes", "12#"])],  # silence, then answers
    }
    engine, first = _run(tmp_path, make_job("first", *numbers), people)
    assert first["r1"].status is CallStatus.OPTED_OUT
    assert first["r2"].status is CallStatus.OPTED_OUT
    assert first["r2"].answers == ("OK", None, None)
    assert first["r3"].status is CallStatus.NO_HUMAN  # nothing reached the call
    assert first["r4"].status is CallStatus.CALL_COMPLETED
    assert first["r4"].answers == ("OK", "Yes", "12")
    for receiver in ("r1", "r2"):
        (call,) = engine.store.transcripts("first", receiver)
        assert call.lines[-2]["text"] == f"[keypad] {OPT_OUT_KEY}"
        assert "You will not be called again" in call.lines[-1]["text"]
    dnc = engine.dnc
    assert is_listed(dnc, numbers[0])
    assert is_listed(dnc, numbers[1])
    assert not is_listed(dnc, numbers[2])
    # The next job marks them at intake: never dialled.
    again, second = _run(tmp_path, make_job("second", *numbers), people)
    assert (second["r1"].status, second["r1"].error) == (CallStatus.NOT_CALLABLE, DO_NOT_CALL)
    assert (second["r2"].status, second["r2"].error) == (CallStatus.NOT_CALLABLE, DO_NOT_CALL)
    assert {row.receiver_id for row in again.store.attempts("second")} == {"r3", "r4"}


def test_the_simulator_follows_the_flow_file_not_a_rule_of_its_own(tmp_path: Path) -> None:
    """Move the keypad listener's condition to another key: the simulator follows the file."""
    from backend.local.simulator import BotLibrary, PhoneSimulator

    flow = copy.deepcopy(FLOW)
    keypad = _by_id(flow)["listen-keypad"]
    keypad["Transitions"]["Conditions"][0]["Condition"]["Operands"] = ["0"]
    store = SqliteStore(tmp_path / "s.db")
    job = make_job("j1", "+85291234567")
    prompts = Prompts("<speak>Hi.</speak>", ("<speak>Q</speak>",) * 3, "<speak>Bye.</speak>")
    done = Completion()

    def function(e: dict[str, Any], context: object) -> dict[str, str]:
        return handle_flow_event(e, store, done, now=lambda: T0)

    def call(utterances: list[str], call_id: str) -> list[str]:
        session = CallSession.new(job, job.receivers[0], int(call_id[-1]), prompts, now=T0)
        store.create(session)
        simulator = PhoneSimulator(flow, BotLibrary.load(), {"CallFlowFunctionArn": function})
        person = SimulatedPerson(utterances=utterances, bot_fails=True)
        return simulator.call("c", {"call_id": session.call_id}, person).path

    assert "invoke-opt-out" in call(["0"], "j1:r1:1")
    path = call([OPT_OUT_KEY], "j1:r1:2")
    assert "invoke-opt-out" not in path
    assert path.count("listen-keypad") >= 1
    statuses = [r.status for r in done.results]
    assert statuses == [CallStatus.OPTED_OUT, CallStatus.NO_HUMAN]
