"""The Teams part of template.yaml: present only when a Teams app is configured, least privilege,
and the chat notifier serving Teams-only stacks too. (cfn-lint runs on the whole template in
tests/integration/aws/test_aws_template.py and `make cfn`.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.deploy import cfn_yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load((ROOT / "template.yaml").read_text())


def _value(template: dict[str, Any], expr: Any, params: dict[str, str]) -> Any:
    if isinstance(expr, dict) and "Ref" in expr:
        name = expr["Ref"]
        return params.get(name, template["Parameters"][name].get("Default"))
    return expr


def _holds(template: dict[str, Any], condition: Any, params: dict[str, str]) -> bool:
    if isinstance(condition, str):
        return _holds(template, template["Conditions"][condition], params)
    (function, args), *_ = condition.items()
    if function == "Fn::Equals":
        return bool(_value(template, args[0], params) == _value(template, args[1], params))
    if function == "Fn::Not":
        return not _holds(template, args[0], params)
    if function == "Fn::Or":
        return any(_holds(template, a, params) for a in args)
    if function == "Fn::And":
        return all(_holds(template, a, params) for a in args)
    if function in ("Condition", "Fn::Condition"):
        return _holds(template, args, params)
    raise AssertionError(f"condition function {function} not handled")


def deployed(template: dict[str, Any], params: dict[str, str]) -> set[str]:
    return {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or _holds(template, resource["Condition"], params)
    }


TEAMS = {
    "TeamsAppId": "11111111-2222-3333-4444-555555555555",
    "TeamsTenantId": "99999999-8888-7777-6666-555555555555",
    "TeamsSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:teams-AbCdEf",
}
SLACK = {"SlackSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf"}


def test_teams_resources_exist_only_when_a_teams_app_is_given(template: dict[str, Any]) -> None:
    teams_resources = {n for n in template["Resources"] if n.startswith("Teams")}
    assert teams_resources >= {"TeamsBotFunction", "TeamsBotUrlPermission", "TeamsBotFunctionLogs"}
    assert not deployed(template, {}) & teams_resources
    assert not deployed(template, SLACK) & teams_resources
    assert deployed(template, TEAMS) >= teams_resources
    assert "SlackBotFunction" not in deployed(template, TEAMS)
    # the one notifier path serves a Teams-only stack as well as a Slack one
    assert "SlackNotifierFunction" in deployed(template, TEAMS)
    assert "SlackNotifierFunction" in deployed(template, SLACK)
    assert "SlackNotifierFunction" not in deployed(template, {})
    assert template["Outputs"]["TeamsMessagingEndpoint"]["Condition"] == "HasTeams"


def test_a_teams_app_needs_its_tenant_and_secret(template: dict[str, Any]) -> None:
    rule = template["Rules"]["TeamsNeedsTenantAndSecret"]
    assert _holds(template, rule["RuleCondition"], TEAMS)
    assert not _holds(template, rule["RuleCondition"], {})
    (assertion,) = rule["Assertions"]
    assert _holds(template, assertion["Assert"], TEAMS)
    assert not _holds(template, assertion["Assert"], {**TEAMS, "TeamsTenantId": ""})
    assert not _holds(template, assertion["Assert"], {**TEAMS, "TeamsSecretArn": ""})


def test_the_teams_function_reads_only_its_secret_and_invokes_only_itself(
    template: dict[str, Any],
) -> None:
    function = template["Resources"]["TeamsBotFunction"]["Properties"]
    role = template["Resources"]["TeamsBotFunctionRole"]["Properties"]  # backend/deploy/roles.py
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    secrets = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secrets == [
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [{"Ref": "DoNotCallSecret"}, {"Ref": "TeamsSecretArn"}],
        }
    ]
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"]["Fn::Sub"].endswith(":function:${AWS::StackName}-teams-bot")
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-teams-bot"}
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert function["Handler"] == "bot.teams.lambda_handler.handler"
    env = function["Environment"]["Variables"]
    assert "TEAMS_CLIENT_SECRET" not in env  # the secret itself never sits in the environment
    assert env["CALLOUTS_TEAMS_SECRET_ARN"] == {"Ref": "TeamsSecretArn"}


@pytest.mark.parametrize("bot", ["SlackBotFunction", "TeamsBotFunction"])
def test_both_bots_know_the_schedules_the_line_budget_and_sms(
    template: dict[str, Any], bot: str
) -> None:
    """Schedule list/cancel, the estimate's line budget and the SMS warning work on AWS from
    either chat (the settings bot/aws_runtime.py reads, and the rights to read the schedules)."""
    env = template["Resources"][bot]["Properties"]["Environment"]["Variables"]
    assert env["CALLOUTS_SCHEDULE_GROUP"] == {"Ref": "ScheduleGroup"}
    assert env["CALLOUTS_SCHEDULE_BUCKET"] == {"Ref": "ScheduleBucket"}
    assert env["CALLOUTS_MAX_CONCURRENT_CALLS"] == {"Ref": "MaxConcurrentCalls"}
    assert env["CALLOUTS_SMS_ENABLED"] == {"Fn::If": ["HasSms", "true", "false"]}
    role = template["Resources"][f"{bot}Role"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    (schedules,) = [s for s in statements if s.get("Sid") == "ListAndCancelSchedules"]
    assert schedules["Action"] == ["scheduler:GetSchedule", "scheduler:DeleteSchedule"]
    assert schedules["Resource"]["Fn::Sub"].endswith(":schedule/${ScheduleGroup}/*")
