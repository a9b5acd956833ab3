"""Page links for long tables, in the shape the GOV.UK pagination macro takes."""

from __future__ import annotations

import math
from typing import Any

from starlette.datastructures import URL

PAGE_SIZE = 25


def offset(page: int, size: int = PAGE_SIZE) -> int:
    return (page - 1) * size


def page_href(url: URL, param: str, page: int, anchor: str) -> str:
    """A link to another page of one table, keeping every other filter of the page."""
    target = url.include_query_params(**{param: page})
    return f"{target.path}?{target.query}#{anchor}"


def pagination(*, url: URL, param: str, page: int, total: int, anchor: str,
               size: int = PAGE_SIZE) -> dict[str, Any] | None:
    """``govukPagination`` parameters, or None when everything fits on one page.

    Shows the first, last, current and neighbouring pages, with ellipses between.
    """
    last = max(1, math.ceil(total / size))
    if last == 1:
        return None
    shown = sorted({1, last, page - 1, page, page + 1} & set(range(1, last + 1)))
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1]["number"] > 1:
            items.append({"ellipsis": True, "number": number - 1})
        items.append({"number": number, "href": page_href(url, param, number, anchor), "current": number == page})
    params: dict[str, Any] = {"items": items, "landmarkLabel": f"Pages of {anchor.replace('-', ' ')}"}
    if page > 1:
        params["previous"] = {"href": page_href(url, param, page - 1, anchor)}
    if page < last:
        params["next"] = {"href": page_href(url, param, page + 1, anchor)}
    return params


def page_range(*, page: int, total: int, size: int = PAGE_SIZE) -> str:
    """E.g. "Showing 26 to 50 of 1,204"."""
    if total == 0:
        return "None"
    first = min(total, offset(page, size) + 1)
    return f"Showing {first:,} to {min(total, offset(page, size) + size):,} of {total:,}"
