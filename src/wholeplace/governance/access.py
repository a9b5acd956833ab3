"""The access layer: the one place that decides what a user may read, for which purpose, at what level.

Every read of partner data calls ``authorise`` (or ``grants`` / ``datasets_readable`` to
list what is open) with the user and a declared purpose. An answer comes only from an agreement
in force on the day (active, started, before its review and end dates, so access ends by
itself), naming the user's partner as a recipient and the purpose, and covering the dataset,
level and fields; or from the rule that a partner may always read its own data up to
pseudonymised level. The user's role then caps the level. Anything else is refused with a
message naming what is missing, and the refusal is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from fnmatch import fnmatchcase

from sqlalchemy import select

from wholeplace.errors import UserError
from wholeplace.governance.agreements import Agreement, DatasetTerms, DisclosurePreset
from wholeplace.governance.gateways import AccessLevel
from wholeplace.governance.purposes import PURPOSES, purpose_problem
from wholeplace.governance.registry import agreements_in_force, list_agreements
from wholeplace.store.operational import DatasetRow, LevelRow
from wholeplace.store.stores import Stores

__all__ = ["ALL_FIELDS", "AccessLevel", "AccessRefused", "Grant", "Principal", "Role", "authorise",
           "datasets_readable", "explain_refusal", "grants", "refuse", "role_cap"]

ALL_FIELDS = "*"  # a partner reading its own data reads every field
OWN_DATA_PRESET = DisclosurePreset.OPENSAFELY  # own data still leaves the platform through disclosure control


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    PRACTITIONER = "practitioner"
    IG_OFFICER = "ig_officer"
    ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class Principal:
    user_id: str
    partner: str
    role: Role


@dataclass(frozen=True)
class Grant:
    """Permission to read one dataset; ``agreement_id`` is None for a partner's own data."""

    dataset: str
    level: AccessLevel
    fields: tuple[str, ...]
    agreement_id: str | None
    agreement_version: int | None
    disclosure_preset: DisclosurePreset
    smallest_geography: str | None

    def missing_fields(self, fields: Iterable[str] | None) -> list[str]:
        if fields is None or ALL_FIELDS in self.fields:
            return []
        return [name for name in fields if name not in self.fields]


class AccessRefused(UserError):
    """A read was refused; the message names the agreement, purpose, dataset, level or field missing."""

    status = 403

    def __init__(self, message: str, *, principal: Principal, purpose: str, dataset: str | None,
                 level: AccessLevel | None, reasons: list[str]) -> None:
        super().__init__(message, hint="An information governance officer can say which agreement would cover "
                                       "this; `wholeplace agreements list` shows the agreements.")
        self.principal, self.purpose, self.dataset, self.level = principal, purpose, dataset, level
        self.reasons = reasons


def role_cap(role: Role, purpose: str) -> AccessLevel:
    """The most a role may read: governance and administration powers are not powers over data."""
    if role is Role.ANALYST:
        return AccessLevel.PSEUDONYMISED
    if role is Role.PRACTITIONER and purpose in PURPOSES and PURPOSES[purpose].person_level_work:
        return AccessLevel.IDENTIFIABLE
    return AccessLevel.AGGREGATE


def grants(*, stores: Stores, principal: Principal, purpose: str, on: date | None = None) -> list[Grant]:
    """Everything this user may read now for this purpose: one grant per dataset and agreement."""
    _require_purpose(stores, principal, purpose)
    cap, catalogue = role_cap(principal.role, purpose), _catalogue(stores)
    found = [_own_grant(code, cap) for code, owner in catalogue.items() if owner == principal.partner]
    for agreement in agreements_in_force(stores=stores, on=on or date.today()):
        if principal.partner in agreement.recipients and purpose in agreement.purposes:
            found += [_agreement_grant(agreement, terms, code, cap)
                      for terms in agreement.datasets for code in _matching(terms, catalogue)]
    return found


def authorise(*, stores: Stores, principal: Principal, purpose: str, dataset: str, level: AccessLevel | str,
              fields: Iterable[str] | None = None, on: date | None = None) -> Grant:
    """The grant that permits this read, with the strictest output rules of every grant of the
    dataset; or AccessRefused, logged, naming what is missing."""
    level, fields = AccessLevel(level), (list(fields) if fields is not None else None)
    candidates = [g for g in grants(stores=stores, principal=principal, purpose=purpose, on=on) if g.dataset == dataset]
    fitting = [g for g in candidates if g.level.rank >= level.rank and not g.missing_fields(fields)]
    if not fitting:
        reasons = explain_refusal(stores=stores, principal=principal, purpose=purpose, dataset=dataset, level=level,
                                  fields=fields, on=on)
        refuse(stores, principal, purpose, dataset, level, fields, reasons)
    best = min(fitting, key=lambda g: g.agreement_id is not None)  # own data needs no agreement
    return replace(best, disclosure_preset=max((g.disclosure_preset for g in candidates), key=lambda p: p.strictness),
                   smallest_geography=_coarsest(stores, [g.smallest_geography for g in candidates]))


def datasets_readable(*, stores: Stores, principal: Principal, purpose: str,
                      level: AccessLevel | str = AccessLevel.AGGREGATE, on: date | None = None) -> list[str]:
    rank = AccessLevel(level).rank
    found = grants(stores=stores, principal=principal, purpose=purpose, on=on)
    return sorted({g.dataset for g in found if g.level.rank >= rank})


def explain_refusal(*, stores: Stores, principal: Principal, purpose: str, dataset: str, level: AccessLevel,
                    fields: list[str] | None = None, on: date | None = None) -> list[str]:
    """Why no grant fits: the role's limit, and what the agreements nearest to granting it lack."""
    on, cap = on or date.today(), role_cap(principal.role, purpose)
    reasons = []
    if level.rank > cap.rank:
        reasons.append(f"the role {principal.role} may read at most {cap} data for '{purpose}'")
    if _catalogue(stores).get(dataset) == principal.partner and level.rank > AccessLevel.PSEUDONYMISED.rank:
        reasons.append(f"'{dataset}' is {principal.partner}'s own data, which it reads up to pseudonymised level "
                       "without an agreement; identifiable access needs an agreement")
    lacking = [_lacks(s.agreement, t, principal, purpose, level, fields, on)
               for s in list_agreements(stores=stores) for t in s.agreement.datasets if fnmatchcase(dataset, t.dataset)]
    if not lacking:
        reasons.append(f"no agreement covers the dataset '{dataset}'")
    else:  # only the nearest agreements: those that lack the least, so the message says what would suffice
        fewest = min(map(len, lacking))
        reasons += list(dict.fromkeys(r for lacks in lacking if len(lacks) == fewest for r in lacks))
    return reasons or [f"no agreement in force lets {principal.partner} read '{dataset}' at {level} level"]


def _lacks(agreement: Agreement, terms: DatasetTerms, principal: Principal, purpose: str, level: AccessLevel,
           fields: list[str] | None, on: date) -> list[str]:
    name = f"agreement '{agreement.id}' (version {agreement.version})"
    reasons = [f"{name} is {agreement.status}, not active"] if agreement.status != "active" else []
    reasons += _dates(name, agreement, on)
    if principal.partner not in agreement.recipients:
        reasons.append(f"{name} does not name {principal.partner} as a recipient")
    if purpose not in agreement.purposes:
        reasons.append(f"{name} does not cover the purpose '{purpose}' (it covers {', '.join(agreement.purposes)})")
    if level.rank > terms.access.rank:
        reasons.append(f"{name} allows only {terms.access} access to '{terms.dataset}'")
    missing = [f for f in fields or [] if f not in {t.name for t in terms.fields}]
    if missing:
        reasons.append(f"{name} does not include the fields {', '.join(missing)} of '{terms.dataset}'")
    return reasons


def _dates(name: str, agreement: Agreement, on: date) -> list[str]:
    if on < agreement.start:
        return [f"{name} starts on {agreement.start}"]
    if agreement.end is not None and on >= agreement.end:
        return [f"{name} ended on {agreement.end}"]
    if on >= agreement.review:
        return [f"{name} passed its review date {agreement.review} without being renewed"]
    return []


def refuse(stores: Stores, principal: Principal, purpose: str, dataset: str | None, level: AccessLevel | None,
            fields: list[str] | None, reasons: list[str]) -> None:
    from wholeplace.governance import audit  # imported here: the audit log builds on this layer's types

    what = {"dataset": dataset, "level": str(level) if level else None, "fields": fields, "reasons": reasons}
    audit.record(stores=stores, action="refusal", actor=principal.user_id, partner=principal.partner,
                 purpose=purpose[:100], what=what, outcome="refused")
    target = f"'{dataset}' at {level} level" if dataset else "partner data"
    raise AccessRefused(f"{principal.user_id} ({principal.role}, {principal.partner}) may not read {target} "
                        f"for '{purpose}': " + "; ".join(reasons),
                        principal=principal, purpose=purpose, dataset=dataset, level=level, reasons=reasons)


def _require_purpose(stores: Stores, principal: Principal, purpose: str) -> None:
    if problem := purpose_problem(purpose):
        refuse(stores, principal, purpose, None, None, None, [f"every read declares a known purpose: {problem}"])


def _catalogue(stores: Stores) -> dict[str, str]:
    """Dataset code → providing partner, for every dataset in the store."""
    with stores.session() as session:
        return dict(session.execute(select(DatasetRow.code, DatasetRow.partner_code)).all())


def _matching(terms: DatasetTerms, catalogue: dict[str, str]) -> list[str]:
    """Stored datasets of the provider matching the code or pattern; an exact code counts even before it is loaded."""
    codes = [code for code, owner in catalogue.items() if owner == terms.provider and fnmatchcase(code, terms.dataset)]
    exact = not any(ch in terms.dataset for ch in "*?[") and terms.dataset not in catalogue
    return [*codes, terms.dataset] if exact else codes


def _own_grant(code: str, cap: AccessLevel) -> Grant:
    level = min(cap, AccessLevel.PSEUDONYMISED, key=lambda lv: lv.rank)
    return Grant(code, level, (ALL_FIELDS,), None, None, OWN_DATA_PRESET, None)


def _agreement_grant(agreement: Agreement, terms: DatasetTerms, code: str, cap: AccessLevel) -> Grant:
    level = min(cap, terms.access, key=lambda lv: lv.rank)
    return Grant(code, level, tuple(f.name for f in terms.fields), agreement.id, agreement.version,
                 agreement.output.disclosure_preset, agreement.output.smallest_geography)


def _coarsest(stores: Stores, levels: list[str | None]) -> str | None:
    """The coarsest of the named geography levels (largest median area); unknown levels rank finest."""
    named = [lv for lv in levels if lv]
    if not named:
        return None
    with stores.session() as session:
        areas = dict(session.execute(select(LevelRow.name, LevelRow.median_area_m2)
                                     .where(LevelRow.name.in_(named))).all())
    return max(named, key=lambda lv: areas.get(lv, -1.0))
