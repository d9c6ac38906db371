"""Unit-test fixtures: the real catalog, loaded once; the shared secret scanner, closed at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `runbench` must import however pytest was started (it is not installed)
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from builders import SCANNER  # noqa: E402

from runbench.catalog import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session", autouse=True)
def _close_scanner() -> Iterator[None]:
    yield
    SCANNER.close()
