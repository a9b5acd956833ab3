"""One-paragraph text summaries of the map and the chart, for everyone who cannot or prefers
not to read them from the picture (WCAG 1.1.1: every chart has a text alternative)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def month_name(value: str) -> str:
    return f"{date.fromisoformat(value + '-01'):%B %Y}"


def describe_areas(rows: list[dict[str, Any]], *, level_title: str, partner_name: str | None = None) -> str:
    """E.g. "Most events were in Squareton 001A (5 of 11 events in an LSOA area, 45.5%). …"."""
    total = sum(row["events"] for row in rows)
    whose = f"{partner_name}'s events" if partner_name else "events"
    if not rows:
        return f"There are no {level_title} areas loaded."
    if total == 0:
        return f"None of the {whose} are in any of the {plural(len(rows), level_title + ' area')}."
    busiest = max(rows, key=lambda row: row["events"])
    quiet = sum(1 for row in rows if row["events"] == 0)
    others = [row for row in sorted(rows, key=lambda r: -r["events"]) if row is not busiest][:2]
    text = (f"Most {whose} were in {busiest['area_name']} ({busiest['events']:,} of the {total:,} in "
            f"{level_title} areas, {busiest['events'] / total:.1%}).")
    if others:
        text += " The next busiest were " + " and ".join(f"{r['area_name']} ({r['events']:,})" for r in others) + "."
    if quiet == 0:
        return text + f" Every one of the {len(rows):,} areas had at least one."
    return text + f" {quiet:,} of the {len(rows):,} areas had none."


def month_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["month"]] += row["events"]
    return dict(sorted(totals.items()))


def describe_months(rows: list[dict[str, Any]]) -> str:
    """E.g. "The busiest month was January 2021, with 7 events. …"."""
    totals = month_totals(rows)
    if not totals:
        return "There are no events yet, so there is no monthly pattern to describe."
    busiest = max(totals, key=lambda m: totals[m])
    quietest = min(totals, key=lambda m: totals[m])
    total = sum(totals.values())
    first, last = next(iter(totals)), list(totals)[-1]
    text = (f"The busiest month was {month_name(busiest)}, with {plural(totals[busiest], 'event')}; "
            f"the quietest was {month_name(quietest)}, with {totals[quietest]:,}. ")
    text += (f"From {month_name(first)} to {month_name(last)} there were {plural(total, 'event')} in "
             f"{plural(len(totals), 'month')}, {total / len(totals):,.0f} a month on average.")
    by_partner = _partner_totals(rows)
    if len(by_partner) > 1:
        text += " " + "; ".join(f"{name} supplied {n:,}" for name, n in by_partner) + "."
    return text


def _partner_totals(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["partner_name"]] += row["events"]
    return sorted(totals.items(), key=lambda item: -item[1])


def month_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The chart's data as a table: one row per month, one column per partner, and a total."""
    names = sorted({row["partner_name"] for row in rows})
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        table[row["month"]][row["partner_name"]] = row["events"]
    body = [{"month": m, "counts": [cells.get(n, 0) for n in names], "total": sum(cells.values())}
            for m, cells in sorted(table.items())]
    return names, body
