"""Contact flows and Lex V2 bots as data: loading, deploy-time placeholders and the flow checker.

- `files`: where `contact_flows/` and `lex_bots/` live, the `${Name}` placeholders, load/render.
- `bots`: one Lex V2 bot definition per question type.
- `language`: the flow-language rules the checker and the phone simulator share.
- `check`: `check_flow`, the problems that would make a flow fail to deploy or to run.
"""

from backend.flows.bots import (
    BOT_FILES,
    BotDefinition,
    IntentDefinition,
    bot_definitions,
    load_bot,
)
from backend.flows.check import MAX_IDENTIFIER_LENGTH, check_flow
from backend.flows.files import (
    CALL_FLOW_FUNCTION,
    CONTACT_FLOWS_DIR,
    FLOW_PLACEHOLDERS,
    LEX_BOTS_DIR,
    OUTBOUND_CALL_FLOW,
    PROJECT_ROOT,
    FlowFileError,
    bot_alias_placeholder,
    flow_placeholders,
    load_flow,
    render_flow,
)
from backend.flows.language import (
    ACTION_RULES,
    CONDITION_OPERATORS,
    FLOW_VERSION,
    TEXT_TO_SPEECH_ENGINES,
    ActionRule,
    is_known_reference,
    transition_targets,
)

__all__ = [
    "ACTION_RULES",
    "BOT_FILES",
    "CALL_FLOW_FUNCTION",
    "CONDITION_OPERATORS",
    "CONTACT_FLOWS_DIR",
    "FLOW_PLACEHOLDERS",
    "FLOW_VERSION",
    "LEX_BOTS_DIR",
    "MAX_IDENTIFIER_LENGTH",
    "OUTBOUND_CALL_FLOW",
    "PROJECT_ROOT",
    "TEXT_TO_SPEECH_ENGINES",
    "ActionRule",
    "BotDefinition",
    "FlowFileError",
    "IntentDefinition",
    "bot_alias_placeholder",
    "bot_definitions",
    "check_flow",
    "flow_placeholders",
    "is_known_reference",
    "load_bot",
    "load_flow",
    "render_flow",
    "transition_targets",
]
