"""Identifiers of the demo residents and how partners write them down."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from wholeplace.synth.identity import Recording, typo, written_dates, written_names, written_nhs_numbers
from wholeplace.synth.people import is_valid_nhs_number, nhs_check_digit, nhs_numbers


def test_the_check_digit_matches_a_published_nhs_number() -> None:
    # 943 476 5919 is the example NHS number in NHS England's own documentation.
    assert nhs_check_digit(np.array([[9, 4, 3, 4, 7, 6, 5, 9, 1]]))[0] == 9
    assert is_valid_nhs_number("943 476 5919")
    assert not is_valid_nhs_number("943 476 5918")


def test_generated_nhs_numbers_are_valid_distinct_and_never_issued() -> None:
    numbers = nhs_numbers(np.random.default_rng(1), 50_000)
    assert len(numbers) == 50_000 == len(set(numbers))
    assert all(n.startswith("999") and len(n) == 10 for n in numbers)
    assert all(is_valid_nhs_number(n) for n in numbers)


def test_names_are_written_with_nicknames_and_typos_at_the_partner_rate() -> None:
    rng = np.random.default_rng(2)
    forenames, surnames = ["William"] * 4_000, ["Smith-Jones"] * 4_000
    fore, sur = written_names(rng, forenames, surnames, Recording(nickname=0.25, typo=0.1, surname_short=0.3))
    nicknames = sum(f in ("Will", "Bill", "Billy") for f in fore)
    assert 0.2 < nicknames / 4_000 < 0.3
    assert 0.25 < sum(s == "Jones" for s in sur) / 4_000 < 0.35
    assert 0.01 < sum(f not in ("William", "Will", "Bill", "Billy") for f in fore) / 4_000 < 0.1


def test_a_typo_changes_a_word_by_one_keystroke() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        slip = typo(rng, "Margaret")
        assert abs(len(slip) - len("Margaret")) <= 1


def test_dates_of_birth_go_missing_or_swap_day_and_month_at_the_partner_rate() -> None:
    dates = pl.Series([date(1980, 3, 7)] * 2_000)
    written = written_dates(np.random.default_rng(4), dates, Recording(dob_missing=0.3, dob_swapped=0.2), "%d/%m/%Y")
    assert 0.25 < written.count(None) / 2_000 < 0.35
    assert 0.1 < written.count("03/07/1980") / 2_000 < 0.2
    assert written.count("07/03/1980") > 800


def test_nhs_numbers_can_be_spaced_or_missing() -> None:
    written = written_nhs_numbers(np.random.default_rng(5), ["9991234567"] * 1_000,
                                  Recording(nhs_missing=0.4), spaced=True)
    assert 0.35 < written.count(None) / 1_000 < 0.45
    assert set(written) == {None, "999 123 4567"}
