"""The agreement registry: every version of every agreement, kept in the operational store.

The ICO accountability framework asks for "a central log of the current sharing agreements";
this is it. An agreement is never edited in place: each change is saved as a new version, and
the access layer reads the latest version of each, so the version an access relied on can be
named in the audit log and read back later.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import DateTime, Engine, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.errors import NotFoundError
from wholeplace.governance.agreements import (
    Agreement,
    AgreementError,
    AgreementStatus,
    agreement_document,
    load_agreement_file,
    parse_agreement,
)
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

EXAMPLES = Path(__file__).parent / "examples"
MAX_NODES = 200_000  # values in a document once its aliases are expanded: a guard against alias bombs
LOCATE_LINES_UP_TO = (50_000, 25)  # characters, problems: each located line re-reads the text
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class AgreementRow(Base):
    __tablename__ = "agreements"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), index=True)
    latest_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgreementVersionRow(Base):
    __tablename__ = "agreement_versions"
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    document: Mapped[dict[str, Any]] = mapped_column()
    content_sha256: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    saved_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class StoredAgreement:
    agreement: Agreement  # its version is the stored version number
    content_sha256: str
    saved_at: datetime
    saved_by: str
    created: bool = True  # False when saving changed nothing
    note: str = ""  # what changed and why, as the version was saved with


def save_agreement(*, stores: Stores, agreement: Agreement, actor: str = "system", note: str = "") -> StoredAgreement:
    """Store a checked agreement as its next version; saving identical content changes nothing."""
    digest = _content_sha256(agreement)
    with _session(stores) as session:
        latest = _latest_row(session, agreement.id)
        if latest is not None and latest.content_sha256 == digest:
            return _stored(latest, created=False)
        _check_transition(agreement, latest)
        version = 1 if latest is None else latest.version + 1
        row = _version_row(agreement.model_copy(update={"version": version}), digest, actor, note)
        _upsert_head(session, row, agreement.title)
        session.add(row)
        entry = _record_change(session, row)
    _write_anchor(stores, entry)
    return _stored(row)


def import_agreement_file(*, stores: Stores, path: Path, actor: str = "system") -> StoredAgreement:
    return save_agreement(stores=stores, agreement=load_agreement_file(path), actor=actor, note=f"imported from {path}")


def set_status(*, stores: Stores, agreement_id: str, status: AgreementStatus, actor: str = "system",
               note: str = "") -> StoredAgreement:
    """Activate, suspend or terminate: a new version with the new status, checked again in full.

    ``note`` is the reason, kept with the version and in the audit log.
    """
    current = get_agreement(stores=stores, agreement_id=agreement_id).agreement
    document = agreement_document(current) | {"status": str(status)}
    changed = parse_agreement(document, source=f"'{agreement_id}'")
    reason = f"status set to {status}" + (f": {note.strip()}" if note.strip() else "")
    return save_agreement(stores=stores, agreement=changed, actor=actor, note=reason)


def read_agreement_text(text: str, *, source: str = "(agreement)") -> Agreement:
    """Check an agreement given as YAML or JSON text (pasted or uploaded), or raise AgreementError.

    Problems name their key and, for all but very large or very wrong documents, their line:
    locating a line re-reads the text once per problem, so it is skipped beyond
    ``LOCATE_LINES_UP_TO`` characters or problems.
    """
    try:
        raw = yaml.load(text, Loader=_LOADER)  # a safe loader: libyaml's when installed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise AgreementError(source, [f"{where}not valid YAML or JSON: {getattr(exc, 'problem', exc)}"]) from None
    if _oversized(raw):
        raise AgreementError(source, [f"the document expands to more than {MAX_NODES:,} values (through its "
                                      "anchors and aliases); an agreement is far smaller"])
    try:
        return parse_agreement(raw, source=source)
    except AgreementError as exc:
        if len(text) > LOCATE_LINES_UP_TO[0] or len(exc.problems) > LOCATE_LINES_UP_TO[1]:
            raise
    return parse_agreement(raw, source=source, text=text)  # raises again, now with lines


def create_agreement(*, stores: Stores, agreement: Agreement, actor: str, note: str = "") -> StoredAgreement:
    """Store a new agreement as version 1; an id already in the registry is refused."""
    with _session(stores) as session:
        exists = session.get(AgreementRow, agreement.id) is not None
    if exists:
        raise AgreementError(f"'{agreement.id}'", [f"id: an agreement '{agreement.id}' already exists; edit that "
                                                   "agreement to save a new version, or choose another id"])
    return save_agreement(stores=stores, agreement=agreement, actor=actor, note=note)


def revise_agreement(*, stores: Stores, agreement_id: str, agreement: Agreement, actor: str,
                     note: str) -> StoredAgreement:
    """Save an edited agreement as the next version of ``agreement_id``; a revision must change something."""
    current = get_agreement(stores=stores, agreement_id=agreement_id).agreement
    if agreement.id != agreement_id:
        raise AgreementError(f"'{agreement_id}'", [f"id: the text has the id '{agreement.id}' but this is "
                                                   f"agreement '{agreement_id}'; an id cannot change, so put back "
                                                   f"'{agreement_id}' or add the agreement as a new one"])
    stored = save_agreement(stores=stores, agreement=agreement, actor=actor, note=note)
    if not stored.created:
        raise AgreementError(f"'{agreement_id}'", [f"nothing changed: the text is the same as version "
                                                   f"{current.version}, so no version was saved"])
    return stored


def not_in_force_reason(agreement: Agreement, on: date) -> str | None:
    """Why the agreement grants nothing on ``on`` (see ``Agreement.in_force``), or None when it is in force."""
    if agreement.status is not AgreementStatus.ACTIVE:
        return f"not active (it is {agreement.status})"
    if agreement.end is not None and on >= agreement.end:
        return f"its end date {agreement.end} has passed"
    if on >= agreement.review:
        return f"its review date {agreement.review} has passed"
    if on < agreement.start:
        return f"it starts on {agreement.start}"
    return None


def get_agreement(*, stores: Stores, agreement_id: str, version: int | None = None) -> StoredAgreement:
    with _session(stores) as session:
        row = (_latest_row(session, agreement_id) if version is None
               else session.get(AgreementVersionRow, (agreement_id, version)))
        if row is None:
            which = f"agreement '{agreement_id}'" + (f" version {version}" if version else "")
            raise NotFoundError(f"There is no {which}.", hint="`wholeplace agreements list` shows the agreements.")
        return _stored(row)


def agreement_versions(*, stores: Stores, agreement_id: str) -> list[StoredAgreement]:
    with _session(stores) as session:
        rows = session.scalars(select(AgreementVersionRow).where(AgreementVersionRow.agreement_id == agreement_id)
                               .order_by(AgreementVersionRow.version)).all()
        return [_stored(row) for row in rows]


def list_agreements(*, stores: Stores) -> list[StoredAgreement]:
    """The latest version of every agreement, by id."""
    with _session(stores) as session:
        rows = session.scalars(
            select(AgreementVersionRow).join(AgreementRow, (AgreementRow.id == AgreementVersionRow.agreement_id)
                                             & (AgreementRow.latest_version == AgreementVersionRow.version))
            .order_by(AgreementVersionRow.agreement_id)).all()
        return [_stored(row) for row in rows]


def agreements_in_force(*, stores: Stores, on: date) -> list[Agreement]:
    return [s.agreement for s in list_agreements(stores=stores) if s.agreement.in_force(on)]


def load_example_agreements(*, stores: Stores, actor: str = "demo") -> list[StoredAgreement]:
    """Import the demo place's agreements (governance/examples/*.yaml); re-importing changes nothing."""
    return [import_agreement_file(stores=stores, path=path, actor=actor) for path in sorted(EXAMPLES.glob("*.yaml"))]


def _oversized(raw: Any) -> bool:
    """More than MAX_NODES values once aliases are expanded (a cycle counts as endless)."""
    pending, seen = [raw], 0
    while pending:
        seen += 1
        if seen > MAX_NODES:
            return True
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return False


@contextmanager
def _session(stores: Stores) -> Iterator[Session]:
    """A session on a store whose agreement tables exist: a store opened before this module was
    imported did not create them with the rest, so they are created once per engine here."""
    if stores.engine not in _READY:
        tables = [Base.metadata.tables[row.__tablename__] for row in (AgreementRow, AgreementVersionRow)]
        Base.metadata.create_all(stores.engine, tables=tables)
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


def _record_change(session: Session, row: AgreementVersionRow) -> Any:
    """Each new version goes into the audit log in the same transaction, so every access can be
    traced to the terms it relied on and no version exists without its record."""
    from wholeplace.governance import audit  # imported here: reading agreements does not need the audit log

    return audit.record_in(session, action="administration", actor=row.saved_by, agreement_id=row.agreement_id,
                           agreement_version=row.version, what={"agreement": row.agreement_id, "version": row.version,
                                                                "status": row.status, "note": row.note})


def _write_anchor(stores: Stores, entry: Any) -> None:
    from wholeplace.governance import audit

    audit.write_anchor_file(stores=stores, entry=entry)


def _check_transition(agreement: Agreement, latest: AgreementVersionRow | None) -> None:
    if latest is not None and latest.status == AgreementStatus.TERMINATED:
        raise AgreementError(f"'{agreement.id}'", [f"status: the agreement was terminated in version "
                                                   f"{latest.version}; a terminated agreement cannot change, "
                                                   "so draft a new agreement with a new id"])


def _latest_row(session: Session, agreement_id: str) -> AgreementVersionRow | None:
    latest = (select(func.max(AgreementVersionRow.version))
              .where(AgreementVersionRow.agreement_id == agreement_id).scalar_subquery())
    return session.scalars(select(AgreementVersionRow).where(
        AgreementVersionRow.agreement_id == agreement_id, AgreementVersionRow.version == latest)).first()


def _version_row(agreement: Agreement, digest: str, actor: str, note: str) -> AgreementVersionRow:
    return AgreementVersionRow(agreement_id=agreement.id, version=agreement.version, status=str(agreement.status),
                               document=agreement_document(agreement), content_sha256=digest, saved_at=utcnow(),
                               saved_by=actor, note=note)


def _upsert_head(session: Session, row: AgreementVersionRow, title: str) -> None:
    head = session.get(AgreementRow, row.agreement_id)
    if head is None:
        session.add(AgreementRow(id=row.agreement_id, title=title, status=row.status,
                                 latest_version=row.version, updated_at=row.saved_at))
        session.flush()  # the head must exist before its first version (foreign key)
        return
    head.title, head.status, head.latest_version, head.updated_at = title, row.status, row.version, row.saved_at


def _content_sha256(agreement: Agreement) -> str:
    document = agreement_document(agreement)
    document.pop("version", None)
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _stored(row: AgreementVersionRow, *, created: bool = True) -> StoredAgreement:
    agreement = Agreement.model_validate(row.document | {"version": row.version})
    return StoredAgreement(agreement, row.content_sha256, row.saved_at, row.saved_by, created, row.note or "")
