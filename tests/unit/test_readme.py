"""The README's copy of `make help` is the Makefile's, target for target."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = re.compile(r"^([a-zA-Z_-]+):.*?## (.*)$")  # the pattern `make help` greps for


def makefile_help() -> list[tuple[str, str]]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    return [(m[1], m[2]) for m in map(TARGET.match, lines) if m]


def readme_help() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split("Run `make help`:", 1)[1].split("```", 2)[1]
    rows = [line.strip().split(None, 1) for line in block.strip().splitlines()]
    return [(row[0], row[1]) for row in rows]


def test_the_readme_lists_every_target_as_make_help_does() -> None:
    assert readme_help() == makefile_help()


def test_every_phony_target_has_a_help_line() -> None:
    text = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY: (.*)$", text, re.M)[1].split())  # type: ignore[index]
    assert phony == {name for name, _ in makefile_help()}
