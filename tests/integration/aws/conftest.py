"""moto-backed AWS for the aws tests: resources like template.yaml's, a fake Connect, helpers."""

from __future__ import annotations

import os

os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="callouts",
    POWERTOOLS_METRICS_NAMESPACE="Callouts",
    POWERTOOLS_LOG_LEVEL="WARNING",
)

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import openpyxl
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from backend.aws import clients, wiring

ROOT = Path(__file__).resolve().parents[3]
ASL = ROOT / "backend" / "statemachine" / "callouts.asl.json"
REGION = "us-east-1"


def pytest_configure(config: pytest.Config) -> None:
    # Powertools warns when an invocation recorded no metric; expected for no-op events.
    config.addinivalue_line(
        "filterwarnings", "ignore:No application metrics to publish:UserWarning"
    )


@dataclass
class LambdaContext:
    function_name: str = "callouts-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:callouts-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def ctx() -> LambdaContext:
    return LambdaContext()


class FakeConnect:
    """Stands in for the boto3 Connect client (moto has no StartOutboundVoiceContact)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.contacts: dict[str, str] = {}  # ClientToken -> contact id
        self.attributes: dict[str, dict[str, str]] = {}  # contact id -> attributes
        self.refuse: dict[str, str] = {}  # phone number -> error code
        self.disconnects: dict[str, tuple[str, bool]] = {}
        self.describes = 0
        self.attribute_reads = 0
        self.describe_errors: list[str] = []  # error codes DescribeContact raises first, in order

    @property
    def dialled(self) -> list[str]:
        """Contact ids in dialling order (one per distinct ClientToken)."""
        return list(self.contacts.values())

    def start_outbound_voice_contact(self, **params: Any) -> dict[str, Any]:
        self.requests.append(params)
        code = self.refuse.get(params["DestinationPhoneNumber"])
        if code:
            raise ClientError(
                {"Error": {"Code": code, "Message": f"{params['DestinationPhoneNumber']} refused"}},
                "StartOutboundVoiceContact",
            )
        token = params["ClientToken"]
        if token not in self.contacts:
            contact_id = f"contact-{len(self.contacts) + 1:04d}"
            self.contacts[token] = contact_id
            self.attributes[contact_id] = dict(params.get("Attributes", {}))
        return {"ContactId": self.contacts[token]}

    def get_contact_attributes(self, InstanceId: str, InitialContactId: str) -> dict[str, Any]:
        self.attribute_reads += 1
        if InitialContactId not in self.attributes:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no such contact"}},
                "GetContactAttributes",
            )
        return {"Attributes": dict(self.attributes[InitialContactId])}

    def describe_contact(self, InstanceId: str, ContactId: str) -> dict[str, Any]:
        self.describes += 1
        if self.describe_errors:
            code = self.describe_errors.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": code}}, "DescribeContact")
        if ContactId not in self.disconnects:  # still on the line
            return {"Contact": {"Id": ContactId}}
        reason, connected = self.disconnects[ContactId]
        contact: dict[str, Any] = {"Id": ContactId, "DisconnectTimestamp": datetime.now(UTC)}
        if reason:
            contact["DisconnectReason"] = reason
        if connected:
            contact["ConnectedToSystemTimestamp"] = datetime.now(UTC)
        return {"Contact": contact}


class RecordingSfn:
    """Records the dialer's callbacks when a test needs no state machine behind the tokens."""

    def __init__(self) -> None:
        self.successes: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, str, str]] = []
        self.heartbeats: list[str] = []
        self.errors: list[str] = []  # error codes the next SendTask* calls raise, in order
        self.ended: set[str] = set()  # tokens whose task is over (TaskTimedOut)

    def _check(self, token: str, operation: str) -> None:
        if token in self.ended:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "x"}}, operation)
        if self.errors:
            code = self.errors.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": code}}, operation)

    def send_task_success(self, taskToken: str, output: str) -> None:
        self._check(taskToken, "SendTaskSuccess")
        self.successes.append((taskToken, json.loads(output)))

    def send_task_failure(self, taskToken: str, error: str, cause: str) -> None:
        self._check(taskToken, "SendTaskFailure")
        self.failures.append((taskToken, error, cause))

    def send_task_heartbeat(self, taskToken: str) -> None:
        if taskToken in self.ended:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "x"}}, "Heartbeat")
        self.heartbeats.append(taskToken)


@dataclass
class Stack:
    """The moto resources, named like template.yaml's, and the env vars the functions read."""

    s3: Any
    sqs: Any
    ddb: Any
    sfn: Any
    sns: Any
    connect: FakeConnect
    intake_bucket: str = "callouts-intake"
    data_bucket: str = "callouts-data"
    job_queue_url: str = ""
    calls_queue_url: str = ""
    notifications_url: str = ""
    events_url: str = ""  # what the "callouts" EventBridge events deliver to (a rule -> SQS)
    topic_arn: str = ""
    state_machine_arn: str = ""
    jobs_table: str = "callouts-jobs"
    results_table: str = "callouts-results"
    sessions_table: str = "callouts-sessions"
    idempotency_table: str = "callouts-idempotency"
    dnc_table: str = "callouts-do-not-call"
    dnc_secret_arn: str = ""

    def env(self) -> dict[str, str]:
        return {
            "CALLOUTS_INTAKE_BUCKET": self.intake_bucket,
            "CALLOUTS_DATA_BUCKET": self.data_bucket,
            "CALLOUTS_JOB_QUEUE_URL": self.job_queue_url,
            "CALLOUTS_CALLS_QUEUE_URL": self.calls_queue_url,
            "CALLOUTS_JOBS_TABLE": self.jobs_table,
            "CALLOUTS_RESULTS_TABLE": self.results_table,
            "CALLOUTS_SESSIONS_TABLE": self.sessions_table,
            "CALLOUTS_IDEMPOTENCY_TABLE": self.idempotency_table,
            "CALLOUTS_STATE_MACHINE_ARN": self.state_machine_arn,
            "CALLOUTS_CONNECT_INSTANCE_ID": "instance-1",
            "CALLOUTS_CONTACT_FLOW_ID": "flow-1",
            "CALLOUTS_SOURCE_PHONE_NUMBER": "+15550100",
            "CALLOUTS_MAX_RUNNING_JOBS": "1",
            "CALLOUTS_MAX_CONCURRENT_CALLS": "5",
            "CALLOUTS_COMPLETION_TOPIC_ARN": self.topic_arn,
            "CALLOUTS_DNC_TABLE": self.dnc_table,
            "CALLOUTS_DNC_SECRET_ARN": self.dnc_secret_arn,
        }

    def queue_messages(self, url: str, wait: int = 0) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, AttributeNames=["All"]
        )
        return list(response.get("Messages", []))

    def notifications(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(SNS message JSON, message attributes) of everything published on the topic."""
        found = []
        for message in self.queue_messages(self.notifications_url):
            envelope = json.loads(message["Body"])
            found.append((json.loads(envelope["Message"]), envelope.get("MessageAttributes", {})))
        return found

    def events(self) -> list[dict[str, Any]]:
        """The "callouts" events put on the default bus (detail-type and detail)."""
        return [json.loads(m["Body"]) for m in self.queue_messages(self.events_url)]

    def results(self, job_id: str) -> dict[str, dict[str, Any]]:
        items = self.ddb.query(
            TableName=self.results_table,
            KeyConditionExpression="job_id = :j",
            ExpressionAttributeValues={":j": {"S": job_id}},
        )["Items"]
        return {item["receiver_id"]["S"]: json.loads(item["result"]["S"]) for item in items}


def _table(ddb: Any, name: str, hash_key: str, range_key: str | None = None, **extra: Any) -> None:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def render_asl(substitutions: dict[str, str]) -> str:
    text = ASL.read_text()
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    return text


_CLIENTS: dict[str, Any] = {}


def _client(service: str) -> Any:
    """The tests' own boto3 client of `service`, built once per process: building one costs
    ~0.2 s, and moto intercepts a client whichever mock_aws it was built in (its state is the
    mock's, reset when the mock ends). The code under test builds its own (backend.aws.clients).
    """
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.session.Session(region_name=REGION).client(service)
    return _CLIENTS[service]


def build_stack(execute: bool) -> Stack:
    stack = Stack(
        s3=_client("s3"),
        sqs=_client("sqs"),
        ddb=_client("dynamodb"),
        sfn=_client("stepfunctions"),
        sns=_client("sns"),
        connect=FakeConnect(),
    )
    stack.s3.create_bucket(Bucket=stack.intake_bucket)
    stack.s3.create_bucket(Bucket=stack.data_bucket)
    stack.job_queue_url = stack.sqs.create_queue(
        QueueName="callouts-jobs.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    stack.calls_queue_url = stack.sqs.create_queue(QueueName="callouts-calls")["QueueUrl"]
    _table(stack.ddb, stack.jobs_table, "job_id", "sk")
    _table(
        stack.ddb,
        stack.results_table,
        "job_id",
        "receiver_id",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    stack.ddb.create_table(
        TableName=stack.sessions_table,
        KeySchema=[{"AttributeName": "call_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "call_id", "AttributeType": "S"},
            {"AttributeName": "sweep", "AttributeType": "S"},
            {"AttributeName": "since", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "sweep",
                "KeySchema": [
                    {"AttributeName": "sweep", "KeyType": "HASH"},
                    {"AttributeName": "since", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["job_id", "contact_id"],
                },
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    _table(stack.ddb, stack.idempotency_table, "id")
    _table(stack.ddb, stack.dnc_table, "pk")
    stack.dnc_secret_arn = _client("secretsmanager").create_secret(
        Name="callouts-do-not-call", SecretString=uuid.uuid4().hex + uuid.uuid4().hex
    )["ARN"]
    stack.topic_arn = stack.sns.create_topic(Name="callouts-finished")["TopicArn"]
    # An SQS subscription lets the tests read what SNS published.
    stack.notifications_url = stack.sqs.create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = stack.sqs.get_queue_attributes(
        QueueUrl=stack.notifications_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    stack.sns.subscribe(TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    stack.events_url = stack.sqs.create_queue(QueueName="events")["QueueUrl"]
    events_arn = stack.sqs.get_queue_attributes(
        QueueUrl=stack.events_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events = _client("events")
    events.put_rule(Name="callouts-events", EventPattern=json.dumps({"source": ["callouts"]}))
    events.put_targets(Rule="callouts-events", Targets=[{"Id": "q", "Arn": events_arn}])
    iam = _client("iam")
    role = iam.create_role(RoleName="callouts-sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arns = {
        name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        for name in ("callouts-report", "callouts-call-timeout", "callouts-sms")
    }
    if execute:
        zipped = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(zipped, "w") as archive:
            archive.writestr("report.py", "def handler(event, context):\n    return event\n")
        for name in arns:
            arns[name] = _client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role,
                Handler="report.handler",
                Code={"ZipFile": zipped.getvalue()},
            )["FunctionArn"]
    definition = render_asl(
        {
            "CallsQueueUrl": stack.calls_queue_url,
            "ResultsTable": stack.results_table,
            "ReportFunctionArn": arns["callouts-report"],
            "CallTimeoutFunctionArn": arns["callouts-call-timeout"],
            "SmsFunctionArn": arns["callouts-sms"],
            "DataBucket": stack.data_bucket,
            "CompletionTopicArn": stack.topic_arn,
            "EventBusName": "default",
        }
    )
    stack.state_machine_arn = stack.sfn.create_state_machine(
        name="callouts", definition=definition, roleArn=role
    )["stateMachineArn"]
    return stack


def _install(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in stack.env().items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    monkeypatch.setattr(clients, "connect_client", lambda: stack.connect)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """moto without executing the state machine (executions stay RUNNING)."""
    with mock_aws():
        built = build_stack(execute=False)
        _install(built, monkeypatch)
        yield built
    wiring.reset()


@pytest.fixture
def running_stack(monkeypatch: pytest.MonkeyPatch, ctx: LambdaContext) -> Iterator[Stack]:
    """moto executing the ASL; its Lambda tasks run backend.handlers.report / call_timeout /
    sms."""
    from backend.handlers import call_timeout, report, sms

    handlers = {"call-timeout": call_timeout.handler, "sms": sms.handler}

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, *args: Any) -> bytes:
        payload = json.loads(body) if body else {}
        handler = next(
            (h for name, h in handlers.items() if function_name.endswith(f"callouts-{name}")),
            report.handler,
        )
        return json.dumps(handler(payload, LambdaContext())).encode()

    with (
        mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "lambda": {"use_docker": False},
            }
        ),
        mock.patch("moto.awslambda_simple.models.LambdaSimpleBackend.invoke", invoke),
        mock.patch(f"{_MOTO_CALLBACK}.CallbackEndpoint.notify_heartbeat", _open_task_heartbeat),
    ):
        built = build_stack(execute=True)
        _install(built, monkeypatch)
        try:
            yield built
        finally:
            _stop_executions(built)
    wiring.reset()


_MOTO_CALLBACK = "moto.stepfunctions.parser.asl.eval.callback.callback"


def _open_task_heartbeat(endpoint: Any) -> bool:
    """moto sends a waitForTaskToken message before it sets up the task's heartbeat timer, and
    until then answers SendTaskHeartbeat with InvalidToken; AWS accepts a heartbeat for any
    open task. Without this a dialer that reads the message quickly drops a live task as
    stale."""
    heartbeat = endpoint._heartbeat_endpoint
    if heartbeat is not None:
        heartbeat.notify()
    return True


def _stop_executions(stack: Stack) -> None:
    """Stop what a test left RUNNING so moto's execution threads do not run on into the next
    test's resources (same names)."""
    for machine in stack.sfn.list_state_machines()["stateMachines"]:
        running = stack.sfn.list_executions(
            stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
        )["executions"]
        for execution in running:
            stack.sfn.stop_execution(executionArn=execution["executionArn"])


@pytest.fixture
def recording_sfn(monkeypatch: pytest.MonkeyPatch) -> RecordingSfn:
    """Replace the Step Functions client of the handlers (after `stack`)."""
    fake = RecordingSfn()
    real: Callable[[str], Any] = clients.client

    def client(service: str) -> Any:
        return fake if service == "stepfunctions" else real(service)

    monkeypatch.setattr(clients, "client", client)
    wiring.reset()
    return fake


# ------------------------------------------------------------------------------------ events


def sqs_event(messages: list[dict[str, Any]], queue: str = "callouts-calls") -> dict[str, Any]:
    """Lambda's SQS event for received messages (or for bodies given as {"Body": ...})."""
    records = []
    for index, message in enumerate(messages):
        attributes = {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        }
        attributes.update(message.get("Attributes", {}))
        records.append(
            {
                "messageId": message.get("MessageId", f"m-{index}-{uuid.uuid4()}"),
                "receiptHandle": message.get("ReceiptHandle", f"rh-{index}"),
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def s3_put_event(bucket: str, key: str, size: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-28T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "intake",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key.replace(" ", "+"), "size": size, "eTag": "e"},
                },
            }
        ]
    }


def eventbridge_s3_event(bucket: str, key: str, size: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": "e"},
            "reason": "PutObject",
        },
    }


def disconnected_event(contact_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": REGION,
        "resources": [
            "arn:aws:connect:us-east-1:123456789012:instance/instance-1",
            f"arn:aws:connect:us-east-1:123456789012:instance/instance-1/contact/{contact_id}",
        ],
        "detail": {
            "eventType": "DISCONNECTED",
            "contactId": contact_id,
            "initialContactId": contact_id,
            "channel": "VOICE",
            "instanceArn": "arn:aws:connect:us-east-1:123456789012:instance/instance-1",
            "initiationMethod": "API",
            "disconnectTimestamp": "2026-11-28T12:01:00.000Z",
        },
    }


def flow_event(call_id: str, parameters: dict[str, str], contact_id: str = "c-1") -> dict[str, Any]:
    """The event Amazon Connect sends an InvokeLambdaFunction action."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {"call_id": call_id},
                "Channel": "VOICE",
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "InitiationMethod": "API",
                "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/instance-1",
                "SystemEndpoint": {"Address": "+15550100", "Type": "TELEPHONE_NUMBER"},
                "CustomerEndpoint": {"Address": "+85251234567", "Type": "TELEPHONE_NUMBER"},
            },
            "Parameters": parameters,
        },
    }


# ------------------------------------------------------------------------------------ jobs


def example_workbook(**settings: Any) -> bytes:
    """The project's example workbook plus Configures settings (e.g. retry_delay_seconds=0).

    Calling hours are off unless a test sets `calling_window`: these tests run at any wall-clock
    hour, and calling hours have their own tests (test_aws_calls, test_aws_pipeline).
    """
    from backend.domain.workbook_template import write_example

    settings.setdefault("calling_window", "any")

    raw = io.BytesIO()
    write_example(raw)
    book = openpyxl.load_workbook(io.BytesIO(raw.getvalue()))
    sheet = book["Configures"]
    for key, value in settings.items():
        sheet.append([key, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def example_job(**settings: Any) -> Any:
    from backend.domain.intake import read_workbook

    result = read_workbook(example_workbook(**settings), filename="call_job.xlsx")
    assert result.ok, result.problems
    return result.job
