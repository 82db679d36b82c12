"""AWS clients, created once per process; the only module importing boto3/botocore.

Clients come from a botocore session: `import boto3` also imports s3transfer and its resource
machinery, a third of the contact flow Lambda's cold import, and only the S3 client uses any of
it (`upload_file` for reports), so only that one is made by boto3.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

__all__ = ["ClientError", "client", "connect_client", "error_code", "sms_client"]

# Connect allows about 2 StartOutboundVoiceContact requests/s: adaptive mode adds client-side
# rate limiting on top of retries, so a burst of dialers backs off instead of failing.
CONNECT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})
DEFAULT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
# End User Messaging SMS throttles per account and origination identity (messages per second):
# adaptive mode spreads the SMS step's batches out instead of failing them.
SMS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})


@cache
def client(service: str) -> Any:
    if service == "s3":
        import boto3  # its S3 client adds upload_file / download_file

        return boto3.client("s3", config=DEFAULT_CONFIG)
    return botocore.session.get_session().create_client(service, config=DEFAULT_CONFIG)


@cache
def connect_client() -> Any:
    return botocore.session.get_session().create_client("connect", config=CONNECT_CONFIG)


@cache
def sms_client() -> Any:
    return botocore.session.get_session().create_client("pinpoint-sms-voice-v2", config=SMS_CONFIG)


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""
