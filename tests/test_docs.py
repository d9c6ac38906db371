"""docs/checks.md is generated from the catalog; it must be current."""

from __future__ import annotations

from pathlib import Path

from runbench.catalog import load_catalog
from runbench.render.catalog import as_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_checks_md_is_current() -> None:
    expected = as_markdown(load_catalog().metas())
    actual = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/checks.md is stale: run `make docs`"


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
