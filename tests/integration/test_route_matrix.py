"""Every route of the app × anonymous and every role: the status each must get.

``ROUTES`` has one entry per method and path of ``app.routes``. A route added without an entry
fails ``test_every_route_is_in_the_table``, so nobody can add an address without deciding who
may use it. Pages send anonymous people to sign in (303); the API answers them 401. Data pages
and the API are open to every role (the data-access layer decides what each sees); the admin
pages only to administrators.

The ``agreement`` dimension: an entry's ``without_agreement`` gives the statuses a role gets when
no data sharing agreement grants its partner access; ``AGREEMENTS`` lists the states each test
runs in; a route whose entry has no ``without_agreement`` runs once, as its answer does not
depend on one yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.support.places import build_squares, settings_in
from tests.support.web_client import PASSWORD, AppClient, add_user
from wholeplace.governance.access import Role
from wholeplace.web.app import create_app

PAGE, API = 303, 401  # anonymous: sent to sign in / told to send a token
CSRF = 403  # a form posted without a session's token
ROLES = list(Role)
EVERY_ROLE = dict.fromkeys(ROLES, 200)
ADMINISTRATORS = dict.fromkeys(ROLES, 403) | {Role.ADMINISTRATOR: 200}
GOVERNANCE = dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 200, Role.ADMINISTRATOR: 200}
AGREEMENTS = ("without", "with")


@dataclass(frozen=True)
class Access:
    url: str  # a concrete address for the route
    anonymous: int
    roles: dict[Role, int] = field(default_factory=lambda: EVERY_ROLE)
    without_agreement: dict[Role, int] | None = None  # None: an agreement changes nothing here
    form: dict[str, str] | None = None  # what a POST sends (with the session's CSRF token)


TESTSHIRE = "police-uk-street-testshire-police"
ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/health"): Access("/health", 200),
    ("GET", "/accessibility"): Access("/accessibility", 200),
    ("GET", "/static"): Access("/static/wholeplace.js", 200),
    ("GET", "/sign-in"): Access("/sign-in", 200),
    ("POST", "/sign-in"): Access("/sign-in", CSRF, dict.fromkeys(ROLES, 400), form={"email": "x@example.org"}),
    ("POST", "/sign-out"): Access("/sign-out", PAGE, dict.fromkeys(ROLES, 303), form={}),
    ("GET", "/sign-in/oidc/{name}"): Access("/sign-in/oidc/none", 404, dict.fromkeys(ROLES, 404)),
    ("GET", "/sign-in/oidc/{name}/callback"): Access("/sign-in/oidc/none/callback", 404, dict.fromkeys(ROLES, 404)),
    ("GET", "/"): Access("/", PAGE),
    ("GET", "/data"): Access("/data", PAGE),
    ("GET", "/datasets/{code}"): Access(f"/datasets/{TESTSHIRE}", PAGE),
    ("GET", "/api/docs"): Access("/api/docs", API),
    ("GET", "/openapi.json"): Access("/openapi.json", API),
    ("GET", "/admin/users"): Access("/admin/users", PAGE, ADMINISTRATORS),
    ("GET", "/audit"): Access("/audit", PAGE, GOVERNANCE),
    ("GET", "/audit/export.csv"): Access("/audit/export.csv", PAGE, GOVERNANCE),
    ("POST", "/admin/users"): Access("/admin/users", PAGE, ADMINISTRATORS | {Role.ADMINISTRATOR: 422}, form={}),
    ("POST", "/admin/users/{user_id}/{action}"): Access(
        "/admin/users/999999/disable", PAGE, ADMINISTRATORS | {Role.ADMINISTRATOR: 404}, form={}),
    ("GET", "/api/v1/status"): Access("/api/v1/status", API),
    ("GET", "/api/v1/datasets"): Access("/api/v1/datasets", API),
    ("GET", "/api/v1/loads"): Access("/api/v1/loads", API),
    ("GET", "/api/v1/quarantine"): Access("/api/v1/quarantine", API),
    ("GET", "/api/v1/area-disagreements"): Access("/api/v1/area-disagreements", API),
    ("GET", "/api/v1/levels"): Access("/api/v1/levels", API),
    ("GET", "/api/v1/partners"): Access("/api/v1/partners", API),
    ("GET", "/api/v1/areas"): Access("/api/v1/areas", API),
    ("GET", "/api/v1/overview/summary"): Access("/api/v1/overview/summary", API),
    ("GET", "/api/v1/overview/areas"): Access("/api/v1/overview/areas", API),
    ("GET", "/api/v1/overview/months"): Access("/api/v1/overview/months", API),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, including routes of included routers and mounts."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            found.add(("GET", context.path))
        else:
            found |= {(method, context.path) for method in context.methods or () if method != "HEAD"}
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("matrix")
    place = build_squares(settings_in(folder), folder)
    built = create_app(place.settings)
    for role in ROLES:
        add_user(built, role=role.value, email=f"{role.value}@matrix.example.org")
    yield built
    built.state.stores.close()


def request(client: AppClient, method: str, access: Access, *, signed_in: bool) -> int:
    if method == "GET":
        return client.get(access.url).status_code
    form = dict(access.form or {})
    if signed_in:
        form["csrf_token"] = client.csrf_token("/")
    return client.post(access.url, data=form).status_code


def test_every_route_is_in_the_table(app: FastAPI):
    missing = app_routes(app) - set(ROUTES)
    assert missing == set(), f"add these routes to ROUTES with who may use them: {sorted(missing)}"
    assert set(ROUTES) - app_routes(app) == set(), "ROUTES lists routes the app no longer has"


@pytest.mark.parametrize("key", list(ROUTES), ids=[f"{m} {p}" for m, p in ROUTES])
def test_anonymous(app: FastAPI, key: tuple[str, str]):
    access = ROUTES[key]
    assert request(AppClient(app), key[0], access, signed_in=False) == access.anonymous


CASES = [(key, role, agreement) for key, access in ROUTES.items() for role in ROLES for agreement in AGREEMENTS
         if agreement == "without" or access.without_agreement is not None]


def sign_in(app: FastAPI, role: Role) -> AppClient:
    client = AppClient(app)
    assert client.sign_in(f"{role.value}@matrix.example.org", PASSWORD).status_code == 303
    return client


@pytest.fixture(scope="module")
def clients(app: FastAPI) -> dict[Role, AppClient]:
    """One signed-in client per role, shared by the tests that do not end their session."""
    return {role: sign_in(app, role) for role in ROLES}


@pytest.mark.parametrize(("key", "role", "agreement"), CASES,
                         ids=[f"{m} {p} {role.value} {agreement}" for (m, p), role, agreement in CASES])
def test_each_role(app: FastAPI, clients: dict[Role, AppClient], key: tuple[str, str], role: Role, agreement: str):
    access = ROUTES[key]
    expected = access.roles if agreement == "with" or access.without_agreement is None else access.without_agreement
    client = sign_in(app, role) if key == ("POST", "/sign-out") else clients[role]
    assert request(client, key[0], access, signed_in=True) == expected[role]
