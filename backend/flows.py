"""Contact flows and Lex V2 bots as data: loading, deploy-time placeholders and the flow checker.

`contact_flows/*.json` are Amazon Connect flow-language documents with `${Name}` placeholders for
the ARNs known only at deploy time; `lex_bots/*.json` hold one Lex V2 bot per question type in
`AWS::Lex::Bot` property names (`Name`, `Description`, `BotLocales`), plus a `Callouts` block that
CloudFormation never sees (keypad hint, built-in utterances used by the phone simulator).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from backend.domain.models import QuestionType
from backend.domain.voices import VOICES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTACT_FLOWS_DIR = PROJECT_ROOT / "contact_flows"
LEX_BOTS_DIR = PROJECT_ROOT / "lex_bots"
OUTBOUND_CALL_FLOW = CONTACT_FLOWS_DIR / "outbound_call.json"

FLOW_VERSION = "2019-10-30"
CALL_FLOW_FUNCTION = "CallFlowFunctionArn"


def bot_alias_placeholder(question_type: QuestionType) -> str:
    """`YesNoBotAliasArn` for Yes/No: the placeholder naming that bot's alias ARN in flows."""
    return f"{question_type.key}BotAliasArn"


FLOW_PLACEHOLDERS: tuple[str, ...] = (
    CALL_FLOW_FUNCTION,
    *(bot_alias_placeholder(question_type) for question_type in QuestionType),
)

BOT_FILES: dict[QuestionType, str] = {
    QuestionType.OK: "ok.json",
    QuestionType.YES_NO: "yes_no.json",
    QuestionType.MULTIPLE_CHOICE: "multiple_choice.json",
    QuestionType.NUMBER: "number.json",
    QuestionType.DATE: "date.json",
    QuestionType.TIME: "time.json",
}

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
MAX_IDENTIFIER_LENGTH = 50


class FlowFileError(ValueError):
    """A flow or bot file that cannot be used; the message names the file and what to fix."""


# --------------------------------------------------------------------------- flows


def load_flow(path: Path | str = OUTBOUND_CALL_FLOW) -> dict[str, Any]:
    """Read a flow-language JSON file (placeholders left as they are)."""
    return _read_json(Path(path))


def flow_placeholders(text: str) -> set[str]:
    """Names of every `${Name}` placeholder in a flow or template text."""
    return set(_PLACEHOLDER.findall(text))


def render_flow(substitutions: Mapping[str, str], path: Path | str = OUTBOUND_CALL_FLOW) -> str:
    """The flow as the JSON string for `AWS::Connect::ContactFlow.Content`, placeholders replaced.

    Every placeholder in the file must be given, else FlowFileError names the missing ones.
    """
    text = Path(path).read_text(encoding="utf-8")
    missing = sorted(flow_placeholders(text) - set(substitutions))
    if missing:
        raise FlowFileError(f"{Path(path).name}: no value given for placeholder(s) {missing}")
    rendered = _PLACEHOLDER.sub(lambda match: _json_escape(substitutions[match.group(1)]), text)
    return json.dumps(json.loads(rendered), separators=(",", ":"))


def _json_escape(value: str) -> str:
    return json.dumps(value)[1:-1]


@dataclass(frozen=True)
class ActionRule:
    """What the checker (and the simulator) know about one flow-language action type."""

    errors: tuple[str, ...] = ()  # error branches the action must declare
    terminal: bool = False
    conditions: bool = False  # whether Conditions are meaningful
    required_parameters: tuple[str, ...] = ()


ACTION_RULES: dict[str, ActionRule] = {
    "UpdateFlowLoggingBehavior": ActionRule(required_parameters=("FlowLoggingBehavior",)),
    "UpdateContactTextToSpeechVoice": ActionRule(
        errors=("NoMatchingError",), required_parameters=("TextToSpeechVoice",)
    ),
    "InvokeLambdaFunction": ActionRule(
        errors=("NoMatchingError",),
        required_parameters=("LambdaFunctionARN", "InvocationTimeLimitSeconds"),
    ),
    "Compare": ActionRule(
        errors=("NoMatchingCondition",), conditions=True, required_parameters=("ComparisonValue",)
    ),
    "ConnectParticipantWithLexBot": ActionRule(
        errors=("NoMatchingCondition", "InputTimeLimitExceeded", "NoMatchingError"),
        conditions=True,
        required_parameters=("LexV2Bot",),
    ),
    "MessageParticipant": ActionRule(errors=("NoMatchingError",)),
    "UpdateContactAttributes": ActionRule(
        errors=("NoMatchingError",), required_parameters=("Attributes",)
    ),
    "Loop": ActionRule(conditions=True, required_parameters=("LoopCount",)),
    "DisconnectParticipant": ActionRule(terminal=True),
}

CONDITION_OPERATORS = frozenset(
    {
        "Equals",
        "StartsWith",
        "Contains",
        "NumberGreaterThan",
        "NumberLessThan",
        "NumberGreaterOrEqualTo",
        "NumberLessOrEqualTo",
    }
)
# Dynamic values the simulator can evaluate.
_REFERENCE = re.compile(
    r"^\$\.(?:External\.\w+|Attributes\.\w+|Lex\.IntentName|Lex\.Slots\.\w+"
    r"|ContactId|Channel|InitiationMethod)$"
)


def check_flow(flow: Any) -> list[str]:
    """Problems that would make a flow fail to deploy or to run; [] when it is sound.

    Checks the JSON shape, identifiers (unique, at most 50 characters, letters, digits, `-`, `_`),
    that every transition target exists and every action is reachable from StartAction, that every
    action type is one the simulator runs, that non-terminal actions have a NextAction and the error
    branches their type can raise, that conditions are well formed, and that every `${...}`
    placeholder and `$.` reference is known.
    """
    if not isinstance(flow, Mapping):
        return ["the flow must be a JSON object with Version, StartAction and Actions"]
    problems: list[str] = []
    if flow.get("Version") != FLOW_VERSION:
        problems.append(f"Version must be {FLOW_VERSION!r}, found {flow.get('Version')!r}")
    start = flow.get("StartAction")
    if not isinstance(start, str) or not start:
        problems.append("StartAction is missing: name the first action's Identifier")
    actions = flow.get("Actions")
    if not isinstance(actions, list) or not actions:
        problems.append("Actions must be a non-empty list of actions")
        return problems

    by_id: dict[str, Mapping[str, Any]] = {}
    for index, action in enumerate(actions):
        where = f"action #{index + 1}"
        if not isinstance(action, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        identifier = action.get("Identifier")
        if not isinstance(identifier, str) or not identifier:
            problems.append(f"{where}: Identifier is missing")
            continue
        if identifier in by_id:
            problems.append(f"{identifier}: Identifier is used by more than one action")
            continue
        by_id[identifier] = action
        if len(identifier) > MAX_IDENTIFIER_LENGTH:
            problems.append(
                f"{identifier}: Identifier is longer than {MAX_IDENTIFIER_LENGTH} characters"
            )
        if not _IDENTIFIER.match(identifier):
            problems.append(f"{identifier}: Identifier may only hold letters, digits, '-' and '_'")

    if isinstance(start, str) and start and start not in by_id:
        problems.append(f"StartAction {start!r} is not the Identifier of any action")

    for identifier, action in by_id.items():
        problems.extend(_check_action(identifier, action, by_id))

    if isinstance(start, str) and start in by_id:
        reached = _reachable(start, by_id)
        for identifier in by_id:
            if identifier not in reached:
                problems.append(f"{identifier}: unreachable from StartAction {start!r}")

    for placeholder in sorted(flow_placeholders(json.dumps(flow))):
        if placeholder not in FLOW_PLACEHOLDERS:
            problems.append(
                f"unknown placeholder ${{{placeholder}}}: use one of {', '.join(FLOW_PLACEHOLDERS)}"
            )
    return problems


def _check_action(
    identifier: str, action: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    problems: list[str] = []
    action_type = action.get("Type")
    rule = ACTION_RULES.get(action_type) if isinstance(action_type, str) else None
    if rule is None:
        known = ", ".join(sorted(ACTION_RULES))
        return [f"{identifier}: action type {action_type!r} is not supported (known: {known})"]
    parameters = action.get("Parameters", {})
    if not isinstance(parameters, Mapping):
        problems.append(f"{identifier}: Parameters must be an object")
        parameters = {}
    for name in rule.required_parameters:
        if name not in parameters:
            problems.append(f"{identifier}: {action_type} needs the parameter {name}")
    problems.extend(_check_parameters(identifier, str(action_type), parameters))

    transitions = action.get("Transitions", {})
    if not isinstance(transitions, Mapping):
        return [*problems, f"{identifier}: Transitions must be an object"]
    next_action = transitions.get("NextAction")
    conditions = transitions.get("Conditions", [])
    errors = transitions.get("Errors", [])
    if rule.terminal:
        if next_action or conditions or errors:
            problems.append(f"{identifier}: {action_type} ends the call and takes no transitions")
        return problems
    if not isinstance(next_action, str) or not next_action:
        problems.append(f"{identifier}: NextAction is missing")
    elif next_action not in by_id:
        problems.append(f"{identifier}: NextAction {next_action!r} does not exist")

    if not isinstance(conditions, list):
        problems.append(f"{identifier}: Conditions must be a list")
        conditions = []
    if conditions and not rule.conditions:
        problems.append(f"{identifier}: {action_type} takes no Conditions")
    for position, condition in enumerate(conditions, start=1):
        problems.extend(_check_condition(identifier, position, condition, by_id))

    if not isinstance(errors, list):
        problems.append(f"{identifier}: Errors must be a list")
        errors = []
    declared: set[str] = set()
    for branch in errors:
        if not isinstance(branch, Mapping):
            problems.append(f"{identifier}: each error branch must be an object")
            continue
        error_type = branch.get("ErrorType")
        target = branch.get("NextAction")
        if error_type not in rule.errors:
            problems.append(f"{identifier}: {action_type} never raises ErrorType {error_type!r}")
        elif error_type in declared:
            problems.append(f"{identifier}: ErrorType {error_type!r} is declared twice")
        declared.add(str(error_type))
        if not isinstance(target, str) or target not in by_id:
            problems.append(
                f"{identifier}: error {error_type} goes to {target!r}, which does not exist"
            )
    for error_type in rule.errors:
        if error_type not in declared:
            problems.append(f"{identifier}: no branch for error {error_type}: end the call cleanly")
    return problems


def _check_condition(
    identifier: str, position: int, condition: Any, by_id: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    where = f"{identifier}: condition {position}"
    if not isinstance(condition, Mapping):
        return [f"{where} must be an object"]
    problems: list[str] = []
    target = condition.get("NextAction")
    if not isinstance(target, str) or target not in by_id:
        problems.append(f"{where} goes to {target!r}, which does not exist")
    test = condition.get("Condition")
    if not isinstance(test, Mapping):
        return [*problems, f"{where} needs Condition {{Operator, Operands}}"]
    if test.get("Operator") not in CONDITION_OPERATORS:
        problems.append(f"{where}: unknown Operator {test.get('Operator')!r}")
    operands = test.get("Operands")
    if (
        not isinstance(operands, list)
        or len(operands) != 1
        or not all(isinstance(operand, str) for operand in operands)
    ):
        problems.append(f"{where}: Operands must be a list of one string")
    return problems


def _check_parameters(
    identifier: str, action_type: str, parameters: Mapping[str, Any]
) -> list[str]:
    problems = [
        f"{identifier}: {value!r} is not a value the flow can read"
        for value in _strings(parameters)
        if value.startswith("$.") and not is_known_reference(value)
    ]
    if action_type == "InvokeLambdaFunction":
        limit = str(parameters.get("InvocationTimeLimitSeconds", ""))
        if not limit.isdigit() or not 1 <= int(limit) <= 8:
            problems.append(f'{identifier}: InvocationTimeLimitSeconds must be "1" to "8"')
        validation = parameters.get("ResponseValidation", {"ResponseType": "STRING_MAP"})
        if not isinstance(validation, Mapping) or validation.get("ResponseType") not in {
            "STRING_MAP",
            "JSON",
        }:
            problems.append(
                f"{identifier}: ResponseValidation.ResponseType must be STRING_MAP or JSON"
            )
    if action_type == "ConnectParticipantWithLexBot":
        bot = parameters.get("LexV2Bot")
        if not isinstance(bot, Mapping) or not isinstance(bot.get("AliasArn"), str):
            problems.append(f"{identifier}: LexV2Bot.AliasArn is missing")
    if action_type == "UpdateContactTextToSpeechVoice":
        problems.extend(_check_voice(identifier, parameters))
    if action_type == "Loop":
        count = parameters.get("LoopCount")
        if isinstance(count, str) and not count.startswith("$.") and not count.isdigit():
            problems.append(f"{identifier}: LoopCount must be a whole number, found {count!r}")
    if action_type in {"MessageParticipant", "ConnectParticipantWithLexBot"}:
        prompts = [name for name in ("Text", "SSML", "PromptId") if name in parameters]
        if len(prompts) > 1:
            problems.append(f"{identifier}: give only one of Text, SSML or PromptId")
        if action_type == "MessageParticipant" and not prompts:
            problems.append(f"{identifier}: MessageParticipant needs Text or SSML")
    return problems


TEXT_TO_SPEECH_ENGINES = ("Neural",)  # the voices of backend/domain/voices.py are neural ones


def _check_voice(identifier: str, parameters: Mapping[str, Any]) -> list[str]:
    """A static voice or engine must be one Connect accepts (`$.` values are checked at run)."""
    problems = []
    voice = parameters.get("TextToSpeechVoice")
    if isinstance(voice, str) and not voice.startswith("$.") and voice not in VOICES:
        problems.append(
            f"{identifier}: TextToSpeechVoice {voice!r} is not an English Polly neural voice "
            f"({', '.join(VOICES)})"
        )
    engine = parameters.get("TextToSpeechEngine")
    if (
        isinstance(engine, str)
        and not engine.startswith("$.")
        and engine not in TEXT_TO_SPEECH_ENGINES
    ):
        problems.append(
            f"{identifier}: TextToSpeechEngine {engine!r} is not one of "
            f"{', '.join(TEXT_TO_SPEECH_ENGINES)}"
        )
    return problems


def is_known_reference(value: str) -> bool:
    """Whether `$.…` is a value the flow (and the simulator) can read."""
    return bool(_REFERENCE.match(value))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def transition_targets(action: Mapping[str, Any]) -> list[str]:
    """Every action an action may go to (NextAction, Conditions, Errors)."""
    transitions = action.get("Transitions", {})
    if not isinstance(transitions, Mapping):
        return []
    targets: list[str] = []
    if isinstance(transitions.get("NextAction"), str):
        targets.append(transitions["NextAction"])
    for key in ("Conditions", "Errors"):
        branches = transitions.get(key, [])
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, Mapping) and isinstance(branch.get("NextAction"), str):
                targets.append(branch["NextAction"])
    return targets


def _reachable(start: str, by_id: Mapping[str, Mapping[str, Any]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        identifier = stack.pop()
        if identifier in seen or identifier not in by_id:
            continue
        seen.add(identifier)
        stack.extend(transition_targets(by_id[identifier]))
    return seen


# --------------------------------------------------------------------------- bots


@dataclass(frozen=True)
class IntentDefinition:
    name: str
    parent_signature: str | None
    utterances: tuple[str, ...]
    slots: dict[str, str] = field(default_factory=dict)  # slot name -> slot type name


@dataclass(frozen=True)
class BotDefinition:
    """One Lex V2 bot (one locale) as read from `lex_bots/`."""

    question_type: QuestionType
    name: str
    description: str
    locale: dict[str, Any]  # the AWS::Lex::Bot BotLocale, CloudFormation property names
    keypad_hint: str
    built_in_utterances: dict[str, tuple[str, ...]]
    path: Path

    @property
    def alias_placeholder(self) -> str:
        return bot_alias_placeholder(self.question_type)

    @property
    def intents(self) -> tuple[IntentDefinition, ...]:
        intents = []
        for intent in self.locale.get("Intents", []):
            slots = {slot["Name"]: slot["SlotTypeName"] for slot in intent.get("Slots", [])}
            utterances = tuple(item["Utterance"] for item in intent.get("SampleUtterances", []))
            intents.append(
                IntentDefinition(
                    name=intent["Name"],
                    parent_signature=intent.get("ParentIntentSignature"),
                    utterances=utterances + self.built_in_utterances.get(intent["Name"], ()),
                    slots=slots,
                )
            )
        return tuple(intents)

    @property
    def slot_types(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Custom slot types: name -> {value: synonyms}."""
        return {
            slot_type["Name"]: {
                entry["SampleValue"]["Value"]: tuple(
                    synonym["Value"] for synonym in entry.get("Synonyms", [])
                )
                for entry in slot_type.get("SlotTypeValues", [])
            }
            for slot_type in self.locale.get("SlotTypes", [])
        }

    def cfn_properties(self) -> dict[str, Any]:
        """The bot-specific part of `AWS::Lex::Bot` Properties (the template adds role, TTL...)."""
        return {"Name": self.name, "Description": self.description, "BotLocales": [self.locale]}


def load_bot(path: Path | str) -> BotDefinition:
    """Read one bot file; FlowFileError names the file and the missing field."""
    file = Path(path)
    data = _read_json(file)
    try:
        callouts = data["Callouts"]
        question_type = QuestionType.parse(callouts["QuestionType"])
        if question_type is None:
            raise FlowFileError(f"{file.name}: unknown Callouts.QuestionType")
        (locale,) = data["BotLocales"]
        return BotDefinition(
            question_type=question_type,
            name=data["Name"],
            description=data.get("Description", ""),
            locale=locale,
            keypad_hint=callouts.get("KeypadHint", ""),
            built_in_utterances={
                name: tuple(items) for name, items in callouts.get("BuiltInUtterances", {}).items()
            },
            path=file,
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, FlowFileError):
            raise
        raise FlowFileError(
            f"{file.name}: not a bot definition ({error!r}); it needs Name, one BotLocales entry "
            "and Callouts.QuestionType"
        ) from error


def bot_definitions(directory: Path | str = LEX_BOTS_DIR) -> dict[QuestionType, BotDefinition]:
    """Every question type's bot, read from `lex_bots/` (cached per directory)."""
    return dict(_bot_definitions(str(Path(directory).resolve())))


@cache
def _bot_definitions(directory: str) -> tuple[tuple[QuestionType, BotDefinition], ...]:
    bots: dict[QuestionType, BotDefinition] = {}
    for question_type, filename in BOT_FILES.items():
        bot = load_bot(Path(directory) / filename)
        if bot.question_type is not question_type:
            raise FlowFileError(
                f"{filename}: Callouts.QuestionType is {bot.question_type.value!r}, "
                f"expected {question_type.value!r}"
            )
        bots[question_type] = bot
    return tuple(bots.items())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise FlowFileError(f"{path}: file not found") from error
    except json.JSONDecodeError as error:
        raise FlowFileError(
            f"{path.name}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    if not isinstance(data, dict):
        raise FlowFileError(f"{path.name}: expected a JSON object")
    return data
