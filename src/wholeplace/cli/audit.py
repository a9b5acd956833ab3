"""`wholeplace audit …` (verify, search, export, review) and `wholeplace retention run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from wholeplace.cli.main import DataDirOption, console, errors, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.governance import audit, retention
from wholeplace.governance.audit_verify import parse_checkpoint
from wholeplace.store import Stores, open_stores

audit_app = typer.Typer(help="Check, search and export the audit log.", no_args_is_help=True)
retention_app = typer.Typer(help="Delete data past its retention period.", no_args_is_help=True)


@retention_app.callback()
def _retention() -> None:
    """Delete data past its retention period (keeps `run` a subcommand even when it is the only one)."""

DAY = ["%Y-%m-%d"]
DAY_OR_TIME = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Only entries by this user.")]
ActionOption = Annotated[str | None, typer.Option("--action", help="Only this action, e.g. consultation.")]
PartnerOption = Annotated[str | None, typer.Option("--partner", help="Only entries for this partner.")]
PurposeOption = Annotated[str | None, typer.Option("--purpose", help="Only entries for this purpose code.")]
SinceOption = Annotated[
    datetime | None, typer.Option("--since", formats=DAY_OR_TIME, help="From this day or time (UTC).")
]
UntilOption = Annotated[
    datetime | None, typer.Option("--until", formats=DAY_OR_TIME, help="Up to this day (inclusive) or time (UTC).")
]
TextOption = Annotated[str | None, typer.Option("--text", help="Entries whose details contain this text.")]


@contextmanager
def _opened(data_dir: Path | None) -> Iterator[Stores]:
    stores = open_stores(make_settings(data_dir))
    try:
        yield stores
    finally:
        stores.close()


def _when(value: datetime | None) -> Any:
    """A bare day given on the command line means the whole day."""
    if value is None:
        return None
    return value.date() if value.time() == datetime.min.time() else value


def _filters(actor: str | None, action: str | None, partner: str | None, purpose: str | None,
             since: datetime | None, until: datetime | None, text: str | None) -> dict[str, Any]:
    if action and action not in set(audit.AuditAction):
        raise UserError(f"'{action}' is not an audit action", hint=f"Use one of: {', '.join(audit.AuditAction)}.")
    return {"actor": actor, "action": action, "partner": partner, "purpose": purpose,
            "since": _when(since), "until": _when(until), "text": text}


@audit_app.command("verify")
def verify(
    data_dir: DataDirOption = None,
    expect: Annotated[
        str | None, typer.Option("--expect", help="A SEQUENCE:HASH checkpoint kept outside the platform to check.")
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 and name the first bad entry if any entry was altered, removed or reordered."""
    try:
        checkpoint = parse_checkpoint(expect) if expect else None
        with _opened(data_dir) as stores:
            result = audit.verify(stores=stores, checkpoint=checkpoint)
    except UserError as exc:
        fail(exc)
        return
    if not result.ok:
        errors.print(f"[bold red]The audit log is broken:[/] {result.problem}", highlight=False, soft_wrap=True)
        errors.print(f"First bad entry: {result.first_bad}. {result.entries_checked} entries before it are intact.",
                     highlight=False)
        raise typer.Exit(code=1)
    console.print(f"Audit log intact: {result.entries_checked} entries checked.", highlight=False)
    console.print(f"Head: {result.head_sequence}:{result.head_hash}", highlight=False, soft_wrap=True)


@audit_app.command("search")
def search(
    data_dir: DataDirOption = None, actor: ActorOption = None, action: ActionOption = None,
    partner: PartnerOption = None, purpose: PurposeOption = None, since: SinceOption = None,
    until: UntilOption = None, text: TextOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries to show.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Entries to skip (newest first).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """Show matching entries, newest first."""
    try:
        filters = _filters(actor, action, partner, purpose, since, until, text)
        with _opened(data_dir) as stores:
            entries, total = audit.search(stores=stores, limit=limit, offset=offset, **filters)
    except UserError as exc:
        fail(exc)
        return
    if as_json:
        console.print_json(json.dumps({"total": total, "entries": [e.as_dict() for e in entries]}))
        return
    for e in entries:
        why = f" — {e.justification}" if e.justification else ""
        console.print(f"{e.sequence} {e.recorded_at:%Y-%m-%d %H:%M:%S} {e.action} by {e.actor} "
                      f"({e.partner or '-'}, {e.purpose or '-'}) {e.outcome}: {json.dumps(e.what)}{why}",
                      highlight=False, markup=False, soft_wrap=True)
    console.print(f"{len(entries)} of {total} matching entries shown.", highlight=False)


@audit_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    data_dir: DataDirOption = None, actor: ActorOption = None, action: ActionOption = None,
    partner: PartnerOption = None, purpose: PurposeOption = None, since: SinceOption = None,
    until: UntilOption = None, text: TextOption = None,
) -> None:
    """Write matching entries, oldest first, with their hashes, to a CSV file."""
    try:
        filters = _filters(actor, action, partner, purpose, since, until, text)
        with _opened(data_dir) as stores:
            written = audit.export_csv(stores=stores, path_or_stream=file, **filters)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Wrote {written:,} entries to {file}.", highlight=False)


@audit_app.command("review")
def review(data_dir: DataDirOption = None, since: SinceOption = None) -> None:
    """Access review: per user, what they did, with which datasets and purposes, first and last use."""
    with _opened(data_dir) as stores:
        rows = audit.access_review(stores=stores, since=_when(since))
    for row in rows:
        actions = ", ".join(f"{name} {count}" for name, count in sorted(row["actions"].items()))
        console.print(f"[bold]{row['actor']}[/] ({', '.join(row['partners']) or '-'}): {actions}", highlight=False)
        console.print(f"  datasets: {', '.join(row['datasets']) or '-'}; purposes: {', '.join(row['purposes']) or '-'}"
                      f"; first {row['first_use']:%Y-%m-%d}, last {row['last_use']:%Y-%m-%d}", highlight=False)
    console.print(f"{len(rows)} users in the log.", highlight=False)


@retention_app.command("run")
def run(
    data_dir: DataDirOption = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="YAML file of dataset: months to keep (default: the agreements).")
    ] = None,
    today: Annotated[
        datetime | None, typer.Option("--today", formats=DAY, help="Date to apply the policy as of (default: today).")
    ] = None,
) -> None:
    """Delete events (with their person keys and quarantined rows) older than each dataset's retention."""
    try:
        with _opened(data_dir) as stores:
            rules = retention.read_policy(policy) if policy else retention.policy_from_agreements(stores=stores)
            result = retention.apply_retention(stores=stores, policy=rules, today=today.date() if today else None)
            unruled = sorted(set(retention.stored_datasets(stores=stores)) - set(rules))
            referrals = _erase_closed_referrals(stores, make_settings(data_dir).referral_retention_months, today)
    except UserError as exc:
        fail(exc)
        return
    for d in result.datasets:
        console.print(f"{d.dataset}: keeping from {d.cut_off:%Y-%m}; deleted {d.events_deleted:,} events, "
                      f"{d.person_keys_deleted:,} person keys, {d.quarantine_deleted:,} quarantined rows"
                      + (f" (audit entry {d.audit_sequence})" if d.audit_sequence else ""), highlight=False)
    for name in result.not_in_store:
        console.print(f"{name}: not in the store; nothing to do.", highlight=False)
    if unruled:
        console.print(f"No retention rule for: {', '.join(unruled)} (kept as they are).", highlight=False)
    console.print(f"Referrals closed more than {make_settings(data_dir).referral_retention_months} months ago: "
                  f"{referrals:,} erased.", highlight=False)
    console.print(f"Retention done: {result.rows_deleted:,} rows deleted.", highlight=False)


def _erase_closed_referrals(stores: Stores, months: int, today: datetime | None) -> int:
    from wholeplace.referrals.expiry import erase_closed

    return erase_closed(stores=stores, months=months, today=today.date() if today else None)
