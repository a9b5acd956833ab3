"""What one user may see for one declared purpose: the scope every page, API route and export reads through.

``read_scope`` asks the access layer for the user's grants and keeps the ones at aggregate level
or better. Outputs then read only those datasets, publish every count through the strictest
disclosure rule among the grants (``rule``), and offer only geography levels no finer than the
coarsest ``smallest_geography`` the governing agreements allow. Person-level reads go through
``authorise_records``, which demands a justification and writes the consultation to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from wholeplace.errors import UserError
from wholeplace.governance.access import AccessLevel, Grant, Principal, authorise, grants
from wholeplace.governance.agreements import DisclosurePreset
from wholeplace.governance.disclosure import DisclosureRule, rule_for
from wholeplace.store.operational import LevelRow
from wholeplace.store.stores import Stores

__all__ = ["MIN_JUSTIFICATION", "ReadScope", "authorise_records", "read_scope"]

MIN_JUSTIFICATION = 10  # characters: "case 123" is not a reason a reviewer can check


@dataclass(frozen=True)
class ReadScope:
    """The datasets a user may read for a purpose, and the output rules that follow from their grants."""

    principal: Principal
    purpose: str
    grants: tuple[Grant, ...]
    levels: tuple[str, ...]  # geography levels outputs may use, finest first

    @property
    def datasets(self) -> list[str]:
        return sorted({g.dataset for g in self.grants})

    @property
    def preset(self) -> DisclosurePreset:
        """The strictest preset among the grants; a partner's own data alone gets the default (opensafely)."""
        presets = [g.disclosure_preset for g in self.grants] or [DisclosurePreset.OPENSAFELY]
        return max(presets, key=lambda p: p.strictness)

    @property
    def rule(self) -> DisclosureRule:
        return rule_for(self.preset.value)

    def can_read(self, dataset: str) -> bool:
        return any(g.dataset == dataset for g in self.grants)

    def level_allowed(self, level: str) -> bool:
        return level in self.levels

    def record_level(self, dataset: str) -> bool:
        """Whether this user may see rows (pseudonymised or better) of ``dataset`` for this purpose."""
        return any(g.dataset == dataset and g.level.rank >= AccessLevel.PSEUDONYMISED.rank for g in self.grants)

    def record_datasets(self) -> list[str]:
        return sorted({g.dataset for g in self.grants if g.level.rank >= AccessLevel.PSEUDONYMISED.rank})


def read_scope(*, stores: Stores, principal: Principal, purpose: str, on: date | None = None) -> ReadScope:
    """The scope of ``principal`` for ``purpose`` today; an unknown purpose is refused and logged."""
    found = tuple(grants(stores=stores, principal=principal, purpose=purpose, on=on))
    return ReadScope(principal, purpose, found, _levels_allowed(stores, [g.smallest_geography for g in found]))


def authorise_records(*, stores: Stores, principal: Principal, purpose: str, dataset: str, justification: str | None,
                      what: dict[str, object], on: date | None = None) -> Grant:
    """Permit a person-level (pseudonymised) read and record it as a consultation, with its justification.

    A missing or too short justification is refused before anything is read; a read no agreement
    permits is refused (and logged) by the access layer.
    """
    from wholeplace.governance import audit  # the audit log builds on the access layer's types

    grant = authorise(stores=stores, principal=principal, purpose=purpose, dataset=dataset,
                      level=AccessLevel.PSEUDONYMISED, on=on)
    reason = (justification or "").strip()
    if len(reason) < MIN_JUSTIFICATION:
        raise JustificationNeeded()
    audit.record(stores=stores, action=audit.AuditAction.CONSULTATION, actor=principal.user_id,
                 partner=principal.partner, purpose=purpose, what={"dataset": dataset, **what},
                 justification=reason[:1000], agreement_id=grant.agreement_id,
                 agreement_version=grant.agreement_version)
    return grant


class JustificationNeeded(UserError):
    status = 422

    def __init__(self) -> None:
        super().__init__("Say why you need to see these records before they are shown.",
                         hint=f"Give a justification of at least {MIN_JUSTIFICATION} characters (for example the "
                              "case or the piece of work); it is kept in the audit log with your access.")


def _levels_allowed(stores: Stores, smallest: list[str | None]) -> tuple[str, ...]:
    """Loaded levels no finer than the coarsest named ``smallest_geography`` (by median area), finest first."""
    with stores.session() as session:
        loaded = session.execute(select(LevelRow.name, LevelRow.median_area_m2)).all()
    areas = {name: area or 0.0 for name, area in loaded}
    floors = [areas[name] for name in smallest if name and name in areas]
    unknown = [name for name in smallest if name and name not in areas]
    floor = max(floors, default=0.0)
    if unknown and not floors:  # an agreement names a level not loaded here: allow none finer than any loaded
        floor = max(areas.values(), default=0.0)
    return tuple(name for name, area in sorted(areas.items(), key=lambda item: item[1]) if area >= floor)
