"""How a person's identifiers come out when a partner writes them down.

The same person is written differently from record to record and from agency to agency:
a nickname to the call handler, a typo at triage, the date of birth unknown at the scene,
day and month swapped, a double-barrelled surname shortened, the NHS number not traced.
The rates differ by partner (a control room rarely has a date of birth; an emergency
department nearly always has the NHS number) and drive how hard linkage is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from wholeplace.synth.names import NICKNAMES


@dataclass(frozen=True)
class Recording:
    """How often a partner writes each identifier differently from the truth."""

    nickname: float = 0.0
    typo: float = 0.0
    surname_short: float = 0.3  # share of double-barrelled surnames written as the last part only
    dob_missing: float = 0.0
    dob_swapped: float = 0.0  # day and month swapped
    nhs_missing: float = 1.0  # 1.0: the partner does not record NHS numbers at all


def typo(rng: np.random.Generator, word: str) -> str:
    """One keyboard slip: a dropped, doubled, swapped or replaced letter."""
    if len(word) < 3:
        return word
    at = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return word[:at] + word[at + 1:]
    if kind == 1:
        return word[:at] + word[at] + word[at:]
    if kind == 2:
        return word[:at - 1] + word[at] + word[at - 1] + word[at + 1:]
    return word[:at] + "aeiourstn"[int(rng.integers(0, 9))] + word[at + 1:]


def nickname(rng: np.random.Generator, forename: str) -> str:
    options = NICKNAMES.get(forename)
    return options[int(rng.integers(0, len(options)))] if options else forename


def written_names(rng: np.random.Generator, forenames: list[str], surnames: list[str],
                  how: Recording) -> tuple[list[str], list[str]]:
    """Forenames and surnames as written in each record."""
    count = len(forenames)
    use_nickname = rng.random(count) < how.nickname
    forename_typo = rng.random(count) < how.typo / 2
    surname_typo = rng.random(count) < how.typo / 2
    shorten = rng.random(count) < how.surname_short
    written_fore, written_sur = [], []
    for i in range(count):
        fore = nickname(rng, forenames[i]) if use_nickname[i] else forenames[i]
        sur = surnames[i].split("-")[-1] if shorten[i] and "-" in surnames[i] else surnames[i]
        written_fore.append(typo(rng, fore) if forename_typo[i] else fore)
        written_sur.append(typo(rng, sur) if surname_typo[i] else sur)
    return written_fore, written_sur


def written_dates(rng: np.random.Generator, dates: pl.Series, how: Recording, fmt: str) -> list[str | None]:
    """Dates of birth as written: some missing, some with day and month swapped (when valid)."""
    count = dates.len()
    missing = rng.random(count) < how.dob_missing
    swapped = rng.random(count) < how.dob_swapped
    text = dates.dt.strftime(fmt).to_list()
    swapped_text = dates.dt.strftime(fmt.replace("%d", "%_").replace("%m", "%d").replace("%_", "%m")).to_list()
    day = dates.dt.day().to_numpy()
    out: list[str | None] = []
    for i in range(count):
        if missing[i]:
            out.append(None)
        elif swapped[i] and day[i] <= 12:
            out.append(swapped_text[i])
        else:
            out.append(text[i])
    return out


def written_nhs_numbers(rng: np.random.Generator, numbers: list[str], how: Recording,
                        spaced: bool = False) -> list[str | None]:
    missing = rng.random(len(numbers)) < how.nhs_missing
    return [None if gone else (f"{n[:3]} {n[3:6]} {n[6:]}" if spaced else n)
            for n, gone in zip(numbers, missing, strict=True)]


def written_phones(rng: np.random.Generator, numbers: list[str | None]) -> list[str | None]:
    """Phone numbers in the styles call handlers and web forms produce."""
    style = rng.integers(0, 4, len(numbers))
    out: list[str | None] = []
    for number, how in zip(numbers, style, strict=True):
        if number is None:
            out.append(None)
        elif how == 0:
            out.append(f"{number[:5]} {number[5:]}")
        elif how == 1:
            out.append("+44 " + number[1:5] + " " + number[5:])
        else:
            out.append(number)
    return out
