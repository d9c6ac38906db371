"""Load the check catalog: import each checks/*.py by path, collect its checks, validate them."""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from runbench.authoring import Check, Context
from runbench.model import BENCHMARK, CheckMeta, Scope
from runbench.resources import resource_dir

ID_RE = re.compile(r"^(host|daemon|file|image|container|ops|swarm)\.[a-z][a-z0-9_]*$")
BENCHMARK_VERSIONS = (BENCHMARK.version, *BENCHMARK.also)
_GLOB_CHARS = frozenset("*?[")


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
        """Check ids for an id, a CIS v1.8.0 number, `1.6.0:N`, or a glob over ids or numbers
        (`container.*_mounts`, `5.*`, `2.1*`, `1.6.0:2.*`); raises UnknownCheckError."""
        ref = ref.strip()
        if ref in self._checks:
            return (ref,)
        if ref in self._by_cis:
            return self._by_cis[ref]
        version, number = "1.8.0", ref
        if ref.startswith(("1.6.0:", "v1.6.0:")):
            version, number = "1.6.0", ref.split(":", 1)[1]
        if _GLOB_CHARS & set(number):
            hits = tuple(
                c.id
                for c in self._checks.values()
                if (version == "1.8.0" and fnmatch.fnmatchcase(c.id, number))
                or fnmatch.fnmatchcase(c.meta.cis.get(version, "\0"), number)
            )
        else:
            hits = tuple(
                c.id for c in self._checks.values() if version != "1.8.0" and c.meta.cis.get(version) == number
            )
        if hits:
            return hits
        choices = list(self._checks) + list(self._by_cis)
        raise UnknownCheckError(ref, difflib.get_close_matches(ref, choices, n=3, cutoff=0.6))

    def file_paths(self, ctx: Context, ids: Iterable[str] | None = None) -> frozenset[str]:
        """Every host path the file checks (of `ids`, default all) declare for the facts in `ctx`: what the
        collector stats. A paths function that raises contributes nothing here (the engine reports it)."""
        out: set[str] = set()
        for check in self._checks.values():
            if check.paths is None or (ids is not None and check.id not in ids):
                continue
            try:
                out.update(check.paths(ctx))
            except Exception:  # noqa: BLE001, S112 - reported as that check's error at evaluation
                continue
        return frozenset(out)


def validate(check: Check[Any]) -> None:
    m = check.meta
    where = f"check {m.id!r}"
    if not ID_RE.match(m.id):
        raise CatalogError(f"{where}: id must be <scope>.<snake_case_name>")
    if m.id.split(".", 1)[0] != m.scope.value:
        raise CatalogError(f"{where}: id prefix does not match its scope {m.scope.value!r}")
    if not callable(check.fn):
        raise CatalogError(f"{where}: its function is not callable")
    if check.name != m.id.replace(".", "_"):
        raise CatalogError(f"{where}: function is named {check.name!r}, expected {m.id.replace('.', '_')!r}")
    if (check.paths is not None) != (m.scope is Scope.FILE):
        need = "must declare the paths it judges" if m.scope is Scope.FILE else "declares paths but is not a file check"
        raise CatalogError(f"{where}: {need}")
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


def _package_for(directory: Path) -> str:
    """Import the check directory as a package of its own, so check files can share helpers with relative
    imports (`from ._rules import x`) the same way in a checkout (checks/) and in the wheel (_catalog/)."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:12]
    name = f"runbench_checks_{digest}"
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]  # a fresh load each time: the files may have changed (tests load tmp dirs)
    spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    if spec is None:
        raise CatalogError(f"cannot import {directory}")
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(directory)]
    sys.modules[name] = package
    return name


def _import_check_file(package: str, path: Path) -> ModuleType:
    name = f"{package}.{path.stem}"
    try:
        return importlib.import_module(name)
    except Exception:
        sys.modules.pop(name, None)
        raise


def _checks_of(module: ModuleType) -> Iterator[Check[Any]]:
    for value in vars(module).values():
        if isinstance(value, Check):
            yield value
        elif isinstance(value, tuple) and value and all(isinstance(v, Check) for v in value):
            yield from value


def load_catalog(directory: Path | None = None) -> Catalog:
    directory = directory or resource_dir("checks")
    checks: list[Check[Any]] = []
    package = _package_for(directory)
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):  # helpers shared by check files, imported by them
            continue
        checks.extend(_checks_of(_import_check_file(package, path)))
    order = {s: i for i, s in enumerate(Scope)}
    checks.sort(key=lambda c: (order[c.meta.scope], _cis_sort_key(c.meta), c.meta.id))
    return Catalog(checks)


def _cis_sort_key(meta: CheckMeta) -> tuple[int, ...]:
    num = meta.cis.get("1.8.0")
    if not num:
        return (999,)
    return tuple(int(p) for p in num.split("."))
