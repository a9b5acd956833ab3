"""Telling both sides of a referral what changed: in the app (a row per recipient, unread until they
look) and by email through the configured SMTP server.

An email carries the referral's reference, its new status and a link back to the app, never the
person's details. Without ``smtp_host`` no email is sent and each notification says so; a failed
send is recorded on the notification and does not undo the change it reports.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wholeplace.referrals.store import ReferralNotificationRow, referral_session
from wholeplace.settings import Settings
from wholeplace.store.operational import utcnow
from wholeplace.store.stores import Stores

TIMEOUT_SECONDS = 10
NOT_CONFIGURED = "not sent: no SMTP server is configured"


@dataclass(frozen=True)
class Notice:
    """One notification to send: who gets it, what it says, and where it links."""

    number: int
    recipient: str
    message: str
    link: str


def add_notices(session: Session, *, referral_id: str, recipients: list[str], message: str,
                link: str) -> list[Notice]:
    """In-app notifications for each recipient, in the caller's transaction; send them after it commits."""
    notices = []
    for recipient in dict.fromkeys(recipients):
        row = ReferralNotificationRow(referral_id=referral_id, recipient=recipient, message=message,
                                      created_at=utcnow(), email_status="")
        session.add(row)
        session.flush()
        notices.append(Notice(row.number, recipient, message, link))
    return notices


def send_notices(*, stores: Stores, settings: Settings, notices: list[Notice]) -> None:
    """Email each notice (or note why not) and record how it went."""
    for notice in notices:
        status = send_email(settings=settings, to=notice.recipient, subject=notice.message,
                            body=email_body(notice))
        with referral_session(stores) as session:
            session.execute(update(ReferralNotificationRow).where(ReferralNotificationRow.number == notice.number)
                            .values(email_status=status[:500]))


def email_body(notice: Notice) -> str:
    return (f"{notice.message}.\n\nSee the referral in Wholeplace: {notice.link}\n\n"
            "This email holds no personal details: sign in to see the referral.\n")


def send_email(*, settings: Settings, to: str, subject: str, body: str) -> str:
    """Send one plain-text email; returns 'sent', or why it was not sent."""
    if not settings.smtp_host:
        return NOT_CONFIGURED
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, _password(settings))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return f"failed: {type(exc).__name__}: {exc}"
    return "sent"


def _password(settings: Settings) -> str:
    if settings.smtp_password_file is None:
        return ""
    return settings.smtp_password_file.read_text(encoding="utf-8").strip()


def unread_count(*, stores: Stores, email: str) -> int:
    with referral_session(stores) as session:
        query = select(func.count()).where(ReferralNotificationRow.recipient == email,
                                           ReferralNotificationRow.read_at.is_(None))
        return int(session.scalar(query) or 0)


def notifications_for(*, stores: Stores, email: str, limit: int = 100) -> list[ReferralNotificationRow]:
    """A user's notifications, newest first."""
    with referral_session(stores) as session:
        query = (select(ReferralNotificationRow).where(ReferralNotificationRow.recipient == email)
                 .order_by(ReferralNotificationRow.number.desc()).limit(limit))
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def mark_read(*, stores: Stores, email: str, referral_id: str | None = None) -> None:
    """Mark a user's notifications read: all of them, or those of one referral."""
    with referral_session(stores) as session:
        query = update(ReferralNotificationRow).where(ReferralNotificationRow.recipient == email,
                                                      ReferralNotificationRow.read_at.is_(None))
        if referral_id is not None:
            query = query.where(ReferralNotificationRow.referral_id == referral_id)
        session.execute(query.values(read_at=utcnow()))
