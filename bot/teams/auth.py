"""How the Teams app authenticates: inbound JWT validation settings and outbound credentials.

- Inbound: the SDK validates every request's Bearer JWT (RS256, issuer, audience = the app id,
  keys from the OpenID metadata's JWKS, `serviceurl` = the activity's serviceUrl). The metadata
  URL, issuer and login host are settings, so tests point them at a local fake issuer.
- Outbound: a single-tenant Entra app with a client secret (Secrets Manager on AWS), or in tests
  a token callable.
- The unauthenticated dev mode (Microsoft 365 Agents Playground sends no JWT) is allowed only for
  a local run (`callouts bot --teams`) and never inside a Lambda.
"""

from __future__ import annotations

import os
from typing import Any

from microsoft_teams.api.auth.cloud_environment import (
    PUBLIC,
    CloudEnvironment,
    from_name,
    with_overrides,
)

from bot.teams.settings import TeamsSettings

DEV_APP_ID = "00000000-0000-0000-0000-000000000000"  # the dev mode's stand-in bot id
METADATA_SUFFIX = "/openidconfiguration"  # the SDK reads the keys beside it, at .../keys


class TeamsAuthError(RuntimeError):
    """The Teams app cannot be built safely with these settings."""


def cloud_for(settings: TeamsSettings) -> CloudEnvironment:
    """The SDK's cloud endpoints with this deployment's overrides (env `CLOUD` picks the base)."""
    name = os.environ.get("CLOUD")
    base = from_name(name) if name else PUBLIC
    if settings.openid_metadata_url and not settings.openid_metadata_url.endswith(METADATA_SUFFIX):
        raise TeamsAuthError(
            f"TEAMS_OPENID_METADATA_URL must end with {METADATA_SUFFIX} "
            "(the signing keys are read from .../keys beside it)"
        )
    return with_overrides(
        base,
        openid_metadata_url=settings.openid_metadata_url,
        token_issuer=settings.token_issuer,
        login_endpoint=settings.login_endpoint,
    )


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def dev_mode(settings: TeamsSettings, *, local: bool) -> bool:
    """Whether unsigned requests are accepted: only when asked for, and only on a local run."""
    if not settings.dev_unauthenticated:
        return False
    if not local or on_lambda():
        raise TeamsAuthError(
            "CALLOUTS_TEAMS_DEV_UNAUTHENTICATED is only allowed for a local `callouts bot --teams`;"
            " unset it: every request to a deployed bot must carry a valid token"
        )
    return True


def app_options(
    settings: TeamsSettings, *, local: bool, token: Any | None = None
) -> dict[str, Any]:
    """The SDK `App` options for credentials and inbound validation.

    `token` (a callable `(scope, tenant) -> str`) replaces MSAL for outbound calls (tests, and the
    dev mode when no secret is configured).
    """
    dev = dev_mode(settings, local=local)
    options: dict[str, Any] = {
        "cloud": cloud_for(settings),
        # Always explicit: the SDK would otherwise read DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS.
        "dangerously_allow_unauthenticated_requests": dev,
    }
    if settings.service_url:
        options["service_url"] = settings.service_url
    app_id = settings.app_id or (DEV_APP_ID if dev else None)
    if not app_id:
        raise TeamsAuthError("TEAMS_APP_ID is not set (the Entra app's client id)")
    if not settings.tenant_id and not dev:
        raise TeamsAuthError(
            "TEAMS_TENANT_ID is not set: the bot is a single-tenant Entra app (new multi-tenant "
            "bots cannot be registered)"
        )
    options["client_id"] = app_id
    options["tenant_id"] = settings.tenant_id
    if token is not None:
        options["token"] = token
        return options
    secret = settings.secret()
    if secret:
        options["client_secret"] = secret
    elif dev:
        options["token"] = _dev_token
    else:
        raise TeamsAuthError("TEAMS_CLIENT_SECRET or CALLOUTS_TEAMS_SECRET_ARN is not set")
    return options


def _dev_token(scope: object, tenant_id: object = None) -> str:
    # Agents Playground accepts any bearer token on its connector endpoint; the SDK reads the
    # token's expiry, so it is a (self-signed, worthless) JWT.
    import jwt

    claims = {"aud": "https://api.botframework.com", "appid": DEV_APP_ID, "exp": 4102444800}
    return jwt.encode(claims, "callouts-dev-mode-no-real-secret-here", algorithm="HS256")
