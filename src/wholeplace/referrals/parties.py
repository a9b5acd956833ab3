"""Who is on each side of a referral, and what they may do.

The receiving side is the Wholeplace partner that owns the service: the service's directory
organisation is looked up in ``referral_organisations`` (organisation id → partner code, filled in by
an administrator or by the demo). An organisation with no partner there is referred to by email: the
provider gets the notification at the service's email (or its organisation's), and the referrer records
the provider's answers on the referral for them.

Only practitioners and administrators make and see referrals, and only those of the referring and the
receiving partner; anyone else is told there is no such referral.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wholeplace.directory.store import DirectoryRecordRow, DirectoryServiceRow
from wholeplace.errors import NotFoundError, UserError
from wholeplace.governance.access import Role
from wholeplace.governance.users import User
from wholeplace.referrals.model import Side
from wholeplace.referrals.store import ReferralOrganisationRow, ReferralRow, referral_session
from wholeplace.store.stores import Stores

REFERRING_ROLES = frozenset({Role.PRACTITIONER, Role.ADMINISTRATOR})


class NotAllowed(UserError):
    status = 403


@dataclass(frozen=True)
class Receiver:
    """Where a referral to a service goes: a partner in Wholeplace, or the provider by email."""

    service_id: str
    service_name: str
    organization_id: str | None
    partner: str | None
    provider_email: str | None


def check_role(user: User) -> None:
    if user.role not in REFERRING_ROLES:
        raise NotAllowed(f"Only practitioners and administrators work with referrals; you are signed in as "
                         f"{user.role.value.replace('_', ' ')}.",
                         hint="Ask your organisation's administrator if you need to make referrals.")


def sides(user: User, row: ReferralRow) -> frozenset[Side]:
    """The sides ``user`` acts for on this referral (none: they may not see it)."""
    if user.role not in REFERRING_ROLES:
        return frozenset()
    found = set()
    if user.partner == row.referring_partner:
        found.add(Side.REFERRER)
        if row.receiving_partner is None:
            found.add(Side.RECEIVER)  # the provider is reached by email; the referrer records its answers
    if user.partner == row.receiving_partner:
        found.add(Side.RECEIVER)
    return frozenset(found)


def receiver_for(session: Session, service_id: str) -> Receiver:
    """The receiving side of a referral to ``service_id``, from the directory and the organisation map."""
    service = session.get(DirectoryServiceRow, service_id)
    if service is None:
        raise NotFoundError(f"No service in the directory has the id {service_id}.",
                            hint="Find the service in the directory and use its 'Refer someone' link.")
    org_id = service.organization_id
    mapped = session.get(ReferralOrganisationRow, org_id) if org_id else None
    email = None if mapped else _provider_email(session, service.document, org_id)
    if mapped is None and not email:
        raise UserError(f"The service '{service.name}' cannot take referrals through Wholeplace: its organisation "
                        "is not a partner here and the directory gives no email address for it.",
                        hint="Contact the service directly, or ask an administrator to map its organisation to a "
                             "partner (wholeplace referrals map-organisation).")
    return Receiver(service_id, service.name, org_id, mapped.partner if mapped else None, email)


def _provider_email(session: Session, document: dict, org_id: str | None) -> str | None:
    if document.get("email"):
        return str(document["email"])
    organisation = session.get(DirectoryRecordRow, ("organization", org_id)) if org_id else None
    return str(organisation.document.get("email") or "") or None if organisation else None


def map_organisation(*, stores: Stores, organization_id: str, partner: str) -> None:
    """Send referrals for a directory organisation's services to ``partner`` (replaces an earlier mapping)."""
    if not organization_id.strip() or not partner.strip():
        raise UserError("Both the organisation id and the partner code are needed.",
                        hint="For example: wholeplace referrals map-organisation ORG-ID council-wenlow-vale")
    with referral_session(stores) as session:
        session.merge(ReferralOrganisationRow(organization_id=organization_id.strip(), partner=partner.strip()))


def organisation_partners(*, stores: Stores) -> dict[str, str]:
    with referral_session(stores) as session:
        return dict(session.execute(select(ReferralOrganisationRow.organization_id,
                                           ReferralOrganisationRow.partner)).all())


# The demo directory's organisations (synth/directory_data/organisations.yaml keys) run by demo partners.
# The ICB, the Police and Crime Commissioner and the voluntary sector are not demo partners, so
# referrals to their services go to the provider by email.
DEMO_PARTNERS = {"police": "police-wenlow-vale-constabulary", "ambulance": "ambulance-wenlow-vale",
                 "acute": "acute-wenlow-general", "mhtrust": "mh-wenlow-vale", "council": "council-wenlow-vale"}


def map_demo_organisations(*, stores: Stores, seed: int) -> dict[str, str]:
    """Map the demo partners' organisations (their ids depend on the seed); returns id -> partner."""
    from wholeplace.synth.directory import stable_id

    mapping = {stable_id(seed, "organization", key): partner for key, partner in DEMO_PARTNERS.items()}
    for organization_id, partner in mapping.items():
        map_organisation(stores=stores, organization_id=organization_id, partner=partner)
    return mapping
