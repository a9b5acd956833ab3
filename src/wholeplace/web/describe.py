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


def describe_areas(rows: list[dict[str, Any]], *, level_title: str, partner_name: str | None = None,
                   marker: str = "") -> str:
    """E.g. "Most events were in Squareton 001A (5 of 11 events in an LSOA area, 45.5%). …".

    ``events`` is the published count: None where disclosure control hid it; the text uses only
    published figures, so it says no more than the table does.
    """
    shown = [row for row in rows if row["events"] is not None]
    hidden = len(rows) - len(shown)
    total = sum(row["events"] for row in shown)
    whose = f"{partner_name}'s events" if partner_name else "events"
    if not rows:
        return f"There are no {level_title} areas loaded."
    hidden_text = (f" {hidden:,} of the {len(rows):,} areas had a small number, hidden as {marker}."
                   if hidden else "")
    shown_word = " shown" if hidden else ""
    if total == 0:
        return (f"None of the {whose}{shown_word} are in any of the {plural(len(rows), level_title + ' area')}."
                + hidden_text)
    busiest = max(shown, key=lambda row: row["events"])
    quiet = sum(1 for row in shown if row["events"] == 0)
    others = [row for row in sorted(shown, key=lambda r: -r["events"]) if row is not busiest][:2]
    text = (f"Most {whose} were in {busiest['area_name']} ({busiest['events']:,} of the {total:,}{shown_word} in "
            f"{level_title} areas, {busiest['events'] / total:.1%}).")
    if others:
        text += " The next busiest were " + " and ".join(f"{r['area_name']} ({r['events']:,})" for r in others) + "."
    if quiet == 0 and not hidden:
        return text + f" Every one of the {len(rows):,} areas had at least one."
    return text + (f" {quiet:,} of the {len(rows):,} areas had none." if quiet else "") + hidden_text


def month_totals(rows: list[dict[str, Any]], totals: dict[str, dict[str, Any]] | None = None) -> dict[str, int]:
    """Published events per month: the table's month totals where given (None where hidden: left out)."""
    if totals is not None:
        return {m: t["events"] for m, t in sorted(totals.items()) if t["events"] is not None}
    found: dict[str, int] = defaultdict(int)
    for row in rows:
        found[row["month"]] += row["events"] or 0
    return dict(sorted(found.items()))


def describe_months(rows: list[dict[str, Any]], *, totals: dict[str, dict[str, Any]] | None = None,
                    marker: str = "") -> str:
    """E.g. "The busiest month was January 2021, with 7 events. …" (from published figures only)."""
    by_month = month_totals(rows, totals)
    if not by_month:
        return "There are no events yet, so there is no monthly pattern to describe."
    busiest = max(by_month, key=lambda m: by_month[m])
    quietest = min(by_month, key=lambda m: by_month[m])
    total = sum(by_month.values())
    first, last = next(iter(by_month)), list(by_month)[-1]
    text = (f"The busiest month was {month_name(busiest)}, with {plural(by_month[busiest], 'event')}; "
            f"the quietest was {month_name(quietest)}, with {by_month[quietest]:,}. ")
    text += (f"From {month_name(first)} to {month_name(last)} there were {plural(total, 'event')} in "
             f"{plural(len(by_month), 'month')}, {total / len(by_month):,.0f} a month on average.")
    by_partner = _partner_totals(rows)
    if len(by_partner) > 1:
        text += " " + "; ".join(f"{name} supplied {n:,}" for name, n in by_partner) + "."
    if any(row["events"] is None for row in rows):
        text += f" Some monthly counts were small and are hidden as {marker}; totals leave them out."
    return text


def _partner_totals(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["partner_name"]] += row["events"] or 0
    return sorted(totals.items(), key=lambda item: -item[1])


def month_table(rows: list[dict[str, Any]],
                totals: dict[str, dict[str, Any]] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """The chart's data as a table of published text: one row per month, one column per partner, and a total."""
    names = sorted({row["partner_name"] for row in rows})
    table: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        table[row["month"]][row["partner_name"]] = row["display"] if "display" in row else f"{row['events']:,}"
    by_month = month_totals(rows, totals)
    body = [{"month": m, "counts": [cells.get(n, "0") for n in names],
             "total": (totals[m]["display"] if totals and m in totals else f"{by_month.get(m, 0):,}")}
            for m, cells in sorted(table.items())]
    return names, body
