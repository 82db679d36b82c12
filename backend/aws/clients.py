"""boto3 clients, created once per process; the only module importing boto3/botocore."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

__all__ = ["ClientError", "client", "connect_client", "error_code"]

# Connect allows about 2 StartOutboundVoiceContact requests/s: adaptive mode adds client-side
# rate limiting on top of retries, so a burst of dialers backs off instead of failing.
CONNECT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})
DEFAULT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=DEFAULT_CONFIG)


@cache
def connect_client() -> Any:
    return boto3.client("connect", config=CONNECT_CONFIG)


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""
