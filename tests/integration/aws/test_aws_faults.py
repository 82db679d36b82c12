"""Fault injection on the AWS call path, through the executed state machine (moto).

Every fault of issue 9 at once on an 8-person job; the dials are counted from the fake Connect's
log of StartOutboundVoiceContact requests (one phone call per distinct ClientToken), never from
the rows the code under test wrote, and each result is compared with what the test made happen
on the call.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backend.aws import clients, wiring
from backend.aws.dials import DialLog
from backend.aws.submitter import SqsJobSubmitter
from backend.flows import load_flow
from backend.handlers import connect_flow, contact_events, dialer, start_job
from backend.handlers import report as report_handler
from backend.local.simulator import BotLibrary, PhoneSimulator, SimulatedPerson

from .conftest import LambdaContext, Stack, disconnected_event, example_job, flow_event, sqs_event

ANSWERS = ["okay", "yes I do", "B", "three", "the fourth of December 2026", "half past four p m"]
EXPECTED = ["OK", "Yes", "B", "3", "2026-12-04", "16:30"]
INTENTS = [
    ("OkIntent", ""),
    ("YesIntent", ""),
    ("ChoiceIntent", "B"),
    ("NumberIntent", "3"),
    ("DateIntent", "2026-12-04"),
    ("TimeIntent", "16:30"),
]

# What happens on each person's phone, and so what their one result must say.
PLAN = {
    "1": "every flow turn is invoked twice",
    "2": "SendTaskSuccess fails at the last turn; the DISCONNECTED event re-sends",
    "3": "the dialer crashes after Connect accepted the call; the message comes back",
    "4": "Connect throttles past the task's heartbeat; the late message rings nobody",
    "5": "the call outlasts its task: two answers, then the time-out",
    "6": "DISCONNECTED overtakes the flow's last answer (hung up while answering)",
    "S07": "no answer, then answered on the retry",
    "S08": "DISCONNECTED without a reason after the flow finished",
}
EXPECTED_RESULTS = {
    "1": ("CallCompleted", 1, EXPECTED),
    "2": ("CallCompleted", 1, EXPECTED),
    "3": ("CallCompleted", 1, EXPECTED),
    "4": ("Failed", 1, []),
    "5": ("DropCall", 1, EXPECTED[:2] + [None] * 4),
    "6": ("DropCall", 1, [*EXPECTED[:5], None]),
    "S07": ("CallCompleted", 2, EXPECTED),
    "S08": ("CallCompleted", 1, EXPECTED),
}
EXPECTED_DIALS = {"1": 1, "2": 1, "3": 1, "5": 1, "6": 1, "S07": 2, "S08": 1}  # 4: never rung


class FaultySfn:
    """The handlers' Step Functions client: SendTaskSuccess fails once for one receiver."""

    def __init__(self, real: Any, fail_for: str) -> None:
        self.real = real
        self.fail_for = fail_for
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send_task_success(self, **kwargs: Any) -> Any:
        result = json.loads(kwargs["output"]).get("result") or {}
        if result.get("receiver_id") == self.fail_for and not self.failed:
            self.failed = True
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "try later"}},
                "SendTaskSuccess",
            )
        return self.real.send_task_success(**kwargs)


class FaultyPhones:
    """Plays Amazon Connect and the people, injecting the faults of PLAN."""

    def __init__(self, stack: Stack, job: Any) -> None:
        self.stack = stack
        self.job = job
        self.ctx = LambdaContext()
        self.simulator = PhoneSimulator(
            load_flow(), BotLibrary.load(), {"CallFlowFunctionArn": self.flow}
        )
        self.simulated: set[str] = set()
        self.held: list[str] = []  # receiver 4's call tasks, kept back past its heartbeat
        self.slow_call: str | None = None  # receiver 5's contact, waiting out its task
        self.max_live = 0
        self.crashed = False
        self.people: dict[str, list[SimulatedPerson]] = {
            "6": [SimulatedPerson(utterances=ANSWERS)],
            "S07": [SimulatedPerson(pickup="no_answer"), SimulatedPerson(utterances=ANSWERS)],
        }
        self._wrap_connect()

    def _receiver(self, call_id: str) -> str:
        return call_id.rsplit(":", 2)[1]

    def _wrap_connect(self) -> None:
        connect = self.stack.connect
        start = connect.start_outbound_voice_contact
        throttled = self.job.receiver("4").phone_number

        def dial(**params: Any) -> dict[str, Any]:
            if params["DestinationPhoneNumber"] == throttled and not self.held_released:
                connect.requests.append(params)
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                    "StartOutboundVoiceContact",
                )
            response = start(**params)
            if self._receiver(params["ClientToken"]) == "3" and not self.crashed:
                self.crashed = True  # Connect accepted; the dialer dies before recording it
                raise RuntimeError("dialer crashed")
            return response

        self.held_released = False
        connect.start_outbound_voice_contact = dial  # type: ignore[method-assign]

    def flow(self, event: dict[str, Any], context: Any) -> dict[str, str]:
        call_id = event["Details"]["ContactData"]["Attributes"]["call_id"]
        receiver = self._receiver(call_id)
        if receiver == "1":
            connect_flow.handler(event, self.ctx)  # Connect retried the invocation
        if receiver == "6" and event["Details"]["Parameters"].get("question_number") == "6":
            contact = event["Details"]["ContactData"]["ContactId"]
            self.stack.connect.disconnects[contact] = ("CUSTOMER_DISCONNECT", True)
            self.disconnect(contact)  # the event overtakes the last answer
        return connect_flow.handler(event, self.ctx)

    def disconnect(self, contact_id: str) -> None:
        """DISCONNECTED, delivered twice (two event ids: no idempotency shortcut)."""
        for _ in range(2):
            event = disconnected_event(contact_id)
            event["id"] = str(uuid.uuid4())
            contact_events.handler(event, self.ctx)

    def pump(self) -> None:
        messages = self.stack.queue_messages(self.stack.calls_queue_url)
        batch = []
        for message in messages:
            body = json.loads(message["Body"])
            if body["receiver_id"] == "4" and any(
                r["DestinationPhoneNumber"] == self.job.receiver("4").phone_number
                for r in self.stack.connect.requests
            ):
                self.held.append(message["Body"])  # throttled for longer than its task lives
                self.stack.sqs.delete_message(
                    QueueUrl=self.stack.calls_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                continue
            batch.append(message)
        if not batch:
            return
        event = sqs_event([{"Body": m["Body"], "MessageId": m["MessageId"]} for m in batch])
        for record, message in zip(event["Records"], batch, strict=True):
            record["receiptHandle"] = message["ReceiptHandle"]
        response = dialer.handler(event, self.ctx)
        dialer.handler(event, self.ctx)  # the dialer retried: the same batch again
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for message in batch:
            if message["MessageId"] not in failed:
                self.stack.sqs.delete_message(
                    QueueUrl=self.stack.calls_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        self.max_live = max(self.max_live, wiring.line_leases().live())

    def answer(self) -> None:
        for call_id, contact_id in list(self.stack.connect.contacts.items()):
            if contact_id in self.simulated:
                continue
            self.simulated.add(contact_id)
            self.max_live = max(self.max_live, wiring.line_leases().live())
            receiver, attempt = self._receiver(call_id), int(call_id.rsplit(":", 1)[1])
            if receiver == "5":
                self._start_slow_call(call_id, contact_id)
                continue
            person = self.people.get(receiver, [SimulatedPerson(utterances=ANSWERS)])
            outcome = self.simulator.call(
                contact_id, self.stack.connect.attributes[contact_id], person[attempt - 1]
            )
            reason: str | None = outcome.disconnect_reason
            if receiver == "S08":
                reason = None  # DescribeContact has no DisconnectReason yet
            self.stack.connect.disconnects.setdefault(contact_id, (reason, outcome.connected))  # type: ignore[arg-type]
            self.disconnect(contact_id)

    def _start_slow_call(self, call_id: str, contact_id: str) -> None:
        connect_flow.handler(flow_event(call_id, {"event": "start"}, contact_id), self.ctx)
        for intent, answer in INTENTS[:2]:
            params = {"event": "answer", "intent": intent, "answer": answer}
            connect_flow.handler(flow_event(call_id, params, contact_id), self.ctx)
        self.slow_call = call_id

    def finish_slow_call(self, results: dict[str, Any]) -> None:
        if self.slow_call is None or "5" not in results:
            return  # still within its task's time
        call_id, self.slow_call = self.slow_call, None
        contact_id = self.stack.connect.contacts[call_id]
        for intent, answer in INTENTS[2:]:
            params = {"event": "answer", "intent": intent, "answer": answer}
            reply = connect_flow.handler(flow_event(call_id, params, contact_id), self.ctx)
            assert reply["action"] == "end"  # the time-out ended it: the person hears goodbye
        self.stack.connect.disconnects[contact_id] = ("CONTACT_FLOW_DISCONNECT", True)
        self.disconnect(contact_id)

    def release_held(self, results: dict[str, Any]) -> None:
        if not self.held or "4" not in results:
            return
        self.held_released = True  # Connect would take the call now: it must not be asked
        bodies, self.held = self.held, []
        assert dialer.handler(sqs_event([{"Body": b} for b in bodies]), self.ctx) == {
            "batchItemFailures": []
        }

    def run(self, execution_arn: str, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            self.answer()
            results = self.stack.results(self.job.job_id)
            self.finish_slow_call(results)
            self.release_held(results)
            status = self.stack.sfn.describe_execution(executionArn=execution_arn)["status"]
            if status != "RUNNING":
                return str(status)
            time.sleep(0.05)
        raise AssertionError("the execution did not finish in time")


def _fifo_event(body: str) -> dict[str, Any]:
    event = sqs_event([{"Body": body}], queue="callouts-jobs.fifo")
    event["Records"][0]["attributes"].update({"MessageGroupId": "jobs", "SequenceNumber": "1"})
    return event


def _dials_per_receiver(stack: Stack) -> Counter[str]:
    """Phone calls made, from Connect's side: one per distinct ClientToken it accepted."""
    return Counter(token.rsplit(":", 2)[1] for token in stack.connect.contacts)


@pytest.fixture
def faulty_sfn(running_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> FaultySfn:
    real: Callable[[str], Any] = clients.client
    proxy = FaultySfn(real("stepfunctions"), fail_for="2")
    monkeypatch.setattr(clients, "client", lambda s: proxy if s == "stepfunctions" else real(s))
    wiring.reset()
    return proxy


def test_every_fault_at_once_keeps_one_true_result_per_person(
    running_stack: Stack,
    faulty_sfn: FaultySfn,
    ctx: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = running_stack
    # The call tasks' time-out (the Dial task's heartbeat) is cut to 30 s, so that the
    # time-out faults happen within the test; intake would refuse it for this job.
    monkeypatch.setattr("backend.aws.tasks.call_timeout", lambda job: 30)
    job = example_job(retry_delay_seconds=1)
    assert SqsJobSubmitter.from_settings().submit(job)
    [message] = stack.queue_messages(stack.job_queue_url)
    for _ in range(2):  # the job message twice
        assert start_job.handler(_fifo_event(message["Body"]), ctx) == {"batchItemFailures": []}
    [execution] = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]

    phones = FaultyPhones(stack, job)
    status = phones.run(execution["executionArn"])

    assert status == "SUCCEEDED"
    results = stack.results(job.job_id)
    assert {r: (v["status"], v["attempts"], v["answers"]) for r, v in results.items()} == {
        r: (s, a, list(answers)) for r, (s, a, answers) in EXPECTED_RESULTS.items()
    }
    dials = _dials_per_receiver(stack)
    assert dials == EXPECTED_DIALS
    assert all(dials[r] <= v["attempts"] for r, v in results.items())
    # The dial facts the dialer wrote agree with Connect (4's refused request was sent: a dial).
    assert DialLog(stack.ddb, stack.jobs_table).dials(job.job_id) == {**dials, "4": 1}
    assert faulty_sfn.failed
    assert phones.held == []
    assert 1 <= phones.max_live <= 5  # the stack's budget
    assert wiring.line_leases().live() == 0  # every line given back at DISCONNECTED

    # The report Lambda twice: the same report, the results untouched.
    again = report_handler.handler({"job_id": job.job_id}, ctx)
    assert again["counts"] == {"CallCompleted": 5, "DropCall": 2, "Failed": 1}
    assert stack.results(job.job_id) == results
    [(notification, _)] = stack.notifications()
    assert notification["counts"] == again["counts"]


def test_a_waiting_receiver_holds_no_line(
    running_stack: Stack, monkeypatch: pytest.MonkeyPatch, ctx: LambdaContext
) -> None:
    """One line, two people: while the first waits out a retry delay the second is called."""
    stack = running_stack
    monkeypatch.setenv("CALLOUTS_MAX_CONCURRENT_CALLS", "1")
    wiring.reset()
    base = example_job(retry_delay_seconds=3)
    job = base.model_copy(update={"receivers": base.receivers[:2]})
    assert SqsJobSubmitter.from_settings().submit(job)
    [message] = stack.queue_messages(stack.job_queue_url)
    assert start_job.handler(_fifo_event(message["Body"]), ctx) == {"batchItemFailures": []}
    [execution] = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    first, second = (r.id for r in job.receivers)
    people = {
        first: [SimulatedPerson(pickup="no_answer"), SimulatedPerson(utterances=ANSWERS)],
        second: [SimulatedPerson(utterances=ANSWERS)],
    }
    simulator = PhoneSimulator(
        load_flow(), BotLibrary.load(), {"CallFlowFunctionArn": connect_flow.handler}
    )
    simulated: set[str] = set()
    live: list[int] = []
    deadline = time.monotonic() + 120
    while stack.sfn.describe_execution(executionArn=execution["executionArn"])["status"] == (
        "RUNNING"
    ):
        assert time.monotonic() < deadline
        for message in stack.queue_messages(stack.calls_queue_url):
            response = dialer.handler(sqs_event([message]), ctx)
            if not response["batchItemFailures"]:
                stack.sqs.delete_message(
                    QueueUrl=stack.calls_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            else:  # no free line: SQS would bring it back within 5-20 s; sooner here
                stack.sqs.change_message_visibility(
                    QueueUrl=stack.calls_queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
        live.append(wiring.line_leases().live())
        for call_id, contact_id in list(stack.connect.contacts.items()):
            if contact_id in simulated:
                continue
            simulated.add(contact_id)
            receiver, attempt = call_id.rsplit(":", 2)[1:]
            outcome = simulator.call(
                contact_id, stack.connect.attributes[contact_id], people[receiver][int(attempt) - 1]
            )
            stack.connect.disconnects[contact_id] = (outcome.disconnect_reason, outcome.connected)
            contact_events.handler(disconnected_event(contact_id), ctx)
        time.sleep(0.05)

    order = [token.rsplit(":", 2)[1:] for token in stack.connect.contacts]
    # The second person was called while the first waited for their retry: the wait held no line.
    assert order == [[first, "1"], [second, "1"], [first, "2"]] or order == [
        [second, "1"],
        [first, "1"],
        [first, "2"],
    ]
    assert max(live) == 1
    results = stack.results(job.job_id)
    assert {r: (v["status"], v["attempts"]) for r, v in results.items()} == {
        first: ("CallCompleted", 2),
        second: ("CallCompleted", 1),
    }
