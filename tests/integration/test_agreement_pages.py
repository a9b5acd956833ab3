"""The agreement pages: everyone reads the agreements; only information governance officers change them."""

from __future__ import annotations

import gc
import html
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI

from tests.support.web_client import AppClient, signed_in
from wholeplace.governance import audit
from wholeplace.governance.access import Principal, Role, grants
from wholeplace.governance.agreements import dump_agreement, load_agreement_file
from wholeplace.governance.registry import (
    EXAMPLES,
    agreement_versions,
    get_agreement,
    list_agreements,
    load_example_agreements,
)
from wholeplace.settings import Settings
from wholeplace.web.app import create_app

CSP, HIU, CASE_WORK, TRIAGE = ("wenlow-csp-strategic-assessment", "wenlow-hiu-direct-care",
                               "wenlow-police-nhs-case-work", "wenlow-street-triage-evaluation-2024")
COUNCIL = "council-wenlow-vale"
OFFICER = f"ig_officer@{COUNCIL}.example.org"
ON = date(2026, 11, 22)  # a day every example's dates are fixed against


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    load_example_agreements(stores=application.state.stores)
    yield application
    application.state.stores.close()


@pytest.fixture
def officer(app: FastAPI) -> AppClient:
    return signed_in(app, role="ig_officer", partner=COUNCIL)


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text()


def problems(response: httpx.Response) -> list[str]:
    """The entries of the page's GOV.UK error summary, as text."""
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.text, re.S)
    assert summary, "the page has no error summary"
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]


def textarea(response: httpx.Response, field_id: str = "agreement") -> str:
    found = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert found, f"no textarea {field_id}"
    return html.unescape(found.group(1))


def table(response: httpx.Response, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', response.text, re.S)
    assert found, f"no table {table_id}"
    inline = re.sub(r"</?(?:a|code|span|strong)\b[^>]*>", "", found.group(0))
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)))


def versions(app: FastAPI, agreement_id: str) -> list[int]:
    return [v.agreement.version for v in agreement_versions(stores=app.state.stores, agreement_id=agreement_id)]


def post(client: AppClient, url: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    return client.post(url, data={"csrf_token": client.csrf_token("/agreements")} | data, **kwargs)


# The middleware that checks the CSRF token (web/auth.py) parses a multipart form itself and does not
# close it, so each upload leaves an unclosed SpooledTemporaryFile to the garbage collector. The tests
# that upload collect it at once and ignore that ResourceWarning, so it is not reported in a later test.
UPLOADS = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")


def upload(client: AppClient, files: dict[str, tuple[str, bytes]], *, csrf: bool = True) -> httpx.Response:
    data = {"csrf_token": client.csrf_token("/agreements")} if csrf else {}
    response = client.post("/agreements/new", data=data, files=files)
    gc.collect()
    return response


# -- reading ------------------------------------------------------------------------------------

def test_the_list_shows_every_example_agreement_with_its_status_to_every_role(app: FastAPI) -> None:
    page = signed_in(app, role="viewer").get("/agreements")
    assert page.status_code == 200
    rows = table(page, "agreements")
    for path in sorted(EXAMPLES.glob("*.yaml")):
        agreement = load_agreement_file(path)
        assert re.search(rf"{agreement.id} 1 {agreement.status}", rows), agreement.id
    assert f"{CASE_WORK} 1 draft No: not active (it is draft)" in rows
    assert "No: its end date 2025-03-31 has passed" in rows  # the finished pilot grants nothing
    assert "Community safety strategic assessment (csp_strategic_assessment)" in rows  # purposes with titles
    assert "Wenlow Vale Constabulary → Wenlow Vale Mental Health NHS Trust" in rows  # providers → recipients
    assert "New agreement" not in page.text and 'href="/agreements"' in page.text  # the navigation item
    assert "New agreement" in signed_in(app, role="ig_officer").get("/agreements").text
    assert "New agreement" not in signed_in(app, role="administrator").get("/agreements").text


def test_an_empty_registry_says_so(settings: Settings) -> None:
    application = create_app(settings)
    try:
        page = signed_in(application, role="analyst").get("/agreements")
        assert page.status_code == 200 and 'id="no-agreements"' in page.text
    finally:
        application.state.stores.close()


def test_the_agreement_page_shows_its_terms_and_version_history(app: FastAPI) -> None:
    client = signed_in(app, role="analyst")
    page = client.get(f"/agreements/{CSP}")
    assert page.status_code == 200
    datasets = table(page, "datasets")
    assert "demo-police-calls" in datasets and "police-uk-street-*" in datasets
    assert "aggregate 60" in datasets and "occurred_month (other)" in datasets
    parties = table(page, "parties")
    assert "Wenlow Vale Council" in parties and "controller UK GDPR Art 6(1)(e): public task" in parties
    assert "Supt. R. Haworth Head of Information Management 2026-03-02" in table(page, "sign-offs")
    assert "WV-CSP-DPIA-2026-01" in page.text and "CDA1998_s17A" in page.text and "opensafely" in page.text
    history = table(page, "versions")
    assert re.search(r"1 \d{4}-\d\d-\d\d \d\d:\d\d demo imported from \S+csp-strategic-assessment.yaml active", history)
    assert client.get(f"/agreements/{CSP}?version=1").status_code == 200


def test_old_versions_stay_readable_and_the_yaml_downloads(app: FastAPI, officer: AppClient) -> None:
    text = example_text("hiu-direct-care.yaml").replace("retention_months: 24", "retention_months: 18", 1)
    assert post(officer, f"/agreements/{HIU}/edit", {"agreement_text": text, "note": "shorter"}).status_code == 303
    client = signed_in(app, role="practitioner")
    old = client.get(f"/agreements/{HIU}?version=1")
    assert old.status_code == 200 and 'id="superseded"' in old.text
    assert f'href="/agreements/{HIU}?version=1"' not in old.text  # the version shown is not a link
    assert f'href="/agreements/{HIU}?version=1"' in client.get(f"/agreements/{HIU}").text  # history links it
    download = client.get(f"/agreements/{HIU}/agreement.yaml")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f'attachment; filename="{HIU}-v2.yaml"'
    assert download.text == dump_agreement(get_agreement(stores=app.state.stores, agreement_id=HIU).agreement)
    first = client.get(f"/agreements/{HIU}/agreement.yaml?version=1")
    assert yaml.safe_load(first.text)["version"] == 1


def test_unknown_agreements_and_versions_are_404s_naming_them(app: FastAPI) -> None:
    client = signed_in(app, role="viewer")
    missing = client.get("/agreements/no-such-agreement")
    assert missing.status_code == 404 and "no agreement &#39;no-such-agreement&#39;" in missing.text
    assert client.get(f"/agreements/{CSP}?version=9").status_code == 404
    assert client.get("/agreements/no-such-agreement/agreement.yaml").status_code == 404


# -- who may change them ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "analyst", "practitioner", "administrator"])
def test_only_officers_may_add_edit_or_change_status(app: FastAPI, role: str) -> None:
    client = signed_in(app, role=role)
    assert client.get(f"/agreements/{CSP}/edit").status_code == 403
    assert client.get("/agreements/new").status_code == 403
    edited = example_text("csp-strategic-assessment.yaml").replace("title: Wenlow", "title: Changed")
    assert post(client, f"/agreements/{CSP}/edit", {"agreement_text": edited, "note": "x"}).status_code == 403
    new = edited.replace(f"id: {CSP}", "id: another")
    assert post(client, "/agreements/new", {"agreement_text": new}).status_code == 403
    assert post(client, f"/agreements/{CSP}/status", {"status": "suspended", "reason": "x"}).status_code == 403
    assert [s.agreement.version for s in list_agreements(stores=app.state.stores)] == [1, 1, 1, 1]
    assert 'action="/agreements/' not in client.get(f"/agreements/{CSP}").text  # no status form either


@UPLOADS
def test_a_form_posted_without_the_csrf_token_is_refused(app: FastAPI, officer: AppClient) -> None:
    edited = example_text("csp-strategic-assessment.yaml").replace("title: Wenlow", "title: Changed")
    assert officer.post(f"/agreements/{CSP}/edit", data={"agreement_text": edited, "note": "x"}).status_code == 403
    assert officer.post(f"/agreements/{CSP}/status", data={"status": "suspended", "reason": "x"}).status_code == 403
    files = {"file": ("new.yaml", edited.replace(f"id: {CSP}", "id: another").encode())}
    assert upload(officer, files, csrf=False).status_code == 403
    assert versions(app, CSP) == [1]
    assert "another" not in {s.agreement.id for s in list_agreements(stores=app.state.stores)}


# -- editing ------------------------------------------------------------------------------------

def test_an_officer_saves_a_new_version_with_a_note_and_it_is_audited(app: FastAPI, officer: AppClient) -> None:
    form = officer.get(f"/agreements/{CSP}/edit")
    assert form.status_code == 200
    current = textarea(form)
    assert yaml.safe_load(current)["id"] == CSP
    changed = current.replace("retention_months: 60", "retention_months: 36")
    saved = post(officer, f"/agreements/{CSP}/edit", {"agreement_text": changed, "note": "Retention cut to 3 years"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/agreements/{CSP}?saved=2"
    page = officer.get(saved.headers["location"])
    assert "govuk-notification-banner--success" in page.text and "Version 2 saved." in page.text
    assert f"2 {page_stamp(app)} {OFFICER} Retention cut to 3 years active" in table(page, "versions")
    stored = get_agreement(stores=app.state.stores, agreement_id=CSP)
    assert (stored.agreement.version, stored.saved_by) == (2, OFFICER)
    assert {d.retention_months for d in stored.agreement.datasets} == {36}
    entries, _ = audit.search(stores=app.state.stores, actor=OFFICER, action="administration")
    assert [(e.action, e.agreement_id, e.agreement_version, e.what["note"]) for e in entries] == [
        ("administration", CSP, 2, "Retention cut to 3 years")]


def page_stamp(app: FastAPI) -> str:
    saved_at = get_agreement(stores=app.state.stores, agreement_id=CSP).saved_at
    return f"{saved_at:%Y-%m-%d %H:%M}"


@pytest.mark.parametrize(("change", "expected"), [
    (("access: aggregate", "access: pseudonymised"),
     r"^datasets\[0\]\.access \(line \d+\): CDA1998_s17A covers aggregate data only; it cannot cover pseudonymised"),
    (("title: Wenlow Vale Community Safety Partnership strategic assessment\n", ""), r"^title: Field required$"),
    (("recipients: [police", "recipients: [[police"), r"^line \d+, column \d+: not valid YAML or JSON"),
    ((f"id: {CSP}", "id: someone-else"), r"^id: the text has the id 'someone-else' but this is agreement"),
], ids=["s17A-person-level", "missing-key", "syntax", "other-id"])
def test_an_invalid_edit_lists_its_problems_keeps_the_text_and_saves_nothing(
        app: FastAPI, officer: AppClient, change: tuple[str, str], expected: str) -> None:
    text = example_text("csp-strategic-assessment.yaml").replace(*change, 1)
    response = post(officer, f"/agreements/{CSP}/edit", {"agreement_text": text, "note": "trying"})
    assert response.status_code == 422
    assert any(re.search(expected, problem) for problem in problems(response)), problems(response)
    assert textarea(response) == text and 'value="trying"' in response.text
    assert "Error: " in response.text.split("</title>")[0]
    assert versions(app, CSP) == [1]
    assert audit.search(stores=app.state.stores, actor=OFFICER, action="administration")[1] == 0


def test_a_version_needs_a_note_and_a_change(app: FastAPI, officer: AppClient) -> None:
    text = example_text("csp-strategic-assessment.yaml")
    changed = text.replace("retention_months: 60", "retention_months: 48")
    no_note = post(officer, f"/agreements/{CSP}/edit", {"agreement_text": changed, "note": " "})
    assert no_note.status_code == 422 and problems(no_note) == ["Enter what changed and why"]
    unchanged = post(officer, f"/agreements/{CSP}/edit", {"agreement_text": text, "note": "nothing"})
    assert unchanged.status_code == 422 and "nothing changed" in problems(unchanged)[0]
    empty = post(officer, f"/agreements/{CSP}/edit", {"agreement_text": "", "note": "x"})
    assert empty.status_code == 422 and problems(empty) == ["Enter the agreement as YAML or JSON"]
    assert versions(app, CSP) == [1]


def test_editing_an_unknown_agreement_is_a_404(officer: AppClient) -> None:
    assert officer.get("/agreements/no-such-agreement/edit").status_code == 404
    response = post(officer, "/agreements/no-such-agreement/edit", {"agreement_text": "id: x", "note": "x"})
    assert response.status_code == 404


# -- adding -------------------------------------------------------------------------------------

def new_agreement_text(agreement_id: str) -> str:
    return example_text("police-nhs-case-work.yaml").replace(f"id: {CASE_WORK}", f"id: {agreement_id}")


def test_an_officer_adds_an_agreement_by_pasting_it(app: FastAPI, officer: AppClient) -> None:
    assert officer.get("/agreements/new").status_code == 200
    response = post(officer, "/agreements/new", {"agreement_text": new_agreement_text("pasted-one"), "note": ""})
    assert response.status_code == 303 and response.headers["location"] == "/agreements/pasted-one?saved=1"
    stored = get_agreement(stores=app.state.stores, agreement_id="pasted-one")
    assert (stored.agreement.version, stored.saved_by, stored.note) == (1, OFFICER, "added in the web app")


def test_an_existing_id_is_refused_with_a_pointer_to_editing(app: FastAPI, officer: AppClient) -> None:
    response = post(officer, "/agreements/new", {"agreement_text": example_text("hiu-direct-care.yaml")})
    assert response.status_code == 422
    assert problems(response) == [f"id: an agreement '{HIU}' already exists; edit that agreement to save a new "
                                  "version, or choose another id"]
    assert versions(app, HIU) == [1]


def files_outside(folder: Path, data_dir: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if not p.is_relative_to(data_dir)}


@UPLOADS
def test_an_upload_named_with_a_traversal_is_read_in_memory(app: FastAPI, officer: AppClient, settings: Settings,
                                                            tmp_path: Path) -> None:
    name = "../../etc/passwd.yaml"
    targets = [(settings.data_dir / name).resolve(), (Path.cwd() / name).resolve(), Path("/etc/passwd.yaml")]
    existing = {t for t in targets if t.exists()}
    before = files_outside(tmp_path, settings.data_dir)
    response = upload(officer, {"file": (name, new_agreement_text("uploaded-one").encode())})
    assert response.status_code == 303 and response.headers["location"] == "/agreements/uploaded-one?saved=1"
    assert {t for t in targets if t.exists()} == existing  # nothing written at the traversal target
    assert files_outside(tmp_path, settings.data_dir) == before
    ids = {s.agreement.id for s in list_agreements(stores=app.state.stores)}
    assert "uploaded-one" in ids and not any("passwd" in i for i in ids)  # the id comes from the content
    assert get_agreement(stores=app.state.stores, agreement_id="uploaded-one").note == \
        "added from the file 'passwd.yaml'"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("agreement.txt", new_agreement_text("refused-one").encode(),
     "The selected file must be a .yaml, .yml or .json file"),
    ("agreement.yaml", new_agreement_text("refused-one").encode() + b"#" * (1024 * 1024),
     "The selected file must be smaller than 1 MB"),
    ("agreement.json", b'{"id": "caf\xe9"}', "The selected file must be UTF-8 text"),
    ("agreement.yml", b"", "The selected file is empty"),
], ids=["not-yaml", "over-1-mb", "not-utf8", "empty"])
@UPLOADS
def test_unsuitable_uploads_are_refused(app: FastAPI, officer: AppClient, name: str, content: bytes,
                                        expected: str) -> None:
    response = upload(officer, {"file": (name, content)})
    assert response.status_code == 422
    [problem] = problems(response)
    assert problem.startswith(expected)
    assert len(list_agreements(stores=app.state.stores)) == 4


@UPLOADS
def test_an_uploaded_file_with_problems_comes_back_in_the_text_box(app: FastAPI, officer: AppClient) -> None:
    text = new_agreement_text("bad-upload").replace("gateway: CDA1998_s115", "gateway: CDA1998_s17A")
    response = upload(officer, {"file": ("bad.yaml", text.encode())})
    assert response.status_code == 422 and 'id="from-file"' in response.text
    assert any("CDA1998_s17A" in p for p in problems(response)) and textarea(response) == text
    assert len(list_agreements(stores=app.state.stores)) == 4


# -- status -------------------------------------------------------------------------------------

def test_suspending_an_agreement_stops_its_grants_and_is_audited(app: FastAPI, officer: AppClient) -> None:
    stores, analyst = app.state.stores, Principal(user_id="analyst", partner=COUNCIL, role=Role.ANALYST)

    def granted() -> set[str | None]:
        return {g.agreement_id for g in grants(stores=stores, principal=analyst, purpose="demand_analysis", on=ON)}

    assert CSP in granted()
    response = post(officer, f"/agreements/{CSP}/status", {"status": "suspended", "reason": "Breach under review"})
    assert response.status_code == 303 and response.headers["location"] == f"/agreements/{CSP}?saved=2"
    assert CSP not in granted()
    page = officer.get(f"/agreements/{CSP}")
    assert "status set to suspended: Breach under review" in table(page, "versions")
    entries, _ = audit.search(stores=stores, actor=OFFICER, action="administration")
    assert [(e.action, e.agreement_version, e.what["status"], e.what["note"]) for e in entries] == [
        ("administration", 2, "suspended", "status set to suspended: Breach under review")]


def test_a_status_change_that_fails_its_checks_is_shown_as_problems(app: FastAPI, officer: AppClient) -> None:
    unsigned = re.sub(r"sign_off:.*", "sign_off: []\n", example_text("police-nhs-case-work.yaml"), flags=re.S)
    assert post(officer, f"/agreements/{CASE_WORK}/edit", {"agreement_text": unsigned, "note": "unsigned"}
                ).status_code == 303
    response = post(officer, f"/agreements/{CASE_WORK}/status", {"status": "active", "reason": "go live"})
    assert response.status_code == 422
    assert any("needs sign-off by every controller" in p for p in problems(response))
    assert versions(app, CASE_WORK) == [1, 2]
    missing = post(officer, f"/agreements/{CASE_WORK}/status", {"status": "draft", "reason": ""})
    assert missing.status_code == 422 and problems(missing) == [
        "Choose the new status: active, suspended or terminated", "Enter the reason for the change"]


def test_a_terminated_agreement_cannot_change(app: FastAPI, officer: AppClient) -> None:
    assert post(officer, f"/agreements/{HIU}/status", {"status": "terminated", "reason": "service closed"}
                ).status_code == 303
    page = officer.get(f"/agreements/{HIU}")
    assert f'href="/agreements/{HIU}/edit"' not in page.text and 'id="change-status"' not in page.text
    text = example_text("hiu-direct-care.yaml").replace("title: Wenlow", "title: Reopened Wenlow")
    response = post(officer, f"/agreements/{HIU}/edit", {"agreement_text": text, "note": "reopen"})
    assert response.status_code == 422 and "terminated agreement cannot change" in problems(response)[0]
    again = post(officer, f"/agreements/{HIU}/status", {"status": "active", "reason": "reopen"})
    assert again.status_code == 422 and versions(app, HIU) == [1, 2]


def test_an_alias_bomb_is_refused_without_expanding_it(app: FastAPI, officer: AppClient) -> None:
    levels = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
    bomb = f"id: bomb\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n{levels}title: *l8\n"  # 10^9 values once expanded
    response = post(officer, "/agreements/new", {"agreement_text": bomb})
    assert response.status_code == 422 and "expands to more than 200,000 values" in problems(response)[0]
    assert len(list_agreements(stores=app.state.stores)) == 4
