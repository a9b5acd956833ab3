"""Every command of the CLI; each parses options and calls one service function."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from wholeplace import provenance
from wholeplace.cli.agreements import agreements_app
from wholeplace.cli.audit import audit_app, retention_app
from wholeplace.cli.demand import demand_app
from wholeplace.cli.directory import directory_app
from wholeplace.cli.main import DataDirOption, app, cli_actor, console, fail, make_settings
from wholeplace.cli.outcomes import outcomes_app
from wholeplace.cli.progress import RichReporter, step
from wholeplace.cli.referrals import referrals_app
from wholeplace.cli.spc import spc_command
from wholeplace.cli.users import users_app
from wholeplace.errors import UserError
from wholeplace.ingest.pipeline import LoadResult, load_files
from wholeplace.store import open_stores

load_app = typer.Typer(help="Load partner data, boundaries and place context.", no_args_is_help=True)
key_app = typer.Typer(help="Manage the partnership pseudonymisation key.", no_args_is_help=True)
app.add_typer(load_app, name="load")
app.add_typer(key_app, name="key")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(agreements_app, name="agreements")
app.add_typer(users_app, name="users")
app.add_typer(outcomes_app, name="outcomes")
app.add_typer(demand_app, name="demand")
app.add_typer(directory_app, name="directory")
app.add_typer(referrals_app, name="referrals")
app.command("spc")(spc_command)

FilesArgument = Annotated[list[Path], typer.Argument(help="Files to load (plain or gzip).")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Refuse a file if any row fails validation.")]


@load_app.command("police-uk")
def load_police_uk(files: FilesArgument, data_dir: DataDirOption = None, strict: StrictOption = False) -> None:
    """Load data.police.uk street-level crime files; a re-loaded force-month replaces the old one."""
    from wholeplace.ingest.police_uk import PoliceUkAdapter

    _run_load(data_dir, files, strict, PoliceUkAdapter)


@load_app.command("events")
def load_events(
    files: FilesArgument,
    mapping: Annotated[Path, typer.Option("--mapping", help="Mapping file (YAML) describing the extract.")],
    data_dir: DataDirOption = None,
    strict: StrictOption = False,
) -> None:
    """Load any partner's event extract through a declarative mapping file."""
    from wholeplace.ingest.mapped import MappedAdapter

    _run_load(data_dir, files, strict, lambda: MappedAdapter.from_file(mapping))


def _run_load(data_dir: Path | None, files: list[Path], strict: bool, make_adapter) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(data_dir)
    try:
        adapter = make_adapter()
        stores = open_stores(settings)
        with RichReporter(console) as reporter:
            results = load_files(
                actor=cli_actor(),
                stores=stores,
                adapter=adapter,
                paths=files,
                settings=settings,
                strict=strict,
                reporter=reporter,
            )
    except UserError as exc:
        fail(exc)
        return
    _print_results(results)


def _print_results(results: list[LoadResult]) -> None:
    for result in results:
        if result.status == "unchanged":
            console.print(f"{result.file}: already loaded, nothing changed.")
            continue
        console.print(
            f"{result.file}: read {result.rows_read:,}, stored {result.rows_stored:,} "
            f"({result.rows_unlocated:,} unlocated), quarantined {result.rows_quarantined:,}."
        )
        for reason, count, lines in result.reasons:
            shown = ", ".join(str(line) for line in lines)
            console.print(f"  quarantined {count:,}: {reason} (lines {shown}…)", highlight=False)
        for warning in result.warnings:
            console.print(f"  note: {warning}", highlight=False)
    totals = [sum(getattr(r, f) for r in results) for f in ("rows_read", "rows_stored", "rows_quarantined")]
    console.print(
        f"[bold]{len(results)} files:[/] read {totals[0]:,}, stored {totals[1]:,}, "
        f"quarantined {totals[2]:,}. `wholeplace status` shows everything loaded."
    )


@load_app.command("boundaries")
def load_boundaries(
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage or Shapefile of areas.")],
    level: Annotated[str, typer.Option("--level", help="Name of the geography level, e.g. lsoa, ward.")],
    hierarchy: Annotated[
        str | None, typer.Option("--hierarchy", help="Hierarchy the level belongs to (default: statistical).")
    ] = None,
    code_field: Annotated[
        str | None, typer.Option("--code-field", help="Field holding area codes (detected when not given).")
    ] = None,
    name_field: Annotated[
        str | None, typer.Option("--name-field", help="Field holding area names (detected when not given).")
    ] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Level this one nests in, if any.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load boundaries as a level of a hierarchy; events are placed in them afresh."""
    from wholeplace.geography.boundaries import load_boundaries as load

    settings = make_settings(data_dir)
    try:
        with step(console, f"Loading {file.name} as level {level}"):
            result = load(
                stores=open_stores(settings),
                path=file,
                level=level,
                hierarchy=hierarchy,
                code_field=code_field,
                name_field=name_field,
                parent_level=parent,
            )
    except UserError as exc:
        fail(exc)
        return
    console.print(result.summary())


@load_app.command("population")
def load_population(
    file: Annotated[Path, typer.Argument(help="CSV of area code, year and population.")],
    level: Annotated[str, typer.Option("--level", help="Level of the area codes.")],
    data_dir: DataDirOption = None,
) -> None:
    """Load population by area and year (used for rates and population-weighted lookups)."""
    from wholeplace.geography.context import load_population as load

    _run_context_load(load, file, level, data_dir)


@load_app.command("deprivation")
def load_deprivation(
    file: Annotated[Path, typer.Argument(help="CSV of area code with IMD rank and decile.")],
    level: Annotated[str, typer.Option("--level", help="Level of the area codes.")],
    data_dir: DataDirOption = None,
) -> None:
    """Load an index of deprivation (IMD rank, decile and score) by area."""
    from wholeplace.geography.context import load_deprivation as load

    _run_context_load(load, file, level, data_dir)


@load_app.command("rural-urban")
def load_rural_urban(
    file: Annotated[Path, typer.Argument(help="CSV of area code with the ONS Rural Urban Classification "
                                              "(2011 or 2021) or a rural yes/no column.")],
    level: Annotated[str, typer.Option("--level", help="Level of the area codes.")],
    code_column: Annotated[str | None, typer.Option("--code-column",
                                                    help="Column of area codes (found by name if not given).")] = None,
    class_column: Annotated[str | None, typer.Option(
        "--class-column", help="Column of classification codes or rural flag (found by name if not given).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Load whether each area is urban or rural (used for response standards and demand by urban/rural)."""
    from wholeplace.geography.context import load_rural_urban as load

    _run_context_load(load, file, level, data_dir, code_column=code_column, class_column=class_column)


def _run_context_load(load: Callable[..., Any], file: Path, level: str, data_dir: Path | None,
                      **columns: str | None) -> None:
    settings = make_settings(data_dir)
    try:
        with step(console, f"Loading {file.name} for level {level}"):
            result = load(stores=open_stores(settings), path=file, level=level, **columns)
    except UserError as exc:
        fail(exc)
        return
    console.print(result.summary())


@app.command("status")
def status(
    data_dir: DataDirOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print for machines: {"loads": [...], "datasets": [...]}.')
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Include superseded and failed loads.")] = False,
) -> None:
    """Show what is loaded: loads with their counts, and rows in the store per dataset."""
    settings = make_settings(data_dir)
    report = provenance.status_report(stores=open_stores(settings), include_inactive=show_all)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    provenance.print_status(report, console)


@key_app.command("create")
def key_create(file: Annotated[Path, typer.Option("--file", help="Where to write the new key.")]) -> None:
    """Create a new random partnership key (never overwrites one)."""
    from wholeplace.governance.pseudonymise import create_key_file

    try:
        path = create_key_file(file)
    except UserError as exc:
        fail(exc)
        return
    console.print(
        f"Key written to {path}. Set WHOLEPLACE_PARTNERSHIP_KEY_FILE={path}; keep it outside the data folder."
    )


@app.command("demo")
def demo(
    data_dir: DataDirOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed makes the same place.")] = 20260101,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the demo place but do not start the web app.")
    ] = False,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
) -> None:
    """Generate the demo place, load it through the normal ingest path, and open the web app."""
    from wholeplace.synth.demo import build_demo

    settings = make_settings(data_dir)
    try:
        with RichReporter(console) as reporter:
            result = build_demo(settings=settings, seed=seed, reporter=reporter)
    except UserError as exc:
        fail(exc)
        return
    console.print(result.summary())
    if not no_serve:
        _serve(result.settings, host, port)


@app.command("serve")
def serve(
    data_dir: DataDirOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: WHOLEPLACE_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default: WHOLEPLACE_PORT).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Server processes answering requests (each holds its own "
                                              "search index in memory).")] = 1,
) -> None:
    """Start the web app and JSON API over the stores."""
    _serve(make_settings(data_dir), host, port, workers=workers)


def _serve(settings, host: str | None, port: int | None, *, workers: int = 1) -> None:  # type: ignore[no-untyped-def]
    import os

    import uvicorn

    from wholeplace.directory import query as directory_query
    from wholeplace.web.app import create_app

    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"Wholeplace is running at http://{bind_host}:{bind_port}/ (Ctrl+C stops it).")
    directory_query.SETTLE_HEAP_AFTER_INDEX = True  # a server keeps its search index for long
    if workers == 1:
        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="warning")
        return
    # Each worker process builds the app itself, from the environment it inherits.
    os.environ["WHOLEPLACE_DATA_DIR"] = str(settings.data_dir.resolve())
    uvicorn.run("wholeplace.cli.commands:web_app_from_environment", factory=True, workers=workers,
                host=bind_host, port=bind_port, log_level="warning")


def web_app_from_environment() -> Any:
    """The web app over the stores the WHOLEPLACE_ settings name (what each ``serve --workers`` process runs)."""
    from wholeplace.directory import query as directory_query
    from wholeplace.settings import Settings
    from wholeplace.web.app import create_app

    directory_query.SETTLE_HEAP_AFTER_INDEX = True  # a server keeps its search index for long

    return create_app(Settings())
