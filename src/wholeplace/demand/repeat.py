"""Repeat demand: the locations, callers and people that come back again and again.

An entity is a location (the pseudonymised address token; for police.uk street data, which
has no addresses, the snap point), a caller (caller token) or a person (the token of the
person the event is about: victim, subject or patient). It *repeats* when it has at least
``min_contacts`` contacts within a window:

- ``"12m"`` (any number of months): fixed windows of that many months, counted from the
  first month of the selection; contacts in a window where the entity reaches the minimum
  are repeat contacts.
- ``"28d"``, ``"90d"`` (any number of days): rolling windows; a contact is a repeat contact
  when it lies in some span of that many days (inclusive) holding the minimum number of the
  entity's contacts. Rolling windows need dates, so month-only data (police.uk) cannot use them.

Prevalence is the share of entities that repeat; concentration is the share of contacts
(demand) that repeat contacts make, with the Lorenz curve and Gini coefficients of contacts
per entity (over the entities that appear: an address that never called is not known).
Officer-initiated events are not demand made by an entity, so they are left out unless asked
for. Entities are shown only by their tokens, never by identifiers. A person's token is
keyed on the name and date of birth as written, so one person written two ways counts as two
entities, and events without a date of birth have no person token: person counts are a
lower bound (record linkage joins such records up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from wholeplace.demand.concentration import Concentration, concentration_and_lorenz
from wholeplace.demand.profile import EVENT_FILTERS, TIME_SQL, check_choice, check_dataset, filter_params
from wholeplace.errors import UserError
from wholeplace.store.stores import Stores

SNAP_POINT = ("CASE WHEN e.mapping_version LIKE 'police-uk@%' AND e.longitude IS NOT NULL "
              "THEN printf('snap:%.6f,%.6f', e.longitude, e.latitude) END")
ENTITIES: dict[str, str] = {  # entity → SQL of its key over ``events_stored e``
    "location": f"coalesce(e.address_token, {SNAP_POINT})",
    "caller": "e.caller_token",
    "person": "e.subject_token",
}
SNAP_POINT_CAVEAT = ("A police.uk location is an anonymised snap point (the centre of a street or a public place, "
                     "shared by every address near it), not an address: repeats at a snap point overstate repeats "
                     "at any one address.")
PERSON_CAVEAT = ("Person tokens are keyed on the name and date of birth as each record writes them: one person "
                 "written two ways counts twice and records without a date of birth have no token, so person "
                 "repeats are a lower bound.")
WINDOW = re.compile(r"^\s*(\d+)\s*([md])\s*$")
MAX_MONTHS, MAX_DAYS = 120, 3660


@dataclass(frozen=True)
class RepeatWindow:
    """A fixed window of ``length`` months, or a rolling window of ``length`` days."""

    length: int
    unit: str  # "m" (fixed months) or "d" (rolling days)

    @property
    def rolling(self) -> bool:
        return self.unit == "d"

    def describe(self) -> str:
        return f"a rolling {self.length}-day window" if self.rolling else f"a fixed {self.length}-month window"


def parse_window(text: str) -> RepeatWindow:
    """``"12m"`` → fixed 12 months; ``"28d"`` → rolling 28 days."""
    match = WINDOW.match(text or "")
    if not match or int(match[1]) < 1 or int(match[1]) > (MAX_MONTHS if match[2] == "m" else MAX_DAYS):
        raise UserError(f"The repeat window {text!r} is not understood.",
                        hint=f"Write months as e.g. 12m (fixed, 1 to {MAX_MONTHS}) or days as e.g. 28d or 90d "
                             f"(rolling, 1 to {MAX_DAYS}).")
    return RepeatWindow(int(match[1]), match[2])


@dataclass
class RepeatDemand:
    """Prevalence and concentration of repeat demand for one kind of entity."""

    entity: str
    definition: str
    basis: str  # what the entity key is (address token, snap point, caller token, person token)
    entities: int  # entities with at least one contact
    repeat_entities: int
    repeat_entity_share: float | None
    contacts: int  # contacts made by an entity
    repeat_contacts: int
    repeat_demand_share: float | None
    events_without_entity: int  # events with no key for this entity (not counted above)
    officer_initiated_left_out: int  # officer-initiated events with a key, left out unless asked for
    concentration: Concentration | None
    lorenz: pl.DataFrame  # units_share, events_share
    top: pl.DataFrame  # entity, contacts, repeat_contacts, most_in_window, is_repeat, first_month, last_month
    windows: pl.DataFrame | None  # fixed windows: window_start, entities, repeat_entities, contacts, repeat_contacts
    caveats: list[str] = field(default_factory=list)
    not_available: dict[str, str] = field(default_factory=dict)  # dataset → why it is left out


def repeat_demand(
    *, stores: Stores, entity: str, min_contacts: int = 3, window: str = "12m", top: int = 20,
    include_officer_initiated: bool = False, dataset: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None, datasets: list[str] | None = None,
) -> RepeatDemand:
    """Repeat demand of ``entity`` ("location", "caller" or "person") under the chosen definition."""
    return repeat_events(con=stores.connect(), entity=entity, min_contacts=min_contacts, window=window, top=top,
                         include_officer_initiated=include_officer_initiated, dataset=dataset,
                         month_from=month_from, month_to=month_to, datasets=datasets)


def repeat_events(
    *, con: duckdb.DuckDBPyConnection, entity: str, min_contacts: int = 3, window: str = "12m", top: int = 20,
    include_officer_initiated: bool = False, dataset: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None, datasets: list[str] | None = None,
) -> RepeatDemand:
    """``repeat_demand`` on a connection holding the ``events_stored`` view."""
    check_choice(field="entity", value=entity, choices=list(ENTITIES))
    if min_contacts < 2:
        raise UserError(f"A repeat needs at least 2 contacts, not {min_contacts}.", hint="The usual choice is 3.")
    if top < 0:
        raise UserError(f"top must be 0 or more, not {top}.")
    span = parse_window(window)
    check_dataset(con, dataset=dataset, datasets=datasets)
    params = filter_params(datasets=datasets, dataset=dataset, month_from=month_from, month_to=month_to)
    params |= {"officer": include_officer_initiated}
    coverage = _coverage(con, params, ENTITIES[entity], rolling=span.rolling)
    usable, not_available = _usable(coverage, entity, span)
    params |= {"usable": usable}
    key = _simplest_key(entity, coverage.filter(pl.col("dataset").is_in(usable)))
    per_entity, windows = (_rolling(con, params, key, span, min_contacts) if span.rolling
                           else _fixed(con, params, key, span, min_contacts, _months(coverage, usable)))
    used = coverage.filter(pl.col("dataset").is_in(usable))
    result = _result(per_entity, windows, used, entity=entity,
                     definition=f"{min_contacts} or more contacts in {span.describe()}", top=top,
                     not_available=not_available)
    result.officer_initiated_left_out = 0 if include_officer_initiated else int(used["keyed_officer_initiated"].sum())
    if result.basis != ENTITY_BASES[entity]:
        result.top = _with_snap_point_text(con, result.top, params)
    return result


CONTACTS = f"""
contacts AS (
  SELECT {{key}} AS entity, e.occurred_month AS month, {TIME_SQL} AS contact_at
  FROM events_stored e
  WHERE {EVENT_FILTERS} AND list_contains($usable, e.dataset)
    AND ($officer OR NOT coalesce(e.flag_self_initiated, false)) AND {{key}} IS NOT NULL)
"""


def _coverage(con: duckdb.DuckDBPyConnection, params: dict[str, Any], key: str, *, rolling: bool) -> pl.DataFrame:
    """Per dataset: events, events with this entity's key (and with a date, for rolling windows),
    police.uk snap points, and the first and last month."""
    dated = f"count({key}) FILTER (WHERE e.time_precision <> 'month' AND {TIME_SQL} IS NOT NULL)" if rolling else "1"
    return con.execute(f"""
        SELECT e.dataset, count(*) AS events, count({key}) AS keyed, {dated} AS dated,
          count(*) FILTER (WHERE e.address_token IS NULL AND {SNAP_POINT} IS NOT NULL) AS snap_points,
          count({key}) FILTER (WHERE e.flag_self_initiated) AS keyed_officer_initiated,
          min(e.occurred_month) AS first_month, max(e.occurred_month) AS last_month
        FROM events_stored e WHERE {EVENT_FILTERS} GROUP BY e.dataset ORDER BY e.dataset""",
                       {k: v for k, v in params.items() if k != "officer"}).pl()


def _simplest_key(entity: str, used: pl.DataFrame) -> str:
    """The entity's key, without the snap-point fallback when no event needs it (cheaper to group)."""
    if entity != "location" or not used.height:
        return ENTITIES[entity]
    snaps, keyed = int(used["snap_points"].sum()), int(used["keyed"].sum())
    return "e.address_token" if snaps == 0 else SNAP_POINT if snaps == keyed else ENTITIES[entity]


def _usable(coverage: pl.DataFrame, entity: str, span: RepeatWindow) -> tuple[list[str], dict[str, str]]:
    usable, missing = [], {}
    for row in coverage.iter_rows(named=True):
        if not row["keyed"]:
            missing[row["dataset"]] = f"This dataset records no {entity} for its events."
        elif span.rolling and not row["dated"]:
            missing[row["dataset"]] = (f"A rolling {span.length}-day window is not available for this dataset: it "
                                       "records only the month. Use a window in months, e.g. 12m.")
        else:
            usable.append(row["dataset"])
    return usable, missing


def _months(coverage: pl.DataFrame, usable: list[str]) -> tuple[date | None, date | None]:
    used = coverage.filter(pl.col("dataset").is_in(usable))
    if not used.height:
        return None, None
    return used["first_month"].min(), used["last_month"].max()  # type: ignore[return-value]


def _fixed(con: duckdb.DuckDBPyConnection, params: dict[str, Any], key: str, span: RepeatWindow, least: int,
           months: tuple[date | None, date | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per entity, its contacts in each fixed window of ``span.length`` months from the first month
    asked for (else the data's first): one pass grouped by entity, a count per window."""
    start = params["month_from"] or months[0]
    if start is None or months[1] is None:
        return _no_entities(), _windows(pl.DataFrame(), [], least, start, span.length)
    count = (_month_index(months[1]) - _month_index(start)) // span.length + 1
    per_window = ", ".join(f"count(*) FILTER (WHERE w = {i}) AS n{i}" for i in range(count))
    sql = f"""
      WITH {CONTACTS.format(key=key)},
      windowed AS (SELECT entity, month, date_diff('month', CAST($first AS DATE), month) // {int(span.length)} AS w
                   FROM contacts)
      SELECT entity, {per_window}, min(month) AS first_month, max(month) AS last_month FROM windowed GROUP BY entity"""
    counts = con.execute(sql, params | {"first": start}).pl()
    names = [f"n{i}" for i in range(count)]
    repeat = [pl.when(pl.col(n) >= least).then(pl.col(n)).otherwise(0) for n in names]
    per_entity = counts.select(
        "entity", pl.sum_horizontal(names).alias("contacts"), pl.sum_horizontal(repeat).alias("repeat_contacts"),
        pl.max_horizontal(names).alias("most_in_window"), "first_month", "last_month")
    return per_entity, _windows(counts, names, least, start, span.length)


def _month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def _windows(counts: pl.DataFrame, names: list[str], least: int, start: date | None, length: int) -> pl.DataFrame:
    rows = []
    for i, name in enumerate(names):
        n = counts[name]
        index = _month_index(start) + i * length  # type: ignore[arg-type]
        rows.append({"window_start": date(index // 12, index % 12 + 1, 1), "entities": int((n > 0).sum()),
                     "repeat_entities": int((n >= least).sum()), "contacts": int(n.sum()),
                     "repeat_contacts": int(n.filter(n >= least).sum())})
    schema = {"window_start": pl.Date, "entities": pl.Int64, "repeat_entities": pl.Int64, "contacts": pl.Int64,
              "repeat_contacts": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def _no_entities() -> pl.DataFrame:
    return pl.DataFrame(schema={"entity": pl.String, "contacts": pl.Int64, "repeat_contacts": pl.Int64,
                                "most_in_window": pl.Int64, "first_month": pl.Date, "last_month": pl.Date})


def _rolling(con: duckdb.DuckDBPyConnection, params: dict[str, Any], key: str, span: RepeatWindow,
             least: int) -> tuple[pl.DataFrame, None]:
    """Per entity: each contact is a repeat contact when some ``span``-day stretch around it holds
    ``least`` contacts. Only entities with ``least`` contacts in all can repeat, so only they are ranked."""
    days = int(span.length)  # a validated integer: window frames take no bound parameters
    sql = f"""
      WITH {CONTACTS.format(key=key)},
      dated AS (SELECT * FROM contacts WHERE contact_at IS NOT NULL),
      totals AS (SELECT entity, count(*) AS contacts, min(month) AS first_month, max(month) AS last_month
                 FROM dated GROUP BY entity),
      ahead AS (
        SELECT d.entity, d.contact_at, count(*) OVER (PARTITION BY d.entity ORDER BY d.contact_at
               RANGE BETWEEN CURRENT ROW AND INTERVAL {days} DAY FOLLOWING) AS n
        FROM dated d SEMI JOIN (SELECT entity FROM totals WHERE contacts >= {least}) t ON t.entity = d.entity),
      marked AS (
        SELECT entity, n, max(n) OVER (PARTITION BY entity ORDER BY contact_at
               RANGE BETWEEN INTERVAL {days} DAY PRECEDING AND CURRENT ROW) AS best FROM ahead),
      repeats AS (SELECT entity, count(*) FILTER (WHERE best >= {least}) AS repeat_contacts, max(n) AS most_in_window
                  FROM marked GROUP BY entity)
      SELECT t.entity, t.contacts, coalesce(r.repeat_contacts, 0) AS repeat_contacts,
             coalesce(r.most_in_window, 1) AS most_in_window, t.first_month, t.last_month
      FROM totals t LEFT JOIN repeats r USING (entity)"""
    return con.execute(sql, params).pl(), None


def _result(per_entity: pl.DataFrame, windows: pl.DataFrame | None, coverage: pl.DataFrame, *, entity: str,
            definition: str, top: int, not_available: dict[str, str]) -> RepeatDemand:
    per_entity = per_entity.with_columns(is_repeat=pl.col("repeat_contacts") > 0)
    contacts, repeat_contacts = int(per_entity["contacts"].sum()), int(per_entity["repeat_contacts"].sum())
    repeaters = int(per_entity["is_repeat"].sum())
    basis, caveats = _basis(entity, coverage)
    concentration, lorenz = (concentration_and_lorenz(per_entity["contacts"].to_numpy()) if contacts else
                             (None, pl.DataFrame(schema={"units_share": pl.Float64, "events_share": pl.Float64})))
    return RepeatDemand(
        entity=entity, definition=definition, basis=basis, entities=per_entity.height, repeat_entities=repeaters,
        repeat_entity_share=repeaters / per_entity.height if per_entity.height else None,
        contacts=contacts, repeat_contacts=repeat_contacts,
        repeat_demand_share=repeat_contacts / contacts if contacts else None,
        events_without_entity=int((coverage["events"] - coverage["keyed"]).sum()) if coverage.height else 0,
        officer_initiated_left_out=0,
        concentration=concentration, lorenz=lorenz,
        top=_top(per_entity, top), windows=windows, caveats=caveats,
        not_available=not_available,
    )


ENTITY_BASES = {"location": "address (pseudonymised address token)", "caller": "caller (pseudonymised caller token)",
                "person": "person (pseudonymised token of the person the event is about)"}


def _basis(entity: str, coverage: pl.DataFrame) -> tuple[str, list[str]]:
    caveats = [PERSON_CAVEAT] if entity == "person" else []
    snaps = int(coverage["snap_points"].sum()) if entity == "location" and coverage.height else 0
    if not snaps:
        return ENTITY_BASES[entity], caveats
    addresses = int(coverage["keyed"].sum()) - snaps
    basis = ("police.uk snap point (an anonymised point, not an address)" if not addresses else
             "address token where the data has addresses; police.uk snap point (not an address) elsewhere")
    return basis, [SNAP_POINT_CAVEAT, *caveats]


def _top(per_entity: pl.DataFrame, top: int) -> pl.DataFrame:
    """The busiest entities, by their tokens only."""
    if per_entity.height > top > 0:  # only entities as busy as the top-th can be in the top: sort just those
        per_entity = per_entity.filter(pl.col("contacts") >= per_entity["contacts"].top_k(top).min())
    ranked = per_entity.sort(["contacts", "repeat_contacts", "entity"], descending=[True, True, False]).head(top)
    return ranked.select("entity", "contacts", "repeat_contacts", "most_in_window", "is_repeat", "first_month",
                         "last_month")


def _with_snap_point_text(con: duckdb.DuckDBPyConnection, top: pl.DataFrame, params: dict[str, Any]) -> pl.DataFrame:
    """A snap point's public "On or near" text beside it; an address token's location text never."""
    snaps = [e for e in top["entity"].to_list() if e.startswith("snap:")]
    texts = con.execute(f"""
        SELECT {SNAP_POINT} AS entity, any_value(e.location_text) AS snap_point_text FROM events_stored e
        WHERE {EVENT_FILTERS} AND list_contains($usable, e.dataset) AND e.address_token IS NULL
          AND list_contains($snaps, {SNAP_POINT}) GROUP BY 1""",
                        {k: v for k, v in params.items() if k != "officer"} | {"snaps": snaps}).pl()
    return top.join(texts, on="entity", how="left") if snaps else top.with_columns(
        snap_point_text=pl.lit(None, pl.String))
