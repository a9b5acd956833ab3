"""People and machine clients who may use the platform: accounts, roles, sign-in and API tokens.

Every user belongs to one partner and has one role. Local accounts hold an argon2 hash of a
password of at least 12 characters; after ``lockout_attempts`` wrong passwords in a row an
account is locked for ``lockout_minutes``. A failed sign-in always gets the same message, so it
never tells anyone whether an address has an account. Accounts signed in through an identity
provider (OpenID Connect) have no password and are created or updated at each sign-in.

API tokens are random, shown once, and stored only as a SHA-256 hash: a 256-bit random token
needs no slow hash, and a fast one keeps every API request cheap. A token acts with its owner's
partner and role, and stops working when revoked or when its owner is disabled.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.errors import NotFoundError, UserError
from wholeplace.governance.access import Principal, Role
from wholeplace.settings import Settings
from wholeplace.store import Stores
from wholeplace.store.operational import Base, utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 is slow by design: refuse megabyte "passwords" before hashing them
PARTNER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}\.[^@\s]{1,60}$")
SIGN_IN_FAILED = ("Enter a correct email address and password. After {attempts} wrong attempts in a row an account "
                  "is locked for {minutes} minutes.")
TOKEN_PREFIX = "wp_"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("a password nobody has, for timing")


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    identity_provider: Mapped[str | None] = mapped_column(String(60), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class User:
    """A user as the rest of the product sees them (never the password hash)."""

    id: int
    email: str
    partner: str
    role: Role
    active: bool
    identity_provider: str | None = None
    last_sign_in_at: datetime | None = None


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    user_email: str
    created_at: datetime
    revoked: bool


def principal(user: User) -> Principal:
    """The user as the data-access layer knows them: who, which partner, which role."""
    return Principal(user_id=user.email, partner=user.partner, role=user.role)  # the audit log names people


class SignInError(UserError):
    """A sign-in that failed; the message is the same whatever the reason."""


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _user(row: UserRow) -> User:
    return User(id=row.id, email=row.email, partner=row.partner, role=Role(row.role), active=row.active,
                identity_provider=row.identity_provider, last_sign_in_at=aware(row.last_sign_in_at))


# -- checks ----------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise UserError(f"{email!r} is not an email address.", hint="Give an address like name@example.org.")
    return email


def check_partner(partner: str) -> str:
    if not PARTNER_CODE.match(partner):
        raise UserError(f"{partner!r} is not a partner code.",
                        hint="Partner codes are lower-case letters, digits and hyphens, e.g. nhs-lancashire.")
    return partner


def check_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserError(f"{role!r} is not a role.", hint=f"Choose one of: {choices}.") from None


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"The password is too short: it must have at least {MIN_PASSWORD} characters.",
                        hint="A few unrelated words make a long password that is easy to remember.")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"The password is too long: it may have at most {MAX_PASSWORD} characters.")
    return password


# -- accounts --------------------------------------------------------------------------------

def create_user(*, stores: Stores, email: str, partner: str, role: str | Role, password: str | None) -> User:
    """A new account; ``password=None`` makes one that can only sign in through an identity provider."""
    row = UserRow(email=normalise_email(email), partner=check_partner(partner), role=check_role(role).value,
                  password_hash=_hasher.hash(check_password(password)) if password is not None else None,
                  active=True, failed_attempts=0)
    with stores.session() as session:
        if _find(session, row.email) is not None:
            raise UserError(f"There is already an account for {row.email}.",
                            hint="Use `wholeplace users enable` or `set-password` to change it.")
        session.add(row)
        session.flush()
        return _user(row)


def _find(session: Session, email: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.email == email.strip().lower())).one_or_none()


def _get(session: Session, email: str) -> UserRow:
    row = _find(session, email)
    if row is None:
        raise NotFoundError(f"There is no account for {email}.", hint="List accounts with `wholeplace users list`.")
    return row


def get_user(*, stores: Stores, user_id: int) -> User | None:
    with stores.sessions() as session:
        row = session.get(UserRow, user_id)
        return _user(row) if row is not None else None


def find_user(*, stores: Stores, email: str) -> User | None:
    with stores.sessions() as session:
        row = _find(session, email)
        return _user(row) if row is not None else None


def list_users(*, stores: Stores) -> list[User]:
    with stores.sessions() as session:
        return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.partner, UserRow.email))]


def count_administrators(*, stores: Stores) -> int:
    with stores.sessions() as session:
        query = select(func.count()).where(UserRow.role == Role.ADMINISTRATOR.value, UserRow.active)
        return int(session.scalar(query) or 0)


def set_active(*, stores: Stores, email: str, active: bool) -> User:
    """Disable (or enable again) an account; a disabled user's sessions and tokens stop working."""
    with stores.session() as session:
        row = _get(session, email)
        row.active, row.failed_attempts, row.locked_until = active, 0, None
        return _user(row)


def set_password(*, stores: Stores, email: str, password: str) -> User:
    """A new password; also lifts a lock-out."""
    with stores.session() as session:
        row = _get(session, email)
        row.password_hash = _hasher.hash(check_password(password))
        row.failed_attempts, row.locked_until = 0, None
        return _user(row)


def authenticate(*, stores: Stores, email: str, password: str, settings: Settings | None = None) -> User:
    """The user whose email and password these are, or ``SignInError`` (one message for every reason)."""
    settings = settings or stores.settings
    failed = SignInError(SIGN_IN_FAILED.format(attempts=settings.lockout_attempts, minutes=settings.lockout_minutes))
    now = utcnow()
    with stores.sessions() as session:
        row = _find(session, email) if len(password) <= MAX_PASSWORD else None
        if row is None or row.password_hash is None or not row.active:
            _verify(_DUMMY_HASH, password)  # the same work as a real check, so timing tells nothing
            raise failed
        if (aware(row.locked_until) or now) > now:
            raise failed
        accepted = _verify(row.password_hash, password)
        if accepted:
            row.failed_attempts, row.locked_until, row.last_sign_in_at = 0, None, now
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
        else:
            _count_failure(row, settings, now)
        session.commit()
        if not accepted:
            raise failed
        return _user(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(row: UserRow, settings: Settings, now: datetime) -> None:
    row.failed_attempts = (row.failed_attempts or 0) + 1
    if row.failed_attempts >= settings.lockout_attempts:
        row.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        row.failed_attempts = 0


def upsert_external_user(*, stores: Stores, provider: str, subject: str, email: str, partner: str,
                         role: Role) -> User:
    """Create or update the account of someone signed in by an identity provider (just in time).

    The provider's claims are the truth at each sign-in: a person who moved partner or role
    gets the new one. An address that already has a local account is refused, so an identity
    provider cannot take over an account it does not own.
    """
    email = normalise_email(email)
    with stores.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.identity_provider == provider,
                                                    UserRow.subject == subject)).one_or_none()
        if row is None:
            if _find(session, email) is not None:
                raise UserError(f"{email} already has an account that does not sign in through {provider}.",
                                hint="Ask an administrator to link or remove the existing account.")
            row = UserRow(email=email, identity_provider=provider, subject=subject, active=True, failed_attempts=0)
            session.add(row)
        elif not row.active:
            raise SignInError("This account is disabled. Ask an administrator to enable it.")
        row.email, row.partner, row.role, row.last_sign_in_at = email, check_partner(partner), role.value, utcnow()
        session.flush()
        return _user(row)


# -- API tokens ------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, stores: Stores, email: str, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``email``'s account; the secret is returned here and never again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    name = name.strip()[:100] or "token"
    with stores.session() as session:
        user = _get(session, email)
        row = ApiTokenRow(user_id=user.id, name=name, token_sha256=token_hash(secret), created_at=utcnow())
        session.add(row)
        session.flush()
        return ApiToken(row.id, name, user.email, row.created_at, revoked=False), secret


def list_tokens(*, stores: Stores) -> list[ApiToken]:
    with stores.sessions() as session:
        rows = session.execute(select(ApiTokenRow, UserRow.email).join(UserRow, UserRow.id == ApiTokenRow.user_id)
                               .order_by(ApiTokenRow.id)).all()
        return [ApiToken(t.id, t.name, email, aware(t.created_at), t.revoked_at is not None)  # type: ignore[arg-type]
                for t, email in rows]


def revoke_token(*, stores: Stores, token_id: int) -> None:
    with stores.session() as session:
        row = session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(f"There is no API token {token_id}.", hint="List tokens with `wholeplace users list`.")
        row.revoked_at = row.revoked_at or utcnow()


def user_for_token(*, stores: Stores, token: str) -> User | None:
    """The active owner of an unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with stores.session() as session:
        found = session.execute(select(ApiTokenRow, UserRow).join(UserRow, UserRow.id == ApiTokenRow.user_id)
                                .where(ApiTokenRow.token_sha256 == token_hash(token))).one_or_none()
        if found is None or found[0].revoked_at is not None or not found[1].active:
            return None
        found[0].last_used_at = utcnow()
        return _user(found[1])
