"""Every route of the app × anonymous and every role: the status each must get.

``ROUTES`` has one entry per method and path of ``app.routes``. A route added without an entry
fails ``test_every_route_is_in_the_table``, so nobody can add an address without deciding who
may use it. Pages send anonymous people to sign in (303); the API answers them 401. Data pages
and the API are open to every role (the data-access layer decides what each sees); the admin
pages only to administrators.

Every user is a Testshire Police user who has declared the purpose ``demand_analysis``.

The ``agreement`` dimension: ``MATRIX_AGREEMENT`` shares Otherton Police's data with Testshire for
demand analysis, pseudonymised. Each case runs with it active ("with") or suspended ("without");
an entry's ``without_agreement`` gives the statuses a role gets when it is suspended, and a route
whose entry has none runs once, as its answer does not depend on that agreement (a partner's
own data needs none). Record-level routes are open only to analysts: the other roles read counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.support.places import build_squares, settings_in
from tests.support.web_client import PASSWORD, AppClient, add_user
from wholeplace.governance.access import Role
from wholeplace.governance.agreements import AgreementStatus, parse_agreement
from wholeplace.governance.registry import get_agreement, save_agreement, set_status
from wholeplace.outcomes.framework import import_framework
from wholeplace.web.app import create_app

PAGE, API = 303, 401  # anonymous: sent to sign in / told to send a token
CSRF = 403  # a form posted without a session's token
ROLES = list(Role)
EVERY_ROLE = dict.fromkeys(ROLES, 200)
ADMINISTRATORS = dict.fromkeys(ROLES, 403) | {Role.ADMINISTRATOR: 200}
GOVERNANCE = dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 200, Role.ADMINISTRATOR: 200}
ANALYSTS = dict.fromkeys(ROLES, 403) | {Role.ANALYST: 200}  # record-level reads
NOBODY = dict.fromkeys(ROLES, 403)
NOT_FOUND = dict.fromkeys(ROLES, 404)
REFERRING = (Role.PRACTITIONER, Role.ADMINISTRATOR)
REFERRERS = dict.fromkeys(ROLES, 403) | dict.fromkeys(REFERRING, 200)
DIRECTORY_EDITORS = dict.fromkeys(ROLES, 403) | {Role.PRACTITIONER: 200, Role.ADMINISTRATOR: 200}
NO_EDITOR_PATHWAY = {Role.PRACTITIONER: 404, Role.ADMINISTRATOR: 404}  # editors reach a pathway that is not there
AGREEMENTS = ("without", "with")
PURPOSE = "demand_analysis"
WHY = "justification=checking+the+matrix+of+routes"


@dataclass(frozen=True)
class Access:
    url: str  # a concrete address for the route
    anonymous: int
    roles: dict[Role, int] = field(default_factory=lambda: EVERY_ROLE)
    without_agreement: dict[Role, int] | None = None  # None: an agreement changes nothing here
    form: dict[str, str] | None = None  # what a POST sends (with the session's CSRF token)


TESTSHIRE = "police-uk-street-testshire-police"
OTHERTON = "police-uk-street-otherton-police"
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
    ("GET", "/purpose"): Access("/purpose", PAGE),
    ("POST", "/purpose"): Access("/purpose", PAGE, dict.fromkeys(ROLES, 303), form={"purpose": PURPOSE}),
    ("GET", "/data"): Access(f"/data?{WHY}", PAGE),
    ("GET", "/datasets/{code}"): Access(f"/datasets/{OTHERTON}", PAGE, without_agreement=NOBODY),
    ("GET", "/datasets/{code}/records"): Access(f"/datasets/{OTHERTON}/records?{WHY}", PAGE, ANALYSTS,
                                                without_agreement=NOBODY),
    ("GET", "/datasets/{code}/records.{fmt}"): Access(f"/datasets/{OTHERTON}/records.csv?{WHY}", PAGE, ANALYSTS,
                                                    without_agreement=NOBODY),
    ("GET", "/datasets/{code}/categories.{fmt}"): Access(f"/datasets/{OTHERTON}/categories.xlsx", PAGE,
                                                       without_agreement=NOBODY),
    ("GET", "/exports/areas.{fmt}"): Access("/exports/areas.csv?partner=police-otherton-police", PAGE,
                                          without_agreement=dict.fromkeys(ROLES, 422)),
    ("GET", "/exports/months.{fmt}"): Access("/exports/months.xlsx", PAGE),
    ("GET", "/api/docs"): Access("/api/docs", API),
    ("GET", "/openapi.json"): Access("/openapi.json", API),
    ("GET", "/admin/users"): Access("/admin/users", PAGE, ADMINISTRATORS),
    ("GET", "/audit"): Access("/audit", PAGE, GOVERNANCE),
    ("GET", "/audit/export.csv"): Access("/audit/export.csv", PAGE, GOVERNANCE),
    # Agreements: every role reads them; only IG officers change them. The matrix place has no
    # agreements, so an agreement's address is a 404 for whoever passes the role check.
    ("GET", "/agreements"): Access("/agreements", PAGE),
    ("GET", "/agreements/new"): Access("/agreements/new", PAGE, dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 200}),
    ("POST", "/agreements/new"): Access(
        "/agreements/new", PAGE, dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 422}, form={}),
    ("GET", "/agreements/{agreement_id}"): Access("/agreements/none-here", PAGE, dict.fromkeys(ROLES, 404)),
    ("GET", "/agreements/{agreement_id}/agreement.yaml"): Access(
        "/agreements/none-here/agreement.yaml", PAGE, dict.fromkeys(ROLES, 404)),
    ("GET", "/agreements/{agreement_id}/edit"): Access(
        "/agreements/none-here/edit", PAGE, dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 404}),
    ("POST", "/agreements/{agreement_id}/edit"): Access(
        "/agreements/none-here/edit", PAGE, dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 404}, form={}),
    ("POST", "/agreements/{agreement_id}/status"): Access(
        "/agreements/none-here/status", PAGE, dict.fromkeys(ROLES, 403) | {Role.IG_OFFICER: 404}, form={}),
    ("POST", "/admin/users"): Access("/admin/users", PAGE, ADMINISTRATORS | {Role.ADMINISTRATOR: 422}, form={}),
    ("POST", "/admin/users/{user_id}/{action}"): Access(
        "/admin/users/999999/disable", PAGE, ADMINISTRATORS | {Role.ADMINISTRATOR: 404}, form={}),
    ("GET", "/api/v1/purposes"): Access("/api/v1/purposes", API),
    ("GET", "/api/v1/status"): Access("/api/v1/status", API),
    ("GET", "/api/v1/datasets"): Access("/api/v1/datasets", API),
    ("GET", "/api/v1/datasets/{code}/categories"): Access(f"/api/v1/datasets/{OTHERTON}/categories", API,
                                                          without_agreement=NOBODY),
    ("GET", "/api/v1/datasets/{code}/records"): Access(f"/api/v1/datasets/{OTHERTON}/records?{WHY}", API, ANALYSTS,
                                                       without_agreement=NOBODY),
    ("GET", "/api/v1/loads"): Access("/api/v1/loads", API),
    ("GET", "/api/v1/quarantine"): Access(f"/api/v1/quarantine?dataset={OTHERTON}&{WHY}", API, ANALYSTS,
                                          without_agreement=NOBODY),
    ("GET", "/api/v1/area-disagreements"): Access(f"/api/v1/area-disagreements?{WHY}", API, ANALYSTS),
    ("GET", "/api/v1/levels"): Access("/api/v1/levels", API),
    ("GET", "/api/v1/partners"): Access("/api/v1/partners", API),
    ("GET", "/api/v1/areas"): Access("/api/v1/areas", API),
    ("GET", "/api/v1/overview/summary"): Access("/api/v1/overview/summary", API),
    ("GET", "/api/v1/overview/areas"): Access("/api/v1/overview/areas?partner=police-otherton-police", API,
                                              without_agreement=dict.fromkeys(ROLES, 422)),
    ("GET", "/api/v1/overview/months"): Access("/api/v1/overview/months", API),
    # Demand: pages, downloads and API for every role (the matrix place has street crime only, no calls).
    ("GET", "/demand"): Access("/demand", PAGE),
    ("GET", "/demand/{section}"): Access("/demand/repeat", PAGE),
    ("GET", "/demand/{section}.{fmt}"): Access("/demand/profile.csv?table=source", PAGE),
    ("GET", "/demand/report.{fmt}"): Access("/demand/report.html", PAGE),
    ("POST", "/demand/failure/samples"): Access("/demand/failure/samples", PAGE, ANALYSTS | {Role.ANALYST: 422},
                                                form={}),
    ("GET", "/demand/failure/samples/{sample_id}"): Access("/demand/failure/samples/none", PAGE,
                                                           dict.fromkeys(ROLES, 404)),
    ("POST", "/demand/failure/samples/{sample_id}/codings"): Access(
        "/demand/failure/samples/none/codings", PAGE, dict.fromkeys(ROLES, 404), form={}),
    ("GET", "/api/v1/demand/profile"): Access("/api/v1/demand/profile", API),
    ("GET", "/api/v1/demand/repeat"): Access("/api/v1/demand/repeat", API),
    ("GET", "/api/v1/demand/rcrp"): Access("/api/v1/demand/rcrp", API),
    ("GET", "/api/v1/demand/failure"): Access("/api/v1/demand/failure", API),
    ("GET", "/api/v1/demand/response"): Access("/api/v1/demand/response", API),
    ("GET", "/api/v1/demand/forecast"): Access("/api/v1/demand/forecast", API),
    ("GET", "/api/v1/demand/scenario"): Access("/api/v1/demand/scenario?percent=30", API,
                                               dict.fromkeys(ROLES, 400)),
    # Shared outcomes (the matrix place has MATRIX_FRAMEWORK); residents' pages need no sign-in.
    ("GET", "/outcomes"): Access("/outcomes", PAGE),
    ("GET", "/outcomes/places/{level}/{code}"): Access("/outcomes/places/ward/E05000001", PAGE),
    ("GET", "/outcomes/indicators/{code}"): Access("/outcomes/indicators/matrix-events?level=ward&area=E05000001",
                                                    PAGE),
    ("GET", "/outcomes/scorecards/{outcome}"): Access("/outcomes/scorecards/matrix-safer", PAGE),
    ("GET", "/outcomes/framework"): Access("/outcomes/framework", PAGE),
    ("POST", "/outcomes/framework"): Access("/outcomes/framework", PAGE, GOVERNANCE | {Role.IG_OFFICER: 422,
                                                                                     Role.ADMINISTRATOR: 422}, form={}),
    ("GET", "/outcomes/board-pack.{fmt}"): Access("/outcomes/board-pack.html", PAGE),
    ("GET", "/outcomes/exports/values.{fmt}"): Access("/outcomes/exports/values.csv", PAGE),
    ("GET", "/public/outcomes"): Access("/public/outcomes", 200),
    ("GET", "/public/outcomes/places/{level}/{code}"): Access("/public/outcomes/places/ward/E05000001", 200),
    ("GET", "/public/outcomes/indicators/{code}"): Access("/public/outcomes/indicators/matrix-events", 200),
    # The Open Referral UK API is open data: no sign-in, no key; an unknown id is a 404 for everyone.
    ("GET", "/oruk/"): Access("/oruk/", 200),
    ("GET", "/oruk/services"): Access("/oruk/services?page=1", 200),
    ("GET", "/oruk/services/{service_id}"): Access("/oruk/services/none", 404, NOT_FOUND),
    ("GET", "/oruk/service_at_locations"): Access("/oruk/service_at_locations", 200),
    ("GET", "/oruk/service_at_locations/{record_id}"): Access("/oruk/service_at_locations/none", 404, NOT_FOUND),
    ("GET", "/oruk/taxonomies"): Access("/oruk/taxonomies", 200),
    ("GET", "/oruk/taxonomies/{record_id}"): Access("/oruk/taxonomies/none", 404, NOT_FOUND),
    ("GET", "/oruk/taxonomy_terms"): Access("/oruk/taxonomy_terms", 200),
    ("GET", "/oruk/taxonomy_terms/{record_id}"): Access("/oruk/taxonomy_terms/none", 404, NOT_FOUND),
    ("GET", "/oruk/organizations"): Access("/oruk/organizations", 200),
    ("GET", "/oruk/organizations/{record_id}"): Access("/oruk/organizations/none", 404, NOT_FOUND),
    # The directory: every role (public-service information, no purpose); editors see problems and edit pathways.
    ("GET", "/directory"): Access("/directory", PAGE),
    ("GET", "/directory/services/{service_id}"): Access("/directory/services/none", PAGE, NOT_FOUND),
    ("GET", "/directory/services/{service_id}/problems"): Access("/directory/services/none/problems", PAGE,
                                                                 NOT_FOUND),
    ("POST", "/directory/services/{service_id}/problems"): Access("/directory/services/none/problems", PAGE,
                                                                  NOT_FOUND, form={"kind": "other"}),
    ("GET", "/directory/problems"): Access("/directory/problems", PAGE, DIRECTORY_EDITORS),
    ("GET", "/directory/pathways"): Access("/directory/pathways", PAGE),
    ("GET", "/directory/pathways/{situation}"): Access("/directory/pathways/none", PAGE, NOT_FOUND),
    ("GET", "/directory/pathways/{situation}/edit"): Access("/directory/pathways/none/edit", PAGE,
                                                            DIRECTORY_EDITORS | NO_EDITOR_PATHWAY),
    ("POST", "/directory/pathways/{situation}/edit"): Access("/directory/pathways/none/edit", PAGE,
                                                             DIRECTORY_EDITORS | NO_EDITOR_PATHWAY, form={}),
    # Editors merge duplicates, decide proposed edits and read review reminders; anyone may propose an edit.
    ("GET", "/directory/duplicates"): Access("/directory/duplicates", PAGE, DIRECTORY_EDITORS),
    ("POST", "/directory/duplicates"): Access("/directory/duplicates", PAGE, DIRECTORY_EDITORS | {
        Role.PRACTITIONER: 422, Role.ADMINISTRATOR: 422}, form={}),
    ("GET", "/directory/services/{service_id}/propose"): Access("/directory/services/none/propose", PAGE, NOT_FOUND),
    ("POST", "/directory/services/{service_id}/propose"): Access("/directory/services/none/propose", PAGE,
                                                                 NOT_FOUND, form={"alert": "Closed"}),
    ("GET", "/directory/proposals"): Access("/directory/proposals", PAGE, DIRECTORY_EDITORS),
    ("POST", "/directory/proposals/{number}/approve"): Access("/directory/proposals/999999/approve", PAGE,
                                                             DIRECTORY_EDITORS | {Role.PRACTITIONER: 404,
                                                                                  Role.ADMINISTRATOR: 404}, form={}),
    ("POST", "/directory/proposals/{number}/reject"): Access("/directory/proposals/999999/reject", PAGE,
                                                            DIRECTORY_EDITORS | {Role.PRACTITIONER: 404,
                                                                                 Role.ADMINISTRATOR: 404},
                                                            form={"reason": "checking the matrix"}),
    ("GET", "/directory/reviews"): Access("/directory/reviews", PAGE, DIRECTORY_EDITORS),
    ("GET", "/api/v1/outcomes/indicators"): Access("/api/v1/outcomes/indicators", API),
    ("GET", "/api/v1/outcomes/values"): Access("/api/v1/outcomes/values?per_page=5", API),
    ("GET", "/api/v1/outcomes/indicators/{code}/signals"): Access(
        "/api/v1/outcomes/indicators/matrix-events/signals?level=ward", API),
    # Referrals: practitioners and administrators only; a referral of another partner's is not found.
    ("GET", "/referrals"): Access("/referrals", PAGE, REFERRERS),
    ("GET", "/referrals/notifications"): Access("/referrals/notifications", PAGE, REFERRERS),
    ("POST", "/referrals/notifications/read"): Access("/referrals/notifications/read", PAGE,
                                                      REFERRERS | dict.fromkeys(REFERRING, 303), form={}),
    ("GET", "/referrals/new"): Access("/referrals/new", PAGE, REFERRERS),
    ("POST", "/referrals/new"): Access("/referrals/new", PAGE, REFERRERS | dict.fromkeys(REFERRING, 422), form={}),
    ("GET", "/referrals/{referral_id}"): Access("/referrals/none", PAGE, REFERRERS | dict.fromkeys(REFERRING, 404)),
    ("POST", "/referrals/{referral_id}/status"): Access("/referrals/none/status", PAGE,
                                                        REFERRERS | dict.fromkeys(REFERRING, 404),
                                                        form={"status": "accepted"}),
}

MATRIX_FRAMEWORK = """
code: matrix
name: Matrix outcomes
place: {code: squareton, name: Squareton}
outcomes:
  - code: matrix-safer
    title: Squareton is safer
    indicators:
      - code: matrix-events
        title: Testshire street crimes among Testshire street crimes
        numerator: {datasets: [police-uk-street-testshire-police]}
        denominator: {events: {datasets: [police-uk-street-testshire-police]}}
        multiplier: 100
        unit: "%"
        polarity: neutral
        ci_method: wilson
"""


MATRIX_AGREEMENT = """
id: matrix-otherton-to-testshire
title: Otherton street crime shared with Testshire
status: active
parties:
  - partner: police-otherton-police
    name: Otherton Police
    kind: police
    role: controller
    lawful_basis: uk_gdpr_6_1_e
    criminal_offence_condition: {basis: UK GDPR Art 10, schedule_paragraph: DPA 2018 Sch 1 para 10}
    dpo_contact: dpo@otherton.police.example
  - {partner: police-testshire-police, name: Testshire Police, kind: police, role: controller,
     lawful_basis: uk_gdpr_6_1_e, dpo_contact: dpo@testshire.police.example}
recipients: [police-testshire-police]
purposes: [demand_analysis]
gateway: CDA1998_s115
datasets:
  - dataset: police-uk-street-otherton-police
    provider: police-otherton-police
    fields:
      - {name: category, classification: criminal_offence}
      - {name: occurred_month, classification: quasi_identifier}
      - {name: source_area_code, classification: quasi_identifier}
    access: pseudonymised
    retention_months: 36
output: {disclosure_preset: opensafely, smallest_geography: lsoa}
start: 2026-01-01
review: 2099-01-01
end: 2099-06-30
dpia: {reference: MATRIX-DPIA-1, date: 2025-12-01, outcome: approved}
sign_off:
  - {party: police-otherton-police, name: A. Officer, role: Head of Information Management, date: 2025-12-10}
  - {party: police-testshire-police, name: B. Officer, role: Head of Information Management, date: 2025-12-11}
"""


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
    text = MATRIX_AGREEMENT
    save_agreement(stores=built.state.stores, agreement=parse_agreement(yaml.safe_load(text), text=text))
    import_framework(stores=built.state.stores, text=MATRIX_FRAMEWORK)
    yield built
    built.state.stores.close()


def request(client: AppClient, method: str, access: Access, *, signed_in: bool) -> int:
    if method == "GET":
        return client.get(access.url).status_code
    form = dict(access.form or {})
    if signed_in:
        form["csrf_token"] = client.csrf_token("/purpose")
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
    client.declare_purpose(PURPOSE)
    return client


def agreement_in_force(app: FastAPI, wanted: bool) -> None:
    """Activate or suspend the matrix agreement (a new version only when its status changes)."""
    stores = app.state.stores
    status = AgreementStatus.ACTIVE if wanted else AgreementStatus.SUSPENDED
    if get_agreement(stores=stores, agreement_id="matrix-otherton-to-testshire").agreement.status != status:
        set_status(stores=stores, agreement_id="matrix-otherton-to-testshire", status=status, note="route matrix")


@pytest.fixture(scope="module")
def clients(app: FastAPI) -> dict[Role, AppClient]:
    """One signed-in client per role, shared by the tests that do not end their session."""
    return {role: sign_in(app, role) for role in ROLES}


@pytest.mark.parametrize(("key", "role", "agreement"), CASES,
                         ids=[f"{m} {p} {role.value} {agreement}" for (m, p), role, agreement in CASES])
def test_each_role(app: FastAPI, clients: dict[Role, AppClient], key: tuple[str, str], role: Role, agreement: str):
    access = ROUTES[key]
    expected = access.roles if agreement == "with" or access.without_agreement is None else access.without_agreement
    agreement_in_force(app, agreement == "with")
    client = sign_in(app, role) if key == ("POST", "/sign-out") else clients[role]
    assert request(client, key[0], access, signed_in=True) == expected[role]
