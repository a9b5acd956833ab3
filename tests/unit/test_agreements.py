"""Agreement validation: complete and consistent agreements pass, and every problem is named at once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from wholeplace.governance.agreements import (
    AgreementError,
    AgreementStatus,
    DisclosurePreset,
    dump_agreement,
    load_agreement_file,
    parse_agreement,
)
from wholeplace.governance.registry import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def _police(**extra: Any) -> dict[str, Any]:
    return {"partner": "police-x", "name": "X Police", "kind": "police", "role": "controller",
            "lawful_basis": "dpa2018_s35", "dpo_contact": "dpo@police.example", **extra}


def _trust(**extra: Any) -> dict[str, Any]:
    return {"partner": "acute-x", "name": "X Hospital", "kind": "acute_trust", "role": "controller",
            "lawful_basis": "uk_gdpr_6_1_e", "dpo_contact": "dpo@trust.example", **extra}


def base() -> dict[str, Any]:
    """A valid active agreement: police share person-level calls with a trust for case work."""
    condition = {"basis": "DPA 2018 s35(5)", "schedule_paragraph": "DPA 2018 Sch 8 para 4"}
    return {
        "id": "police-trust", "title": "Police to trust", "status": "active",
        "parties": [_police(special_category_condition=condition, criminal_offence_condition=condition), _trust()],
        "recipients": ["acute-x"], "purposes": ["multi_agency_case_work"], "gateway": "CDA1998_s115",
        "datasets": [{"dataset": "demo-police-calls", "provider": "police-x", "access": "identifiable",
                      "retention_months": 12,
                      "fields": [{"name": "subject_token", "classification": "direct_identifier"},
                                 {"name": "category_closing", "classification": "criminal_offence"},
                                 {"name": "flag_mental_health", "classification": "special_category"}]}],
        "output": {"disclosure_preset": "threshold10", "smallest_geography": "lsoa"},
        "start": "2026-01-01", "review": "2027-01-01", "end": "2028-01-01",
        "dpia": {"reference": "DPIA-1", "date": "2025-12-01", "outcome": "approved"},
        "sign_off": [{"party": "police-x", "name": "A", "role": "SIRO", "date": "2025-12-10"},
                     {"party": "acute-x", "name": "B", "role": "Caldicott Guardian", "date": "2025-12-11"}],
    }


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(AgreementError) as caught:
        parse_agreement(raw)
    return caught.value.problems


def test_a_complete_agreement_is_accepted() -> None:
    agreement = parse_agreement(base())
    assert agreement.status is AgreementStatus.ACTIVE
    assert agreement.party("police-x") is not None and agreement.party("nobody") is None


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_agreement_is_valid(path: Path) -> None:
    agreement = load_agreement_file(path)
    assert agreement.id.startswith("wenlow-")


def test_the_examples_show_active_draft_and_expired_agreements() -> None:
    agreements = {a.id: a for a in map(load_agreement_file, EXAMPLE_FILES)}
    assert len(agreements) == 4
    assert agreements["wenlow-police-nhs-case-work"].status is AgreementStatus.DRAFT
    assert agreements["wenlow-csp-strategic-assessment"].gateway == "CDA1998_s17A"
    expired = agreements["wenlow-street-triage-evaluation-2024"]
    assert expired.status is AgreementStatus.ACTIVE and not expired.in_force(expired.end)  # type: ignore[arg-type]


def test_depersonalised_gateway_refuses_person_level_access_and_identifiers() -> None:
    raw = base() | {"gateway": "CDA1998_s17A"}
    found = problems(raw)
    assert any("datasets[0].access" in p and "cannot cover identifiable access" in p for p in found)
    assert any("datasets[0].fields" in p and "direct-identifier fields subject_token" in p for p in found)


def test_serious_violence_gateway_refuses_patient_information() -> None:
    raw = base() | {"gateway": "PCSCA2022_s16", "recipients": ["police-x"]}
    raw["parties"][1]["special_category_condition"] = {"basis": "UK GDPR Art 9(2)(h)",
                                                       "schedule_paragraph": "DPA 2018 Sch 1 para 2"}
    raw["datasets"][0] |= {"dataset": "demo-ae-attendances", "provider": "acute-x", "access": "pseudonymised"}
    raw["datasets"][0]["fields"] = [{"name": "subject_token", "classification": "direct_identifier"}]
    raw["purposes"] = ["svd_strategy"]
    found = problems(raw)
    assert found == ["datasets[0]: PCSCA2022_s16 cannot cover patient information: 'demo-ae-attendances' comes "
                     "from the NHS partner 'acute-x' (acute_trust) at person level"]


def test_serious_violence_gateway_refuses_personal_data_from_social_care() -> None:
    council = {"partner": "council-x", "name": "X Council", "kind": "council", "role": "controller",
               "lawful_basis": "uk_gdpr_6_1_e", "dpo_contact": "dpo@council.example", "social_care_authority": True}
    raw = base() | {"gateway": "PCSCA2022_s16"}
    raw["parties"].append(council)
    raw["sign_off"].append({"party": "council-x", "name": "C", "role": "SIRO", "date": "2025-12-12"})
    raw["datasets"].append({"dataset": "demo-council-reports", "provider": "council-x", "access": "pseudonymised",
                            "retention_months": 12, "fields": [{"name": "caller_token",
                                                                "classification": "direct_identifier"}]})
    found = problems(raw)
    assert len(found) == 1 and "personal data from a health or social care party" in found[0]


def test_aggregate_nhs_counts_may_rest_on_the_serious_violence_gateway() -> None:
    raw = base() | {"gateway": "PCSCA2022_s16", "purposes": ["svd_strategy"], "recipients": ["police-x"]}
    raw["datasets"] = [{"dataset": "demo-ae-attendances", "provider": "acute-x", "access": "aggregate",
                        "retention_months": 12, "fields": [{"name": "category", "classification": "other"}]}]
    assert parse_agreement(raw).gateway == "PCSCA2022_s16"


def test_sensitive_fields_need_the_providers_conditions() -> None:
    raw = base()
    raw["parties"][0] = _police()
    found = problems(raw)
    assert any("special category condition" in p and "'police-x'" in p for p in found)
    assert any("criminal offence condition" in p and "'police-x'" in p for p in found)


def test_an_active_agreement_needs_a_dpia_and_every_controllers_sign_off() -> None:
    raw = base()
    del raw["dpia"]
    raw["sign_off"] = raw["sign_off"][:1]
    found = problems(raw)
    assert "dpia: an active agreement needs a DPIA reference, date and outcome" in found
    assert any(p.startswith("sign_off:") and "'acute-x' has not signed" in p for p in found)
    raw["status"] = "draft"
    assert parse_agreement(raw).status is AgreementStatus.DRAFT


def test_a_rejected_dpia_cannot_back_an_active_agreement() -> None:
    raw = base()
    raw["dpia"]["outcome"] = "not_approved"
    assert problems(raw) == ["dpia.outcome: the DPIA was not approved, so the agreement cannot be active"]


def test_dates_must_run_start_review_end() -> None:
    found = problems(base() | {"start": "2026-01-01", "review": "2029-01-01", "end": "2025-06-01"})
    assert "end: the end date 2025-06-01 must be after the start 2026-01-01" in found
    assert "review: the review date 2029-01-01 must not be after the end 2025-06-01" in found


def test_recipients_and_providers_must_be_parties() -> None:
    raw = base() | {"recipients": ["acute-x", "council-y"]}
    raw["datasets"][0]["provider"] = "police-y"
    found = problems(raw)
    assert any(p.startswith("recipients[1]:") and "'council-y' is not a party" in p for p in found)
    assert any(p.startswith("datasets[0].provider:") for p in found)


def test_unknown_codes_get_a_did_you_mean() -> None:
    raw = base() | {"purposes": ["multi_agency_casework"], "gateway": "CDA1998_s151"}
    raw["datasets"][0]["fields"].append({"name": "subject_tokn", "classification": "other"})
    found = problems(raw)
    assert "purposes[0]: unknown purpose 'multi_agency_casework'; did you mean 'multi_agency_case_work'?" in found
    assert "gateway: unknown statutory gateway 'CDA1998_s151'; did you mean 'CDA1998_s115'?" in found
    assert "datasets[0].fields[3].name: unknown event field 'subject_tokn'; did you mean 'subject_token'?" in found


def test_identifiable_access_needs_a_person_level_purpose() -> None:
    found = problems(base() | {"purposes": ["demand_analysis"]})
    assert found == ["datasets[0].access: identifiable access needs a direct-care or case-work purpose "
                     "(direct_care_hiu, multi_agency_case_work)"]


def test_structural_problems_are_all_listed_with_their_key_paths() -> None:
    raw = copy.deepcopy(base())
    raw["status"] = "live"
    raw["parties"][1]["rol"] = "controller"
    raw["datasets"][0]["retention_months"] = 0
    del raw["output"]
    found = problems(raw)
    assert any(p.startswith("status:") and "'live'" in p for p in found)
    assert "parties[1].rol: unknown key; did you mean 'role'?" in found
    assert any(p.startswith("datasets[0].retention_months:") for p in found)
    assert "output: Field required" in found


def test_file_problems_name_the_line(tmp_path: Path) -> None:
    raw = base() | {"gateway": "CDA1998_s17A"}
    path = tmp_path / "agreement.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(AgreementError) as caught:
        load_agreement_file(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "access: identifiable" in text)
    assert any(p.startswith(f"datasets[0].access (line {line}): ") for p in caught.value.problems)
    assert str(path) in caught.value.message


def test_yaml_and_json_round_trip(tmp_path: Path) -> None:
    agreement = parse_agreement(base())
    for fmt in ("yaml", "json"):
        path = tmp_path / f"agreement.{fmt}"
        path.write_text(dump_agreement(agreement, fmt=fmt))
        assert load_agreement_file(path) == agreement
    assert json.loads(dump_agreement(agreement, fmt="json"))["output"]["disclosure_preset"] == "threshold10"


def test_broken_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(AgreementError, match="line 2, column 1: not valid YAML"):
        load_agreement_file(path)
    with pytest.raises(AgreementError, match="does not exist"):
        load_agreement_file(tmp_path / "missing.yaml")
    path.write_text("- a list\n")
    with pytest.raises(AgreementError, match="must be a mapping"):
        load_agreement_file(path)


def test_presets_are_ordered_strictest_first() -> None:
    order = sorted(DisclosurePreset, key=lambda p: p.strictness, reverse=True)
    assert order == [DisclosurePreset.THRESHOLD10, DisclosurePreset.OPENSAFELY, DisclosurePreset.NHS_SUBNATIONAL]
