"""Sign-in through the identity providers partners already use (OpenID Connect, with Authlib).

Providers are listed in the file named by ``WHOLEPLACE_OIDC_PROVIDERS`` (YAML or JSON); each says
where its discovery document is, the client id and secret, and how its claims map to a partner
and a role. Sign-in is the authorization code flow with state, nonce and PKCE (S256); Authlib
checks the id_token's signature against the provider's JWKS, its issuer, audience, expiry and
nonce. The account is created or updated from the claims at each sign-in (just in time), and a
person whose claims map to no partner or no role is refused with a page saying which claim.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from pydantic import BaseModel, Field, ValidationError

from wholeplace.errors import ConfigurationError, NotFoundError, UserError
from wholeplace.governance.users import Role, User, upsert_external_user
from wholeplace.web.auth import begin_session, ensure_session, safe_next, set_session_cookie
from wholeplace.web.sign_in import record_sign_in

with warnings.catch_warnings():
    # Authlib warns, once at import, that it would rather use the httpx2 package than httpx; it
    # works with httpx, which the product already has. Without this the warning is an error in tests.
    # (Its own module adds an "always" filter when imported, so that import comes first.)
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.starlette_client import OAuth

router = APIRouter(include_in_schema=False)
NEXT_KEY = "oidc_next"


class Provider(BaseModel):
    """One identity provider and how its claims become a partner and a role."""

    title: str = Field(description="What the sign-in button says, e.g. 'NHS staff sign-in'.")
    discovery_url: str = Field(description="The provider's /.well-known/openid-configuration address.")
    client_id: str
    client_secret: str
    scope: str = "openid email profile"
    partner_claim: str = Field(description="The claim naming the person's organisation.")
    partners: dict[str, str] = Field(description="Claim value to partner code.")
    role_claim: str = Field(description="The claim listing the person's groups or roles.")
    roles: dict[str, Role] = Field(description="Claim value to role; the first listed that the person has wins.")


class ProviderFile(BaseModel):
    providers: dict[str, Provider]


def load_providers(path: Path | None) -> dict[str, Provider]:
    """The providers in ``path`` (none when not set), or ``ConfigurationError`` saying what is wrong."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return ProviderFile.model_validate(raw).providers
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the identity provider file {path}: {exc.strerror}.") from exc
    except (ValueError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"The identity provider file {path} is not valid: {exc}") from exc


def install_oidc(app: FastAPI, providers: dict[str, Provider]) -> None:
    """Register each provider with Authlib; the routes find them on ``app.state``."""
    oauth = OAuth()
    for name, provider in providers.items():
        oauth.register(name=name, client_id=provider.client_id, client_secret=provider.client_secret,
                       server_metadata_url=provider.discovery_url,
                       client_kwargs={"scope": provider.scope, "code_challenge_method": "S256"})
    app.state.oauth, app.state.oidc_providers = oauth, providers
    app.include_router(router)


def _provider(request: Request, name: str) -> tuple[Any, Provider]:
    providers: dict[str, Provider] = request.app.state.oidc_providers
    if name not in providers:
        raise NotFoundError(f"There is no identity provider {name!r}.", hint="Choose one on the sign-in page.")
    return request.app.state.oauth.create_client(name), providers[name]


@router.get("/sign-in/oidc/{name}", name="oidc_start")
async def oidc_start(request: Request, name: str, next: str | None = None) -> Response:
    client, _ = _provider(request, name)
    session, new = ensure_session(request)
    request.session[NEXT_KEY] = safe_next(next)
    response: Response = await client.authorize_redirect(request, str(request.url_for("oidc_callback", name=name)))
    if new:
        set_session_cookie(request, response, session.id)
    return response


@router.get("/sign-in/oidc/{name}/callback", name="oidc_callback")
async def oidc_callback(request: Request, name: str) -> Response:
    client, provider = _provider(request, name)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        raise UserError(f"Signing in with {provider.title} did not work: {exc.description or exc.error}.",
                        hint="Start again from the sign-in page.") from exc
    except JoseError as exc:  # the id_token's signature, audience, nonce or expiry is wrong
        raise UserError(f"Signing in with {provider.title} did not work: its identity token was not valid "
                        f"({exc.error}).", hint="Start again from the sign-in page.") from exc
    user = _user_from_claims(request, name, provider, dict(token.get("userinfo") or {}))
    target = safe_next(request.session.get(NEXT_KEY))
    record_sign_in(request, actor=user.email, partner=user.partner, method=f"oidc:{name}", outcome="allowed")
    session = begin_session(request, user_id=user.id)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session.id)
    return response


class UnmappedClaims(UserError):
    """Claims that give no partner or no role: the person has no place in this service yet."""

    status = 403


def _user_from_claims(request: Request, name: str, provider: Provider, claims: dict[str, Any]) -> User:
    partner = provider.partners.get(str(claims.get(provider.partner_claim, "")))
    values = claims.get(provider.role_claim) or []
    values = [values] if isinstance(values, str) else [str(value) for value in values]
    role = next((role for claim, role in provider.roles.items() if claim in values), None)
    hint = "Ask your organisation's Wholeplace administrator to add it to the identity provider settings."
    if partner is None:
        raise UnmappedClaims(f"Your organisation ({provider.partner_claim} = {claims.get(provider.partner_claim)!r}) "
                             "is not a partner of this Wholeplace.", hint=hint)
    if role is None:
        raise UnmappedClaims(f"None of your groups ({provider.role_claim} = {values!r}) gives a Wholeplace role.",
                             hint=hint)
    if not claims.get("email") or not claims.get("sub"):
        raise UnmappedClaims(f"{provider.title} did not send your email address.", hint=hint)
    return upsert_external_user(stores=request.app.state.stores, provider=name, subject=str(claims["sub"]),
                                email=str(claims["email"]), partner=partner, role=role)
