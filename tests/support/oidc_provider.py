"""An OpenID Connect identity provider for tests, served on 127.0.0.1 in a thread.

It has what a relying party needs: the discovery document, an authorization endpoint (which
signs in whoever ``provider.person`` is, without a form), a token endpoint that checks the
client secret, the redirect address and the PKCE verifier (S256), and a JWKS endpoint; its
id_tokens are RS256 JWTs signed with joserfc. ``tamper`` makes the next id_token wrong in one
way (signed by another key, another audience, another nonce, expired) so tests can check that
the relying party refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.web_client import live_server

CLIENT_ID = "wholeplace-test"
CLIENT_SECRET = "a-secret-only-the-tests-know"


@dataclass
class IdentityProvider:
    """The provider's state: who signs in next, what it was asked, and codes it has issued."""

    issuer: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    tamper: str | None = None  # "key", "audience", "nonce", "expired"
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-key"}))
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ])

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorize_requests.append(params)
        if params.get("client_id") != CLIENT_ID or params.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"params": params, "person": dict(self.person)}
        query = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = dict(await request.form())
        client_id, secret = _client_credentials(request, form)
        issued = self.codes.pop(str(form.get("code")), None)
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if issued is None or form.get("redirect_uri") != issued["params"]["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if _s256(str(form.get("code_verifier", ""))) != issued["params"].get("code_challenge"):
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE check failed"}, status_code=400)
        id_token = self.id_token(issued["person"], nonce=issued["params"].get("nonce", ""))
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def id_token(self, person: dict[str, Any], *, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce, **person}
        key = self.key
        if self.tamper == "key":
            key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        elif self.tamper == "audience":
            claims["aud"] = "someone-else"
        elif self.tamper == "nonce":
            claims["nonce"] = "not-the-nonce-sent"
        elif self.tamper == "expired":
            claims["exp"], claims["iat"] = now - 3600, now - 7200
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)


def _client_credentials(request: Request, form: dict[str, Any]) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
        return client_id, secret
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@contextmanager
def identity_provider() -> Iterator[IdentityProvider]:
    """A provider listening on 127.0.0.1 until the block ends."""
    provider = IdentityProvider()
    with live_server(provider.app()) as base_url:  # type: ignore[arg-type]
        provider.issuer = base_url
        yield provider
