"""Typed settings of the Teams bot, read from the environment in one place.

Locally the client secret may be a plain env var (`TEAMS_CLIENT_SECRET`). On AWS it lives in a
Secrets Manager secret (`CALLOUTS_TEAMS_SECRET_ARN`: the secret string itself, or JSON with a
`client_secret` key), fetched through Powertools Parameters on first use and cached, so importing
the bot and building its settings does no network call. The secret is never logged.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_MAX_AGE_SECONDS = 300
_CACHE: dict[str, str] = {}
_LOCK = threading.Lock()


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    return value


class TeamsSettings(BaseSettings):
    """Env vars: `TEAMS_*` for the Entra app and Bot Connector, `CALLOUTS_TEAMS_*` for the rest."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    app_id: str | None = Field(
        default=None, alias="TEAMS_APP_ID", description="Entra app (client) id = the bot id."
    )
    tenant_id: str | None = Field(
        default=None, alias="TEAMS_TENANT_ID", description="Entra tenant: single-tenant app."
    )
    client_secret: str | None = Field(default=None, alias="TEAMS_CLIENT_SECRET", repr=False)
    secret_arn: str | None = Field(default=None, alias="CALLOUTS_TEAMS_SECRET_ARN")
    openid_metadata_url: str | None = Field(
        default=None,
        alias="TEAMS_OPENID_METADATA_URL",
        description="Where inbound token keys come from (default: the Bot Framework's).",
    )
    token_issuer: str | None = Field(
        default=None, alias="TEAMS_TOKEN_ISSUER", description="Issuer of inbound tokens."
    )
    login_endpoint: str | None = Field(
        default=None, alias="TEAMS_LOGIN_ENDPOINT", description="Entra login host (MSAL)."
    )
    service_url: str | None = Field(
        default=None, alias="TEAMS_SERVICE_URL", description="Default Bot Connector URL."
    )
    dev_unauthenticated: bool = Field(
        default=False,
        alias="CALLOUTS_TEAMS_DEV_UNAUTHENTICATED",
        description="Accept unsigned requests (Agents Playground). Local `callouts bot` only.",
    )

    allowed_teams: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_TEAMS_ALLOWED_TEAMS"
    )
    allowed_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_TEAMS_ALLOWED_CHANNELS"
    )
    allowed_users: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_TEAMS_ALLOWED_USERS", description="Entra object ids."
    )
    admin_users: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_TEAMS_ADMIN_USERS", description="Entra object ids."
    )

    state_db: str = Field(default="out/teams_bot.sqlite3", alias="CALLOUTS_TEAMS_BOT_DB")
    # The preview, as in Slack (bot/slack/settings.py): False on AWS without an SMS origination
    # identity (a job with an SMS template is warned); the stack's MaxConcurrentCalls caps the
    # lines of the estimate.
    sms_enabled: bool = Field(default=True, alias="CALLOUTS_SMS_ENABLED")
    max_lines: int | None = Field(default=None, ge=1, alias="CALLOUTS_MAX_CONCURRENT_CALLS")
    batch_size: int = Field(default=40, ge=1, le=200, alias="CALLOUTS_TEAMS_BATCH_SIZE")
    flush_seconds: float = Field(default=5.0, ge=0, le=15, alias="CALLOUTS_TEAMS_FLUSH_SECONDS")
    report_link_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        alias="CALLOUTS_TEAMS_REPORT_LINK_SECONDS",
        description="Lifetime of the presigned report link posted in a channel.",
    )
    worker_function: str | None = Field(
        default=None,
        alias="CALLOUTS_TEAMS_WORKER_FUNCTION",
        description="Lambda invoked asynchronously for work that outlasts Teams' 15 s.",
    )

    _split_lists = field_validator(
        "allowed_teams", "allowed_channels", "allowed_users", "admin_users", mode="before"
    )(_split)

    def secret(self) -> str | None:
        """The Entra client secret: env var, else the Secrets Manager secret (cached)."""
        if self.client_secret:
            return self.client_secret
        if not self.secret_arn:
            return None
        with _LOCK:
            if self.secret_arn not in _CACHE:
                _CACHE[self.secret_arn] = _fetch_secret(self.secret_arn)
            return _CACHE[self.secret_arn]

    def check_local(self) -> list[str]:
        """What is missing to run locally against real Teams (empty when ready)."""
        if self.dev_unauthenticated:
            return []
        missing = []
        if not self.app_id:
            missing.append("TEAMS_APP_ID (the Entra app's client id)")
        if not self.tenant_id:
            missing.append("TEAMS_TENANT_ID (the Entra tenant: the app is single-tenant)")
        if not self.client_secret and not self.secret_arn:
            missing.append("TEAMS_CLIENT_SECRET (or CALLOUTS_TEAMS_SECRET_ARN)")
        return missing


def _fetch_secret(secret_arn: str) -> str:
    # Powertools (and boto3) are imported on first use only, to keep cold starts light.
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_secret(secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
    text = raw if isinstance(raw, str) else raw.decode()
    if text.lstrip().startswith("{"):
        values = json.loads(text)
        if "client_secret" not in values:
            raise RuntimeError(f"secret {secret_arn} has no key 'client_secret'")
        return str(values["client_secret"])
    return text.strip()
