"""``wholeplace directory``: import and export the community support directory (HSDS 3.0 / Open
Referral UK), list likely duplicate organisations and merge them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholeplace.cli.main import DataDirOption, console, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.store import open_stores

directory_app = typer.Typer(help="The community support directory (Open Referral UK / HSDS 3.0).",
                            no_args_is_help=True)


@directory_app.command("import")
def import_command(path: Annotated[Path, typer.Argument(help="HSDS JSON file, data package folder or template CSV.")],
                   format: Annotated[str, typer.Option(
                       "--format", help="auto, json, datapackage or template.")] = "auto",
                   data_dir: DataDirOption = None) -> None:
    """Import a directory feed in one transaction; records with the same ids are replaced."""
    from wholeplace.directory.hsds_io import import_directory

    try:
        result = import_directory(stores=open_stores(make_settings(data_dir)), path=path, format=format)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Imported {result.records} records ({result.services} services) from {result.source} "
                  f"as {result.format}.", highlight=False)


@directory_app.command("export")
def export_command(folder: Annotated[Path, typer.Argument(help="Folder to write the data package into.")],
                   data_dir: DataDirOption = None) -> None:
    """Export the directory as an HSDS data package (CSV tables, datapackage.json, services.json)."""
    from wholeplace.directory.hsds_io import export_directory

    result = export_directory(stores=open_stores(make_settings(data_dir)), folder=folder)
    console.print(f"Wrote {len(result.tables)} tables and {result.services} services to {result.folder}.",
                  highlight=False)


@directory_app.command("duplicates")
def duplicates_command(data_dir: DataDirOption = None) -> None:
    """List likely duplicate organisations (shared identifiers; similar names at one postcode)."""
    from wholeplace.directory.duplicates import find_duplicates

    found = find_duplicates(stores=open_stores(make_settings(data_dir)))
    if not found:
        console.print("No likely duplicates.")
    for pair in found:
        console.print(f"{pair.first_id}  {pair.first_name}\n{pair.second_id}  {pair.second_name}\n"
                      f"  because: {'; '.join(pair.reasons)}", highlight=False)


@directory_app.command("merge")
def merge_command(keep: Annotated[str, typer.Argument(help="Id of the organisation to keep.")],
                  drop: Annotated[str, typer.Argument(help="Id of its duplicate, to remove.")],
                  by: Annotated[str, typer.Option("--by", help="Email of the editor merging them.")],
                  data_dir: DataDirOption = None) -> None:
    """Merge a duplicate organisation into the one kept; its services and locations move across."""
    from wholeplace.directory.duplicates import merge_organizations

    try:
        moved = merge_organizations(stores=open_stores(make_settings(data_dir)), keep_id=keep, drop_id=drop, by=by)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Merged {drop} into {keep}; {moved} records now point at it.", highlight=False)
