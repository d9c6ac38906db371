"""Find the catalog and report templates, installed (runbench/_catalog, runbench/_reports) or in a checkout."""

from __future__ import annotations

from pathlib import Path

_INSTALLED = {"checks": "_catalog", "reports": "_reports"}


def resource_dir(name: str) -> Path:
    pkg = Path(__file__).resolve().parent
    for candidate in (pkg / _INSTALLED[name], pkg.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"runbench resource directory {name!r} not found (broken installation)")
