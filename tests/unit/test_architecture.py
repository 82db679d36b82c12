"""The domain stays pure: no AWS SDK, no Slack or Teams, no Powertools under backend/domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "boto3",
    "botocore",
    "slack_sdk",
    "slack_bolt",
    "microsoft_teams",
    "aws_lambda_powertools",
    "bot",
)
DOMAIN_FILES = sorted((ROOT / "backend" / "domain").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_adapter_library(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_domain_has_modules() -> None:
    assert len(DOMAIN_FILES) >= 3


def test_architecture_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import boto3\nfrom slack_sdk import WebClient\n", encoding="utf-8")
    assert {"boto3", "slack_sdk"} <= imported_modules(sample)


# The chat-ops core is shared by the Slack and Teams adapters: it imports neither.
CHAT_LIBRARIES = ("slack_sdk", "slack_bolt", "microsoft_teams", "bot.slack", "bot.teams")
CORE_FILES = sorted((ROOT / "bot" / "core").rglob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_chat_core_imports_no_chat_platform(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in CHAT_LIBRARIES)
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_chat_core_has_its_modules() -> None:
    names = {path.stem for path in CORE_FILES}
    assert {"state", "ports", "access", "commands", "jobs", "preview", "forms", "card"} <= names
