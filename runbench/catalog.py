"""Load the check catalog: import each checks/*.py by path, collect its checks, validate them."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from runbench.authoring import Check
from runbench.model import CheckMeta, Scope
from runbench.resources import resource_dir

ID_RE = re.compile(r"^(host|daemon|file|image|container|ops|swarm)\.[a-z][a-z0-9_]*$")
BENCHMARK_VERSIONS = ("1.8.0", "1.6.0")


class CatalogError(Exception):
    """The catalog itself is broken (a developer error, reported with the offending check)."""


class UnknownCheckError(LookupError):
    def __init__(self, ref: str, suggestions: list[str]) -> None:
        self.ref = ref
        self.suggestions = suggestions
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown check {ref!r}{hint}; `runbench checks` lists them")


def _cis_numbers_180() -> frozenset[str]:
    nums = [f"1.1.{i}" for i in range(1, 19)] + ["1.2.1", "1.2.2"]
    sizes = {2: 19, 3: 24, 4: 12, 5: 32, 6: 2, 7: 9}
    nums += [f"{s}.{i}" for s, n in sizes.items() for i in range(1, n + 1)]
    return frozenset(nums)


CIS_180 = _cis_numbers_180()


def cis_160_for(num_180: str) -> str | None:
    """The v1.6.0 number of a v1.8.0 one: section 2 shifted when 1.8.0 added 2.7 (devicemapper)."""
    section, _, rest = num_180.partition(".")
    if section == "2" and rest.isdigit():
        n = int(rest)
        if n == 7:
            return None
        return f"2.{n - 1}" if n > 7 else num_180
    return num_180


class Catalog(Mapping[str, Check[Any]]):
    """Immutable mapping id -> Check, in catalog order."""

    def __init__(self, checks: Iterable[Check[Any]]) -> None:
        self._checks: dict[str, Check[Any]] = {}
        for check in checks:
            validate(check)
            if check.id in self._checks:
                raise CatalogError(f"duplicate check id {check.id!r}")
            self._checks[check.id] = check
        by_cis: dict[str, list[str]] = {}
        for check in self._checks.values():
            if "1.8.0" in check.meta.cis:
                by_cis.setdefault(check.meta.cis["1.8.0"], []).append(check.id)
        self._by_cis = {k: tuple(v) for k, v in by_cis.items()}

    def __getitem__(self, key: str) -> Check[Any]:
        return self._checks[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def metas(self) -> tuple[CheckMeta, ...]:
        return tuple(c.meta for c in self._checks.values())

    def of_scope(self, scope: Scope) -> list[Check[Any]]:
        return [c for c in self._checks.values() if c.meta.scope is scope]

    def resolve(self, ref: str) -> tuple[str, ...]:
        """Check ids for an id, a CIS v1.8.0 number, or `v1.6.0:N`; raises UnknownCheckError."""
        ref = ref.strip()
        if ref in self._checks:
            return (ref,)
        if ref in self._by_cis:
            return self._by_cis[ref]
        if ref.startswith(("1.6.0:", "v1.6.0:")):
            num = ref.split(":", 1)[1]
            hits = tuple(c.id for c in self._checks.values() if c.meta.cis.get("1.6.0") == num)
            if hits:
                return hits
        # a prefix of a section (e.g. "5.1" is exact above; "container.*" style globs)
        if ref.endswith("*"):
            hits = tuple(i for i in self._checks if i.startswith(ref[:-1]))
            if hits:
                return hits
        choices = list(self._checks) + list(self._by_cis)
        raise UnknownCheckError(ref, difflib.get_close_matches(ref, choices, n=3, cutoff=0.6))


def validate(check: Check[Any]) -> None:
    m = check.meta
    where = f"check {m.id!r}"
    if not ID_RE.match(m.id):
        raise CatalogError(f"{where}: id must be <scope>.<snake_case_name>")
    if m.id.split(".", 1)[0] != m.scope.value:
        raise CatalogError(f"{where}: id prefix does not match its scope {m.scope.value!r}")
    fn_name = getattr(check.fn, "__name__", "")
    if fn_name != m.id.replace(".", "_"):
        raise CatalogError(f"{where}: function is named {fn_name!r}, expected {m.id.replace('.', '_')!r}")
    for attr in ("title", "rationale", "remediation"):
        if not getattr(m, attr).strip():
            raise CatalogError(f"{where}: empty {attr}")
    if m.level not in (1, 2):
        raise CatalogError(f"{where}: level must be 1 or 2")
    for version in m.cis:
        if version not in BENCHMARK_VERSIONS:
            raise CatalogError(f"{where}: unknown CIS benchmark version {version!r}")
    if m.cis:
        num = m.cis.get("1.8.0")
        if num not in CIS_180:
            raise CatalogError(f"{where}: unknown CIS v1.8.0 number {num!r}")
        expected = cis_160_for(num)
        if m.cis.get("1.6.0") != expected:
            raise CatalogError(f"{where}: CIS v1.6.0 number should be {expected!r}, is {m.cis.get('1.6.0')!r}")


def _import_by_path(path: Path) -> ModuleType:
    name = f"runbench._checks_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CatalogError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def _checks_of(module: ModuleType) -> Iterator[Check[Any]]:
    for value in vars(module).values():
        if isinstance(value, Check):
            yield value
        elif isinstance(value, tuple) and value and all(isinstance(v, Check) for v in value):
            yield from value


def load_catalog(directory: Path | None = None) -> Catalog:
    directory = directory or resource_dir("checks")
    checks: list[Check[Any]] = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        checks.extend(_checks_of(_import_by_path(path)))
    order = {s: i for i, s in enumerate(Scope)}
    checks.sort(key=lambda c: (order[c.meta.scope], _cis_sort_key(c.meta), c.meta.id))
    return Catalog(checks)


def _cis_sort_key(meta: CheckMeta) -> tuple[int, ...]:
    num = meta.cis.get("1.8.0")
    if not num:
        return (999,)
    return tuple(int(p) for p in num.split("."))
