"""Statutory gateways for sharing, the levels of access, and what each gateway cannot cover.

A gateway is the legal power that lets a party disclose. Each one here carries the limits the
agreement checks enforce, so that an agreement resting on the wrong power is refused rather
than trusted: a gateway for depersonalised data cannot carry person-level data, and the
Serious Violence Duty gateway cannot carry patient information or personal data from a
health or social care party (PCSCA 2022 s16(4)).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from wholeplace.model.partners import PartnerKind

if TYPE_CHECKING:
    from wholeplace.governance.agreements import Agreement, DatasetTerms, Party


class AccessLevel(StrEnum):
    """How much of a dataset a reader sees, from least to most; compare with ``rank``."""

    AGGREGATE = "aggregate"
    PSEUDONYMISED = "pseudonymised"
    IDENTIFIABLE = "identifiable"

    @property
    def rank(self) -> int:
        return list(AccessLevel).index(self)


# Partners whose person-level data is patient information (confidential patient information).
NHS_KINDS = frozenset({PartnerKind.ACUTE_TRUST, PartnerKind.AMBULANCE, PartnerKind.MENTAL_HEALTH_TRUST})


@dataclass(frozen=True)
class Gateway:
    code: str
    title: str
    citation: str
    max_level: AccessLevel  # the most a dataset shared under it may be read at
    allows_direct_identifiers: bool = True
    excludes_patient_information: bool = False
    excludes_health_and_social_care_personal_data: bool = False


GATEWAYS: dict[str, Gateway] = {g.code: g for g in (
    Gateway("CDA1998_s115", "Crime and Disorder Act 1998 s115 (power to disclose)",
            "Crime and Disorder Act 1998, section 115", AccessLevel.IDENTIFIABLE),
    Gateway("CDA1998_s17A", "Crime and Disorder Act 1998 s17A (duty to share depersonalised information)",
            "Crime and Disorder Act 1998, section 17A; SI 2007/1831", AccessLevel.AGGREGATE,
            allows_direct_identifiers=False),
    Gateway("PCSCA2022_s16", "Police, Crime, Sentencing and Courts Act 2022 s16 (Serious Violence Duty)",
            "Police, Crime, Sentencing and Courts Act 2022, section 16", AccessLevel.IDENTIFIABLE,
            excludes_patient_information=True, excludes_health_and_social_care_personal_data=True),
    Gateway("NHSAct2006_s251", "NHS Act 2006 s251 support (Confidentiality Advisory Group)",
            "National Health Service Act 2006, section 251; Health Service (Control of Patient Information) "
            "Regulations 2002", AccessLevel.PSEUDONYMISED),
    Gateway("direct_care", "Direct care (Health and Social Care Act 2012 s251B)",
            "Health and Social Care Act 2012, section 251B (duty to share for individual care)",
            AccessLevel.IDENTIFIABLE),
    Gateway("consent", "Consent of each data subject", "UK GDPR Art 6(1)(a); common-law consent",
            AccessLevel.IDENTIFIABLE),
    Gateway("CA2004_s10", "Children Act 2004 s10 (co-operation to improve well-being)",
            "Children Act 2004, section 10", AccessLevel.IDENTIFIABLE),
)}


def gateway_problem(code: str) -> str | None:
    """None for a known gateway code, else a message with a "did you mean"."""
    if code in GATEWAYS:
        return None
    close = difflib.get_close_matches(code, GATEWAYS, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known gateways: {', '.join(GATEWAYS)}"
    return f"unknown statutory gateway '{code}'; {hint}"


def gateway_problems(agreement: Agreement) -> list[tuple[str, str]]:
    """What the agreement's gateway cannot cover: (key path, message) for each dataset term."""
    gateway = GATEWAYS.get(agreement.gateway)
    if gateway is None:
        return []  # reported as an unknown code
    problems = []
    for i, terms in enumerate(agreement.datasets):
        provider = agreement.party(terms.provider)
        problems += [(f"datasets[{i}]{key}", message) for key, message in _limits(gateway, terms, provider)]
    return problems


def _limits(gateway: Gateway, terms: DatasetTerms, provider: Party | None) -> list[tuple[str, str]]:
    problems = []
    if terms.access.rank > gateway.max_level.rank:
        problems.append((".access", f"{gateway.code} covers {gateway.max_level} data only; it cannot cover "
                         f"{terms.access} access"))
    direct = [f.name for f in terms.fields if f.classification == "direct_identifier"]
    if direct and not gateway.allows_direct_identifiers:
        problems.append((".fields", f"{gateway.code} covers depersonalised data only; it cannot cover the "
                         f"direct-identifier fields {', '.join(direct)}"))
    if provider is not None and _is_personal(terms):
        if gateway.excludes_patient_information and provider.kind in NHS_KINDS:
            problems.append(("", f"{gateway.code} cannot cover patient information: '{terms.dataset}' comes from "
                             f"the NHS partner '{provider.partner}' ({provider.kind}) at person level"))
        elif gateway.excludes_health_and_social_care_personal_data and provider.social_care_authority:
            problems.append(("", f"{gateway.code} cannot cover personal data from a health or social care party: "
                             f"'{terms.dataset}' comes from '{provider.partner}' at person level"))
    return problems


def _is_personal(terms: DatasetTerms) -> bool:
    """Person-level: read above aggregate, or carrying any field that identifies or describes a person."""
    personal = {"direct_identifier", "quasi_identifier", "special_category", "criminal_offence"}
    return terms.access is not AccessLevel.AGGREGATE or any(f.classification in personal for f in terms.fields)
