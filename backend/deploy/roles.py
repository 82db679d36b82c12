"""Least privilege after the SAM transform: an explicit role for every function and the state
machine, in place of the roles SAM would make with AWS managed policies.

For a function without `Role`, SAM makes `<Name>Role` with AWSLambdaBasicExecutionRole (log
streams in every log group), AWSXrayWriteOnlyAccess (tracing), and per event source
AWSLambdaSQSQueueExecutionRole (every queue) or AWSLambdaDynamoDBExecutionRole (every stream);
for a traced state machine, AWSXrayWriteOnlyAccess. The base template keeps writing each
resource's own `Policies` (inline statements, as before); `explicit_roles` moves them into an
`AWS::IAM::Role` of the same logical id SAM would use, gives the resource `Role: !GetAtt
<Name>Role.Arn` (SAM then adds nothing) and adds only what SAM's managed policies were for,
scoped to the stack's own resources:

- `logs:CreateLogStream`, `logs:PutLogEvents` on the function's own log group (`LoggingConfig`);
- the X-Ray calls of a traced function (`Tracing: Active`, the Globals default);
- `sqs:ReceiveMessage`, `DeleteMessage`, `GetQueueAttributes` on each SQS event source's queue;
- `dynamodb:DescribeStream`, `GetRecords`, `GetShardIterator`, `ListStreams` on each stream;
- `sqs:SendMessage` on each on-failure destination (asynchronous invocation and stream).
"""

from __future__ import annotations

from typing import Any

from backend.deploy import cfn_yaml

FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
PRINCIPALS = {FUNCTION: "lambda.amazonaws.com", STATE_MACHINE: "states.amazonaws.com"}
XRAY_ACTIONS = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
]
SQS_SOURCE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
STREAM_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
PROPERTY_INDENT = "      "  # a resource's properties in the base template


def role_id(resource: str) -> str:
    return f"{resource}Role"


def _statement(sid: str, actions: list[str] | str, resource: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def runtime_statements(properties: dict[str, Any], traced: bool) -> list[dict[str, Any]]:
    """What SAM's managed policies gave a function, for its own log group, queues and stream."""
    statements: list[dict[str, Any]] = []
    log_group = properties.get("LoggingConfig", {}).get("LogGroup")
    if log_group is not None:
        arn = {"Fn::GetAtt": [log_group["Ref"], "Arn"]}  # ends in ":*": the group's streams
        statements.append(_statement("OwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], arn))
    if traced:
        statements.append(_statement("Tracing", XRAY_ACTIONS, "*"))  # X-Ray has no resources
    for name, event in properties.get("Events", {}).items():
        source = event.get("Properties", {})
        if event["Type"] == "SQS":
            statements.append(_statement(f"{name}Queue", SQS_SOURCE_ACTIONS, source["Queue"]))
        elif event["Type"] == "DynamoDB":
            statements.append(_statement(f"{name}Stream", STREAM_ACTIONS, source["Stream"]))
        failure = source.get("DestinationConfig", {}).get("OnFailure")
        if failure is not None:
            statements.append(
                _statement(f"{name}OnFailure", "sqs:SendMessage", failure["Destination"])
            )
    invoke = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
    for outcome, destination in invoke.items():
        if destination.get("Type") != "SQS":
            raise ValueError(f"only SQS invoke destinations are scoped here, not {destination}")
        statements.append(
            _statement(f"Invoke{outcome}", "sqs:SendMessage", destination["Destination"])
        )
    return statements


def _role(
    name: str, resource: dict[str, Any], traced: bool, policies: list[dict[str, Any]]
) -> dict[str, Any]:
    documents = [
        {"PolicyName": f"own-{index}", "PolicyDocument": {"Version": "2012-10-17", **policy}}
        for index, policy in enumerate(policies)
    ]
    if resource["Type"] == FUNCTION:
        runtime = runtime_statements(resource["Properties"], traced)
        documents.append(
            {
                "PolicyName": "runtime",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": runtime},
            }
        )
    role: dict[str, Any] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"{name}: its own statements and its logs, tracing and event sources "
            "(no AWS managed policy).",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": PRINCIPALS[resource["Type"]]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": documents,
        },
    }
    if "Condition" in resource:
        role["Condition"] = resource["Condition"]
    return role


def _traced(resource: dict[str, Any], globals_: dict[str, Any]) -> bool:
    properties = resource["Properties"]
    if resource["Type"] == STATE_MACHINE:
        return bool(properties.get("Tracing", {}).get("Enabled"))
    mode = properties.get("Tracing", globals_.get("Function", {}).get("Tracing"))
    return bool(mode == "Active")


def _policies_removed(lines: list[str], name: str) -> list[str]:
    """The resource `name`'s `Policies:` block replaced by `Role: !GetAtt <name>Role.Arn`."""
    start = lines.index(f"  {name}:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip() and _indent(lines[i]) <= 2),
        len(lines),
    )
    head = f"{PROPERTY_INDENT}Policies:\n"
    if head not in lines[start:end]:
        raise ValueError(f"{name} has no Policies block to move into its role")
    first = lines.index(head, start, end)
    last = first + 1
    while last < end and (not lines[last].strip() or _indent(lines[last]) > len(PROPERTY_INDENT)):
        last += 1
    role = f"{PROPERTY_INDENT}Role: !GetAtt {role_id(name)}.Arn\n"
    return [*lines[:first], role, *lines[last:]]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def explicit_roles(text: str) -> tuple[str, dict[str, Any]]:
    """The base template with every function's and state machine's `Policies` moved into an
    explicit role, and those roles (to be added to the resources)."""
    template = cfn_yaml.load(text)
    globals_ = template.get("Globals", {})
    lines = text.splitlines(keepends=True)
    roles: dict[str, Any] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] not in PRINCIPALS:
            continue
        properties = resource["Properties"]
        if "Role" in properties:
            raise ValueError(f"{name} names its own Role: write its statements as Policies")
        policies = properties.get("Policies", [])
        if not all(isinstance(p, dict) and set(p) <= {"Statement", "Version"} for p in policies):
            raise ValueError(f"{name}: only inline statements (no SAM policy templates)")
        roles[role_id(name)] = _role(name, resource, _traced(resource, globals_), policies)
        lines = _policies_removed(lines, name)
    return "".join(lines), roles
