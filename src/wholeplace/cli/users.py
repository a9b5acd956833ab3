"""``wholeplace users …``: create the first administrator, manage accounts and API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholeplace.cli.main import DataDirOption, console, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.governance import users
from wholeplace.store import Stores, open_stores

users_app = typer.Typer(help="Manage who can sign in: accounts, roles and API tokens.", no_args_is_help=True)

EmailArgument = Annotated[str, typer.Argument(help="The account's email address.")]
EmailOption = Annotated[str, typer.Option("--email", help="The account's email address.")]
PartnerOption = Annotated[str, typer.Option("--partner", help="Code of the partner the user belongs to.")]
PasswordFileOption = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from the first line of this file instead of asking."),
]


def _stores(data_dir: Path | None) -> Stores:
    return open_stores(make_settings(data_dir))


def _password(password_file: Path | None) -> str:
    """The password from a file, or asked for twice without echo (never an option: shells keep history)."""
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise UserError(f"Cannot read a password from {password_file}.",
                            hint="Give a file whose first line is the password.") from exc
    return str(typer.prompt("Password (at least 12 characters)", hide_input=True, confirmation_prompt=True))


def _run(data_dir: Path | None, action) -> None:  # type: ignore[no-untyped-def]
    stores = _stores(data_dir)
    try:
        action(stores)
    except UserError as exc:
        fail(exc)
    finally:
        stores.close()


@users_app.command("create-admin")
def create_admin(partner: PartnerOption, email: EmailOption, password_file: PasswordFileOption = None,
                 data_dir: DataDirOption = None) -> None:
    """Create an administrator account (the first one, or another)."""
    def action(stores: Stores) -> None:
        user = users.create_user(stores=stores, email=email, partner=partner, role=users.Role.ADMINISTRATOR,
                                 password=_password(password_file))
        console.print(f"Created administrator {user.email} ({user.partner}). Sign in at /sign-in.")
    _run(data_dir, action)


@users_app.command("add")
def add(partner: PartnerOption, email: EmailOption,
        role: Annotated[str, typer.Option("--role", help="viewer, analyst, practitioner, ig_officer, administrator.")],
        password_file: PasswordFileOption = None,
        no_password: Annotated[bool, typer.Option("--no-password",
                                                  help="Sign in only through an identity provider.")] = False,
        data_dir: DataDirOption = None) -> None:
    """Add a user with a role."""
    def action(stores: Stores) -> None:
        password = None if no_password else _password(password_file)
        user = users.create_user(stores=stores, email=email, partner=partner, role=role, password=password)
        console.print(f"Created {user.email}: {user.role.value} at {user.partner}.")
    _run(data_dir, action)


@users_app.command("list")
def list_users(data_dir: DataDirOption = None) -> None:
    """List accounts and API tokens."""
    def action(stores: Stores) -> None:
        for user in users.list_users(stores=stores):
            state = "active" if user.active else "disabled"
            console.print(f"{user.email}\t{user.partner}\t{user.role.value}\t{state}", highlight=False)
        for token in users.list_tokens(stores=stores):
            state = "revoked" if token.revoked else "active"
            console.print(f"token {token.id}\t{token.name}\t{token.user_email}\t{state}", highlight=False)
    _run(data_dir, action)


@users_app.command("disable")
def disable(email: EmailArgument, data_dir: DataDirOption = None) -> None:
    """Disable an account: it can no longer sign in, and its sessions and API tokens stop working."""
    _run(data_dir, lambda stores: console.print(
        f"Disabled {users.set_active(stores=stores, email=email, active=False).email}."))


@users_app.command("enable")
def enable(email: EmailArgument, data_dir: DataDirOption = None) -> None:
    """Enable a disabled account again (and lift a lock-out)."""
    _run(data_dir, lambda stores: console.print(
        f"Enabled {users.set_active(stores=stores, email=email, active=True).email}."))


@users_app.command("set-password")
def set_password(email: EmailArgument, password_file: PasswordFileOption = None,
                 data_dir: DataDirOption = None) -> None:
    """Give an account a new password (also lifts a lock-out)."""
    def action(stores: Stores) -> None:
        user = users.set_password(stores=stores, email=email, password=_password(password_file))
        console.print(f"New password set for {user.email}.")
    _run(data_dir, action)


@users_app.command("token-create")
def token_create(email: EmailArgument,
                 name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. 'dashboard'.")],
                 data_dir: DataDirOption = None) -> None:
    """Create an API token acting as the account; it is shown once, so store it now."""
    def action(stores: Stores) -> None:
        token, secret = users.create_token(stores=stores, email=email, name=name)
        console.print(f"API token {token.id} ({token.name}) for {token.user_email}. It is shown only now:")
        console.print(secret, highlight=False, soft_wrap=True)
    _run(data_dir, action)


@users_app.command("token-revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's number, from `wholeplace users list`.")],
                 data_dir: DataDirOption = None) -> None:
    """Revoke an API token: it stops working at once."""
    def action(stores: Stores) -> None:
        users.revoke_token(stores=stores, token_id=token_id)
        console.print(f"Revoked API token {token_id}.")
    _run(data_dir, action)
