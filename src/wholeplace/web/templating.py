"""The Jinja environment: our templates first, then the GOV.UK Frontend macros, with filters
for the numbers, months and dates the pages show."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.requests import Request

from wholeplace.governance.purposes import PURPOSES

TEMPLATES = Path(__file__).parent / "templates"


def number(value: int | float | None) -> str:
    """Thousands separated, as GOV.UK style asks (1,234); a dash when there is no value."""
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def month(value: date | str | None) -> str:
    """A month as people write it: January 2021."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(f"{value[:7]}-01")
    return f"{value:%B %Y}"


def when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%-d %B %Y %H:%M}"


def stamp(value: datetime | None) -> str:
    """A compact date and time for wide tables: 2026-11-22 04:14."""
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def basename(value: str | None) -> str:
    """The file name only: full paths of the loading machine mean nothing to readers."""
    return "—" if not value else Path(value).name


def static_path(request: Request, path: str) -> str:
    return str(request.app.url_path_for("static", path=path))


def page_context(request: Request) -> dict[str, Any]:
    """Values every page needs: where the static files are, which page is current, who is signed in
    and the session's CSRF token (for forms and htmx)."""
    session = request.scope.get("session") or {}
    declared = PURPOSES.get(session.get("purpose", ""))
    return {"static": lambda path: static_path(request, path), "current_path": request.url.path,
            "csrf_token": session.get("csrf", ""), "user": getattr(request.state, "user", None),
            "declared_purpose": declared}


def make_templates() -> Jinja2Blocks:
    loader = ChoiceLoader([
        FileSystemLoader(TEMPLATES),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    env = Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=number, month=month, when=when, stamp=stamp, percent=percent, basename=basename)
    return Jinja2Blocks(env=env, context_processors=[page_context])
