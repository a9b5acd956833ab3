"""Referrals in the operational store only: they hold identifiable person details, so nothing here is
ever written to the analytic store. Tables are created once per engine on first use (SQLite and
PostgreSQL), so a store opened before this module was imported gains them too.

- ``referrals``: one row per referral, with the person's details and the current status;
- ``referral_changes``: every status change, with who, when and the note;
- ``referral_notifications``: in-app notifications, one per recipient, and how the email went;
- ``referral_organisations``: which Wholeplace partner receives referrals for a directory organisation;
- ``referral_service_limits``: a service's own expiry times, where it has them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Engine, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.store.operational import Base
from wholeplace.store.stores import Stores

_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class ReferralRow(Base):
    __tablename__ = "referrals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    service_name: Mapped[str] = mapped_column(String(1000))
    organization_id: Mapped[str | None] = mapped_column(String(200))
    referring_partner: Mapped[str] = mapped_column(String(64), index=True)
    referring_user: Mapped[str] = mapped_column(String(320))
    receiving_partner: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), index=True)
    urgency: Mapped[str] = mapped_column(String(20))
    person_name: Mapped[str] = mapped_column(String(200))
    person_date_of_birth: Mapped[date | None] = mapped_column(Date)
    person_contact: Mapped[str] = mapped_column(Text)
    needs: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    consent: Mapped[str] = mapped_column(String(20))
    consent_by: Mapped[str] = mapped_column(String(200), default="")
    consent_how: Mapped[str] = mapped_column(String(20), default="")
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    basis_without_consent: Mapped[str] = mapped_column(String(40), default="")
    basis_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ReferralChangeRow(Base):
    __tablename__ = "referral_changes"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(320))
    partner: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class ReferralNotificationRow(Base):
    __tablename__ = "referral_notifications"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)  # a user's email, or a provider's
    message: Mapped[str] = mapped_column(String(500))  # a reference and a status: never person details
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_status: Mapped[str] = mapped_column(String(500), default="")


class ReferralOrganisationRow(Base):
    __tablename__ = "referral_organisations"
    organization_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))


class ReferralServiceLimitRow(Base):
    __tablename__ = "referral_service_limits"
    service_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    working_days_unopened: Mapped[int] = mapped_column(Integer)
    days_unaccepted: Mapped[int] = mapped_column(Integer)


TABLES = (ReferralRow, ReferralChangeRow, ReferralNotificationRow, ReferralOrganisationRow, ReferralServiceLimitRow)


@contextmanager
def referral_session(stores: Stores) -> Iterator[Session]:
    """A transaction on a store whose referral tables exist (created once per engine)."""
    if stores.engine not in _READY:
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[t.__tablename__] for t in TABLES])
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session
