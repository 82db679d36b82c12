"""The flow checker: problems that would make a contact flow fail to deploy or to run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from backend.domain.voices import SUPPORTED_LANGUAGES, VOICES
from backend.flows.files import FLOW_PLACEHOLDERS, flow_placeholders
from backend.flows.language import (
    ACTION_RULES,
    CONDITION_OPERATORS,
    FLOW_VERSION,
    KEYPAD_KEYS,
    TEXT_TO_SPEECH_ENGINES,
    is_known_reference,
    transition_targets,
)

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
MAX_IDENTIFIER_LENGTH = 50


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
        if action_type == "GetParticipantInput" and isinstance(condition, Mapping):
            operands = (condition.get("Condition") or {}).get("Operands") or [""]
            problem = _keypad_operand_problem(
                f"{identifier}: condition {position}", str(operands[0])
            )
            problems.extend([problem] if problem else [])

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
    if action_type == "UpdateContactData":
        problems.extend(_check_language(identifier, parameters))
    if action_type == "Loop":
        count = parameters.get("LoopCount")
        if isinstance(count, str) and not count.startswith("$.") and not count.isdigit():
            problems.append(f"{identifier}: LoopCount must be a whole number, found {count!r}")
    if action_type == "GetParticipantInput":
        problems.extend(_check_keypad(identifier, parameters))
    if action_type in {"MessageParticipant", "ConnectParticipantWithLexBot", "GetParticipantInput"}:
        prompts = [name for name in ("Text", "SSML", "PromptId") if name in parameters]
        if len(prompts) > 1:
            problems.append(f"{identifier}: give only one of Text, SSML or PromptId")
        if action_type == "MessageParticipant" and not prompts:
            problems.append(f"{identifier}: MessageParticipant needs Text or SSML")
    return problems


def _check_keypad(identifier: str, parameters: Mapping[str, Any]) -> list[str]:
    """A keypad listener: a whole number of seconds to wait, one key branched on, not stored."""
    problems = []
    limit = str(parameters.get("InputTimeLimitSeconds", ""))
    if not limit.isdigit() or not 1 <= int(limit) <= 180:
        problems.append(f'{identifier}: InputTimeLimitSeconds must be "1" to "180"')
    if parameters.get("StoreInput") != "False":
        problems.append(
            f'{identifier}: StoreInput must be "False": the flow branches on the key pressed'
        )
    return problems


def _keypad_operand_problem(where: str, operand: str) -> str | None:
    if operand in KEYPAD_KEYS:
        return None
    return f"{where}: a keypad listener compares one key (0-9, * or #), not {operand!r}"


def _check_voice(identifier: str, parameters: Mapping[str, Any]) -> list[str]:
    """A static voice or engine must be one Connect accepts (`$.` values are checked at run)."""
    problems = []
    voice = parameters.get("TextToSpeechVoice")
    if isinstance(voice, str) and not voice.startswith("$.") and voice not in VOICES:
        problems.append(
            f"{identifier}: TextToSpeechVoice {voice!r} is not a Polly neural voice of a "
            "supported language "
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


def _check_language(identifier: str, parameters: Mapping[str, Any]) -> list[str]:
    """A static LanguageCode must be a supported language (`$.` values are checked at run);
    the simulator runs nothing else of UpdateContactData."""
    problems = []
    language = parameters.get("LanguageCode")
    if not isinstance(language, str) or (
        not language.startswith("$.") and language not in SUPPORTED_LANGUAGES
    ):
        problems.append(
            f"{identifier}: LanguageCode {language!r} is not a supported language "
            f"({', '.join(SUPPORTED_LANGUAGES)})"
        )
    others = sorted(set(parameters) - {"LanguageCode"})
    if others:
        problems.append(f"{identifier}: UpdateContactData here sets LanguageCode only: {others}")
    return problems


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


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
