"""Request-scoped access to what ``create_app`` opened once: the stores and the templates.

These are ``async def`` because they only read what is in memory: FastAPI runs a plain ``def`` dependency in
a worker thread, a thread hop per dependency per request for nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from jinja2_fragments.fastapi import Jinja2Blocks

from wholeplace.store import Stores


async def get_stores(request: Request) -> Stores:
    return request.app.state.stores


async def get_templates(request: Request) -> Jinja2Blocks:
    return request.app.state.templates


async def is_htmx(request: Request) -> bool:
    """An htmx request for part of a page (not a history restore, which wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


StoresDep = Annotated[Stores, Depends(get_stores)]
TemplatesDep = Annotated[Jinja2Blocks, Depends(get_templates)]
HtmxDep = Annotated[bool, Depends(is_htmx)]
