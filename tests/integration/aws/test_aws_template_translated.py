"""template.yaml after the SAM transform (aws-sam-translator), as CloudFormation will see it.

IAM is checked here and not on the source: SAM policy templates and event sources add
statements the source never shows (SQSSendMessagePolicy grants `sqs:SendMessage*`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from backend.deploy import cfn_yaml, monitoring, render

from .conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
STATEFUL = {"IntakeBucket", "DataBucket", "JobsTable", "ResultsTable", "DoNotCallTable"}
STATEFUL |= {"ScheduleBucket"}  # scheduled jobs: a non-empty bucket outlives the stack
TRANSIENT = {"SessionsTable", "IdempotencyTable"}  # TTL'd personal data: never kept
WILDCARD_RESOURCE_OK = {
    "polly:SynthesizeSpeech",  # the Lex V2 runtime role speaks with any voice
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}


class _NoManagedPolicies:
    """The translator's loader of managed policy names (the template names none)."""

    def load(self) -> dict[str, str]:
        return {}


def _source() -> dict[str, Any]:
    return cfn_yaml.load(TEMPLATE.read_text())


def translate(source: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would submit (code locations made up)."""
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(source)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://bucket/function.zip"  # `sam build` uploads deploy/
        if resource["Type"] == "AWS::Serverless::StateMachine":
            properties["DefinitionUri"] = "s3://bucket/callouts.asl.json"
    translated: dict[str, Any] = transform(template, parameters or {}, _NoManagedPolicies())
    return translated


@pytest.fixture(scope="module")
def cfn(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    return translate(_source())


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the translator wants a region
        yield patch


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


def _allow_statements(cfn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in cfn["Resources"].items():
        if resource["Type"] not in (
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
        ):
            continue
        for node in _walk(resource["Properties"]):
            if isinstance(node, dict) and node.get("Effect") == "Allow" and "Action" in node:
                if node is resource["Properties"].get("AssumeRolePolicyDocument"):
                    continue
                yield name, node


# ------------------------------------------------------------------------------------ IAM


def test_the_translation_has_what_sam_adds(cfn: dict[str, Any]) -> None:
    assert "Transform" not in cfn
    assert _of_type(cfn, "AWS::Lambda::Function")
    assert _of_type(cfn, "AWS::IAM::Role")
    assert _of_type(cfn, "AWS::Lambda::EventSourceMapping")


def test_no_wildcard_actions_after_the_sam_transform(cfn: dict[str, Any]) -> None:
    found = 0
    for role, statement in _allow_statements(cfn):
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            found += 1
            assert "*" not in action, (role, action)
    assert found > 50


def test_wildcard_resources_only_where_aws_has_no_narrower_one(cfn: dict[str, Any]) -> None:
    for role, statement in _allow_statements(cfn):
        if statement.get("Resource") != "*":
            continue
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert all(a in WILDCARD_RESOURCE_OK or a.startswith("logs:") for a in actions), (
            role,
            actions,
        )


def test_no_role_has_a_managed_policy(cfn: dict[str, Any]) -> None:
    """SAM would attach AWS managed policies (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess,
    AWSLambdaSQSQueueExecutionRole, AWSLambdaDynamoDBExecutionRole): every function and the
    state machine have an explicit role instead (backend/deploy/roles.py)."""
    roles = _of_type(cfn, "AWS::IAM::Role")
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name
    assert not _of_type(cfn, "AWS::IAM::ManagedPolicy")
    functions = _of_type(cfn, "AWS::Lambda::Function")
    for name, function in functions.items():
        assert function["Properties"]["Role"] == {"Fn::GetAtt": [f"{name}Role", "Arn"]}, name
    assert len(roles) >= len(functions) + 1  # + the state machine's


def _granted(cfn: dict[str, Any], role: str) -> dict[str, list[Any]]:
    """Each action a role allows and the resources it is allowed on."""
    granted: dict[str, list[Any]] = {}
    for policy in cfn["Resources"][role]["Properties"]["Policies"]:
        for written in policy["PolicyDocument"]["Statement"]:
            statement = written["Fn::If"][1] if "Fn::If" in written else written  # when on
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                resources = statement["Resource"]
                granted.setdefault(action, []).extend(
                    resources if isinstance(resources, list) else [resources]
                )
    return granted


def test_what_the_managed_policies_gave_is_scoped_to_the_stacks_own_resources(
    cfn: dict[str, Any],
) -> None:
    functions = _of_type(cfn, "AWS::Lambda::Function")
    for name, function in functions.items():
        granted = _granted(cfn, f"{name}Role")
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            assert granted[action] == [{"Fn::GetAtt": [group, "Arn"]}], (name, action)
        assert "logs:CreateLogGroup" not in granted, name  # the stack creates every group
        if function["Properties"].get("TracingConfig", {}).get("Mode") == "Active":
            assert granted["xray:PutTraceSegments"] == ["*"], name
    mappings = _of_type(cfn, "AWS::Lambda::EventSourceMapping")
    for mapping in mappings.values():
        properties = mapping["Properties"]
        granted = _granted(cfn, f"{properties['FunctionName']['Ref']}Role")
        source = properties["EventSourceArn"]
        if "StartingPosition" in properties:  # the results stream
            for action in ("dynamodb:GetRecords", "dynamodb:GetShardIterator"):
                assert granted[action] == [source], action
            failures = properties["DestinationConfig"]["OnFailure"]["Destination"]
            assert failures in granted["sqs:SendMessage"]
        else:
            for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
                assert granted[action] == [source], action
    for config in _of_type(cfn, "AWS::Lambda::EventInvokeConfig").values():
        properties = config["Properties"]
        granted = _granted(cfn, f"{properties['FunctionName']['Ref']}Role")
        failures = properties["DestinationConfig"]["OnFailure"]["Destination"]
        assert failures in granted["sqs:SendMessage"]
    machine = _granted(cfn, "CalloutStateMachineRole")
    assert machine["xray:PutTraceSegments"] == ["*"]  # traced, without AWSXrayWriteOnlyAccess


# ------------------------------------------------------------------------------ data and logs


def test_stateful_resources_are_kept_and_transient_ones_are_not(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    kinds = ("AWS::S3::Bucket", "AWS::DynamoDB::Table")
    assert {n for n, r in resources.items() if r["Type"] in kinds} == STATEFUL | TRANSIENT
    for name in STATEFUL:
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name
    for name in TRANSIENT:
        assert resources[name]["DeletionPolicy"] == "Delete", name


def test_every_function_logs_to_its_own_group_with_the_stack_retention(
    cfn: dict[str, Any],
) -> None:
    functions = _of_type(cfn, "AWS::Lambda::Function")
    groups = _of_type(cfn, "AWS::Logs::LogGroup")
    used = []
    for name, function in functions.items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups, name
        used.append(group)
    assert len(used) == len(set(used)) == len(functions)
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_connect_flow_logs_have_a_group_of_the_stack_and_are_off_by_default(
    cfn: dict[str, Any],
) -> None:
    resources, parameters = cfn["Resources"], cfn["Parameters"]
    assert parameters["FlowLogging"]["Default"] == "Disabled"
    flow_logs = resources["ConnectFlowLogs"]["Properties"]
    instance = resources["ConnectInstance"]
    assert flow_logs["LogGroupName"]["Fn::Sub"][0] == "/aws/connect/${Alias}"
    # The group is named after the alias the instance really gets, and exists before it.
    assert (
        flow_logs["LogGroupName"]["Fn::Sub"][1]["Alias"] == instance["Properties"]["InstanceAlias"]
    )
    assert "ConnectFlowLogs" in instance["DependsOn"]
    attributes = instance["Properties"]["Attributes"]
    assert attributes["ContactflowLogs"] == {"Fn::If": ["FlowLogsOn", True, False]}
    content, variables = resources["OutboundCallFlow"]["Properties"]["Content"]["Fn::Sub"]
    logging_actions = [
        a for a in json.loads(content)["Actions"] if a["Type"] == render.LOGGING_ACTION
    ]
    assert logging_actions
    for action in logging_actions:
        assert action["Parameters"]["FlowLoggingBehavior"] == "${FlowLoggingBehavior}"
    assert variables[render.FLOW_LOGGING] == {"Ref": "FlowLogging"}


# ------------------------------------------------------------------- deploys on a new account


def test_no_function_reserves_concurrency_a_new_account_cannot_spare(cfn: dict[str, Any]) -> None:
    """A new account has 10 concurrent executions and must keep 10 unreserved."""
    parameters = cfn["Parameters"]
    for name, function in _of_type(cfn, "AWS::Lambda::Function").items():
        reserved = function["Properties"].get("ReservedConcurrentExecutions")
        if reserved is None:
            continue
        # Only the flow Lambda, only through its parameter, off (0) by default.
        assert name == "CallFlowFunction", name
        condition, value, otherwise = reserved["Fn::If"]
        assert (value, otherwise) == (
            {"Ref": "CallFlowReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        )
        assert cfn["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": "CallFlowReservedConcurrency"}, 0]}]
        }
    assert parameters["CallFlowReservedConcurrency"]["Default"] == 0


def test_start_job_is_serialised_by_its_fifo_queue_not_by_reserved_concurrency(
    cfn: dict[str, Any],
) -> None:
    [mapping] = [
        m["Properties"]
        for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "StartJobFunction"}
    ]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2  # the SQS minimum
    assert cfn["Resources"]["JobQueue"]["Properties"]["FifoQueue"] is True


def _alias(stack_id: str, given: str = "") -> str:
    """Evaluate the instance alias expression for a stack id (the intrinsics it uses)."""
    cfn_alias = translate_alias_expression()

    def value(node: Any) -> Any:
        if isinstance(node, str):
            return node
        if "Fn::If" in node:
            _, when_default, when_given = node["Fn::If"]
            return value(when_default) if not given else value(when_given)
        if "Ref" in node:
            return {"AWS::StackId": stack_id, "ConnectInstanceAlias": given}[node["Ref"]]
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(value(p) for p in value_list(parts))
        if "Fn::Split" in node:
            separator, text = node["Fn::Split"]
            return value(text).split(separator)
        if "Fn::Select" in node:
            index, items = node["Fn::Select"]
            return value_list(items)[index]
        raise AssertionError(node)

    def value_list(node: Any) -> list[Any]:
        return [value(n) for n in node] if isinstance(node, list) else value(node)

    result: str = value(cfn_alias)
    return result


def translate_alias_expression() -> Any:
    return _source()["Resources"]["ConnectInstance"]["Properties"]["InstanceAlias"]


CONNECT_ALIAS = re.compile(r"^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$")  # CreateInstance's pattern


def test_default_instance_alias_is_unique_per_stack_and_valid_for_connect() -> None:
    stack = "arn:aws:cloudformation:eu-west-2:123456789012:stack/{}/{}"
    long_name = "a" * 128
    first = _alias(stack.format("callouts", "51af3dc0-da77-11e4-872e-1234567db123"))
    second = _alias(stack.format(long_name, "6f1e2d30-da78-11e4-9a1b-0a1b2c3d4e5f"))
    assert first != second
    for alias in (first, second):
        assert len(alias) <= 45, alias  # CreateInstance allows 45 characters
        assert CONNECT_ALIAS.match(alias), alias
    assert first == "callouts-51af3dc0da7711e4872e1234567db123"
    assert (
        _alias(stack.format("x", "51af3dc0-da77-11e4-872e-1234567db123"), "school-a") == "school-a"
    )


# ------------------------------------------------------------------- existing-instance mode


def _rule_holds(rule: dict[str, Any], parameters: dict[str, str]) -> bool:
    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return parameters.get(node["Ref"], "")
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        return node

    if not value(rule["RuleCondition"]):
        return True
    return all(value(a["Assert"]) for a in rule["Assertions"])


def test_an_existing_instance_needs_an_e164_caller_id(cfn: dict[str, Any]) -> None:
    rule = cfn["Rules"]["ExistingInstanceNeedsItsCallerId"]
    arn = "arn:aws:connect:us-east-1:123456789012:instance/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    assert _rule_holds(rule, {})  # a new instance: no caller id needed
    assert not _rule_holds(rule, {"ConnectInstanceArn": arn})
    assert _rule_holds(rule, {"ConnectInstanceArn": arn, "SourcePhoneNumber": "+14155550100"})
    parameters = cfn["Parameters"]
    number = re.compile(parameters["SourcePhoneNumber"]["AllowedPattern"])
    assert number.fullmatch("+14155550100")
    assert number.fullmatch("")
    for bad in ("4155550100", "+0155550100", "+1 415 555 0100", "+1415555010012345", "+12"):
        assert not number.fullmatch(bad), bad
    instance = re.compile(parameters["ConnectInstanceArn"]["AllowedPattern"])
    assert instance.fullmatch(arn)
    assert not instance.fullmatch("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d")  # an id, not an ARN


# ---------------------------------------------------------------------------------- Lex


def test_one_mechanism_lets_connect_use_each_bot_alias(cfn: dict[str, Any]) -> None:
    assert not _of_type(cfn, "AWS::Lex::ResourcePolicy")
    aliases = _of_type(cfn, "AWS::Lex::BotAlias")
    integrations = [
        r["Properties"]["IntegrationArn"]
        for r in _of_type(cfn, "AWS::Connect::IntegrationAssociation").values()
        if r["Properties"]["IntegrationType"] == "LEX_BOT"
    ]
    assert sorted(i["Fn::GetAtt"][0] for i in integrations) == sorted(aliases)


# ------------------------------------------------------------------------- alarms, failures


def test_every_watched_metric_has_an_alarm_on_the_alert_topic(cfn: dict[str, Any]) -> None:
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm")
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()
    }
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Duration"),
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/Connect", "ContactFlowErrors"),
        ("AWS/Connect", "ContactFlowFatalErrors"),
        ("AWS/Connect", "ThrottledCalls"),
        ("AWS/Connect", "CallsBreachingConcurrencyQuota"),
        ("AWS/Connect", "ConcurrentCallsPercentage"),
        ("Callouts", monitoring.DEPLOYMENT_FAULT_METRIC),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= watched
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}], name
    flow = alarms["CallFlowDurationAlarm"]["Properties"]
    assert flow["ExtendedStatistic"] == "p99"
    assert flow["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "CallFlowFunction"}}]


def test_every_queue_that_collects_failures_has_an_alarm(cfn: dict[str, Any]) -> None:
    queues = _of_type(cfn, "AWS::SQS::Queue")
    failure_queues = {n for n in queues if n not in ("JobQueue", "CallsQueue")}
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert failure_queues == alarmed
    for name in queues:
        assert queues[name]["Properties"]["SqsManagedSseEnabled"] is True, name


def test_map_run_alarm_watches_the_label_the_asl_gives_the_map() -> None:
    asl = json.loads((ROOT / "backend/statemachine/callouts.asl.json").read_text())
    assert asl["States"]["CallReceivers"]["Label"] == monitoring.MAP_LABEL


def test_the_dialer_counts_deployment_faults_under_the_alarmed_metric() -> None:
    source = (ROOT / "backend/handlers/dialer.py").read_text()
    from backend.aws.dialing import DialOutcome

    assert 'count(f"Dial_{outcome.value}")' in source
    assert f"Dial_{DialOutcome.DEPLOYMENT_FAULT.value}" == monitoring.DEPLOYMENT_FAULT_METRIC


def test_every_event_source_keeps_what_it_could_not_deliver(cfn: dict[str, Any]) -> None:
    for name, rule in _of_type(cfn, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"]["Arn"] == {
                "Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]
            }, name
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400, name
    [stream] = [
        m["Properties"]
        for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailuresQueue", "Arn"]
    }
    for name, config in _of_type(cfn, "AWS::Lambda::EventInvokeConfig").items():
        on_failure = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
        assert on_failure == {"Fn::GetAtt": ["AsyncFailuresQueue", "Arn"]}, name


def test_eventbridge_may_write_to_the_dead_letter_queue_only_for_this_stacks_rules(
    cfn: dict[str, Any],
) -> None:
    rules = _of_type(cfn, "AWS::Events::Rule")
    [statement] = cfn["Resources"]["EventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    named = set()
    for source in sources:
        if "Fn::If" in source:
            source = source["Fn::If"][1]
        named.add(source["Fn::GetAtt"][0])
    assert named == set(rules)


def test_dashboard_shows_every_alarm_and_substitutes_every_name(cfn: dict[str, Any]) -> None:
    body, variables = cfn["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    placeholders = set(re.findall(r"\$\{([\w:]+)\}", body))
    assert placeholders - {"AWS::Region"} == set(variables)
    dashboard = json.loads(body)
    [alarm_widget] = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    shown = {variables[p[2:-1]]["Fn::GetAtt"][0] for p in alarm_widget["properties"]["alarms"]}
    assert shown == set(_of_type(cfn, "AWS::CloudWatch::Alarm"))
    for value in variables.values():
        for node in _walk(value):
            if isinstance(node, dict) and "Fn::GetAtt" in node:
                assert node["Fn::GetAtt"][0] in cfn["Resources"]
            if isinstance(node, dict) and "Ref" in node and not node["Ref"].startswith("AWS::"):
                assert node["Ref"] in cfn["Resources"] or node["Ref"] in cfn["Parameters"]


def test_alarm_email_falls_back_to_the_notification_email(cfn: dict[str, Any]) -> None:
    subscription = cfn["Resources"]["AlertsEmail"]
    assert subscription["Condition"] == "SendAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {
        "Fn::If": ["HasAlarmEmail", {"Ref": "AlarmEmail"}, {"Ref": "NotificationEmail"}]
    }


def test_every_polled_queue_hides_a_message_at_least_as_long_as_its_function_runs(
    cfn: dict[str, Any],
) -> None:
    """Lambda refuses an SQS mapping whose queue's visibility timeout is below the function's."""
    resources, checked = cfn["Resources"], 0
    for mapping in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values():
        source = mapping["Properties"]["EventSourceArn"]
        queue = (
            resources.get(source.get("Fn::GetAtt", [""])[0]) if isinstance(source, dict) else None
        )
        if not queue or queue["Type"] != "AWS::SQS::Queue":
            continue
        function = resources[mapping["Properties"]["FunctionName"]["Ref"]]
        assert queue["Properties"]["VisibilityTimeout"] >= function["Properties"]["Timeout"]
        checked += 1
    assert checked == 2  # the job queue (start-job) and the calls queue (dialer)


def test_scheduled_occurrences_given_up_land_in_an_alarmed_dead_letter_queue(
    cfn: dict[str, Any],
) -> None:
    resources = cfn["Resources"]
    queue = resources["ScheduleDeadLetterQueue"]["Properties"]
    assert "FifoQueue" not in queue  # Scheduler refuses a FIFO dead-letter queue
    start_job = resources["StartJobFunction"]["Properties"]["Environment"]["Variables"]
    dead_letter = {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert start_job["CALLOUTS_SCHEDULE_DEAD_LETTER_ARN"] == dead_letter
    # Scheduler writes the dead letter with the schedules' role: it may send there and nowhere
    # else but the job queue.
    [policy] = resources["SchedulerRole"]["Properties"]["Policies"]
    sent_to = [
        s["Resource"]
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "sqs:SendMessage"
    ]
    assert sent_to == [{"Fn::GetAtt": ["JobQueue", "Arn"]}, dead_letter]
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm")
    watched = alarms["ScheduleDeadLetterAlarm"]["Properties"]["Dimensions"][0]["Value"]
    assert watched == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "QueueName"]}
