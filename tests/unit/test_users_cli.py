"""``wholeplace users …`` commands against a temporary store."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wholeplace.cli.users import users_app
from wholeplace.governance.access import Role
from wholeplace.governance.users import authenticate, list_users, user_for_token
from wholeplace.settings import Settings
from wholeplace.store import open_stores

PASSWORD = "correct horse battery staple"


def run(*args: str, data_dir: Path, input: str | None = None):
    result = CliRunner().invoke(users_app, [*args, "--data-dir", str(data_dir)], input=input)
    return result


def test_create_admin_asks_for_the_password_twice(settings: Settings):
    result = run("create-admin", "--partner", "lancs-hub", "--email", "admin@hub.example.org",
                 data_dir=settings.data_dir, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    stores = open_stores(settings)
    try:
        user = authenticate(stores=stores, email="admin@hub.example.org", password=PASSWORD)
        assert (user.role, user.partner) == (Role.ADMINISTRATOR, "lancs-hub")
    finally:
        stores.close()


def test_add_list_disable_enable_set_password_and_tokens(settings: Settings, tmp_path: Path):
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    data = settings.data_dir
    assert run("add", "--partner", "nhs-lancashire", "--email", "ana@nhs.example.org", "--role", "analyst",
               "--password-file", str(password_file), data_dir=data).exit_code == 0
    assert run("disable", "ana@nhs.example.org", data_dir=data).exit_code == 0
    assert run("list", data_dir=data).output.split() == ["ana@nhs.example.org", "nhs-lancashire", "analyst", "disabled"]
    assert run("enable", "ana@nhs.example.org", data_dir=data).exit_code == 0
    password_file.write_text("an entirely new password\n")
    assert run("set-password", "ana@nhs.example.org", "--password-file", str(password_file),
               data_dir=data).exit_code == 0
    created = run("token-create", "ana@nhs.example.org", "--name", "dashboard", data_dir=data)
    secret = created.output.strip().splitlines()[-1]
    stores = open_stores(settings)
    try:
        assert authenticate(stores=stores, email="ana@nhs.example.org", password="an entirely new password").active
        assert user_for_token(stores=stores, token=secret) is not None
        assert run("token-revoke", "1", data_dir=data).exit_code == 0
        assert user_for_token(stores=stores, token=secret) is None
    finally:
        stores.close()


def test_mistakes_exit_with_a_message_and_change_nothing(settings: Settings, tmp_path: Path):
    short = tmp_path / "short"
    short.write_text("too short\n")
    result = run("add", "--partner", "nhs-lancashire", "--email", "ana@nhs.example.org", "--role", "analyst",
                 "--password-file", str(short), data_dir=settings.data_dir)
    assert result.exit_code == 2 and "at least 12 characters" in result.output
    assert run("add", "--partner", "nhs", "--email", "b@nhs.example.org", "--role", "boss",
               "--password-file", str(short), data_dir=settings.data_dir).exit_code == 2
    assert run("disable", "nobody@nhs.example.org", data_dir=settings.data_dir).exit_code == 2
    stores = open_stores(settings)
    try:
        assert list_users(stores=stores) == []
    finally:
        stores.close()
