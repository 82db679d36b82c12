"""A local fake of the Bot Framework token issuer for offline tests of inbound JWT validation.

It holds an RSA key, serves the OpenID metadata and its JWKS on loopback
(`<base>/v1/.well-known/openidconfiguration` and `.../keys`, the layout the SDK expects) and mints
RS256 tokens shaped like the ones the Bot Connector sends: issuer, audience = the app id,
`serviceurl`, `exp`/`nbf`/`iat`. Keyword arguments override or remove (None) any claim, so tests
build expired, wrong-audience or wrong-serviceurl tokens. `foreign_token` signs with a key the
issuer does not publish.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.loopback import LoopbackServer, QuietHandler

ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
KEY_ID = "callouts-test-key"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeTeamsIssuer:
    def __init__(self, *, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self._key = _new_key()
        self._foreign_key: rsa.RSAPrivateKey | None = None
        self.key_requests = 0
        self._server = LoopbackServer(self._handler_class())

    def start(self) -> FakeTeamsIssuer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        public.update(kid=KEY_ID, use="sig", alg="RS256", endorsements=["msteams"])
        return {"keys": [public]}

    def token(self, app_id: str, service_url: str, **claims: Any) -> str:
        """A token the Bot Connector would send for `app_id` with `service_url`."""
        return self._sign(self._key, self._claims(app_id, service_url, claims))

    def foreign_token(self, app_id: str, service_url: str, **claims: Any) -> str:
        """Same claims, signed with a key that is not in the JWKS."""
        if self._foreign_key is None:
            self._foreign_key = _new_key()
        return self._sign(self._foreign_key, self._claims(app_id, service_url, claims))

    def _claims(self, app_id: str, service_url: str, overrides: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    @staticmethod
    def _sign(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})

    def _handler_class(self) -> type[QuietHandler]:
        issuer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == METADATA_PATH:
                    body: dict[str, Any] = {
                        "issuer": issuer.issuer,
                        "jwks_uri": issuer.base_url + KEYS_PATH,
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif path == KEYS_PATH:
                    issuer.key_requests += 1
                    body = issuer.jwks()
                else:
                    self.send_error(404)
                    return
                self.send_json(200, body)

        return Handler
