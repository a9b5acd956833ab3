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


@directory_app.command("postcodes")
def postcodes_command(path: Annotated[Path, typer.Argument(help="ONSPD or NSPL CSV, or Code-Point Open CSV file or "
                                                                "folder.")],
                      areas: Annotated[str, typer.Option("--areas", help="Only these postcode areas or districts, "
                                                                          "e.g. PR,BB,FY,LA or PR1,BB10.")] = "",
                      within_km: Annotated[float | None, typer.Option(
                          "--within-km", help="Only postcodes this many km from a directory location.")] = None,
                      data_dir: DataDirOption = None) -> None:
    """Replace the postcode centroids that search places postcodes at, in one transaction."""
    from wholeplace.directory.postcodes import load_postcodes

    try:
        load = load_postcodes(stores=open_stores(make_settings(data_dir)), path=path, areas=areas.split(","),
                              within_km=within_km)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Loaded {load.loaded:,} postcodes from {load.source} ({load.format}). Skipped "
                  f"{load.terminated:,} terminated, {load.without_location:,} without a location and "
                  f"{load.outside_area:,} outside the area asked for; rejected {load.rejected:,}.", highlight=False)
    for problem in load.problems[:5]:
        console.print(f"  {problem}", highlight=False)


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


@directory_app.command("reminders")
def reminders_command(days: Annotated[int, typer.Option("--days", help="Remind when a service has not been "
                                                                       "checked for this many days.")] = 180,
                      data_dir: DataDirOption = None) -> None:
    """List services due for review (not checked for --days days, or never), by owning organisation."""
    from wholeplace.directory.freshness import review_reminders

    try:
        reminders = review_reminders(stores=open_stores(make_settings(data_dir)), days=days)
    except UserError as exc:
        fail(exc)
        return
    if not reminders:
        console.print(f"Every service was checked in the last {days} days.")
    for reminder in reminders:
        console.print(f"{reminder.organization_name} <{reminder.email or 'no email listed'}>: "
                      f"{len(reminder.services)} to review", highlight=False)
        for stale in reminder.services:
            when = "never checked" if stale.last_checked is None else \
                f"last checked {stale.last_checked} ({stale.days_unchecked} days ago)"
            console.print(f"  {stale.id}  {stale.name}: {when}", highlight=False)


@directory_app.command("propose")
def propose_command(service_id: Annotated[str, typer.Argument(help="Id of the service to change.")],
                    changes: Annotated[list[str], typer.Argument(help="Changes as field=value, e.g. "
                                                                      "alert='Closed on Friday'.")],
                    by: Annotated[str, typer.Option("--by", help="Email of the provider proposing it.")],
                    note: Annotated[str, typer.Option("--note", help="Why, for the editor.")] = "",
                    data_dir: DataDirOption = None) -> None:
    """Queue a provider's edit to a service for an editor to approve or reject."""
    from wholeplace.directory.freshness import propose_change

    try:
        fields = dict(_field_value(change) for change in changes)
        proposal = propose_change(stores=open_stores(make_settings(data_dir)), service_id=service_id,
                                  changes=fields, by=by, note=note)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Queued proposal {proposal.number} for {proposal.service_name}.", highlight=False)


@directory_app.command("proposals")
def proposals_command(status: Annotated[str, typer.Option(
                          "--status", help="pending, approved, rejected or all.")] = "pending",
                      data_dir: DataDirOption = None) -> None:
    """List proposed edits (pending ones by default), oldest first."""
    from wholeplace.directory.freshness import list_proposals

    try:
        found = list_proposals(stores=open_stores(make_settings(data_dir)),
                               status=None if status == "all" else status)
    except UserError as exc:
        fail(exc)
        return
    if not found:
        console.print(f"No {'' if status == 'all' else status + ' '}proposals.")
    for p in found:
        changes = "; ".join(f"{k}={v!r}" for k, v in p.changes.items())
        decided = f" by {p.decided_by}" + (f": {p.reason}" if p.reason else "") if p.decided_by else ""
        console.print(f"{p.number}  {p.status}{decided}  {p.service_name} ({p.service_id})\n  {changes}\n"
                      f"  proposed by {p.proposed_by} on {p.proposed_at:%Y-%m-%d}"
                      + (f": {p.note}" if p.note else ""), highlight=False)


@directory_app.command("approve")
def approve_command(number: Annotated[int, typer.Argument(help="Number of the proposal.")],
                    by: Annotated[str, typer.Option("--by", help="Email of the editor approving it.")],
                    data_dir: DataDirOption = None) -> None:
    """Apply a pending proposal to its service; the service counts as checked today."""
    from wholeplace.directory.freshness import approve_proposal

    try:
        proposal = approve_proposal(stores=open_stores(make_settings(data_dir)), number=number, by=by)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Approved proposal {number}: {proposal.service_name} is updated.", highlight=False)


@directory_app.command("reject")
def reject_command(number: Annotated[int, typer.Argument(help="Number of the proposal.")],
                   by: Annotated[str, typer.Option("--by", help="Email of the editor rejecting it.")],
                   reason: Annotated[str, typer.Option("--reason", help="Why, for the provider.")],
                   data_dir: DataDirOption = None) -> None:
    """Reject a pending proposal with a reason; the service is not changed."""
    from wholeplace.directory.freshness import reject_proposal

    try:
        reject_proposal(stores=open_stores(make_settings(data_dir)), number=number, by=by, reason=reason)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Rejected proposal {number}.", highlight=False)


def _field_value(change: str) -> tuple[str, str]:
    field, equals, value = change.partition("=")
    if not equals or not field.strip():
        raise UserError(f"'{change}' is not a change as field=value.", hint="For example status='temporarily closed'.")
    return field.strip(), value
