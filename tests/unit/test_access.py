"""The access layer on a temporary store holding the demo place's partners, datasets and agreements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from wholeplace.governance import audit
from wholeplace.governance.access import (
    ALL_FIELDS,
    AccessLevel,
    AccessRefused,
    Principal,
    Role,
    authorise,
    datasets_readable,
    grants,
)
from wholeplace.governance.agreements import AgreementStatus, DisclosurePreset, load_agreement_file
from wholeplace.governance.registry import EXAMPLES, load_example_agreements, save_agreement, set_status
from wholeplace.store.operational import DatasetRow, LevelRow, PartnerRow
from wholeplace.store.stores import Stores

TODAY = date(2026, 11, 22)
POLICE, ACUTE, MH, COUNCIL = "police-wenlow-vale-constabulary", "acute-wenlow-general", "mh-wenlow-vale", \
    "council-wenlow-vale"
DATASETS = {
    "demo-police-calls": (POLICE, "police"), "police-uk-street-wenlow-vale-constabulary": (POLICE, "police"),
    "demo-ambulance-incidents": ("ambulance-wenlow-vale", "ambulance"),
    "demo-ae-attendances": (ACUTE, "acute_trust"), "demo-crisis-contacts": (MH, "mental_health_trust"),
    "demo-council-reports": (COUNCIL, "council"),
}
CASE_WORK = "wenlow-police-nhs-case-work"


@pytest.fixture
def demo(stores: Stores) -> Stores:
    with stores.session() as session:
        for partner, kind in set(DATASETS.values()):
            session.add(PartnerRow(code=partner, name=partner, kind=kind))
        session.flush()
        for code, (partner, _) in DATASETS.items():
            session.add(DatasetRow(code=code, partner_code=partner, kind="events", title=code))
    load_example_agreements(stores=stores)
    return stores


def who(partner: str, role: Role) -> Principal:
    return Principal(user_id=f"{role}@{partner}", partner=partner, role=role)


def refusal(stores: Stores, **request: object) -> AccessRefused:
    request = {"purpose": "multi_agency_case_work", "dataset": "demo-police-calls",
               "level": AccessLevel.PSEUDONYMISED, "on": TODAY} | request
    with pytest.raises(AccessRefused) as caught:
        authorise(stores=stores, **request)  # type: ignore[arg-type]
    return caught.value


def test_an_nhs_analyst_is_refused_police_person_level_data_under_a_draft_agreement(demo: Stores) -> None:
    analyst = who(ACUTE, Role.ANALYST)
    refused = refusal(demo, principal=analyst)
    assert refused.reasons == [f"agreement '{CASE_WORK}' (version 1) is draft, not active"]
    assert (refused.principal, refused.dataset, refused.level) == (analyst, "demo-police-calls", "pseudonymised")
    readable = datasets_readable(stores=demo, principal=analyst, purpose="multi_agency_case_work",
                                 level=AccessLevel.PSEUDONYMISED, on=TODAY)
    assert "demo-police-calls" not in readable


def test_a_refusal_is_logged_with_what_was_missing(demo: Stores) -> None:
    refusal(demo, principal=who(ACUTE, Role.ANALYST))
    entries, total = audit.search(stores=demo, action="refusal")
    assert total == 1
    [entry] = entries
    assert (entry.actor, entry.partner, entry.purpose, entry.outcome) == (
        "analyst@acute-wenlow-general", ACUTE, "multi_agency_case_work", "refused")
    assert entry.what["dataset"] == "demo-police-calls"
    assert entry.what["reasons"] == [f"agreement '{CASE_WORK}' (version 1) is draft, not active"]


def test_once_active_the_agreement_grants_by_role(demo: Stores) -> None:
    set_status(stores=demo, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE, actor="ig@council")
    grant = authorise(stores=demo, principal=who(ACUTE, Role.ANALYST), purpose="multi_agency_case_work",
                      dataset="demo-police-calls", level="pseudonymised", fields=["subject_token"], on=TODAY)
    assert (grant.agreement_id, grant.agreement_version, grant.level) == (CASE_WORK, 2, AccessLevel.PSEUDONYMISED)
    assert grant.disclosure_preset is DisclosurePreset.THRESHOLD10
    practitioner = authorise(stores=demo, principal=who(MH, Role.PRACTITIONER), purpose="multi_agency_case_work",
                             dataset="demo-police-calls", level="identifiable", on=TODAY)
    assert practitioner.level is AccessLevel.IDENTIFIABLE
    refused = refusal(demo, principal=who(ACUTE, Role.ANALYST), level=AccessLevel.IDENTIFIABLE)
    assert refused.reasons == ["the role analyst may read at most pseudonymised data for 'multi_agency_case_work'"]


def test_fields_outside_the_agreement_are_refused_by_name(demo: Stores) -> None:
    set_status(stores=demo, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE)
    refused = refusal(demo, principal=who(ACUTE, Role.PRACTITIONER), fields=["subject_token", "caller_token"])
    assert refused.reasons == [f"agreement '{CASE_WORK}' (version 2) does not include the fields caller_token of "
                               "'demo-police-calls'"]
    assert "caller_token" in refused.message


@pytest.mark.parametrize("role", [Role.VIEWER, Role.IG_OFFICER, Role.ADMINISTRATOR])
def test_roles_without_data_powers_read_aggregates_only(demo: Stores, role: Role) -> None:
    set_status(stores=demo, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE)
    principal = who(ACUTE, role)
    refused = refusal(demo, principal=principal)
    assert refused.reasons == [f"the role {role} may read at most aggregate data for 'multi_agency_case_work'"]
    found = grants(stores=demo, principal=principal, purpose="multi_agency_case_work", on=TODAY)
    assert {g.level for g in found} == {AccessLevel.AGGREGATE}


def test_practitioners_get_identifiable_access_only_for_case_work_and_direct_care(demo: Stores) -> None:
    principal = who(ACUTE, Role.PRACTITIONER)
    hiu = authorise(stores=demo, principal=principal, purpose="direct_care_hiu", dataset="demo-ambulance-incidents",
                    level="identifiable", on=TODAY)
    assert hiu.agreement_id == "wenlow-hiu-direct-care"
    crisis = refusal(demo, principal=principal, purpose="direct_care_hiu", dataset="demo-crisis-contacts",
                     level=AccessLevel.IDENTIFIABLE)
    assert crisis.reasons == ["agreement 'wenlow-hiu-direct-care' (version 1) allows only pseudonymised access to "
                              "'demo-crisis-contacts'"]
    refused = refusal(demo, principal=principal, purpose="demand_analysis", dataset="demo-ae-attendances")
    assert refused.reasons[0] == "the role practitioner may read at most aggregate data for 'demand_analysis'"


def test_every_partner_reads_every_partners_aggregates_for_the_strategic_assessment(demo: Stores) -> None:
    readable = datasets_readable(stores=demo, principal=who(COUNCIL, Role.VIEWER), purpose="csp_strategic_assessment",
                                 on=TODAY)
    assert readable == sorted(DATASETS)
    grant = authorise(stores=demo, principal=who(COUNCIL, Role.VIEWER), purpose="csp_strategic_assessment",
                      dataset="demo-ae-attendances", level="aggregate", fields=["category", "area_code"], on=TODAY)
    assert (grant.disclosure_preset, grant.smallest_geography) == (DisclosurePreset.OPENSAFELY, "lsoa")


def test_a_partner_reads_its_own_data_up_to_pseudonymised_for_any_purpose(demo: Stores) -> None:
    analyst = who(POLICE, Role.ANALYST)
    grant = authorise(stores=demo, principal=analyst, purpose="research", dataset="demo-police-calls",
                      level="pseudonymised", fields=["subject_token", "caller_token"], on=TODAY)
    assert (grant.agreement_id, grant.fields) == (None, (ALL_FIELDS,))
    refused = refusal(demo, principal=who(POLICE, Role.PRACTITIONER), level=AccessLevel.IDENTIFIABLE)
    assert any("own data" in reason for reason in refused.reasons)
    assert refusal(demo, principal=analyst, purpose="research", dataset="demo-ae-attendances").reasons


def test_access_ends_by_itself_at_the_review_and_end_dates(demo: Stores) -> None:
    request = {"principal": who(MH, Role.ANALYST), "purpose": "evaluation", "dataset": "demo-police-calls",
               "level": AccessLevel.PSEUDONYMISED}
    grant = authorise(stores=demo, on=date(2024, 6, 1), **request)  # type: ignore[arg-type]
    assert grant.agreement_id == "wenlow-street-triage-evaluation-2024"
    after_review = refusal(demo, on=date(2025, 3, 15), **request)
    assert "passed its review date 2025-03-01 without being renewed" in after_review.message
    ended = refusal(demo, on=TODAY, **request)
    assert "ended on 2025-03-31" in ended.message
    assert refusal(demo, on=date(2024, 3, 1), **request).reasons[0].endswith("starts on 2024-04-01")


def test_the_strictest_preset_and_coarsest_geography_apply_when_agreements_overlap(demo: Stores) -> None:
    with demo.session() as session:
        for name, area in (("lsoa", 1e6), ("msoa", 5e6)):
            session.add(LevelRow(name=name, hierarchy="census", title=name, features=1, median_area_m2=area,
                                 source_file="-", source_sha256="-", code_field="c", name_field="n",
                                 loaded_at=datetime.now(UTC)))
    csp = load_agreement_file(EXAMPLES / "csp-strategic-assessment.yaml")
    stricter = csp.model_copy(update={"id": "wenlow-demand-review", "purposes": ["demand_analysis"],
                                      "output": csp.output.model_copy(update={
                                          "disclosure_preset": DisclosurePreset.THRESHOLD10,
                                          "smallest_geography": "msoa"})})
    save_agreement(stores=demo, agreement=stricter)
    grant = authorise(stores=demo, principal=who(ACUTE, Role.VIEWER), purpose="demand_analysis",
                      dataset="demo-police-calls", level="aggregate", on=TODAY)
    assert (grant.disclosure_preset, grant.smallest_geography) == (DisclosurePreset.THRESHOLD10, "msoa")


def test_an_unknown_purpose_is_refused_with_a_suggestion(demo: Stores) -> None:
    with pytest.raises(AccessRefused, match="did you mean 'demand_analysis'") as caught:
        grants(stores=demo, principal=who(ACUTE, Role.ANALYST), purpose="demand_analysys", on=TODAY)
    assert caught.value.dataset is None


def test_a_dataset_no_agreement_mentions_is_refused_as_such(demo: Stores) -> None:
    refused = refusal(demo, principal=who(ACUTE, Role.ANALYST), purpose="research", dataset="unknown-feed",
                      level=AccessLevel.AGGREGATE)
    assert refused.reasons == ["no agreement covers the dataset 'unknown-feed'"]
