"""template.yaml and the ASL: generated, linted, every reference resolved, least privilege."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.deploy import cfn_yaml, render
from backend.domain.voices import SUPPORTED_LANGUAGES, lex_locale
from backend.flows import FLOW_PLACEHOLDERS

from .conftest import ASL, ROOT

TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return json.loads(ASL.read_text())


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _states(scope: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(scope, name, state) for every state, nested Map processors included."""
    for name, state in scope["States"].items():
        yield scope, name, state
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _states(state[key])


def test_committed_template_is_generated_from_the_current_files() -> None:
    assert TEMPLATE.read_text() == render.render(), "run: python -m backend.deploy.render"


def test_cfn_lint_is_clean() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_transition_of_the_asl_exists(asl: dict[str, Any]) -> None:
    scopes = [asl] + [s[key] for _, _, s in _states(asl) for key in ("ItemProcessor",) if key in s]
    for scope in scopes:
        assert scope["StartAt"] in scope["States"]
    for scope, name, state in _states(asl):
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Catch", [])]
        targets += [c["Next"] for c in state.get("Choices", [])]
        for target in filter(None, targets):
            assert target in scope["States"], f"{name} -> {target}"
        terminal = state["Type"] in ("Succeed", "Fail") or state.get("End") is True
        assert terminal or "Next" in state or state["Type"] == "Choice", name


def test_every_state_is_reachable(asl: dict[str, Any]) -> None:
    for scope in [asl] + [s["ItemProcessor"] for _, _, s in _states(asl) if "ItemProcessor" in s]:
        seen, todo = set(), [scope["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            state = scope["States"][name]
            todo += [t for t in (state.get("Next"), state.get("Default")) if t]
            todo += [c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])]
        assert seen == set(scope["States"])


def test_asl_substitutions_resolve_against_the_template(
    asl: dict[str, Any], template: dict[str, Any]
) -> None:
    machine = template["Resources"]["CalloutStateMachine"]["Properties"]
    assert (ROOT / machine["DefinitionUri"]).resolve() == ASL.resolve()
    used = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    given = machine["DefinitionSubstitutions"]
    assert used == set(given)
    resources = template["Resources"]
    for name, value in given.items():
        for node in _walk(value):
            if isinstance(node, dict) and "Ref" in node:
                assert node["Ref"] in resources, name
            if isinstance(node, dict) and "Fn::GetAtt" in node:
                assert node["Fn::GetAtt"][0] in resources, name


def test_every_task_resource_is_allowed_by_the_state_machine_policy(
    asl: dict[str, Any], template: dict[str, Any]
) -> None:
    # Its Policies are in its explicit role (backend/deploy/roles.py); the first is its own.
    statements = template["Resources"]["CalloutStateMachineRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    allowed = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    needed = {
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken": "sqs:SendMessage",
        "arn:aws:states:::dynamodb:putItem": "dynamodb:PutItem",
        "arn:aws:states:::lambda:invoke": "lambda:InvokeFunction",
        "arn:aws:states:::sns:publish": "sns:Publish",
        "arn:aws:states:::events:putEvents": "events:PutEvents",
        "arn:aws:states:::s3:getObject": "s3:GetObject",
        "arn:aws:states:::s3:putObject": "s3:PutObject",  # the Map's ResultWriter
    }
    resources = {n["Resource"] for n in _walk(asl) if isinstance(n, dict) and "Resource" in n}
    assert resources <= set(needed), resources - set(needed)
    for resource in resources:
        assert needed[resource] in allowed, resource
    maps = [s for _, _, s in _states(asl) if s["Type"] == "Map"]
    assert maps[0]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert "states:StartExecution" in allowed  # Distributed Map child executions


# IAM (no wildcard actions) is checked on the translated template: test_aws_template_translated.


def test_lex_bots_versions_aliases_and_flow_come_from_their_files(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    from backend.flows import bot_definitions

    for question_type, bot in bot_definitions().items():
        key = question_type.key
        props = bot.cfn_properties()
        # One version per set of enabled languages, each only where that set is enabled; the
        # alias follows the deployment's set.
        chain = resources[f"{key}BotAlias"]["Properties"]["BotVersion"]
        for languages in render.language_sets():
            locales = [lex_locale(language) for language in languages]
            version_id = f"{key}BotVersion{render.definition_hash(bot.cfn_properties(locales))}"
            version = resources[version_id]
            assert version["Type"] == "AWS::Lex::BotVersion"
            assert version["Condition"] == render.set_condition(languages)
            assert [
                s["LocaleId"] for s in version["Properties"]["BotVersionLocaleSpecification"]
            ] == locales
            condition, then, chain = chain["Fn::If"]
            assert (condition, then) == (
                render.set_condition(languages),
                {"Fn::GetAtt": [version_id, "BotVersion"]},
            )
        assert chain == {"Ref": "AWS::NoValue"}
        bot_locales = resources[f"{key}Bot"]["Properties"]["BotLocales"]
        assert [item["Fn::If"][1] for item in bot_locales] == props["BotLocales"]
        assert [item["Fn::If"][0] for item in bot_locales] == [
            render.speaks_condition(language) for language in SUPPORTED_LANGUAGES
        ]
        assert resources[f"{key}BotIntegration"]["Properties"]["IntegrationType"] == "LEX_BOT"
    content, variables = resources["OutboundCallFlow"]["Properties"]["Content"]["Fn::Sub"]
    # The flow file's placeholders, plus the logging switch the render adds (FlowLogging).
    expected = {*FLOW_PLACEHOLDERS, render.FLOW_LOGGING}
    assert set(re.findall(r"\$\{(\w+)\}", content)) == set(variables) == expected
    for name, value in variables.items():
        if name == render.FLOW_LOGGING:
            assert value == {"Ref": "FlowLogging"}
            continue
        assert value["Fn::GetAtt"][0] in resources
    assert "Callouts" not in resources["OKBot"]["Properties"]  # the simulator-only block


def _evaluate(node: Any, conditions: dict[str, Any], locales: str) -> Any:
    """Enough of CloudFormation's condition functions to evaluate the generated conditions."""
    if isinstance(node, list):
        return [_evaluate(item, conditions, locales) for item in node]
    if not isinstance(node, dict):
        return node
    ((name, argument),) = node.items()
    value = _evaluate(argument, conditions, locales) if name != "Condition" else argument
    functions = {
        "Fn::Sub": lambda: value.replace("${BotLocales}", locales),
        "Fn::Split": lambda: value[1].split(value[0]),
        "Fn::Join": lambda: value[0].join(value[1]),
        "Fn::Equals": lambda: value[0] == value[1],
        "Fn::Not": lambda: not value[0],
        "Fn::And": lambda: all(value),
        "Condition": lambda: _evaluate(conditions[value], conditions, locales),
    }
    return functions[name]()


@pytest.mark.parametrize(
    ("locales", "enabled"),
    [
        ("en-US", ("en-US",)),
        ("es-US", ("es-US",)),
        ("en-US,es-US", ("en-US", "es-US")),
        ("es-US,en-US", ("en-US", "es-US")),
    ],
)
def test_bot_locales_parameter_enables_exactly_its_languages(
    template: dict[str, Any], locales: str, enabled: tuple[str, ...]
) -> None:
    parameter = template["Parameters"]["BotLocales"]
    assert re.fullmatch(parameter["AllowedPattern"], locales)
    assert not re.fullmatch(parameter["AllowedPattern"], "en-US, es-US")  # no spaces
    assert not re.fullmatch(parameter["AllowedPattern"], "fr-FR")
    conditions = template["Conditions"]
    speaks = {
        language: _evaluate(conditions[render.speaks_condition(language)], conditions, locales)
        for language in SUPPORTED_LANGUAGES
    }
    assert speaks == {language: language in enabled for language in SUPPORTED_LANGUAGES}
    true_sets = [
        languages
        for languages in render.language_sets()
        if _evaluate(conditions[render.set_condition(languages)], conditions, locales)
    ]
    assert true_sets == [enabled]  # exactly one bot version exists per bot
    assert template["Globals"]["Function"]["Environment"]["Variables"][
        "CALLOUTS_BOT_LANGUAGES"
    ] == {"Ref": "BotLocales"}


def test_bot_version_id_changes_with_the_bot_definition() -> None:
    from backend.flows import bot_definitions

    bot = next(iter(bot_definitions().values()))
    props = bot.cfn_properties()
    changed = json.loads(json.dumps(props))
    changed["BotLocales"][0]["NluConfidenceThreshold"] = 0.9
    assert render.definition_hash(props) != render.definition_hash(changed)


def test_every_backend_handler_exists(template: dict[str, Any]) -> None:
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        handler = resource["Properties"]["Handler"]
        assert resource["Metadata"]["BuildMethod"] == "makefile", name
        assert resource["Properties"]["CodeUri"] == "deploy/", name  # never the whole repo
        if handler.startswith("backend."):
            module, function = handler.rsplit(".", 1)
            path = ROOT / (module.replace(".", "/") + ".py")
            assert path.exists(), handler
            assert f"def {function}(" in path.read_text(), handler


def test_every_function_has_a_build_target() -> None:
    makefile = (ROOT / "deploy" / "Makefile").read_text()
    functions = [
        name
        for name, resource in cfn_yaml.load(TEMPLATE.read_text())["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    for name in functions:
        assert f"build-{name}:" in makefile, name


def test_package_sizes_bench_lists_every_function(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import package_sizes

    package_sizes.main()
    out = capsys.readouterr().out
    sizes = package_sizes.sizes()
    assert set(sizes) >= {"DialerFunction", "CallFlowFunction", "SlackBotFunction"}
    for function, (dependencies, code) in sizes.items():
        assert function in out
        assert 0 < code < dependencies < package_sizes.LAMBDA_LIMIT
    makefile = (ROOT / "deploy" / "Makefile").read_text()
    for pruned in package_sizes.PRUNED_DISTRIBUTIONS | set(package_sizes.PRUNED_DIRS):
        assert pruned in makefile  # the bench and the build prune the same things


def test_buckets_queues_and_topic_are_encrypted_and_buckets_refuse_plain_http(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    policies = {
        r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    }
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::S3::Bucket":
            assert props["BucketEncryption"], name
            assert all(props["PublicAccessBlockConfiguration"].values()), name
            [deny] = [s for s in policies[name] if s["Effect"] == "Deny"]
            assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        if resource["Type"] == "AWS::SQS::Queue":
            assert props.get("SqsManagedSseEnabled") is True, name
    assert resources["CompletionTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_task_callbacks_are_scoped_to_the_state_machine_and_its_map_children(
    template: dict[str, Any],
) -> None:
    found = 0
    for node in _walk(template["Resources"]):
        if isinstance(node, dict) and node.get("Action") == [
            "states:SendTaskSuccess",
            "states:SendTaskFailure",
        ]:
            found += 1
            arns = [r["Fn::Sub"] for r in node["Resource"]]
            assert all(":stateMachine:${AWS::StackName}-callouts" in arn for arn in arns), arns
    assert found == 4  # dialer, flow Lambda, contact events, sweeper


def test_job_queue_lets_a_waiting_job_wait_for_days(template: dict[str, Any]) -> None:
    from backend.aws.starter import busy_delay_seconds

    queue = template["Resources"]["JobQueue"]["Properties"]
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    waited = sum(busy_delay_seconds(n) for n in range(1, receives + 1))
    assert waited >= 7 * 24 * 3600
    assert queue["MessageRetentionPeriod"] >= waited


def test_traces_do_not_record_handler_responses(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
