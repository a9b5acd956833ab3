"""Signing in and out of the web app: sessions, cookies, CSRF, lock-out, API tokens, admin pages,
and attempts at fixation, forgery, injection and path traversal. The app runs for real, in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support.web_client import PASSWORD, AppClient, add_user, signed_in, with_token
from wholeplace.governance.users import create_token, find_user, revoke_token
from wholeplace.settings import Settings
from wholeplace.store.operational import utcnow
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, SessionRow


@pytest.fixture
def app(settings: Settings) -> Iterator:
    built = create_app(settings)
    yield built
    built.state.stores.close()


def test_pages_send_anonymous_people_to_sign_in_and_back_afterwards(app):
    client = AppClient(app)
    response = client.get("/data?dataset=x")
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?next=%2Fdata%3Fdataset%3Dx"
    email = add_user(app)
    token = client.csrf_token("/sign-in?next=%2Fdata")
    signed = client.post("/sign-in", data={"email": email, "password": PASSWORD, "next": "/data?dataset=x",
                                           "csrf_token": token})
    assert signed.status_code == 303 and signed.headers["location"] == "/data?dataset=x"
    page = client.get("/purpose")
    assert page.status_code == 200 and email in page.text and "Sign out" in page.text


def test_the_session_cookie_is_http_only_same_site_and_holds_only_an_id(app):
    client = AppClient(app)
    response = client.sign_in(add_user(app), PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # served over http here
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43 and "@" not in value  # 256 random bits, nothing about the user


def test_the_cookie_is_secure_over_https_or_when_set(settings: Settings):
    secure = create_app(settings.model_copy(update={"session_secure_cookie": True}))
    try:
        assert "Secure" in AppClient(secure).get("/sign-in").headers["set-cookie"]
    finally:
        secure.state.stores.close()


def test_signing_in_replaces_a_planted_session_id(app):
    attacker = AppClient(app)
    attacker.get("/sign-in")
    planted = attacker.cookies[COOKIE]
    victim = AppClient(app)
    victim.cookies.set(COOKIE, planted, domain="testserver.local")
    victim.sign_in(add_user(app), PASSWORD)
    assert victim.cookies[COOKIE] != planted
    assert attacker.get("/purpose").status_code == 303  # the planted id is not signed in
    assert victim.get("/purpose").status_code == 200


def test_signing_out_revokes_the_session_on_the_server(app):
    client = signed_in(app)
    stolen = client.cookies[COOKIE]
    token = client.csrf_token("/")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    thief = AppClient(app)
    thief.cookies.set(COOKIE, stolen, domain="testserver.local")
    assert thief.get("/purpose").status_code == 303


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_sessions_end_when_idle_or_too_old(app, column: str):
    client = signed_in(app)
    age = timedelta(minutes=31) if column == "last_seen_at" else timedelta(hours=12, seconds=1)
    moment = utcnow() - age if column == "last_seen_at" else utcnow() - timedelta(seconds=1)
    assert age  # idle: last seen 31 minutes ago; absolute: the end has passed
    with app.state.stores.session() as session:
        session.execute(update(SessionRow).values({column: moment}))
    assert client.get("/purpose").status_code == 303


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(app):
    client = signed_in(app, role="administrator")
    form = {"email": "new@nhs.example.org", "partner": "nhs-lancashire", "role": "viewer", "password": PASSWORD}
    missing = client.post("/admin/users", data=form)
    wrong = client.post("/admin/users", data=form | {"csrf_token": "not-the-token"})
    for response in (missing, wrong):
        assert response.status_code == 403 and 'class="govuk-error-summary"' in response.text
        assert "did not come from this service" in response.text
    assert find_user(stores=app.state.stores, email="new@nhs.example.org") is None
    api = client.post("/api/v1/status")
    assert api.status_code == 403 and set(api.json()["error"]) == {"status", "message", "detail"}


def test_the_csrf_token_is_accepted_from_the_form_or_the_htmx_header(app):
    client = signed_in(app, role="administrator")
    token = client.csrf_token("/admin/users")
    assert f'hx-headers="{{&#34;X-CSRF-Token&#34;: &#34;{token}&#34;}}"' in client.get("/purpose").text
    form = {"email": "new@nhs.example.org", "partner": "nhs-lancashire", "role": "viewer", "password": PASSWORD}
    assert client.post("/admin/users", data=form, headers={"X-CSRF-Token": token}).status_code == 303
    other = form | {"email": "other@nhs.example.org", "csrf_token": token}
    assert client.post("/admin/users", data=other).status_code == 303
    assert find_user(stores=app.state.stores, email="other@nhs.example.org") is not None


def test_a_token_from_another_session_is_refused(app):
    mine, theirs = signed_in(app, role="administrator"), signed_in(app, partner="nhs-lancashire")
    form = {"email": "new@nhs.example.org", "partner": "nhs-lancashire", "role": "viewer", "password": PASSWORD,
            "csrf_token": theirs.csrf_token("/")}
    assert mine.post("/admin/users", data=form).status_code == 403


def test_lock_out_after_five_wrong_passwords_with_the_same_message_as_no_account(app):
    client = AppClient(app)
    email = add_user(app)
    unknown = client.sign_in("nobody@example.org", "wrong wrong wrong")
    wrong = [client.sign_in(email, "wrong wrong wrong") for _ in range(5)]
    locked = client.sign_in(email, PASSWORD)
    assert unknown.status_code == locked.status_code == 400
    message = "Enter a correct email address and password. After 5 wrong attempts in a row"
    assert all(message in response.text for response in [unknown, *wrong, locked])
    assert client.get("/purpose").status_code == 303


def test_after_sign_in_only_a_path_on_this_site_is_followed(app):
    client = AppClient(app)
    email = add_user(app)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        token = client.csrf_token()
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "next": target,
                                                 "csrf_token": token})
        assert response.headers["location"] == "/"


def test_api_tokens_work_on_the_api_only_and_stop_when_revoked(app):
    client = with_token(app)
    assert client.get("/api/v1/datasets").status_code == 200
    assert client.get("/data").status_code == 303  # a token is not a browser session
    assert client.post("/api/v1/status").status_code == 405  # exempt from CSRF: a token cannot be forged
    email = add_user(app, role="viewer")
    token, secret = create_token(stores=app.state.stores, email=email, name="feed")
    revoke_token(stores=app.state.stores, token_id=token.id)
    for header in (f"Bearer {secret}", "Bearer wp_made-up", "Basic YTpi"):
        response = AppClient(app).get("/api/v1/datasets", headers={"Authorization": header})
        assert response.status_code == 401 and response.json()["error"]["status"] == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_public_addresses_need_no_sign_in(app):
    client = AppClient(app)
    assert client.get("/health").json() == {"status": "ok"}
    assert "Accessibility statement" in client.get("/accessibility").text
    assert client.get("/static/wholeplace.js").status_code == 200
    assert client.get("/sign-in").status_code == 200


def test_administrators_add_and_disable_users_and_others_cannot(app):
    admin = signed_in(app, role="administrator", partner="lancs-hub")
    token = admin.csrf_token("/admin/users")
    form = {"email": "vi@nhs.example.org", "partner": "nhs-lancashire", "role": "viewer", "password": PASSWORD,
            "csrf_token": token}
    added = admin.post("/admin/users", data=form)
    assert added.status_code == 303 and "vi@nhs.example.org" in admin.get(added.headers["location"]).text
    viewer = AppClient(app)
    assert viewer.sign_in("vi@nhs.example.org", PASSWORD).status_code == 303
    assert viewer.get("/admin/users").status_code == 403
    user = find_user(stores=app.state.stores, email="vi@nhs.example.org")
    assert admin.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token}).status_code == 303
    assert viewer.get("/purpose").status_code == 303  # disabled: the live session ends at once
    duplicate = admin.post("/admin/users", data=form)
    assert duplicate.status_code == 400 and "already an account" in duplicate.text


@pytest.mark.parametrize("url", [
    "/static/../../settings.py", "/static/%2e%2e/%2e%2e/settings.py", "/static/..%2f..%2fsettings.py",
    "/static/vendor/../../../../../etc/passwd", "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
])
def test_path_traversal_through_static_files_is_refused(app, url: str):
    response = signed_in(app).get(url)
    assert response.status_code == 404
    assert "BaseSettings" not in response.text and "root:" not in response.text


@pytest.mark.parametrize("code", ["../x", "..%2Fx", "%2e%2e%2fsettings", "x'; DROP TABLE datasets; --"])
def test_dataset_codes_with_traversal_or_sql_are_only_data(app, code: str):
    response = signed_in(app).get(f"/datasets/{code}")
    assert response.status_code == 404
    assert "There is no dataset" in response.text or "There is nothing at this address" in response.text


@pytest.mark.parametrize("url", ["/?partner=' OR 1=1 --", "/?level=lsoa'; DROP TABLE loads; --",
                                 "/api/v1/overview/months?partner=' OR '1'='1"])
def test_sql_in_query_parameters_is_only_data(app, url: str):
    client = with_token(app) if url.startswith("/api/") else signed_in(app)
    response = client.get(url)
    assert response.status_code in (200, 404, 422)  # an unknown choice at worst, never a database error
    assert "syntax error" not in response.text.lower()
    assert client.get("/api/v1/datasets" if url.startswith("/api/") else "/data").status_code == 200


def test_a_form_field_over_a_megabyte_is_refused_clearly_not_a_server_error(app):
    client = signed_in(app, role="administrator")
    huge = "x" * (1024 * 1024 + 10)
    response = client.post("/admin/users", files={"email": (None, huge), "csrf_token": (None, "t")})
    assert response.status_code == 413 and "a field is too large (at most 1 MB)" in response.text
    assert client.get("/purpose").status_code == 200  # the session is unharmed


@pytest.mark.parametrize("justification", ["x' OR '1'='1'; DROP TABLE audit_log; --", "../../../../etc/passwd ok"])
def test_sql_and_traversal_in_a_justification_are_only_text_in_the_audit_log(settings: Settings, tmp_path,
                                                                              justification: str):
    from tests.support.places import build_squares
    from wholeplace.governance import audit

    place = build_squares(settings, tmp_path)
    with with_token(create_app(place.settings)) as client:
        response = client.get("/api/v1/datasets/police-uk-street-testshire-police/records",
                              params={"justification": justification})
        assert response.status_code == 200 and response.json()["count"] == 9
        stores = client.app.state.stores
        [entry], _ = audit.search(stores=stores, action="consultation", limit=5)
        assert entry.justification == justification
        assert audit.verify(stores=stores).ok
