"""``wholeplace referrals``: the scheduled expiry job, and which partner receives referrals for a directory
organisation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from wholeplace.cli.main import DataDirOption, console, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.store import open_stores

referrals_app = typer.Typer(help="Closed-loop referrals to directory services.", no_args_is_help=True)
DAY_OR_TIME = ["%Y-%m-%d", "%Y-%m-%dT%H:%M"]


@referrals_app.command("expire")
def expire_command(
    data_dir: DataDirOption = None,
    now: Annotated[datetime | None, typer.Option("--now", formats=DAY_OR_TIME,
                                                 help="Time to apply expiry as of, UTC (default: now).")] = None,
) -> None:
    """Mark referrals Expired that were not opened or accepted in their service's time (run it daily)."""
    from wholeplace.referrals.expiry import expire_overdue

    settings = make_settings(data_dir)
    stores = open_stores(settings)
    try:
        expired = expire_overdue(stores=stores, settings=settings, now=now.replace(tzinfo=UTC) if now else None)
    finally:
        stores.close()
    console.print(f"{len(expired)} referrals expired" + (f": {', '.join(expired)}." if expired else "."),
                  highlight=False)


@referrals_app.command("map-organisation")
def map_command(
    organization_id: Annotated[str, typer.Argument(help="The directory organisation's id.")],
    partner: Annotated[str, typer.Argument(help="The Wholeplace partner code that receives its referrals.")],
    data_dir: DataDirOption = None,
) -> None:
    """Send referrals to a directory organisation's services to a Wholeplace partner."""
    from wholeplace.referrals.parties import map_organisation

    try:
        map_organisation(stores=open_stores(make_settings(data_dir)), organization_id=organization_id,
                         partner=partner)
    except UserError as exc:
        fail(exc)
        return
    console.print(f"Referrals for organisation {organization_id} now go to {partner}.", highlight=False)
