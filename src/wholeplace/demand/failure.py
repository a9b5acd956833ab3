"""Failure demand: contacts caused by something not done, or not done right, upstream.

Failure demand is properly found by reading what callers said and judging each contact (the
Vanguard "Check" method); ``sample_coding`` supports that. The figures here are rule-based
*proxies* that data can give without reading anything, and every output says so:

- ``progress_chasing``: a contact from the same caller (members of the public only: an agency's
  switchboard number is shared by many of its staff), or about the same address, while an
  earlier incident of theirs is still open (received before the earlier one closed);
- ``repeat_same_problem``: a contact from the same caller, or about the same address, in the
  same opening category within ``repeat_days`` days of the previous one;
- ``reopened``: incidents re-opened after closing; no canonical field records it, so it is
  "not available";
- ``agency_welfare_request``: a Right Care, Right Person concern for welfare raised by another
  agency (a hospital or care provider asking the police to check on someone).

Contacts are public demand: calls for service not initiated by officers. A contact can meet
several proxies; ``any_proxy`` counts each contact once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from wholeplace.demand.rcrp import classify_expression, load_rules
from wholeplace.demand.response import check_datasets, read_incidents
from wholeplace.errors import UserError
from wholeplace.store.stores import Stores

PROXY_LABEL = "proxy (rule-based estimate, not a coded judgement)"
NOT_AVAILABLE = "not available"
KEYS = ("_caller", "address_token")  # _caller: the caller token of public callers only
DEFAULT_REPEAT_DAYS = 7
PROXIES = {
    "progress_chasing": "A contact from the same caller or about the same address while an earlier incident is "
                        "still open.",
    "repeat_same_problem": "A contact from the same caller or about the same address in the same opening category "
                           "within {days} days of the previous one.",
    "reopened": "An incident re-opened after it was closed.",
    "agency_welfare_request": "A concern for welfare (Right Care, Right Person) raised by another agency.",
}
REOPENED_REASON = ("No dataset records re-opening: the canonical event keeps one closing time and no re-opened "
                   "marker, so re-opened incidents cannot be counted.")


@dataclass(frozen=True)
class FailureReport:
    """Failure demand proxies; ``proxies`` has one row per proxy with its status and definition."""

    contacts: int
    proxies: pl.DataFrame  # proxy, label, status, contacts, share, definition
    any_proxy: int
    repeat_days: int
    notes: list[str] = field(default_factory=list)

    @property
    def any_proxy_share(self) -> float | None:
        return self.any_proxy / self.contacts if self.contacts else None


def flag_failure_proxies(frame: pl.DataFrame, *, repeat_days: int = DEFAULT_REPEAT_DAYS) -> pl.DataFrame:
    """A boolean column per available proxy for incidents read by ``read_incidents`` (pure)."""
    if repeat_days < 1:
        raise UserError(f"The repeat window must be at least 1 day, not {repeat_days}.",
                        hint="Give the number of days within which a second contact counts as a repeat, e.g. 7.")
    contacts = frame.filter(pl.col("raised_by") != "officer").with_row_index("_order").with_columns(
        _caller=pl.when(pl.col("raised_by") == "public").then(pl.col("caller_token")))
    flagged = contacts.with_columns(
        progress_chasing=pl.any_horizontal([_while_open(contacts, key) for key in KEYS]),
        repeat_same_problem=pl.any_horizontal([_repeat(contacts, key, repeat_days) for key in KEYS]),
        agency_welfare_request=_agency_welfare(contacts),
    )
    return flagged.sort("_order").drop("_order", "_caller")


def _agency_welfare(contacts: pl.DataFrame) -> pl.Series:
    """Concern for welfare by the opening category (as ``rcrp`` classifies by default), raised by an agency."""
    opening = contacts.with_columns(category=pl.col("category_opening"))
    rcrp = opening.select(classify_expression(load_rules()).alias("rcrp"))["rcrp"]
    return ((rcrp == "concern_for_welfare") & (contacts["raised_by"] == "agency")).fill_null(False)


def _while_open(contacts: pl.DataFrame, key: str) -> pl.Series:
    """Whether an earlier contact with the same ``key`` was still open when this one came in."""
    ordered = contacts.sort(key, "contact_at", "_order").with_columns(
        open_until=pl.col("closed_at").cum_max().shift(1).over(key))
    chasing = (pl.col(key).is_not_null() & (pl.col("contact_at") < pl.col("open_until"))).fill_null(False)
    return _in_order(ordered.with_columns(flag=chasing))


def _repeat(contacts: pl.DataFrame, key: str, days: int) -> pl.Series:
    """Whether the previous contact with the same ``key`` and opening category was within ``days``."""
    ordered = contacts.sort(key, "category_opening", "contact_at", "_order").with_columns(
        previous=pl.col("contact_at").shift(1).over(key, "category_opening"))
    gap = (pl.col("contact_at") - pl.col("previous")).dt.total_seconds() / 86_400
    return _in_order(ordered.with_columns(flag=(pl.col(key).is_not_null() & (gap <= days)).fill_null(False)))


def _in_order(ordered: pl.DataFrame) -> pl.Series:
    return ordered.sort("_order")["flag"]


def summarise_failure(flagged: pl.DataFrame, *, repeat_days: int = DEFAULT_REPEAT_DAYS) -> FailureReport:
    """The proxies' counts and shares for contacts flagged by ``flag_failure_proxies``."""
    total = flagged.height
    rows = []
    for proxy, definition in PROXIES.items():
        count = int(flagged[proxy].sum()) if proxy in flagged.columns else None
        rows.append({"proxy": proxy, "label": PROXY_LABEL, "status": "available" if count is not None else
                     NOT_AVAILABLE, "contacts": count, "share": (count / total) if count is not None and total
                     else None, "definition": definition.format(days=repeat_days) if count is not None
                     else f"{definition} {REOPENED_REASON}"})
    names = [p for p in PROXIES if p in flagged.columns]
    any_proxy = int(flagged.select(pl.any_horizontal(names)).to_series().sum()) if total else 0
    return FailureReport(total, pl.DataFrame(rows), any_proxy, repeat_days, _notes())


def failure_report(*, stores: Stores, datasets: list[str] | None = None,
                   repeat_days: int = DEFAULT_REPEAT_DAYS) -> FailureReport:
    """Failure demand proxies for the public contacts of ``datasets`` (None: every dataset)."""
    check_datasets(stores=stores, datasets=datasets)
    flagged = flag_failure_proxies(read_incidents(stores=stores, datasets=datasets), repeat_days=repeat_days)
    return summarise_failure(flagged, repeat_days=repeat_days)


def _notes() -> list[str]:
    return [
        "Every figure here is a proxy: a rule applied to records, not a judgement of what each caller needed. "
        "Code a random sample of contacts (sample coding) to estimate failure demand itself.",
        "Callers and addresses are matched by their pseudonymous tokens. Only members of the public are matched "
        "as callers: an agency's switchboard number is shared by many of its staff.",
    ]
