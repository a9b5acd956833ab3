"""Docs kept honest: every command, option and setting is documented; README commands exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import typer

from wholeplace.cli import app
from wholeplace.settings import Settings

REPO = Path(__file__).resolve().parents[2]
HIDDEN_OPTIONS = {"--help", "--install-completion", "--show-completion"}


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    children = getattr(command, "commands", None)
    if children:
        for name, child in sorted(children.items()):
            yield from _commands(child, (*path, name))
    else:
        yield path, command


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    reference = (REPO / "docs" / "cli.md").read_text()
    missing = []
    for path, command in _commands(typer.main.get_command(app)):
        if f"wholeplace {' '.join(path)}" not in reference:
            missing.append(" ".join(path))
        for param in command.params:  # type: ignore[attr-defined]
            missing += [f"{' '.join(path)} {opt}" for opt in param.opts
                        if opt.startswith("--") and opt not in HIDDEN_OPTIONS
                        and not re.search(rf"(?<![\w-]){re.escape(opt)}\b", reference)]
    assert missing == []


def test_every_setting_is_documented() -> None:
    reference = (REPO / "docs" / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"`WHOLEPLACE_{name.upper()}`" not in reference]
    assert missing == []


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", readme, flags=re.S)
    assert [b.strip() for b in blocks[:2]] == ["scripts/demo", "scripts/test"]
    for block in blocks[:2]:
        assert (REPO / block.strip()).is_file()
    assert "exec scripts/test" in (REPO / ".ci" / "run").read_text()


def test_documents_linked_from_the_readme_exist() -> None:
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert [link for link in links if not link.startswith("http") and not (REPO / link).exists()] == []


def test_every_word_in_the_glossary_table_is_defined_once() -> None:
    rows = re.findall(r"^\| ([^|]+) \|", (REPO / "GLOSSARY.md").read_text(), flags=re.M)
    words = [w.strip() for w in rows if w.strip() not in {"word", "---"}]
    assert len(words) == len(set(words)) and len(words) > 20


def test_generated_reference_docs_are_current() -> None:
    from wholeplace.model.docs import rendered

    stale = [name for name, text in rendered().items() if (REPO / "docs" / name).read_text() != text]
    assert stale == [], "run `python -m wholeplace.model.docs` to regenerate"
