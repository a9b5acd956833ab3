"""Data sharing agreements as machine-readable records, following the ICO data sharing code.

An agreement says who shares what with whom, why, on which legal power, at what level of
access, for how long and under which output rules. The platform enforces it on every read
(see ``access``), so a wrong agreement must be refused before it is stored: ``parse_agreement``
and ``load_agreement_file`` report every problem at once, each named by its key path and, for
files, its line. docs/agreements.md documents every key and check.
"""

from __future__ import annotations

import difflib
import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wholeplace.errors import UserError
from wholeplace.governance.gateways import AccessLevel, gateway_problem, gateway_problems
from wholeplace.governance.purposes import PURPOSES, purpose_problem
from wholeplace.ingest.mapping_file import key_path, locate_key
from wholeplace.model.events import EVENT_FIELDS
from wholeplace.model.partners import PartnerKind

# Fields an agreement can name: the canonical event fields and the columns the events view computes.
KNOWN_FIELDS = (*(f.name for f in EVENT_FIELDS), "area_code", "area_level", "place_status")
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class PartyRole(StrEnum):
    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint_controller"
    PROCESSOR = "processor"


class LawfulBasis(StrEnum):
    """UK GDPR Art 6(1) bases, and DPA 2018 Part 3 s35 for law-enforcement processing."""

    CONSENT = "uk_gdpr_6_1_a"
    CONTRACT = "uk_gdpr_6_1_b"
    LEGAL_OBLIGATION = "uk_gdpr_6_1_c"
    VITAL_INTERESTS = "uk_gdpr_6_1_d"
    PUBLIC_TASK = "uk_gdpr_6_1_e"
    LEGITIMATE_INTERESTS = "uk_gdpr_6_1_f"
    LAW_ENFORCEMENT = "dpa2018_s35"


class Classification(StrEnum):
    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SPECIAL_CATEGORY = "special_category"
    CRIMINAL_OFFENCE = "criminal_offence"
    OTHER = "other"


class DisclosurePreset(StrEnum):
    """Disclosure control presets, strictest first (``strictness`` orders them).

    threshold10 hides every count below 10; opensafely hides 1-7 and rounds the rest to 5 with
    totals summed from the rounded cells; nhs_subnational hides 1-7 and rounds, but rounds totals
    from the unrounded values, which tells a reader more about the hidden cells.
    """

    THRESHOLD10 = "threshold10"
    OPENSAFELY = "opensafely"
    NHS_SUBNATIONAL = "nhs_subnational"

    @property
    def strictness(self) -> int:
        return len(DisclosurePreset) - list(DisclosurePreset).index(self)


class DpiaOutcome(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_ACTIONS = "approved_with_actions"
    NOT_APPROVED = "not_approved"


class Condition(_Strict):
    """An Art 9 / Art 10 condition with its DPA 2018 schedule paragraph (or Part 3 s35 and Sch 8)."""

    basis: Annotated[str, Field(pattern=r"(Art(icle)?\.? ?(9\(2\)\([a-j]\)|10)|s35\([45]\))")]
    schedule_paragraph: Annotated[str, Field(pattern=r"Sch(edule)?\.? ?[18],? para(graph)?\.? ?\d+")]
    policy_document: Text | None = None


class Party(_Strict):
    partner: Slug
    name: Text
    kind: PartnerKind
    role: PartyRole
    lawful_basis: LawfulBasis
    social_care_authority: bool = False  # a council sharing under its social services functions
    special_category_condition: Condition | None = None
    criminal_offence_condition: Condition | None = None
    dpo_contact: Text


class FieldTerms(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    classification: Classification


class DatasetTerms(_Strict):
    dataset: Annotated[str, Field(pattern=r"^[a-z0-9*?][a-z0-9*?-]*$", max_length=100)]  # a code or glob pattern
    provider: Slug
    fields: Annotated[list[FieldTerms], Field(min_length=1)]
    access: AccessLevel
    retention_months: Annotated[int, Field(ge=1, le=600)]


class OutputRules(_Strict):
    disclosure_preset: DisclosurePreset
    smallest_geography: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class Dpia(_Strict):
    reference: Text
    date: date
    outcome: DpiaOutcome


class SignOff(_Strict):
    party: Slug
    name: Text
    role: Text
    date: date


class Agreement(_Strict):
    id: Slug
    version: Annotated[int, Field(ge=1)] = 1
    title: Text
    status: AgreementStatus
    parties: Annotated[list[Party], Field(min_length=1)]
    recipients: Annotated[list[Slug], Field(min_length=1)]
    purposes: Annotated[list[str], Field(min_length=1)]
    gateway: str
    datasets: Annotated[list[DatasetTerms], Field(min_length=1)]
    output: OutputRules
    start: date
    review: date
    end: date | None = None
    dpia: Dpia | None = None
    sign_off: list[SignOff] = Field(default_factory=list)

    def party(self, partner: str) -> Party | None:
        return next((p for p in self.parties if p.partner == partner), None)

    def in_force(self, on: date) -> bool:
        """Active and within its dates: access ends by itself at the review or end date."""
        ended = self.end is not None and on >= self.end
        return self.status is AgreementStatus.ACTIVE and self.start <= on < self.review and not ended


class AgreementError(UserError):
    """An agreement is incomplete or contradictory; lists every problem with its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The agreement {source} cannot be accepted; nothing was changed:\n{lines}",
                         hint="Fix the keys named above; docs/agreements.md lists every key and check.")


def parse_agreement(raw: Any, *, source: str = "(agreement)", text: str | None = None) -> Agreement:
    """Validate a parsed document (YAML or JSON) into an Agreement, or raise AgreementError."""
    if not isinstance(raw, dict):
        raise AgreementError(source, ["the document must be a mapping of keys (id:, title:, status:, ...)"])
    try:
        agreement = Agreement.model_validate(raw)
    except ValidationError as exc:
        raise AgreementError(source, [_describe(error, text) for error in exc.errors()]) from None
    problems = check_agreement(agreement)
    if problems:
        raise AgreementError(source, [f"{key}{_where(text, key)}: {message}" for key, message in problems])
    return agreement


def load_agreement_file(path: Path) -> Agreement:
    """Read an agreement from a YAML or JSON file (JSON is YAML, so one parser reads both)."""
    if not path.is_file():
        raise AgreementError(str(path), ["the file does not exist; check the path"])
    try:
        text = path.read_text(encoding="utf-8-sig")
        raw = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise AgreementError(str(path), [f"the file is not UTF-8 text ({exc.reason})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise AgreementError(str(path), [f"{where}not valid YAML or JSON: {getattr(exc, 'problem', exc)}"]) from None
    return parse_agreement(raw, source=str(path), text=text)


def agreement_document(agreement: Agreement) -> dict[str, Any]:
    """The agreement as plain JSON-ready data, in the same shape as the files."""
    return agreement.model_dump(mode="json", exclude_none=True)


def dump_agreement(agreement: Agreement, *, fmt: str = "yaml") -> str:
    document = agreement_document(agreement)
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def check_agreement(agreement: Agreement) -> list[tuple[str, str]]:
    """Checks across keys, which the models cannot make one key at a time: (key path, message)."""
    return (_check_codes(agreement) + _check_fields(agreement) + _check_dates(agreement) + _check_parties(agreement)
            + gateway_problems(agreement) + _check_conditions(agreement) + _check_levels(agreement)
            + _check_active(agreement))


def _check_codes(agreement: Agreement) -> list[tuple[str, str]]:
    problems = [(f"purposes[{i}]", problem) for i, code in enumerate(agreement.purposes)
                if (problem := purpose_problem(code))]
    problems += [("purposes", f"purpose '{code}' is listed twice") for code in _duplicates(agreement.purposes)]
    if problem := gateway_problem(agreement.gateway):
        problems.append(("gateway", problem))
    return problems


def _check_fields(agreement: Agreement) -> list[tuple[str, str]]:
    problems = []
    for i, terms in enumerate(agreement.datasets):
        for j, name in enumerate(f.name for f in terms.fields):
            if name not in KNOWN_FIELDS:
                close = difflib.get_close_matches(name, KNOWN_FIELDS, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else "docs/events.md lists the event fields"
                problems.append((f"datasets[{i}].fields[{j}].name", f"unknown event field '{name}'; {hint}"))
        names = [f.name for f in terms.fields]
        problems += [(f"datasets[{i}].fields", f"field '{n}' is listed twice") for n in _duplicates(names)]
    return problems


def _check_dates(agreement: Agreement) -> list[tuple[str, str]]:
    problems = []
    if agreement.review <= agreement.start:
        problems.append(("review", f"the review date {agreement.review} must be after the start {agreement.start}"))
    if agreement.end is not None and agreement.end <= agreement.start:
        problems.append(("end", f"the end date {agreement.end} must be after the start {agreement.start}"))
    if agreement.end is not None and agreement.review > agreement.end:
        problems.append(("review", f"the review date {agreement.review} must not be after the end {agreement.end}"))
    return problems


def _check_parties(agreement: Agreement) -> list[tuple[str, str]]:
    codes = [p.partner for p in agreement.parties]
    problems = [("parties", f"partner '{code}' is listed twice") for code in _duplicates(codes)]
    if not any(p.role is not PartyRole.PROCESSOR for p in agreement.parties):
        problems.append(("parties", "at least one party must be a controller or joint controller"))
    problems += [(f"recipients[{i}]", f"recipient '{code}' is not a party; add it to parties with its role "
                  "and lawful basis") for i, code in enumerate(agreement.recipients) if code not in codes]
    problems += [(f"datasets[{i}].provider", f"provider '{d.provider}' is not a party")
                 for i, d in enumerate(agreement.datasets) if d.provider not in codes]
    problems += [(f"sign_off[{i}].party", f"'{s.party}' is not a party")
                 for i, s in enumerate(agreement.sign_off) if s.party not in codes]
    return problems


def _check_conditions(agreement: Agreement) -> list[tuple[str, str]]:
    """Special category and criminal offence fields need the providing party's condition."""
    problems = []
    for i, terms in enumerate(agreement.datasets):
        provider = agreement.party(terms.provider)
        kinds = {f.classification for f in terms.fields}
        if provider is None:
            continue
        if Classification.SPECIAL_CATEGORY in kinds and provider.special_category_condition is None:
            problems.append((f"datasets[{i}].fields", f"special category fields need a special category condition "
                             f"(Art 9(2) and DPA 2018 Sch 1 para) for the provider '{provider.partner}'"))
        if Classification.CRIMINAL_OFFENCE in kinds and provider.criminal_offence_condition is None:
            problems.append((f"datasets[{i}].fields", f"criminal offence fields need a criminal offence condition "
                             f"(Art 10 and DPA 2018 Sch 1 para, or s35) for the provider '{provider.partner}'"))
    return problems


def _check_levels(agreement: Agreement) -> list[tuple[str, str]]:
    if any(PURPOSES[c].person_level_work for c in agreement.purposes if c in PURPOSES):
        return []
    return [(f"datasets[{i}].access", "identifiable access needs a direct-care or case-work purpose "
             f"({', '.join(c for c, p in PURPOSES.items() if p.person_level_work)})")
            for i, d in enumerate(agreement.datasets) if d.access is AccessLevel.IDENTIFIABLE]


def _check_active(agreement: Agreement) -> list[tuple[str, str]]:
    """An agreement may only be active once assessed and signed by every controller."""
    if agreement.status is not AgreementStatus.ACTIVE:
        return []
    problems = []
    if agreement.dpia is None:
        problems.append(("dpia", "an active agreement needs a DPIA reference, date and outcome"))
    elif agreement.dpia.outcome is DpiaOutcome.NOT_APPROVED:
        problems.append(("dpia.outcome", "the DPIA was not approved, so the agreement cannot be active"))
    signed = {s.party for s in agreement.sign_off}
    problems += [("sign_off", f"an active agreement needs sign-off by every controller; '{p.partner}' has not "
                  "signed") for p in agreement.parties if p.role is not PartyRole.PROCESSOR and p.partner not in signed]
    return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _describe(error: Any, text: str | None) -> str:
    loc = tuple(error["loc"])
    key = key_path(loc) or "(top level)"
    where = _where(text, loc)
    if error["type"] == "extra_forbidden":
        known = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        return f"{key}{where}: unknown key; " + (f"did you mean '{close[0]}'?" if close else f"known keys: "
                                                  f"{', '.join(known)}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("enum", "string_pattern_mismatch", "date_from_datetime_parsing", "date_parsing"):
        message += f" (found {error['input']!r})"
    return f"{key}{where}: {message}"


def _where(text: str | None, loc: tuple[Any, ...] | str) -> str:
    return locate_key(text, loc) if text else ""


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc``, for "did you mean" suggestions."""
    model: Any = Agreement
    for part in (p for p in loc if not isinstance(p, int)):
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        model = next((a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _flatten(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]
