"""Accounts, passwords, lock-out and API tokens over a real (temporary) operational store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from wholeplace.errors import UserError
from wholeplace.governance.access import Principal, Role
from wholeplace.governance.users import (
    ApiTokenRow,
    SignInError,
    UserRow,
    authenticate,
    create_token,
    create_user,
    list_users,
    principal,
    revoke_token,
    set_active,
    set_password,
    upsert_external_user,
    user_for_token,
)
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores
from wholeplace.store.operational import utcnow

PASSWORD = "correct horse battery staple"


def add(stores: Stores, email: str = "ana@nhs.example.org", role: Role = Role.ANALYST) -> None:
    create_user(stores=stores, email=email, partner="nhs-lancashire", role=role, password=PASSWORD)


def test_a_new_user_signs_in_and_has_a_partner_and_a_role(stores: Stores):
    created = create_user(stores=stores, email=" Ana@NHS.example.org ", partner="nhs-lancashire", role="analyst",
                          password=PASSWORD)
    user = authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD)
    assert (user.id, user.email, user.partner, user.role) == (created.id, "ana@nhs.example.org", "nhs-lancashire",
                                                              Role.ANALYST)
    assert principal(user) == Principal(user_id=user.email, partner="nhs-lancashire", role=Role.ANALYST)
    assert user.last_sign_in_at is not None


def test_passwords_are_stored_as_argon2_hashes_only(stores: Stores):
    add(stores)
    with stores.sessions() as session:
        stored = session.scalar(select(UserRow.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(("changes", "words"), [
    ({"password": "short pass"}, "at least 12 characters"),
    ({"password": "x" * 1025}, "at most 1024 characters"),
    ({"email": "not-an-address"}, "is not an email address"),
    ({"role": "superuser"}, "is not a role"),
    ({"partner": "NHS Lancashire'; DROP TABLE users; --"}, "is not a partner code"),
])
def test_incomplete_or_wrong_accounts_are_refused_with_the_reason(stores: Stores, changes: dict, words: str):
    values = {"email": "ana@nhs.example.org", "partner": "nhs-lancashire", "role": "analyst", "password": PASSWORD}
    with pytest.raises(UserError, match=words):
        create_user(stores=stores, **(values | changes))
    assert list_users(stores=stores) == []


def test_one_account_per_address(stores: Stores):
    add(stores)
    with pytest.raises(UserError, match="already an account"):
        add(stores, email="ANA@nhs.example.org")


def test_failures_say_the_same_whether_or_not_the_account_exists(stores: Stores):
    add(stores)
    with pytest.raises(SignInError) as wrong_password:
        authenticate(stores=stores, email="ana@nhs.example.org", password="not the password at all")
    with pytest.raises(SignInError) as no_account:
        authenticate(stores=stores, email="nobody@nhs.example.org", password="not the password at all")
    assert wrong_password.value.message == no_account.value.message


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(stores: Stores):
    add(stores)
    for _ in range(5):
        with pytest.raises(SignInError):
            authenticate(stores=stores, email="ana@nhs.example.org", password="wrong wrong wrong")
    with pytest.raises(SignInError):  # now even the right password is refused
        authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD)
    with stores.sessions() as session:
        locked_until = session.scalar(select(UserRow.locked_until))
    remaining = locked_until.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    with stores.session() as session:  # fifteen minutes later
        session.execute(update(UserRow).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD).email == "ana@nhs.example.org"


def test_lockout_follows_the_settings(tmp_path):
    stores = open_stores(Settings(data_dir=tmp_path / "data", lockout_attempts=2, lockout_minutes=60))
    try:
        add(stores)
        for _ in range(2):
            with pytest.raises(SignInError, match=r"After 2 wrong attempts .* locked for 60 minutes"):
                authenticate(stores=stores, email="ana@nhs.example.org", password="wrong wrong wrong")
        with pytest.raises(SignInError):
            authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD)
    finally:
        stores.close()


def test_a_right_password_resets_the_count_of_failures(stores: Stores):
    add(stores)
    for _ in range(4):
        with pytest.raises(SignInError):
            authenticate(stores=stores, email="ana@nhs.example.org", password="wrong wrong wrong")
    authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD)
    for _ in range(4):
        with pytest.raises(SignInError):
            authenticate(stores=stores, email="ana@nhs.example.org", password="wrong wrong wrong")
    assert authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD).active


def test_disabled_accounts_cannot_sign_in_and_new_passwords_lift_a_lock(stores: Stores):
    add(stores)
    set_active(stores=stores, email="ana@nhs.example.org", active=False)
    with pytest.raises(SignInError):
        authenticate(stores=stores, email="ana@nhs.example.org", password=PASSWORD)
    set_active(stores=stores, email="ana@nhs.example.org", active=True)
    for _ in range(5):
        with pytest.raises(SignInError):
            authenticate(stores=stores, email="ana@nhs.example.org", password="wrong wrong wrong")
    set_password(stores=stores, email="ana@nhs.example.org", password="a brand new long password")
    assert authenticate(stores=stores, email="ana@nhs.example.org", password="a brand new long password")


def test_sql_in_an_email_is_only_data(stores: Stores):
    add(stores)
    with pytest.raises(SignInError):
        authenticate(stores=stores, email="' OR 1=1 --", password="' OR '1'='1' --  ")
    with stores.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(stores: Stores):
    add(stores)
    token, secret = create_token(stores=stores, email="ana@nhs.example.org", name="dashboard")
    assert secret.startswith("wp_") and len(secret) > 40
    with stores.sessions() as session:
        stored = session.scalar(select(ApiTokenRow.token_sha256))
    assert secret not in stored and len(stored) == 64
    user = user_for_token(stores=stores, token=secret)
    assert user is not None and (user.partner, user.role) == ("nhs-lancashire", Role.ANALYST)
    assert user_for_token(stores=stores, token=secret[:-1] + "x") is None
    revoke_token(stores=stores, token_id=token.id)
    assert user_for_token(stores=stores, token=secret) is None


def test_a_disabled_owners_token_stops_working(stores: Stores):
    add(stores)
    _, secret = create_token(stores=stores, email="ana@nhs.example.org", name="dashboard")
    set_active(stores=stores, email="ana@nhs.example.org", active=False)
    assert user_for_token(stores=stores, token=secret) is None


def test_identity_provider_users_are_created_then_updated_from_their_claims(stores: Stores):
    first = upsert_external_user(stores=stores, provider="nhs", subject="123", email="bo@nhs.example.org",
                                 partner="nhs-lancashire", role=Role.VIEWER)
    again = upsert_external_user(stores=stores, provider="nhs", subject="123", email="bo@nhs.example.org",
                                 partner="nhs-lancashire", role=Role.ANALYST)
    assert first.id == again.id and again.role == Role.ANALYST and again.identity_provider == "nhs"
    with pytest.raises(SignInError):  # no password: a local sign-in is impossible
        authenticate(stores=stores, email="bo@nhs.example.org", password=PASSWORD)


def test_an_identity_provider_cannot_take_over_a_local_account(stores: Stores):
    add(stores)
    with pytest.raises(UserError, match="already has an account"):
        upsert_external_user(stores=stores, provider="nhs", subject="999", email="ana@nhs.example.org",
                             partner="nhs-lancashire", role=Role.ADMINISTRATOR)
    assert [user.role for user in list_users(stores=stores)] == [Role.ANALYST]
