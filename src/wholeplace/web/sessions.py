"""Server-side sessions: the cookie holds only a random 256-bit id; everything else stays here.

A session starts anonymous (to carry the CSRF token of the sign-in form and the state of an
OpenID Connect sign-in) and is replaced by a new one, with a new id, at sign-in, so an id planted
in a browser before sign-in is worthless after it. A session ends when revoked (sign-out), when
unused for ``session_idle_minutes`` or ``session_absolute_hours`` after it began. The table keeps
the SHA-256 of each id, so a copy of the database holds no usable session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, update
from sqlalchemy.orm import Mapped, mapped_column

from wholeplace.governance.users import aware
from wholeplace.store import Stores
from wholeplace.store.operational import Base, utcnow

COOKIE = "wholeplace_session"
TOUCH_EVERY = timedelta(minutes=1)  # last-seen is written at most this often, not on every request


class SessionRow(Base):
    __tablename__ = "web_sessions"
    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass
class WebSession:
    """One browser's session as a request sees it; ``data`` is what Starlette calls ``request.session``."""

    id: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    last_seen_at: datetime | None = None


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(*, stores: Stores, user_id: int | None, data: dict[str, Any] | None = None) -> WebSession:
    """A new session with a fresh id and a fresh CSRF token."""
    session_id, now = secrets.token_urlsafe(32), utcnow()
    data = {**(data or {}), "csrf": secrets.token_urlsafe(32)}
    hours = stores.settings.session_absolute_hours
    with stores.session() as db:
        db.add(SessionRow(id_sha256=_hash(session_id), user_id=user_id, data=data, created_at=now,
                          last_seen_at=now, expires_at=now + timedelta(hours=hours)))
    return WebSession(session_id, user_id, dict(data), now)


def load_session(*, stores: Stores, session_id: str) -> WebSession | None:
    """The live session with this id, or None when unknown, revoked, idle too long or past its end."""
    if not session_id or len(session_id) > 100:
        return None
    now = utcnow()
    idle = timedelta(minutes=stores.settings.session_idle_minutes)
    with stores.sessions() as db:
        row = db.get(SessionRow, _hash(session_id))
        if row is None or row.revoked_at is not None:
            return None
        last_seen, expires = aware(row.last_seen_at), aware(row.expires_at)
        if now >= expires or now - last_seen >= idle:  # type: ignore[operator]
            return None
        return WebSession(session_id, row.user_id, dict(row.data or {}), last_seen)


def save_session(*, stores: Stores, session: WebSession, data: dict[str, Any] | None) -> None:
    """Store changed ``data`` (None: unchanged), and note that the session was used (at most once a minute)."""
    now = utcnow()
    if data is None and session.last_seen_at is not None and now - session.last_seen_at < TOUCH_EVERY:
        return
    values: dict[str, Any] = {"last_seen_at": now}
    if data is not None:
        values["data"] = data
    with stores.session() as db:
        db.execute(update(SessionRow).where(SessionRow.id_sha256 == _hash(session.id)).values(**values))


def revoke_session(*, stores: Stores, session_id: str) -> None:
    with stores.session() as db:
        db.execute(update(SessionRow).where(SessionRow.id_sha256 == _hash(session_id), SessionRow.revoked_at.is_(None))
                   .values(revoked_at=utcnow()))


def revoke_user_sessions(*, stores: Stores, user_id: int) -> int:
    """End every session of a user (when disabled); returns how many were live."""
    with stores.session() as db:
        result = db.execute(update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
                            .values(revoked_at=utcnow()))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def csrf_matches(session: WebSession | None, token: str | None) -> bool:
    expected = session.data.get("csrf") if session is not None else None
    return bool(expected and token) and secrets.compare_digest(str(expected), str(token))

