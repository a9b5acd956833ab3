"""Purposes for which partner data may be read: enumerated codes, as the ICO data sharing code asks.

Every read declares one of these codes and an agreement must list it (purpose limitation).
Only the direct-care and case-work purposes can ever justify identifiable access; that rule
lives here so the agreement checks and the access layer agree on it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Purpose:
    code: str
    title: str
    description: str
    person_level_work: bool = False  # may justify identifiable access for practitioners


PURPOSES: dict[str, Purpose] = {p.code: p for p in (
    Purpose("csp_strategic_assessment", "Community safety strategic assessment",
            "The Community Safety Partnership's annual assessment of crime and disorder (CDA 1998 s6 and s17A)."),
    Purpose("svd_strategy", "Serious violence strategic needs assessment",
            "The Serious Violence Duty's needs assessment and strategy (PCSCA 2022 Part 2)."),
    Purpose("demand_analysis", "Demand analysis",
            "Understanding the volume, timing and places of demand on services, to plan and redesign them."),
    Purpose("outcomes_monitoring", "Outcomes monitoring",
            "Tracking whether a service or intervention achieves its intended outcomes."),
    Purpose("evaluation", "Service evaluation",
            "A time-limited evaluation of a service or pilot, reported in aggregate."),
    Purpose("research", "Research",
            "Research approved by an ethics committee; outputs leave only through disclosure control."),
    Purpose("direct_care_hiu", "Direct care: high intensity use",
            "Identifying and supporting people who make high intensity use of urgent care, as part of their care.",
            person_level_work=True),
    Purpose("multi_agency_case_work", "Multi-agency case work",
            "Named practitioners working together on an individual's case (safeguarding, vulnerability, MASH).",
            person_level_work=True),
)}


def purpose_problem(code: str) -> str | None:
    """None for a known purpose code, else a message with a "did you mean"."""
    if code in PURPOSES:
        return None
    close = difflib.get_close_matches(code, PURPOSES, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known purposes: {', '.join(PURPOSES)}"
    return f"unknown purpose '{code}'; {hint}"
