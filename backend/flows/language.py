"""What the flow checker and the phone simulator both know about the flow language.

The action types, their error branches and required parameters, the condition operators, the
text-to-speech engines and the `$.` references that a flow may read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLOW_VERSION = "2019-10-30"


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
    # Only its LanguageCode is used (Connect's "Set language attribute"): the Lex V2 locale.
    "UpdateContactData": ActionRule(
        errors=("NoMatchingError",), required_parameters=("LanguageCode",)
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
    # Keypad only (no bot): the flow branches on the one key pressed (`StoreInput` "False").
    "GetParticipantInput": ActionRule(
        errors=("InputTimeLimitExceeded", "NoMatchingCondition", "NoMatchingError"),
        conditions=True,
        required_parameters=("InputTimeLimitSeconds", "StoreInput"),
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

KEYPAD_KEYS = frozenset("0123456789*#")  # what a GetParticipantInput condition may compare
TEXT_TO_SPEECH_ENGINES = ("Neural",)  # the voices of backend/domain/voices.py are neural ones

# Dynamic values the simulator can evaluate.
_REFERENCE = re.compile(
    r"^\$\.(?:External\.\w+|Attributes\.\w+|Lex\.IntentName|Lex\.Slots\.\w+"
    r"|ContactId|Channel|InitiationMethod)$"
)


def is_known_reference(value: str) -> bool:
    """Whether `$.…` is a value the flow (and the simulator) can read."""
    return bool(_REFERENCE.match(value))


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
