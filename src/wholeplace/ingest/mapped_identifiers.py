"""Identifier columns of a mapped extract → keyed tokens and person-key rows.

Clear values exist only in memory here, on their way to the Pseudonymiser; what leaves is
tokens (subject, caller, address) and keyed linkage keys for ``person_keys``. Sex is the
one clear value kept, and only in ``person_keys``, because it is not an identifier and
helps linkage tell people apart.

A person's token is keyed on the most identifying combination present: name with date of
birth, else NHS number, else name with postcode, else phone. Names are compared as their
sorted words, so "John Smith" and "SMITH, John" get the same token.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from wholeplace.governance import pseudonymise as ps
from wholeplace.ingest.category_tables import map_distinct
from wholeplace.ingest.mapping_spec import ColumnRef, MappingSpec, Person
from wholeplace.model.events import PERSON_KEY_SCHEMA
from wholeplace.model.fields import IdentifierKind

PERSON_KEY_COLUMNS = [name for name in PERSON_KEY_SCHEMA.names if name not in ("dataset", "load_id")]


def pseudonymise_rows(
    spec: MappingSpec, rows: pl.DataFrame, event_ids: pl.Series, pseudonymiser: ps.Pseudonymiser
) -> tuple[dict[str, pl.Series], pl.DataFrame | None]:
    """Token columns for the events, and person-key rows (None when no person is declared)."""
    tokens: dict[str, pl.Series] = {}
    keys: list[pl.DataFrame] = []
    for role in ("subject", "caller"):
        person: Person | None = getattr(spec.identifiers, role)
        if person is not None:
            fields = _person_fields(person, rows)
            frame = _person_keys(fields, pseudonymiser).with_columns(event_id=event_ids, role=pl.lit(role))
            tokens[f"{role}_token"] = frame["person_token"]
            keys.append(frame.filter(pl.any_horizontal(pl.exclude("event_id", "role").is_not_null())))
    if spec.identifiers.address is not None:
        address = rows[spec.identifiers.address.column]
        tokens["address_token"] = pseudonymiser.tokenise_series(IdentifierKind.ADDRESS, address)
    person_keys = pl.concat(keys).select(PERSON_KEY_COLUMNS) if keys else None
    return tokens, person_keys


def _person_fields(person: Person, rows: pl.DataFrame) -> dict[str, pl.Series]:
    def column(ref: ColumnRef | None) -> pl.Series:
        return rows[ref.column] if ref is not None else pl.Series([None] * rows.height, dtype=pl.String)

    fields = {name: column(getattr(person, name)) for name in
              ("forename", "surname", "date_of_birth", "nhs_number", "postcode", "phone", "sex")}
    if person.name is not None:
        fields["forename"], fields["surname"] = _split_name(column(person.name))
    return fields


def _split_name(name: pl.Series) -> tuple[pl.Series, pl.Series]:
    """"Surname, Forename" or "Forename … Surname" → (forename, surname)."""
    comma = name.str.split_exact(",", 1)
    words = name.str.strip_chars().str.split(" ")
    has_comma = name.str.contains(",")
    frame = pl.DataFrame({"c": comma, "w": words, "h": has_comma})
    both = frame.select(
        pl.when(pl.col("h")).then(pl.col("c").struct.field("field_1")).otherwise(pl.col("w").list.first())
        .alias("forename"),
        pl.when(pl.col("h")).then(pl.col("c").struct.field("field_0")).otherwise(pl.col("w").list.last())
        .alias("surname"),
    )
    return both["forename"], both["surname"]


def _person_keys(fields: dict[str, pl.Series], pseudonymiser: ps.Pseudonymiser) -> pl.DataFrame:
    forename, surname, dob = fields["forename"], fields["surname"], fields["date_of_birth"]
    return pl.DataFrame({
        "person_token": pseudonymiser.derived("person", _person_basis(fields), lambda basis: basis),
        "forename_phonetic": pseudonymiser.derived("forename_phonetic", forename, ps.phonetic),
        "surname_phonetic": pseudonymiser.derived("surname_phonetic", surname, ps.phonetic),
        "forename_initial": pseudonymiser.derived("forename_initial", forename, ps.initial),
        "birth_year": pseudonymiser.derived("birth_year", dob, ps.birth_year),
        "birth_date": pseudonymiser.tokenise_series(IdentifierKind.DATE_OF_BIRTH, dob),
        "postcode_district": pseudonymiser.derived("postcode_district", fields["postcode"], ps.postcode_district),
        "nhs_number": pseudonymiser.tokenise_series(IdentifierKind.NHS_NUMBER, fields["nhs_number"]),
        "sex": fields["sex"].str.strip_chars().str.to_uppercase(),
    })


def _person_basis(fields: dict[str, pl.Series]) -> pl.Series:
    """The clear text a person's token is keyed on, labelled by which identifiers it uses."""
    both = pl.select(pl.concat_str([fields["forename"], fields["surname"]], separator=" ", ignore_nulls=True))
    name = _normalised(both.to_series(), lambda v: " ".join(sorted(ps.normalise_name(v).split())))
    dob = _normalised(fields["date_of_birth"], ps.normalise_date)
    nhs = _normalised(fields["nhs_number"], ps.normalise_digits)
    postcode = _normalised(fields["postcode"], ps.normalise_postcode)
    phone = _normalised(fields["phone"], ps.normalise_phone)
    frame = pl.DataFrame({"name": name, "dob": dob, "nhs": nhs, "postcode": postcode, "phone": phone})
    return frame.select(pl.coalesce(
        pl.concat_str(pl.lit("name+dob:"), "name", pl.lit("|"), "dob"),
        pl.concat_str(pl.lit("nhs:"), "nhs"),
        pl.concat_str(pl.lit("name+postcode:"), "name", pl.lit("|"), "postcode"),
        pl.concat_str(pl.lit("phone:"), "phone"),
    )).to_series()


def _normalised(series: pl.Series, normalise: Callable[[str], str]) -> pl.Series:
    """Each distinct value normalised once; values that normalise to nothing become null."""
    return map_distinct(series, lambda value: normalise(value) or None)
