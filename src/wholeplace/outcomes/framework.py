"""The outcomes framework: the outcomes partners agree to work to, and the indicators that measure them.

A framework is versioned configuration (YAML): outcomes in plain language with their partners and
scorecard narrative (Results-Based Accountability), each with indicators whose numerator and
denominator are filters over partners' events or the resident population, in the DHIS2 and Fingertips
way (multiplier, polarity, confidence-interval method, SPC settings, optional target, disclosure preset,
RBA type and the Fingertips metadata text). ``parse_framework`` refuses a bad definition naming every
wrong key at once; ``check_against_store`` refuses names the store does not hold (datasets, categories,
levels) when values are computed. Every imported or edited framework is kept as a new version in the
operational store, with its text, hash, who and why, and an alteration entry in the audit log.

docs/outcomes.md documents every key.
"""

from __future__ import annotations

import difflib
import hashlib
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import DateTime, Engine, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.errors import NotFoundError, UserError
from wholeplace.governance.disclosure import Preset
from wholeplace.ingest.mapping_file import key_path, locate_key
from wholeplace.model.events import EventKind
from wholeplace.outcomes.spc import PROFILES
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

FRAMEWORKS = Path(__file__).parent / "frameworks"
FLAGS = ("mental_health", "alcohol", "domestic_abuse", "self_initiated")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Words = Annotated[str, Field(min_length=1, max_length=4000)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
PATTERNS = {r"^[a-z0-9][a-z0-9-]*$": "use lower-case letters, digits and hyphens",
            r"^\d{4}-(0[1-9]|1[0-2])$": "write a month as YYYY-MM",
            r"^\d{1,3}(-\d{1,3}|\+)$": "write an age band as 18-64 or 65+"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Polarity(StrEnum):
    """Which way is better: higher (increase), lower (decrease), or no judgement (neutral)."""

    INCREASE = "increase"
    DECREASE = "decrease"
    NEUTRAL = "neutral"


class CiMethod(StrEnum):
    WILSON = "wilson"  # proportions
    BYAR_EXACT = "byar_exact"  # rates: exact below 10 events, Byar's from 10 (Fingertips)
    BYAR = "byar"
    EXACT = "exact"
    DSR = "dsr"  # directly standardised rate (needs population by age)
    NONE = "none"


class RbaType(StrEnum):
    """Results-Based Accountability: a population indicator, or a performance measure of one of three kinds."""

    POPULATION_INDICATOR = "population_indicator"
    HOW_MUCH = "how_much"
    HOW_WELL = "how_well"
    BETTER_OFF = "better_off"


class EventFilter(_Strict):
    """Events of the listed datasets, narrowed by category, kind and qualifier flags (all must hold)."""

    datasets: list[Code] = Field(min_length=1)
    categories: list[str] = []
    kinds: list[EventKind] = []
    flags: dict[Literal["mental_health", "alcohol", "domestic_abuse", "self_initiated"], bool] = {}
    count: Literal["events", "distinct_subjects"] = "events"


class Population(_Strict):
    """Residents (from the loaded population estimates); ``ages`` only where population by age is loaded."""

    of: Literal["residents"] = "residents"
    ages: str | None = Field(default=None, pattern=r"^\d{1,3}(-\d{1,3}|\+)$")


class Denominator(_Strict):
    population: Population | None = None
    events: EventFilter | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Denominator:
        if (self.population is None) == (self.events is None):
            raise ValueError("give exactly one of population: or events:")
        return self


class Baseline(_Strict):
    """Limits frozen on the first ``fix_after`` points, or on the months up to and including ``until``."""

    fix_after: int | None = Field(default=None, ge=2)
    until: Month | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Baseline:
        if (self.fix_after is None) == (self.until is None):
            raise ValueError("give exactly one of fix_after: (a number of points) or until: (YYYY-MM)")
        return self


class RebaseEvent(_Strict):
    """A recalculation of the limits from ``month``: a decision, so it says why and who agreed it."""

    month: Month
    reason: Words
    approver: Words


class SpcSettings(_Strict):
    chart: Literal["xmr", "laney_p", "laney_u"] = "xmr"
    profile: str = "mdc"
    screen_outliers: bool | None = None
    baseline: Baseline | None = None
    rebase: list[RebaseEvent] = []

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown SPC profile {value!r}; use one of: {', '.join(PROFILES)}")
        return value

    @model_validator(mode="after")
    def _baseline_needs_xmr(self) -> SpcSettings:
        if self.baseline is not None and self.chart != "xmr":
            raise ValueError("a baseline (frozen limits) needs chart: xmr; Laney charts recompute their limits")
        return self


class Metadata(_Strict):
    """Fingertips-style text: what the indicator is, why it matters, where the data come from, what to watch."""

    definition: Words | None = None
    rationale: Words | None = None
    source: Words | None = None
    caveats: Words | None = None


class Indicator(_Strict):
    code: Code
    title: Words
    numerator: EventFilter
    denominator: Denominator
    multiplier: float = Field(default=1000.0, gt=0)
    unit: str = "per 1,000 residents a year"
    polarity: Polarity
    ci_method: CiMethod = CiMethod.BYAR_EXACT
    spc: SpcSettings = SpcSettings()
    target: float | None = None
    disclosure: Preset = Preset.OPENSAFELY
    rba: RbaType = RbaType.POPULATION_INDICATOR
    metadata: Metadata = Metadata()

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.target is not None and self.polarity is Polarity.NEUTRAL:
            raise ValueError("a target needs a polarity of increase or decrease, not neutral")
        if self.ci_method is CiMethod.WILSON and self.denominator.events is None:
            raise ValueError("ci_method wilson is for a proportion of events: give denominator.events")
        if self.spc.chart == "laney_p" and self.denominator.events is None:
            raise ValueError("chart laney_p is for a proportion of events: give denominator.events")
        return self


class Outcome(_Strict):
    code: Code
    title: Words  # plain language: the condition of well-being the partners want
    description: Words | None = None
    scope: list[str] = []  # geography levels the outcome is reported at; empty: every loaded level
    partners: list[str] = []
    story_behind_the_curve: Words | None = None
    what_works: Words | None = None
    action_plan: Words | None = None
    indicators: list[Indicator] = Field(min_length=1)


class Place(_Strict):
    code: Code
    name: Words


class Framework(_Strict):
    code: Code
    name: Words
    version: str = "1"  # the authors' own label; the stored version number is kept apart
    place: Place
    outcomes: list[Outcome] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Framework:
        codes = [o.code for o in self.outcomes] + [i.code for o in self.outcomes for i in o.indicators]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"codes must be unique across outcomes and indicators; repeated: {', '.join(repeated)}")
        return self

    def indicators(self) -> list[Indicator]:
        return [i for o in self.outcomes for i in o.indicators]

    def indicator(self, code: str) -> Indicator:
        found = {i.code: i for i in self.indicators()}
        if code not in found:
            raise NotFoundError(f"Framework '{self.code}' has no indicator '{code}'.",
                                hint=f"Its indicators are: {', '.join(found)}.")
        return found[code]

    def outcome_of(self, code: str) -> Outcome:
        return next(o for o in self.outcomes if any(i.code == code for i in o.indicators))


class FrameworkError(UserError):
    """A framework definition is wrong; lists every problem, each named by its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The outcomes framework {source} has errors; nothing was changed:\n{lines}",
                         hint="Fix the keys named above; docs/outcomes.md lists every key.")


# -- reading ---------------------------------------------------------------------------------------


def parse_framework(text: str, *, source: str = "(framework)") -> Framework:
    """Check a framework given as YAML (or JSON) text, or raise FrameworkError naming every bad key."""
    try:
        raw = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise FrameworkError(source, [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(raw, dict):
        raise FrameworkError(source, ["the document must be a mapping of keys (code:, name:, place:, outcomes:)"])
    try:
        return Framework.model_validate(raw)
    except ValidationError as exc:
        raise FrameworkError(source, [_describe(error, text) for error in exc.errors()]) from None


def load_framework(path: Path) -> Framework:
    return parse_framework(_read_text(path), source=str(path))


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise FrameworkError(str(path), ["the file does not exist; check the path"])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FrameworkError(str(path), ["the file is not UTF-8 text; save it as UTF-8"]) from None


def _describe(error: Any, text: str) -> str:
    loc = tuple(error["loc"])
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-after")))
    key = key_path(loc) or "(top level)"
    where = locate_key(text, loc)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _keys_at(loc[:-1]), n=1, cutoff=0.7)
        return f"{key}{where}: unknown key" + (f"; did you mean '{close[0]}'?" if close else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        message = PATTERNS.get(error.get("ctx", {}).get("pattern", ""), message)
    if error["type"] in ("enum", "literal_error", "string_pattern_mismatch"):
        message += f" (found {error['input']!r})"
    return f"{key}{where}: {message}"


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Framework
    for part in (p for p in loc if not isinstance(p, int)):
        field = model.model_fields.get(part) if model else None
        annotation = getattr(field, "annotation", None)
        model = next((a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def check_against_store(framework: Framework, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names the framework uses that the store does not hold, each with its key path and what is loaded."""
    datasets = dict(con.execute("SELECT dataset, list(DISTINCT category) FROM events_stored GROUP BY 1").fetchall())
    levels = [r[0] for r in con.execute("SELECT DISTINCT level FROM areas ORDER BY 1").fetchall()]
    problems = []
    for o, outcome in enumerate(framework.outcomes):
        problems += [f"outcomes[{o}].scope[{k}]: unknown level '{level}'; loaded: {', '.join(levels) or 'none'}"
                     for k, level in enumerate(outcome.scope) if level not in levels]
        for i, indicator in enumerate(outcome.indicators):
            at = f"outcomes[{o}].indicators[{i}]"
            problems += _filter_problems(f"{at}.numerator", indicator.numerator, datasets)
            if indicator.denominator.events is not None:
                problems += _filter_problems(f"{at}.denominator.events", indicator.denominator.events, datasets)
    return problems


def _filter_problems(at: str, chosen: EventFilter, datasets: dict[str, list[str]]) -> list[str]:
    loaded = ", ".join(sorted(datasets)) or "none"
    problems = [f"{at}.datasets[{k}]: unknown dataset '{code}'; loaded: {loaded}"
                for k, code in enumerate(chosen.datasets) if code not in datasets]
    known = sorted({c for code in chosen.datasets for c in datasets.get(code, [])})
    for k, category in enumerate(chosen.categories):
        if category not in known:
            close = difflib.get_close_matches(category, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"those datasets hold: {', '.join(known) or 'none'}"
            problems.append(f"{at}.categories[{k}]: no event of {', '.join(chosen.datasets)} has the category "
                            f"'{category}'; {hint}")
    return problems


# -- versions in the operational store --------------------------------------------------------------


class OutcomeFrameworkRow(Base):
    __tablename__ = "outcome_frameworks"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(4000))
    latest_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutcomeFrameworkVersionRow(Base):
    __tablename__ = "outcome_framework_versions"
    framework_code: Mapped[str] = mapped_column(ForeignKey("outcome_frameworks.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    saved_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class StoredFramework:
    framework: Framework
    version: int  # the stored version number, 1, 2, ...
    content: str  # the YAML text as imported
    content_sha256: str
    saved_at: datetime
    saved_by: str
    note: str
    created: bool = True  # False when importing changed nothing

    def lineage(self) -> dict[str, Any]:
        return {"framework": self.framework.code, "version": self.version, "sha256": self.content_sha256,
                "saved_at": self.saved_at.isoformat(), "saved_by": self.saved_by}


def import_framework(*, stores: Stores, text: str | None = None, path: Path | None = None, actor: str = "system",
                     note: str = "") -> StoredFramework:
    """Check a framework (text or file) and store it as its next version; the same text again changes nothing."""
    if (text is None) == (path is None):
        raise UserError("Give a framework as text or as a file path, not both or neither.")
    source = str(path) if path is not None else "(framework)"
    content = _read_text(path) if path is not None else str(text)
    framework = parse_framework(content, source=source)
    digest = hashlib.sha256(content.encode()).hexdigest()
    with _session(stores) as session:
        latest = _latest_row(session, framework.code)
        if latest is not None and latest.content_sha256 == digest:
            return _stored(latest, created=False)
        row = OutcomeFrameworkVersionRow(
            framework_code=framework.code, version=1 if latest is None else latest.version + 1, content=content,
            content_sha256=digest, saved_at=utcnow(), saved_by=actor,
            note=note or (f"imported from {path.name}" if path else ""))
        _upsert_head(session, row, framework.name)
        session.add(row)
        entry = _record_change(session, row)
    _write_anchor(stores, entry)
    return _stored(row)


def current_framework(*, stores: Stores, code: str) -> StoredFramework:
    with _session(stores) as session:
        row = _latest_row(session, code)
        if row is None:
            raise _not_found(session, code)
        return _stored(row)


def framework_version(*, stores: Stores, code: str, version: int | None = None) -> StoredFramework:
    """One stored version (the latest when ``version`` is None)."""
    if version is None:
        return current_framework(stores=stores, code=code)
    with _session(stores) as session:
        row = session.get(OutcomeFrameworkVersionRow, (code, version))
        if row is None:
            raise NotFoundError(f"Framework '{code}' has no version {version}.",
                                hint=f"`wholeplace outcomes show {code}` prints the latest version.")
        return _stored(row)


def framework_versions(*, stores: Stores, code: str) -> list[StoredFramework]:
    with _session(stores) as session:
        rows = session.scalars(select(OutcomeFrameworkVersionRow).where(
            OutcomeFrameworkVersionRow.framework_code == code).order_by(OutcomeFrameworkVersionRow.version)).all()
        if not rows:
            raise _not_found(session, code)
        return [_stored(row) for row in rows]


def framework_yaml(*, stores: Stores, code: str, version: int | None = None) -> str:
    """The text of a stored version exactly as it was imported."""
    return framework_version(stores=stores, code=code, version=version).content


def list_frameworks(*, stores: Stores) -> list[StoredFramework]:
    """The latest version of every framework, by code."""
    with _session(stores) as session:
        codes = session.scalars(select(OutcomeFrameworkRow.code).order_by(OutcomeFrameworkRow.code)).all()
        rows = [_latest_row(session, code) for code in codes]
        return [_stored(row) for row in rows if row is not None]


def install_framework_file(*, stores: Stores, path: Path, actor: str = "system") -> StoredFramework:
    """Import a framework file shipped with the product (the demo place's), once: an unchanged file adds nothing."""
    return import_framework(stores=stores, path=path, actor=actor, note=f"installed from {path.name}")


def _not_found(session: Session, code: str) -> NotFoundError:
    codes = session.scalars(select(OutcomeFrameworkRow.code).order_by(OutcomeFrameworkRow.code)).all()
    return NotFoundError(f"There is no outcomes framework '{code}'.",
                         hint=f"Stored frameworks: {', '.join(codes) or 'none yet'}; "
                              "`wholeplace outcomes import FILE` adds one.")


@contextmanager
def _session(stores: Stores) -> Iterator[Session]:
    """A session on a store whose framework tables exist, created once per engine (a store opened
    before this module was imported did not create them with the rest)."""
    if stores.engine not in _READY:
        tables = [Base.metadata.tables[row.__tablename__] for row in (OutcomeFrameworkRow, OutcomeFrameworkVersionRow)]
        Base.metadata.create_all(stores.engine, tables=tables)
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


def _latest_row(session: Session, code: str) -> OutcomeFrameworkVersionRow | None:
    latest = (select(func.max(OutcomeFrameworkVersionRow.version))
              .where(OutcomeFrameworkVersionRow.framework_code == code).scalar_subquery())
    return session.scalars(select(OutcomeFrameworkVersionRow).where(
        OutcomeFrameworkVersionRow.framework_code == code, OutcomeFrameworkVersionRow.version == latest)).first()


def _upsert_head(session: Session, row: OutcomeFrameworkVersionRow, name: str) -> None:
    head = session.get(OutcomeFrameworkRow, row.framework_code)
    if head is None:
        session.add(OutcomeFrameworkRow(code=row.framework_code, name=name, latest_version=row.version,
                                        updated_at=row.saved_at))
        session.flush()  # the head must exist before its first version (foreign key)
        return
    head.name, head.latest_version, head.updated_at = name, row.version, row.saved_at


def _record_change(session: Session, row: OutcomeFrameworkVersionRow) -> Any:
    """Each version goes into the audit log in the same transaction: no version exists without its record."""
    from wholeplace.governance import audit

    return audit.record_in(session, action="alteration", actor=row.saved_by,
                           what={"outcomes_framework": row.framework_code, "version": row.version,
                                 "sha256": row.content_sha256, "note": row.note})


def _write_anchor(stores: Stores, entry: Any) -> None:
    from wholeplace.governance import audit

    audit.write_anchor_file(stores=stores, entry=entry)


def _stored(row: OutcomeFrameworkVersionRow, *, created: bool = True) -> StoredFramework:
    framework = parse_framework(row.content, source=f"'{row.framework_code}' version {row.version}")
    return StoredFramework(framework, row.version, row.content, row.content_sha256, row.saved_at, row.saved_by,
                           row.note or "", created)


def month_start(month: str) -> date:
    return date.fromisoformat(f"{month}-01")
