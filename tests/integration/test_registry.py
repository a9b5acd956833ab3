"""The agreement registry on SQLite and PostgreSQL, and the `agreements` commands over it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from wholeplace.cli.agreements import agreements_app
from wholeplace.errors import NotFoundError
from wholeplace.governance import audit
from wholeplace.governance.agreements import AgreementError, AgreementStatus, dump_agreement, load_agreement_file
from wholeplace.governance.registry import (
    EXAMPLES,
    agreement_versions,
    get_agreement,
    import_agreement_file,
    list_agreements,
    load_example_agreements,
    save_agreement,
    set_status,
)
from wholeplace.store.stores import Stores

CASE_WORK = "wenlow-police-nhs-case-work"
runner = CliRunner()


def test_examples_import_once_and_reimporting_changes_nothing(stores_on_each_engine: Stores) -> None:
    first = load_example_agreements(stores=stores_on_each_engine)
    again = load_example_agreements(stores=stores_on_each_engine)
    assert [s.created for s in first] == [True] * 4 and [s.created for s in again] == [False] * 4
    listed = list_agreements(stores=stores_on_each_engine)
    assert [(s.agreement.id, s.agreement.version) for s in listed] == sorted(
        (load_agreement_file(p).id, 1) for p in EXAMPLES.glob("*.yaml"))
    assert get_agreement(stores=stores_on_each_engine, agreement_id=CASE_WORK).agreement.status == "draft"


def test_every_change_is_a_new_version_and_old_versions_are_kept(stores_on_each_engine: Stores) -> None:
    stores = stores_on_each_engine
    load_example_agreements(stores=stores)
    set_status(stores=stores, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE, actor="ig-officer")
    current = get_agreement(stores=stores, agreement_id=CASE_WORK)
    renamed = current.agreement.model_copy(update={"title": "Police information for case work (revised)"})
    save_agreement(stores=stores, agreement=renamed, actor="ig-officer")
    versions = agreement_versions(stores=stores, agreement_id=CASE_WORK)
    assert [(v.agreement.version, v.agreement.status, v.saved_by) for v in versions] == [
        (1, "draft", "demo"), (2, "active", "ig-officer"), (3, "active", "ig-officer")]
    assert get_agreement(stores=stores, agreement_id=CASE_WORK, version=1).agreement.title.startswith("Police ")
    assert list_agreements(stores=stores)[-2].agreement.version == 3  # the latest version is listed
    entries, total = audit.search(stores=stores, action="administration", text=CASE_WORK)
    assert total == 3 and {e.agreement_version for e in entries} == {1, 2, 3}


def test_activation_is_checked_again_and_a_terminated_agreement_cannot_change(stores_on_each_engine: Stores) -> None:
    stores = stores_on_each_engine
    load_example_agreements(stores=stores)
    unsigned = get_agreement(stores=stores, agreement_id=CASE_WORK).agreement.model_copy(update={"sign_off": []})
    save_agreement(stores=stores, agreement=unsigned)
    with pytest.raises(AgreementError, match="needs sign-off by every controller"):
        set_status(stores=stores, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE)
    set_status(stores=stores, agreement_id=CASE_WORK, status=AgreementStatus.TERMINATED)
    with pytest.raises(AgreementError, match="terminated agreement cannot change"):
        set_status(stores=stores, agreement_id=CASE_WORK, status=AgreementStatus.DRAFT)
    assert get_agreement(stores=stores, agreement_id=CASE_WORK).agreement.version == 3


def test_missing_agreements_are_named(stores_on_each_engine: Stores) -> None:
    with pytest.raises(NotFoundError, match="no agreement 'nothing-here'"):
        get_agreement(stores=stores_on_each_engine, agreement_id="nothing-here")
    load_example_agreements(stores=stores_on_each_engine)
    with pytest.raises(NotFoundError, match=f"no agreement '{CASE_WORK}' version 9"):
        get_agreement(stores=stores_on_each_engine, agreement_id=CASE_WORK, version=9)


def test_a_refused_file_stores_nothing(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    raw = yaml.safe_load((EXAMPLES / "csp-strategic-assessment.yaml").read_text())
    raw["datasets"][0]["access"] = "identifiable"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(AgreementError, match="CDA1998_s17A covers aggregate data only"):
        import_agreement_file(stores=stores_on_each_engine, path=path)
    assert list_agreements(stores=stores_on_each_engine) == []


def test_the_commands_import_list_show_and_validate(tmp_path: Path) -> None:
    data, example = tmp_path / "data", EXAMPLES / "police-nhs-case-work.yaml"
    checked = runner.invoke(agreements_app, ["validate", str(example)])
    assert checked.exit_code == 0 and "complete and consistent" in checked.output
    imported = runner.invoke(agreements_app, ["import", str(example), "--data-dir", str(data)])
    assert imported.exit_code == 0 and f"Agreement {CASE_WORK} (draft) stored as version 1." in imported.output
    again = runner.invoke(agreements_app, ["import", str(example), "--data-dir", str(data)])
    assert "unchanged since version 1" in again.output
    listed = runner.invoke(agreements_app, ["list", "--data-dir", str(data)])
    assert listed.exit_code == 0 and f"{CASE_WORK}  v1  draft  2026-10-01 to review 2027-09-30" in listed.output
    shown = runner.invoke(agreements_app, ["show", CASE_WORK, "--data-dir", str(data)])
    assert yaml.safe_load(shown.output) == yaml.safe_load(dump_agreement(load_agreement_file(example)))


def test_the_commands_report_problems_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "hiu-direct-care.yaml").read_text().replace("gateway: direct_care",
                                                                            "gateway: direct-care"))
    checked = runner.invoke(agreements_app, ["validate", str(bad)])
    assert checked.exit_code == 2 and "did you mean 'direct_care'?" in checked.output
    shown = runner.invoke(agreements_app, ["show", "nothing-here", "--data-dir", str(tmp_path / "data")])
    assert shown.exit_code == 2 and "no agreement 'nothing-here'" in shown.output
