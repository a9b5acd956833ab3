"""The outcomes framework: definitions refused with the key named, versions kept on every engine and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholeplace.errors import NotFoundError
from wholeplace.governance import audit
from wholeplace.outcomes.framework import (
    FRAMEWORKS,
    FrameworkError,
    current_framework,
    framework_versions,
    framework_yaml,
    import_framework,
    list_frameworks,
    load_framework,
    parse_framework,
)
from wholeplace.store import Stores

DEMO = FRAMEWORKS / "wenlow-vale.yaml"
SMALL = """
code: small
name: A small framework
place: {code: squareton, name: Squareton}
outcomes:
  - code: safer
    title: People are safe at home
    indicators:
      - code: burglary
        title: Burglaries per 1,000 residents
        numerator: {datasets: [police-uk-street-testshire-police], categories: [burglary]}
        denominator: {population: {of: residents}}
        polarity: decrease
        spc: {baseline: {fix_after: 12}, rebase: [{month: "2024-04", reason: new recording rules, approver: board}]}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        parse_framework(text, source="test.yaml")
    return caught.value.problems


def test_the_demo_framework_parses_and_spans_every_partner() -> None:
    framework = load_framework(DEMO)
    assert 15 <= len(framework.indicators()) <= 25
    assert framework.indicator("mh-police-incidents").spc.baseline.until == "2023-12"  # type: ignore[union-attr]
    partners = {p for o in framework.outcomes for p in o.partners}
    assert {"police-wenlow-vale-constabulary", "council-wenlow-vale", "acute-wenlow-general"} <= partners


def test_every_bad_key_is_named_by_its_path_and_line() -> None:
    text = SMALL.replace("polarity: decrease", "polarity: sideways\n        colour: red").replace(
        "[police-uk-street-testshire-police]", "[]").replace('"2024-04"', '"2024-13"')
    problems = _problems(text)
    assert any(p.startswith("outcomes[0].indicators[0].polarity (line 13)") and "'sideways'" in p for p in problems)
    assert any(p.startswith("outcomes[0].indicators[0].colour") and "unknown key" in p for p in problems)
    assert any(p.startswith("outcomes[0].indicators[0].numerator.datasets") for p in problems)
    assert "outcomes[0].indicators[0].spc.rebase[0].month (line 15): write a month as YYYY-MM (found '2024-13')" \
        in problems
    assert len(problems) == 4


POPULATION = "denominator: {population: {of: residents}}"


@pytest.mark.parametrize(("change", "expected"), [
    ("polarity: decrease", "polarity: neutral\n        target: 3"),
    (POPULATION, POPULATION + "\n        ci_method: wilson"),
    ("{baseline: {fix_after: 12},", "{chart: laney_u, baseline: {fix_after: 12},"),
    (POPULATION, "denominator: {population: {of: residents}, events: {datasets: [a]}}"),
    ("spc: {", "spc: {profile: nhs, "),
])
def test_inconsistent_definitions_are_refused(change: str, expected: str) -> None:
    problems = _problems(SMALL.replace(change, expected))
    assert len(problems) == 1 and problems[0].startswith("outcomes[0].indicators[0]")


def test_codes_must_be_unique_and_yaml_must_parse() -> None:
    assert "repeated: safer" in _problems(SMALL.replace("code: burglary", "code: safer"))[0]
    assert _problems("code: [unclosed")[0].startswith("line 2, column 1: not valid YAML")
    assert "mapping of keys" in _problems("- just a list")[0]


def test_versions_are_kept_with_hash_and_audited_on_each_engine(stores_on_each_engine: Stores) -> None:
    stores = stores_on_each_engine
    first = import_framework(stores=stores, text=SMALL, actor="analyst@council", note="first draft")
    again = import_framework(stores=stores, text=SMALL, actor="analyst@council")
    edited = SMALL.replace("People are safe at home", "Everyone is safe at home")
    second = import_framework(stores=stores, text=edited, actor="lead@police", note="plainer title")
    assert (first.version, first.created, again.created, second.version) == (1, True, False, 2)
    assert current_framework(stores=stores, code="small").framework.outcomes[0].title == "Everyone is safe at home"
    versions = framework_versions(stores=stores, code="small")
    assert [(v.version, v.saved_by, v.note) for v in versions] == [
        (1, "analyst@council", "first draft"), (2, "lead@police", "plainer title")]
    assert framework_yaml(stores=stores, code="small", version=1) == SMALL
    assert len(first.content_sha256) == 64 and first.content_sha256 != second.content_sha256
    entries, _ = audit.search(stores=stores, action="alteration")
    assert [(e.what["outcomes_framework"], e.what["version"]) for e in entries] == [("small", 2), ("small", 1)]
    assert [s.framework.code for s in list_frameworks(stores=stores)] == ["small"]


def test_unknown_frameworks_and_versions_say_what_exists(stores: Stores, tmp_path: Path) -> None:
    import_framework(stores=stores, path=DEMO, actor="demo")
    with pytest.raises(NotFoundError, match="no outcomes framework 'other'") as caught:
        current_framework(stores=stores, code="other")
    assert "wenlow-vale" in str(caught.value.hint)
    with pytest.raises(NotFoundError, match="no version 9"):
        framework_yaml(stores=stores, code="wenlow-vale", version=9)
    with pytest.raises(FrameworkError, match="does not exist"):
        import_framework(stores=stores, path=tmp_path / "missing.yaml")
