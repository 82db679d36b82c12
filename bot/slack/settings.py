"""Typed settings of the Slack bot, read from the environment in one place.

Locally the tokens are plain env vars. On AWS the signing secret and the bot token live in one
Secrets Manager secret (`CALLOUTS_SLACK_SECRET_ARN`, JSON with `bot_token` and `signing_secret`),
or in SSM parameters; they are fetched through Powertools Parameters on first use and cached, so
importing the bot and building the app does no network call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_MAX_AGE_SECONDS = 300
_CACHE: dict[tuple[str, str | None, str | None], str] = {}
_LOCK = threading.Lock()


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    return value


class BotSettings(BaseSettings):
    """Env vars: `SLACK_*` for Slack credentials, `CALLOUTS_*` for the rest."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(
        default=None, alias="SLACK_API_URL", description="Web API base URL (tests, proxies)."
    )
    slack_bot_user_id: str | None = Field(default=None, alias="SLACK_BOT_USER_ID")
    # AWS: one Secrets Manager secret (JSON) or two SSM SecureString parameters.
    slack_secret_arn: str | None = Field(default=None, alias="CALLOUTS_SLACK_SECRET_ARN")
    slack_bot_token_param: str | None = Field(default=None, alias="CALLOUTS_SLACK_BOT_TOKEN_PARAM")
    slack_signing_secret_param: str | None = Field(
        default=None, alias="CALLOUTS_SLACK_SIGNING_SECRET_PARAM"
    )

    allowed_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_ALLOWED_CHANNELS"
    )
    allowed_users: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_ALLOWED_USERS"
    )
    allowed_usergroups: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_ALLOWED_USERGROUPS"
    )
    admin_users: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), alias="CALLOUTS_ADMIN_USERS"
    )

    state_db: str = Field(default="out/slack_bot.sqlite3", alias="CALLOUTS_BOT_DB")
    # False on AWS without an SMS origination identity: previews warn that nobody is texted
    sms_enabled: bool = Field(default=True, alias="CALLOUTS_SMS_ENABLED")
    # the stack's MaxConcurrentCalls: the preview's estimate never gives a job more lines
    max_lines: int | None = Field(default=None, ge=1, alias="CALLOUTS_MAX_CONCURRENT_CALLS")
    batch_size: int = Field(default=40, ge=1, le=200, alias="CALLOUTS_SLACK_BATCH_SIZE")
    flush_seconds: float = Field(default=5.0, ge=0, le=15, alias="CALLOUTS_SLACK_FLUSH_SECONDS")

    _split_lists = field_validator(
        "allowed_channels", "allowed_users", "allowed_usergroups", "admin_users", mode="before"
    )(_split)

    def bot_token(self) -> str:
        """The xoxb- token: env var, else the secret (fetched once, cached)."""
        return self._resolve("bot_token", self.slack_bot_token, self.slack_bot_token_param)

    def signing_secret(self) -> str:
        return self._resolve(
            "signing_secret", self.slack_signing_secret, self.slack_signing_secret_param
        )

    def _resolve(self, key: str, direct: str | None, param: str | None) -> str:
        if direct:
            return direct
        cache_key = (key, self.slack_secret_arn, param)
        with _LOCK:
            if cache_key not in _CACHE:
                _CACHE[cache_key] = _fetch_secret(key, self.slack_secret_arn, param)
            return _CACHE[cache_key]

    def check_local(self, *, socket: bool) -> list[str]:
        """What is missing to run locally (empty when ready)."""
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN (xoxb-...)")
        if socket and not self.slack_app_token:
            missing.append("SLACK_APP_TOKEN (xapp-..., app-level token with connections:write)")
        if not socket and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


def _fetch_secret(key: str, secret_arn: str | None, param: str | None) -> str:
    # Powertools (and boto3) are imported here, on first use only, to keep cold starts light.
    if param:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(param, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS))
    if secret_arn:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_secret(secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
        values = json.loads(raw if isinstance(raw, str) else raw.decode())
        if key not in values:
            raise RuntimeError(f"secret {secret_arn} has no key {key!r}")
        return str(values[key])
    env = "SLACK_BOT_TOKEN" if key == "bot_token" else "SLACK_SIGNING_SECRET"
    raise RuntimeError(f"{env} is not set (nor CALLOUTS_SLACK_SECRET_ARN)")


TokenSource = Callable[[], str]
