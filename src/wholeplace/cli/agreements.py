"""``wholeplace agreements``: import, list, show and check data sharing agreements."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from wholeplace.cli.main import DataDirOption, console, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.store import open_stores

agreements_app = typer.Typer(help="Manage data sharing agreements.", no_args_is_help=True)
FileArgument = Annotated[Path, typer.Argument(help="Agreement file (YAML or JSON).")]


@agreements_app.command("import")
def import_agreement(file: FileArgument, data_dir: DataDirOption = None) -> None:
    """Check an agreement file and store it as the agreement's next version."""
    from wholeplace.governance.registry import import_agreement_file

    try:
        stores = open_stores(make_settings(data_dir))
        stored = import_agreement_file(stores=stores, path=file, actor=f"cli:{getpass.getuser()}")
    except UserError as exc:
        fail(exc)
        return
    agreement = stored.agreement
    change = "stored as version" if stored.created else "unchanged since version"
    console.print(f"Agreement {agreement.id} ({agreement.status}) {change} {agreement.version}.", highlight=False)


@agreements_app.command("list")
def list_agreements(data_dir: DataDirOption = None) -> None:
    """List every agreement's latest version with its status and dates."""
    from wholeplace.governance.registry import list_agreements as latest

    stored = latest(stores=open_stores(make_settings(data_dir)))
    if not stored:
        console.print("No agreements yet: `wholeplace agreements import FILE` adds one.")
    for item in stored:
        a = item.agreement
        ends = f", ends {a.end}" if a.end else ""
        console.print(f"{a.id}  v{a.version}  {a.status}  {a.start} to review {a.review}{ends}  {a.title}",
                      highlight=False, markup=False, soft_wrap=True)


@agreements_app.command("show")
def show_agreement(agreement_id: Annotated[str, typer.Argument(help="Agreement id.")],
                   data_dir: DataDirOption = None) -> None:
    """Print an agreement's latest version as YAML."""
    from wholeplace.governance.agreements import dump_agreement
    from wholeplace.governance.registry import get_agreement

    try:
        stored = get_agreement(stores=open_stores(make_settings(data_dir)), agreement_id=agreement_id)
    except UserError as exc:
        fail(exc)
        return
    console.print(dump_agreement(stored.agreement), highlight=False, markup=False, soft_wrap=True)


@agreements_app.command("validate")
def validate_agreement(file: FileArgument) -> None:
    """Check an agreement file without storing it; lists every problem at once."""
    from wholeplace.governance.agreements import load_agreement_file

    try:
        agreement = load_agreement_file(file)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"{file}: agreement {agreement.id} is complete and consistent.", highlight=False)
