"""Joint-working pathways: for a situation, a locality and a time band (in hours or out of hours), who to
contact and how, with the Right Care, Right Person threshold questions, each step linked to a directory
service.

Pathways are versioned records in the operational store (tables created on first use per engine):
every save adds a version and keeps the earlier ones, and is written to the audit log as an
alteration. ``import_pathways`` reads a YAML or JSON list of pathways (as ``synth.directory.
demo_pathways`` makes them); an unchanged pathway adds no version, so importing again is harmless.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.directory.opening import LONDON, is_bank_holiday
from wholeplace.errors import InputError, NotFoundError, Problem, UserError
from wholeplace.governance import audit
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

TIME_BANDS = {"in_hours": "In hours", "out_of_hours": "Out of hours"}
HOW = ("phone", "visit", "refer", "online", "email")
REQUIRED = ("id", "situation", "title", "locality", "time_band", "lead", "threshold_questions", "steps")
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class PathwayRow(Base):
    __tablename__ = "directory_pathways"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    situation: Mapped[str] = mapped_column(String(100), index=True)
    locality: Mapped[str] = mapped_column(String(200))
    time_band: Mapped[str] = mapped_column(String(20))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


@contextmanager
def pathway_session(stores: Stores) -> Iterator[Session]:
    """A transaction on a store whose pathway table exists (created once per engine)."""
    if stores.engine not in _READY:
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[PathwayRow.__tablename__]])
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


def read_pathways(path: Path) -> list[dict[str, Any]]:
    """A YAML or JSON list of pathways, every problem reported at once."""
    if not path.is_file():
        raise UserError(f"{path} does not exist.", hint="Give the path of a YAML or JSON list of pathways.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"is not YAML or JSON in UTF-8: {exc}")]) from exc
    if not isinstance(data, list):
        raise InputError([Problem(str(path), "must hold a list of pathways")])
    problems = [Problem(str(path), f"pathway {i + 1}: {p}") for i, item in enumerate(data)
                for p in pathway_problems(item)]
    if problems:
        raise InputError(problems, hint="Each pathway needs " + ", ".join(REQUIRED) + ".")
    return data


def pathway_problems(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["is not a mapping of keys to values"]
    problems = [f"'{key}' is missing" for key in REQUIRED if item.get(key) in (None, "", [])]
    if item.get("time_band") and item["time_band"] not in TIME_BANDS:
        problems.append(f"time_band '{item['time_band']}' must be one of {', '.join(TIME_BANDS)}")
    for n, step in enumerate(item.get("steps") or [], start=1):
        if not isinstance(step, dict) or not step.get("action") or step.get("how") not in HOW:
            problems.append(f"step {n} needs an 'action' and a 'how' (one of {', '.join(HOW)})")
    return problems


def import_pathways(*, stores: Stores, path: Path, actor: str) -> int:
    """Store every pathway in ``path`` that is new or changed; returns how many versions were added."""
    added = 0
    for pathway in read_pathways(path):
        added += save_pathway(stores=stores, pathway=pathway, actor=actor, note=f"imported from {path.name}") > 0
    return added


def save_pathway(*, stores: Stores, pathway: dict[str, Any], actor: str, note: str,
                 partner: str | None = None) -> int:
    """Save ``pathway`` as its next version (0 when it equals the latest version) and audit it."""
    problems = pathway_problems(pathway)
    if problems:
        raise UserError(f"Pathway {pathway.get('id')}: " + "; ".join(problems) + ".",
                        hint="Correct the pathway and save it again.")
    document = {k: v for k, v in pathway.items() if k not in ("version", "updated")}
    with pathway_session(stores) as session:
        latest = _latest(session, str(pathway["id"]))
        if latest is not None and latest.document == document:
            return 0
        version = (latest.version if latest else 0) + 1
        session.add(PathwayRow(id=str(pathway["id"]), version=version, situation=document["situation"],
                               locality=document["locality"], time_band=document["time_band"], document=document,
                               saved_by=actor, saved_at=utcnow(), note=note))
    audit.record(stores=stores, action=audit.AuditAction.ALTERATION, actor=actor, partner=partner,
                 what={"pathway": str(pathway["id"]), "version": version, "situation": document["situation"],
                       "locality": document["locality"], "time_band": document["time_band"], "note": note[:200]})
    return version


def list_pathways(*, stores: Stores) -> list[dict[str, Any]]:
    """The latest version of every pathway, by situation, locality and time band."""
    with pathway_session(stores) as session:
        latest = select(PathwayRow.id, func.max(PathwayRow.version).label("v")).group_by(PathwayRow.id).subquery()
        rows = session.scalars(select(PathwayRow).join(latest, (PathwayRow.id == latest.c.id)
                                                       & (PathwayRow.version == latest.c.v))).all()
        found = [_shown(row) for row in rows]
    return sorted(found, key=lambda p: (p["title"], p["locality"], p["time_band"]))


def find_pathway(*, stores: Stores, situation: str, locality: str | None = None,
                 time_band: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The pathway for a situation, locality (default: the first) and time band (default: now's)."""
    choices = [p for p in list_pathways(stores=stores) if p["situation"] == situation]
    if not choices:
        raise NotFoundError(f"No pathway is stored for the situation '{situation}'.",
                            hint="The situations with pathways are listed at /directory/pathways.")
    band = time_band or time_band_at(now or datetime.now(LONDON))
    place = locality or choices[0]["locality"]
    chosen = next((p for p in choices if p["locality"] == place and p["time_band"] == band), None)
    if chosen is None:
        raise NotFoundError(f"No '{situation}' pathway for {place}, {TIME_BANDS.get(band, band).lower()}.",
                            hint="Choose a locality and time from the pathway page.")
    return chosen


def pathway_versions(*, stores: Stores, pathway_id: str) -> list[dict[str, Any]]:
    with pathway_session(stores) as session:
        rows = session.scalars(select(PathwayRow).where(PathwayRow.id == pathway_id)
                               .order_by(PathwayRow.version.desc())).all()
        return [_shown(row) for row in rows]


def time_band_at(moment: datetime) -> str:
    """In hours: Monday to Friday 09:00 to 17:00 (London time), except bank holidays."""
    local = moment.astimezone(LONDON)
    weekday = local.weekday() < 5 and not is_bank_holiday(local.date())
    return "in_hours" if weekday and 9 <= local.hour < 17 else "out_of_hours"


def edited(pathway: dict[str, Any], *, lead: str, questions: str, steps: str) -> tuple[dict[str, Any], list[str]]:
    """``pathway`` with the edit form's fields applied; the problems name the field and line."""
    problems: list[str] = []
    if not lead.strip():
        problems.append("lead: say which agency leads")
    asked = [q.strip() for q in questions.splitlines() if q.strip()]
    if not asked:
        problems.append("questions: give at least one threshold question, one a line")
    parsed = []
    for n, line in enumerate((x for x in steps.splitlines() if x.strip()), start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or parts[0] not in HOW or not parts[2]:
            problems.append(f"steps, line {n}: write how | service id | what to do, with how one of {', '.join(HOW)}")
            continue
        parsed.append({"order": n, "how": parts[0], "service_id": parts[1], "action": parts[2]})
    if not parsed and not any(p.startswith("steps") for p in problems):
        problems.append("steps: give at least one step, one a line")
    changed = pathway | {"lead": lead.strip(), "threshold_questions": asked, "steps": parsed}
    return {k: v for k, v in changed.items() if k not in ("version", "saved_by", "saved_at", "note")}, problems


def steps_text(pathway: dict[str, Any]) -> str:
    return "\n".join(f"{s['how']} | {s.get('service_id') or ''} | {s['action']}" for s in pathway["steps"])


def _latest(session: Session, pathway_id: str) -> PathwayRow | None:
    return session.scalars(select(PathwayRow).where(PathwayRow.id == pathway_id)
                           .order_by(PathwayRow.version.desc()).limit(1)).first()


def _shown(row: PathwayRow) -> dict[str, Any]:
    return json.loads(json.dumps(row.document)) | {"version": row.version, "saved_by": row.saved_by,
                                                    "saved_at": row.saved_at, "note": row.note}
