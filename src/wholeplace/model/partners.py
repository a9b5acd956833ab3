"""Partner organisations and the kinds of partner in a place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PartnerKind(StrEnum):
    POLICE = "police"
    AMBULANCE = "ambulance"
    ACUTE_TRUST = "acute_trust"
    MENTAL_HEALTH_TRUST = "mental_health_trust"
    COUNCIL = "council"
    FIRE = "fire"
    VOLUNTARY = "voluntary"
    HOUSING = "housing"
    OTHER = "other"


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: PartnerKind
