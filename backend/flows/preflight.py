"""Before any call: are the contact flow and the Lex bot files there and usable?

A run whose flow or bot files are missing or broken would fail every call and write a report of
failures it caused itself; `call_files_problems` lets the caller refuse to start instead.
"""

from __future__ import annotations

from pathlib import Path

from backend.flows import files
from backend.flows.bots import bot_definitions
from backend.flows.check import check_flow
from backend.flows.files import FlowFileError, load_flow

REINSTALL_HINT = (
    "reinstall the package (pip install --force-reinstall callouts-for-slack) or, in a checkout, "
    "restore the files (git checkout -- contact_flows lex_bots)"
)


def call_files_problems(flow_path: Path | None = None, bots_dir: Path | None = None) -> list[str]:
    """What makes the flow or the bots unusable, one line each naming the file; [] when sound.

    Defaults (read when called): the installed `outbound_call.json` and `lex_bots/` folder.
    """
    flow_path = flow_path or files.OUTBOUND_CALL_FLOW
    bots_dir = bots_dir or files.LEX_BOTS_DIR
    problems: list[str] = []
    try:
        flow = load_flow(flow_path)
    except FlowFileError as error:
        problems.append(str(error))
    else:
        problems += [f"{flow_path.name}: {problem}" for problem in check_flow(flow)]
    try:
        bot_definitions(bots_dir)
    except FlowFileError as error:
        problems.append(str(error))
    return problems
