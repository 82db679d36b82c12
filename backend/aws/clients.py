"""AWS clients, created once per process; the only module importing boto3/botocore.

Clients come from a botocore session: `import boto3` also imports s3transfer and its resource
machinery, and only the S3 client uses any of it (`upload_file` for reports), so only that one
is made by boto3. botocore itself (about half of the contact flow Lambda's cold import) is
imported when the first client is made, not when a handler module is imported: the flow
Lambda's import stays light and the first turn pays for botocore once (bench.voice_path prints
both). `ClientError` is botocore's class, imported on first use of the name.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

__all__ = ["ClientError", "client", "connect_client", "error_code", "sms_client"]

# Retry modes per client (botocore Config):
# Connect allows about 2 StartOutboundVoiceContact requests/s: adaptive mode adds client-side
# rate limiting on top of retries, so a burst of dialers backs off instead of failing.
CONNECT_RETRIES = {"mode": "adaptive", "max_attempts": 8}
DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 5}
# End User Messaging SMS throttles per account and origination identity (messages per second):
# adaptive mode spreads the SMS step's batches out instead of failing them.
SMS_RETRIES = {"mode": "adaptive", "max_attempts": 8}


def __getattr__(name: str) -> Any:
    if name == "ClientError":
        from botocore.exceptions import ClientError

        return ClientError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config(retries: dict[str, Any]) -> Any:
    from botocore.config import Config

    return Config(retries=retries)


def _botocore_client(service: str, retries: dict[str, Any]) -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(service, config=_config(retries))


@cache
def client(service: str) -> Any:
    if service == "s3":
        import boto3  # its S3 client adds upload_file / download_file

        return boto3.client("s3", config=_config(DEFAULT_RETRIES))
    return _botocore_client(service, DEFAULT_RETRIES)


@cache
def connect_client() -> Any:
    return _botocore_client("connect", CONNECT_RETRIES)


@cache
def sms_client() -> Any:
    return _botocore_client("pinpoint-sms-voice-v2", SMS_RETRIES)


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""
