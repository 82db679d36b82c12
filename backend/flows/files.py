"""Where the flow and bot files live, their deploy-time `${Name}` placeholders, and loading.

`contact_flows/*.json` are Amazon Connect flow-language documents with `${Name}` placeholders for
the ARNs known only at deploy time; `render_flow` fills them in for the template.

The one source of both folders is the top of the repository. A wheel ships them as package data
under `backend/flows/` (setup.py copies them there at build time); a checkout or an editable
install reads the repository's folders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from backend.domain.models import QuestionType

# In a checkout the folders sit at the repository root, beside backend/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir(name: str) -> Path:
    """`contact_flows` or `lex_bots`: the installed package's copy, else the repository's folder."""
    packaged = resources.files(__package__ or "backend.flows") / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return PROJECT_ROOT / name


CONTACT_FLOWS_DIR = data_dir("contact_flows")
LEX_BOTS_DIR = data_dir("lex_bots")
OUTBOUND_CALL_FLOW = CONTACT_FLOWS_DIR / "outbound_call.json"

CALL_FLOW_FUNCTION = "CallFlowFunctionArn"


def bot_alias_placeholder(question_type: QuestionType) -> str:
    """`YesNoBotAliasArn` for Yes/No: the placeholder naming that bot's alias ARN in flows."""
    return f"{question_type.key}BotAliasArn"


FLOW_PLACEHOLDERS: tuple[str, ...] = (
    CALL_FLOW_FUNCTION,
    *(bot_alias_placeholder(question_type) for question_type in QuestionType),
)

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class FlowFileError(ValueError):
    """A flow or bot file that cannot be used; the message names the file and what to fix."""


def load_flow(path: Path | str = OUTBOUND_CALL_FLOW) -> dict[str, Any]:
    """Read a flow-language JSON file (placeholders left as they are)."""
    return read_json(Path(path))


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


def read_json(path: Path) -> dict[str, Any]:
    """A flow or bot file's JSON object; FlowFileError names the file and the fault."""
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
