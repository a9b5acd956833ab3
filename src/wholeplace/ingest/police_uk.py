"""data.police.uk street-level crime files (any force, any months, plain or gzip)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from wholeplace.governance.pseudonymise import Pseudonymiser
from wholeplace.ingest.category_tables import CategoryTable, load_category_table, map_distinct
from wholeplace.ingest.checks import RowChecks, quarantine_frame, ragged_frame
from wholeplace.ingest.columns import require_columns
from wholeplace.ingest.parsing import parse_decimal, parse_month
from wholeplace.ingest.pipeline import Adapter, DatasetInfo, MappedFile
from wholeplace.ingest.reading import LINE_COLUMN, SourceTable, read_source
from wholeplace.model.partners import Partner, PartnerKind
from wholeplace.model.schemas.police_uk import POLICE_UK_STREET

TABLE = Path(__file__).parent / "tables" / "police_uk_crime_types.csv"
ADAPTER_VERSION = "1"
ATTRIBUTE_COLUMNS = [
    "Crime ID",
    "Reported by",
    "Falls within",
    "Location",
    "LSOA name",
    "Last outcome category",
    "Context",
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class PoliceUkAdapter(Adapter):
    name = "police-uk"

    def __init__(self, table_path: Path = TABLE) -> None:
        self.table: CategoryTable = load_category_table(table_path)

    @property
    def mapping_version(self) -> str:
        return f"police-uk@{ADAPTER_VERSION}+{self.table.version}"

    def read(self, path: Path) -> SourceTable:
        source = read_source(path)
        require_columns(source, POLICE_UK_STREET.required_columns, what="A data.police.uk street file")
        return source

    def map(self, source: SourceTable, *, pseudonymiser: Pseudonymiser | None) -> MappedFile:
        rows = _with_all_columns(source.rows)
        checks = RowChecks(rows.height)
        month = parse_month(rows["Month"])
        checks.add(rows["Month"].is_null(), "Month", "Month is blank")
        checks.add(month.failed, "Month", "Month is not a YYYY-MM month")
        lon = parse_decimal(rows["Longitude"], minimum=-180, maximum=180)
        lat = parse_decimal(rows["Latitude"], minimum=-90, maximum=90)
        checks.add(lon.failed, "Longitude", "Longitude is not a number from -180 to 180")
        checks.add(lat.failed, "Latitude", "Latitude is not a number from -90 to 90")
        half = rows["Longitude"].is_null() != rows["Latitude"].is_null()
        checks.add(half, "Longitude", "only one of Longitude and Latitude is given")
        category = self.table.map_series(rows["Crime type"])
        checks.add(rows["Crime type"].is_null(), "Crime type", "Crime type is blank")
        checks.add(
            rows["Crime type"].is_not_null() & category.is_null(),
            "Crime type",
            "Crime type '" + rows["Crime type"].fill_null("") + "' is not in the category table "
            f"{self.table.path.name}",
        )
        force = rows["Falls within"].fill_null(rows["Reported by"])
        checks.add(force.is_null(), "Falls within", "neither Falls within nor Reported by is given")
        failed = checks.failed()
        quarantine = pl.concat(
            [
                quarantine_frame(file=source.file, rows=rows, checks=checks, record_columns=source.header),
                ragged_frame(source.file, source.ragged, withhold=False),
            ]
        )
        good = rows.with_columns(
            month.values.alias("_month"),
            lon.values.alias("_lon"),
            lat.values.alias("_lat"),
            category.alias("_category"),
            force.alias("_force"),
        ).filter(~failed)
        return self._mapped(source, good, quarantine)

    def _mapped(self, source: SourceTable, good: pl.DataFrame, quarantine: pl.DataFrame) -> MappedFile:
        forces = good["_force"].unique().drop_nulls().to_list() or _forces_in(source)
        force_name = forces[0] if forces else "Unknown force"
        partner = Partner(f"police-{slug(force_name)}", force_name, PartnerKind.POLICE)
        dataset = DatasetInfo(
            f"police-uk-street-{slug(force_name)}",
            "police_recorded_crime",
            f"{force_name}: data.police.uk street-level crime",
            POLICE_UK_STREET.description,
        )
        events = _events(good, dataset.code)
        warnings = []
        if len(forces) > 1:
            warnings.append(f"the file holds {len(forces)} forces; all are stored under {dataset.code}")
        extra = [c for c in source.header if c not in POLICE_UK_STREET.column_names]
        if extra:
            warnings.append(f"columns not in the data.police.uk layout were kept as attributes: {', '.join(extra)}")
        return MappedFile(partner, dataset, events, quarantine, None, warnings)


def _forces_in(source: SourceTable) -> list[str]:
    return source.rows["Falls within"].drop_nulls().unique().to_list() if "Falls within" in source.rows.columns else []


def _with_all_columns(rows: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in POLICE_UK_STREET.column_names if c not in rows.columns]
    return rows.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)


def _events(good: pl.DataFrame, dataset: str) -> pl.DataFrame:
    located = good["_lon"].is_not_null() & good["_lat"].is_not_null()
    partition = map_distinct(good["_force"], slug) + "/" + good["_month"].dt.strftime("%Y-%m")
    attributes = [
        c
        for c in good.columns
        if not c.startswith("_") and c not in ("Month", "Longitude", "Latitude", "LSOA code", "Crime type")
    ]
    return pl.DataFrame(
        {
            "event_id": dataset + "/" + partition + "#" + good[LINE_COLUMN].cast(pl.String),
            "kind": pl.select(
                pl.when(good["_category"] == "anti_social_behaviour")
                .then(pl.lit("anti_social_behaviour"))
                .otherwise(pl.lit("crime"))
            ).to_series(),
            "partition_key": partition,
            "source_line": good[LINE_COLUMN],
            "source_record_id": good["Crime ID"],
            "category": good["_category"],
            "category_closing": good["_category"],
            "source_category": good["Crime type"],
            "occurred_month": good["_month"],
            "time_precision": pl.Series(["month"] * good.height, dtype=pl.String),
            "longitude": good["_lon"],
            "latitude": good["_lat"],
            "location_status": pl.select(
                pl.when(located)
                .then(pl.lit("point"))
                .when(good["LSOA code"].is_not_null())
                .then(pl.lit("area_only"))
                .otherwise(pl.lit("unlocated"))
            ).to_series(),
            "location_text": good["Location"],
            "source_area_code": good["LSOA code"],
            "source_area_level": pl.Series(["lsoa"] * good.height, dtype=pl.String),
            "outcome": good["Last outcome category"],
            "attributes": good.select(pl.struct(attributes).struct.json_encode()).to_series(),
        }
    )
