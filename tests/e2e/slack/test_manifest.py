"""The Slack app manifests match what the bot listens to and needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.slack.conftest import CHANNEL, USER, Harness

ROOT = Path(__file__).resolve().parents[3]
SCOPES = {
    "commands",
    "chat:write",
    "files:read",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
    "app_mentions:read",
    "usergroups:read",
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifests" / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", ["slack_app.yaml", "slack_app.dev.yaml"])
def test_manifest_declares_the_command_events_and_minimal_scopes(name: str) -> None:
    manifest = _load(name)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/callout"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "message.channels",
        "message.groups",
        "message.im",
        "app_mention",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert len(manifest["display_information"]["name"]) <= 35


def test_production_uses_request_urls_and_dev_uses_socket_mode() -> None:
    prod, dev = _load("slack_app.yaml"), _load("slack_app.dev.yaml")
    assert prod["settings"]["socket_mode_enabled"] is False
    assert prod["settings"]["event_subscriptions"]["request_url"].startswith("https://")
    assert prod["settings"]["interactivity"]["request_url"].startswith("https://")
    assert prod["features"]["slash_commands"][0]["url"].startswith("https://")
    assert dev["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in dev["settings"]["event_subscriptions"]


EVENT_SAMPLES: dict[str, dict[str, Any]] = {
    "message.channels": {"type": "message", "channel_type": "channel", "text": "hi"},
    "message.groups": {"type": "message", "channel_type": "group", "text": "hi"},
    "message.im": {"type": "message", "channel_type": "im", "text": "hi"},
    "app_mention": {"type": "app_mention", "text": "<@UBOT> help"},
    "file_shared": {"type": "file_shared", "file_id": "F1", "channel_id": CHANNEL},
}


@pytest.mark.parametrize("name", ["slack_app.yaml", "slack_app.dev.yaml"])
def test_every_subscribed_event_has_a_listener(harness: Harness, name: str) -> None:
    # An event without a listener gets a 404 from Bolt, and Slack retries it three times.
    for event in _load(name)["settings"]["event_subscriptions"]["bot_events"]:
        sample = {"channel": CHANNEL, "user": USER, "ts": "5.5", **EVENT_SAMPLES[event]}
        assert harness.event(sample).status == 200, event
    assert harness.event(EVENT_SAMPLES["file_shared"]).status == 200  # old manifests
