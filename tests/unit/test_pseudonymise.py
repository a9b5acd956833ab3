"""Pseudonymisation: stable keyed tokens, normalisation, key handling."""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl
import pytest

from wholeplace.errors import ConfigurationError
from wholeplace.governance.pseudonymise import (
    Pseudonymiser,
    birth_year,
    create_key_file,
    load_key,
    postcode_district,
)
from wholeplace.model.fields import IdentifierKind

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("kind", "one", "other"),
    [
        (IdentifierKind.NAME, "Mary-Jane O'Neill", "MARY JANE ONEILL"),
        (IdentifierKind.DATE_OF_BIRTH, "1980-03-07", "07/03/1980"),
        (IdentifierKind.NHS_NUMBER, "943 476 5919", "9434765919"),
        (IdentifierKind.PHONE, "+44 7700 900123", "07700900123"),
        (IdentifierKind.POSTCODE, "pr1 2ab", "PR12AB"),
    ],
)
def test_the_same_value_written_two_ways_gets_one_token(kind: IdentifierKind, one: str, other: str) -> None:
    pseudonymiser = Pseudonymiser(KEY)
    assert pseudonymiser.identifier_token(kind, one) == pseudonymiser.identifier_token(kind, other)


def test_tokens_depend_on_the_key_and_the_kind() -> None:
    a, b = Pseudonymiser(KEY), Pseudonymiser(bytes(reversed(KEY)))
    assert a.identifier_token(IdentifierKind.NAME, "Ann") != b.identifier_token(IdentifierKind.NAME, "Ann")
    assert a.token("surname", "SMITH") != a.token("forename", "SMITH")
    assert "SMITH" not in (a.token("surname", "SMITH") or "")


def test_series_tokens_match_single_tokens_and_keep_nulls() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    series = pl.Series("phone", ["07700 900123", None, "07700900123", ""])
    tokens = pseudonymiser.tokenise_series(IdentifierKind.PHONE, series).to_list()
    assert tokens[0] == tokens[2] == pseudonymiser.identifier_token(IdentifierKind.PHONE, "07700900123")
    assert tokens[1] is None and tokens[3] is None


def test_derived_keys() -> None:
    assert postcode_district("PR1 2AB") == "PR1"
    assert postcode_district("m11ae") == "M1"
    assert birth_year("07/03/1980") == "1980"
    assert birth_year("not a date") is None


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "keys" / "partnership.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    with pytest.raises(ConfigurationError, match="never overwritten"):
        create_key_file(path)
    assert load_key(path).fingerprint == load_key(path).fingerprint


def test_missing_key_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no partnership key") as caught:
        load_key(None)
    assert "wholeplace key create" in str(caught.value)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_key(tmp_path / "missing.key")
    short = tmp_path / "short.key"
    short.write_text("abcd")
    with pytest.raises(ConfigurationError, match="too short"):
        load_key(short)
