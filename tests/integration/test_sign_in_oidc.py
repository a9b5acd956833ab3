"""OpenID Connect sign-in, end to end, against an identity provider started inside the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, IdentityProvider, identity_provider
from tests.support.web_client import AppClient
from wholeplace.governance.access import Role
from wholeplace.governance.users import find_user
from wholeplace.settings import Settings
from wholeplace.web.app import create_app

NHS_PERSON = {"sub": "nhs-0001", "email": "ana@nhs.example.org", "org": "RXN", "groups": ["staff", "wp-analysts"]}


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with identity_provider() as started:
        yield started


@pytest.fixture
def app(provider: IdentityProvider, settings: Settings, tmp_path: Path) -> Iterator:
    config = tmp_path / "providers.json"
    config.write_text(json.dumps({"providers": {"nhs": {
        "title": "NHS staff sign-in", "discovery_url": f"{provider.issuer}/.well-known/openid-configuration",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "partner_claim": "org", "partners": {"RXN": "nhs-lancashire"},
        "role_claim": "groups", "roles": {"wp-admins": "administrator", "wp-analysts": "analyst"},
    }}}))
    provider.person, provider.tamper = dict(NHS_PERSON), None
    built = create_app(settings.model_copy(update={"oidc_providers": config}))
    yield built
    built.state.stores.close()


def sign_in_with_provider(client: AppClient, next_path: str = "/data") -> httpx.Response:
    """What a browser does: follow the app to the provider, and the provider back to the app."""
    start = client.get(f"/sign-in/oidc/nhs?next={next_path}")
    assert start.status_code == 302, start.text
    back = httpx.get(start.headers["location"])
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_the_sign_in_page_offers_the_provider(app):
    page = AppClient(app).get("/sign-in?next=/data")
    assert "NHS staff sign-in" in page.text and 'href="/sign-in/oidc/nhs?next=/data"' in page.text


def test_sign_in_creates_the_user_from_the_claims_with_state_nonce_and_pkce(app, provider: IdentityProvider):
    client = AppClient(app)
    response = sign_in_with_provider(client)
    assert response.status_code == 303 and response.headers["location"] == "/data"
    assert client.get("/purpose").status_code == 200
    asked = provider.authorize_requests[-1]
    assert asked["state"] and asked["nonce"] and asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert "openid" in asked["scope"].split()
    user = find_user(stores=app.state.stores, email="ana@nhs.example.org")
    assert (user.partner, user.role, user.identity_provider) == ("nhs-lancashire", Role.ANALYST, "nhs")


def test_a_later_sign_in_updates_the_role_just_in_time(app, provider: IdentityProvider):
    sign_in_with_provider(AppClient(app))
    provider.person["groups"] = ["wp-admins"]
    client = AppClient(app)
    sign_in_with_provider(client)
    assert find_user(stores=app.state.stores, email="ana@nhs.example.org").role == Role.ADMINISTRATOR
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize(("claims", "words"), [
    ({"org": "UNKNOWN"}, "Your organisation (org = 'UNKNOWN') is not a partner"),
    ({"groups": ["staff"]}, "None of your groups (groups = ['staff']) gives a Wholeplace role"),
])
def test_claims_that_map_to_no_partner_or_role_are_refused_with_a_clear_page(app, provider, claims, words):
    provider.person |= claims
    client = AppClient(app)
    response = sign_in_with_provider(client)
    assert response.status_code == 403 and words in response.text.replace("&#39;", "'")
    assert find_user(stores=app.state.stores, email="ana@nhs.example.org") is None
    assert client.get("/").status_code == 303


@pytest.mark.parametrize("tamper", ["key", "audience", "nonce", "expired"])
def test_a_bad_id_token_is_refused(app, provider: IdentityProvider, tamper: str):
    provider.tamper = tamper
    client = AppClient(app)
    response = sign_in_with_provider(client)
    assert response.status_code == 400 and "its identity token was not valid" in response.text
    assert find_user(stores=app.state.stores, email="ana@nhs.example.org") is None
    assert client.get("/").status_code == 303


def test_a_callback_with_a_forged_state_is_refused(app, provider: IdentityProvider):
    client = AppClient(app)
    start = client.get("/sign-in/oidc/nhs")
    back = httpx.get(start.headers["location"])
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    response = client.get(f"/sign-in/oidc/nhs/callback?code={code}&state=forged")
    assert response.status_code == 400 and "did not work" in response.text
    assert client.get("/").status_code == 303


def test_an_unknown_provider_is_a_404(app):
    assert AppClient(app).get("/sign-in/oidc/nobody").status_code == 404
