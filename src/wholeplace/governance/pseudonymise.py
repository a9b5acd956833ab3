"""Pseudonymisation at the door: direct identifiers become keyed HMAC-SHA256 tokens.

This module is the only place identifiers in clear are handled. Values are normalised
(case, spacing, punctuation, formats) before keying, so that the same person written two
ways gets the same token. The partnership key is held outside the stores; without it, a
token cannot be reversed or recomputed, not even by someone with the whole store.

Derived keys for record linkage (phonetic name codes, birth year, postcode district) are
keyed too, each under its own domain label, so no clear derived value is stored either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path

import jellyfish
import polars as pl

from wholeplace.errors import ConfigurationError
from wholeplace.model.fields import IdentifierKind

KEY_BYTES = 32
TOKEN_HEX_CHARS = 32  # 128 bits: collisions are negligible at national scale

_NON_LETTERS = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    upper = value.upper().replace("-", " ").replace("'", "")
    return _SPACES.sub(" ", _NON_LETTERS.sub("", upper)).strip()


_DATE_PATTERNS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    # (pattern, (year group, month group, day group)); the common layouts, tried in order
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?"), (1, 2, 3)),
    (re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"), (3, 2, 1)),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),
)


@lru_cache(maxsize=1 << 16)
def normalise_date(value: str) -> str:
    """ISO date for day-first and ISO layouts (UK practice); the text itself when not a date.

    Regular expressions rather than a chain of ``strptime`` calls: dates of birth are
    normalised once per distinct value on every load, and this is many times faster.
    """
    text = value.strip()
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(int(match[y]), int(match[m]), int(match[d])).isoformat()
            except ValueError:
                return text.upper()
    return text.upper()


def normalise_digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def normalise_phone(value: str) -> str:
    digits = normalise_digits(value)
    if digits.startswith("44") and len(digits) > 10:
        digits = "0" + digits[2:]
    return digits


def normalise_postcode(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def normalise_address(value: str) -> str:
    return _SPACES.sub(" ", re.sub(r"[^A-Z0-9 ]", " ", value.upper())).strip()


NORMALISERS: dict[IdentifierKind, Callable[[str], str]] = {
    IdentifierKind.NAME: normalise_name,
    IdentifierKind.FORENAME: normalise_name,
    IdentifierKind.SURNAME: normalise_name,
    IdentifierKind.DATE_OF_BIRTH: normalise_date,
    IdentifierKind.NHS_NUMBER: normalise_digits,
    IdentifierKind.PHONE: normalise_phone,
    IdentifierKind.POSTCODE: normalise_postcode,
    IdentifierKind.ADDRESS: normalise_address,
}


def postcode_district(postcode: str) -> str:
    """Outward code of a UK postcode: everything but the last three characters."""
    compact = normalise_postcode(postcode)
    return compact[:-3] if len(compact) > 3 else compact


class Pseudonymiser:
    """Keyed tokens under one partnership key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigurationError("The partnership key is too short (needs at least 16 bytes).")
        self._key = key

    @property
    def fingerprint(self) -> str:
        """Identifies the key in provenance records without revealing it."""
        return hashlib.sha256(b"wholeplace-key-fingerprint" + self._key).hexdigest()[:12]

    def token(self, domain: str, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        message = f"{domain}\x1f{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:TOKEN_HEX_CHARS]

    def identifier_token(self, kind: IdentifierKind, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        normalised = NORMALISERS[kind](value)
        return self.token(kind.value, normalised) if normalised else None

    def tokenise_series(self, kind: IdentifierKind, series: pl.Series) -> pl.Series:
        """Tokens for a column; each distinct value is keyed once."""
        uniques = series.unique().drop_nulls().to_list()
        lookup = {value: self.identifier_token(kind, value) for value in uniques}
        return series.replace_strict(lookup, default=None, return_dtype=pl.String)

    def derived(self, domain: str, series: pl.Series, derive: Callable[[str], str | None]) -> pl.Series:
        uniques = series.unique().drop_nulls().to_list()
        lookup = {}
        for value in uniques:
            derived_value = derive(value) if value.strip() else None
            lookup[value] = self.token(domain, derived_value) if derived_value else None
        return series.replace_strict(lookup, default=None, return_dtype=pl.String)


def phonetic(value: str) -> str | None:
    name = normalise_name(value)
    return jellyfish.metaphone(name.split(" ")[0]) if name else None


def initial(value: str) -> str | None:
    name = normalise_name(value)
    return name[0] if name else None


def birth_year(value: str) -> str | None:
    normalised = normalise_date(value)
    try:
        return str(date.fromisoformat(normalised).year)
    except ValueError:
        return None


def create_key_file(path: Path) -> Path:
    """Write a new random partnership key, readable by the owner only."""
    if path.exists():
        raise ConfigurationError(
            f"{path} already exists; a key is never overwritten, because every token made "
            "with it would stop matching. Choose another path or remove it deliberately."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path


def load_key(path: Path | None) -> Pseudonymiser:
    if path is None:
        raise ConfigurationError(
            "This data holds direct identifiers (names, dates of birth, NHS numbers, "
            "addresses or phone numbers) and no partnership key is configured, so it "
            "cannot be pseudonymised. Nothing was loaded.",
            hint="Create one with `wholeplace key create --file PATH` (keep it outside the "
            "data folder) and set WHOLEPLACE_PARTNERSHIP_KEY_FILE=PATH.",
        )
    if not path.is_file():
        raise ConfigurationError(
            f"The partnership key file {path} does not exist. Nothing was loaded.",
            hint="Check WHOLEPLACE_PARTNERSHIP_KEY_FILE, or create a key with `wholeplace key create --file PATH`.",
        )
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(
            f"The partnership key file {path} does not hold a hex key.",
            hint="Create one with `wholeplace key create --file PATH`.",
        ) from None
    return Pseudonymiser(key)
