"""The catalog: what load_catalog gives, what validation rejects, how references resolve."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from runbench.authoring import Check, Context, passed
from runbench.catalog import Catalog, CatalogError, UnknownCheckError, cis_160_for, load_catalog
from runbench.model import CheckMeta, Scope, Severity, Verdict
from runbench.snapshot import ContainerFacts


def _fn(name: str) -> Callable[[Any, Context], Verdict]:
    def fn(facts: Any, ctx: Context) -> Verdict:
        return passed()

    fn.__name__ = name
    return fn


def make_check(
    id: str,
    *,
    scope: Scope | None = None,
    cis: Mapping[str, str] | None = None,
    fn_name: str | None = None,
    title: str = "A good state",
    rationale: str = "Because it matters.",
    remediation: str = "Do the right thing.",
    level: int = 1,
    severity: Severity = Severity.MEDIUM,
) -> Check[Any]:
    meta = CheckMeta(
        id=id,
        title=title,
        scope=scope or Scope(id.split(".", 1)[0]),
        severity=severity,
        cis=dict(cis or {}),
        level=level,
        rationale=rationale,
        remediation=remediation,
    )
    name = fn_name if fn_name is not None else id.replace(".", "_")
    paths = (lambda ctx: ("/etc/docker",)) if meta.scope is Scope.FILE else None
    return Check(meta=meta, fn=_fn(name), name=name, paths=paths)


# --- the real catalog ---------------------------------------------------------------------------


def test_load_catalog_gives_the_39_container_checks(catalog: Catalog) -> None:
    container = catalog.of_scope(Scope.CONTAINER)
    assert len(container) == 39  # CIS 5.2-5.32 (31), 4 of runbench's own, 4 runtime truth checks
    assert len(catalog) == sum(len(catalog.of_scope(scope)) for scope in Scope)
    assert {"container.privileged", "container.docker_socket", "container.env_secrets"} <= set(catalog)


def test_load_catalog_gives_the_23_daemon_checks(catalog: Catalog) -> None:
    daemon = {c.id for c in catalog.of_scope(Scope.DAEMON)}
    assert len(daemon) == 23  # CIS 2.1-2.19 and 5.1, tcp_exposure, tcp_unauthenticated, config_conflicts
    assert {"daemon.tls", "daemon.tcp_unauthenticated", "daemon.swarm_mode"} <= daemon


def test_catalog_order_is_scope_then_cis_number_then_id(catalog: Catalog) -> None:
    scopes = list(dict.fromkeys(c.meta.scope for c in catalog.values()))
    assert scopes == sorted(scopes, key=list(Scope).index)
    ids = [i for i in catalog if i.startswith("container.")]
    assert ids[:4] == ["container.apparmor", "container.selinux", "container.capabilities", "container.privileged"]
    # 5.10 sorts after 5.9 (numeric, not lexical); checks without a CIS number come last, by id
    assert ids.index("container.open_ports") < ids.index("container.host_network")
    assert ids[-8:] == [
        "container.env_secrets",
        "container.oom_kill_disable",
        "container.runtime_capabilities",
        "container.runtime_nnp",
        "container.runtime_root",
        "container.runtime_seccomp",
        "container.rw_host_mounts",
        "container.user",
    ]


def test_every_real_check_is_valid_and_cis_numbers_are_unique(catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    for check in catalog.values():
        num = check.meta.cis.get("1.8.0")
        if num:
            assert num not in seen, f"{check.id} and {seen[num]} share CIS {num}"
            seen[num] = check.id
            assert check.meta.cis.get("1.6.0") == cis_160_for(num)  # only section 2 shifted
    assert {f"5.{i}" for i in range(1, 33)} <= seen.keys()  # 5.1 (daemon.swarm_mode), 5.2-5.32
    assert {f"2.{i}" for i in range(1, 20)} <= seen.keys()  # the daemon checks


def test_catalog_is_immutable(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog["container.x"] = catalog["container.privileged"]  # type: ignore[index]
    assert not hasattr(catalog, "__setitem__")


# --- validation ---------------------------------------------------------------------------------


def test_a_valid_hand_made_catalog() -> None:
    cat = Catalog(
        [
            make_check("container.one", cis={"1.8.0": "5.5", "1.6.0": "5.5"}),
            make_check("daemon.two", cis={"1.8.0": "2.8", "1.6.0": "2.7"}),
            make_check("daemon.devmapper", cis={"1.8.0": "2.7"}),
            make_check("ops.three"),
        ]
    )
    assert list(cat) == ["container.one", "daemon.two", "daemon.devmapper", "ops.three"]
    assert [m.id for m in cat.metas()] == list(cat)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(CatalogError, match="duplicate check id 'container.one'"):
        Catalog([make_check("container.one"), make_check("container.one")])


@pytest.mark.parametrize(
    "bad_id",
    ["Container.One", "container.One", "container.one-two", "container", "containers.one", "container.1one", "x.y"],
)
def test_bad_id_format_is_rejected(bad_id: str) -> None:
    with pytest.raises(CatalogError, match="id must be"):
        Catalog([make_check(bad_id, scope=Scope.CONTAINER, fn_name=bad_id.replace(".", "_"))])


def test_id_prefix_must_match_scope() -> None:
    with pytest.raises(CatalogError, match="does not match its scope"):
        Catalog([make_check("image.one", scope=Scope.CONTAINER)])


def test_function_name_must_match_id() -> None:
    with pytest.raises(CatalogError, match="function is named 'check_one', expected 'container_one'"):
        Catalog([make_check("container.one", fn_name="check_one")])


@pytest.mark.parametrize("field", ["title", "rationale", "remediation"])
@pytest.mark.parametrize("blank", ["", "   \n"])
def test_empty_texts_are_rejected(field: str, blank: str) -> None:
    with pytest.raises(CatalogError, match=f"empty {field}"):
        Catalog([make_check("container.one", **{field: blank})])


def test_level_must_be_1_or_2() -> None:
    with pytest.raises(CatalogError, match="level"):
        Catalog([make_check("container.one", level=3)])


def test_unknown_cis_version_is_rejected() -> None:
    with pytest.raises(CatalogError, match="unknown CIS benchmark version '2.0.0'"):
        Catalog([make_check("container.one", cis={"1.8.0": "5.5", "1.6.0": "5.5", "2.0.0": "5.5"})])


@pytest.mark.parametrize("num", ["5.33", "5.0", "8.1", "1.1.19", "2.20", "5", "five"])
def test_unknown_cis_number_is_rejected(num: str) -> None:
    with pytest.raises(CatalogError, match="unknown CIS v1.8.0 number"):
        Catalog([make_check("container.one", cis={"1.8.0": num, "1.6.0": num})])


def test_a_v160_number_without_a_v180_one_is_rejected() -> None:
    with pytest.raises(CatalogError, match="unknown CIS v1.8.0 number None"):
        Catalog([make_check("container.one", cis={"1.6.0": "5.5"})])


@pytest.mark.parametrize(
    ("cis", "message"),
    [
        ({"1.8.0": "2.8", "1.6.0": "2.8"}, "should be '2.7', is '2.8'"),  # section 2 shifted
        ({"1.8.0": "2.8"}, "should be '2.7', is None"),
        ({"1.8.0": "2.19", "1.6.0": "2.19"}, "should be '2.18'"),
        ({"1.8.0": "2.7", "1.6.0": "2.6"}, "should be None, is '2.6'"),  # 2.7 is new in 1.8.0
        ({"1.8.0": "2.6", "1.6.0": "2.5"}, "should be '2.6'"),  # below 2.7 nothing moved
        ({"1.8.0": "5.5", "1.6.0": "5.4"}, "should be '5.5'"),
        ({"1.8.0": "5.5"}, "should be '5.5', is None"),
    ],
)
def test_v160_number_inconsistent_with_v180_is_rejected(cis: dict[str, str], message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("(", r"\(")):
        Catalog([make_check("daemon.one", cis=cis)])


@pytest.mark.parametrize(
    ("num_180", "num_160"),
    [
        ("2.1", "2.1"),
        ("2.6", "2.6"),
        ("2.7", None),
        ("2.8", "2.7"),
        ("2.19", "2.18"),
        ("5.32", "5.32"),
        ("1.1.3", "1.1.3"),
    ],
)
def test_cis_160_mapping(num_180: str, num_160: str | None) -> None:
    assert cis_160_for(num_180) == num_160


# --- resolve ------------------------------------------------------------------------------------


def test_resolve_an_id(catalog: Catalog) -> None:
    assert catalog.resolve("container.privileged") == ("container.privileged",)
    assert catalog.resolve("  container.privileged ") == ("container.privileged",)


def test_resolve_a_cis_number(catalog: Catalog) -> None:
    assert catalog.resolve("5.5") == ("container.privileged",)
    assert catalog.resolve("5.32") == ("container.docker_socket",)


@pytest.mark.parametrize("ref", ["1.6.0:5.5", "v1.6.0:5.5"])
def test_resolve_a_v160_number(catalog: Catalog, ref: str) -> None:
    assert catalog.resolve(ref) == ("container.privileged",)


def test_resolve_a_glob(catalog: Catalog) -> None:
    assert catalog.resolve("container.host_*") == (
        "container.host_network",
        "container.host_pid",
        "container.host_ipc",
        "container.host_uts",
        "container.host_userns",
    )
    assert len(catalog.resolve("container.*")) == 39


def test_resolve_section_2_numbers_across_versions() -> None:
    cat = Catalog(
        [
            make_check("daemon.tls", cis={"1.8.0": "2.8", "1.6.0": "2.7"}),
            make_check("daemon.storage_devicemapper", cis={"1.8.0": "2.7"}),
        ]
    )
    assert cat.resolve("2.8") == ("daemon.tls",)
    assert cat.resolve("1.6.0:2.7") == ("daemon.tls",)
    assert cat.resolve("2.7") == ("daemon.storage_devicemapper",)
    with pytest.raises(UnknownCheckError):
        cat.resolve("1.6.0:2.8")


def test_unknown_id_raises_with_a_close_suggestion(catalog: Catalog) -> None:
    with pytest.raises(UnknownCheckError) as info:
        catalog.resolve("container.privilegd")
    assert info.value.ref == "container.privilegd"
    assert info.value.suggestions[0] == "container.privileged"
    assert "did you mean container.privileged" in str(info.value)
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize("ref", ["container.nope_nothing_like_it", "9.9", "1.6.0:9.9", "volume.*", "1.6.0:2.19"])
def test_unknown_refs_raise(catalog: Catalog, ref: str) -> None:
    with pytest.raises(UnknownCheckError, match="runbench checks"):
        catalog.resolve(ref)


# --- loading check files by path ----------------------------------------------------------------

_CHECK_FILE = """
from runbench.authoring import Severity, container_check, passed

@container_check(id="container.{id}", title="t", severity=Severity.LOW, rationale="r", remediation="m")
def {fn}(c, ctx):
    return passed()
"""


def test_load_catalog_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "rbu_one.py").write_text(_CHECK_FILE.format(id="alpha", fn="container_alpha"))
    (tmp_path / "_private.py").write_text("raise RuntimeError('never imported')\n")
    (tmp_path / "notes.txt").write_text("not a check file\n")
    cat = load_catalog(tmp_path)
    assert list(cat) == ["container.alpha"]
    assert any(name.endswith(".rbu_one") for name in sys.modules)
    assert cat["container.alpha"].evaluate(_facts()).status.value == "pass"


def test_load_catalog_rejects_a_misnamed_function(tmp_path: Path) -> None:
    (tmp_path / "rbu_two.py").write_text(_CHECK_FILE.format(id="beta", fn="beta"))
    with pytest.raises(CatalogError, match="function is named 'beta'"):
        load_catalog(tmp_path)


def test_load_catalog_rejects_duplicates_across_files(tmp_path: Path) -> None:
    (tmp_path / "rbu_a.py").write_text(_CHECK_FILE.format(id="gamma", fn="container_gamma"))
    (tmp_path / "rbu_b.py").write_text(_CHECK_FILE.format(id="gamma", fn="container_gamma"))
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(tmp_path)


def test_a_check_file_that_fails_to_import_leaves_no_module_behind(tmp_path: Path) -> None:
    (tmp_path / "rbu_broken.py").write_text("raise RuntimeError('broken check file')\n")
    with pytest.raises(RuntimeError, match="broken check file"):
        load_catalog(tmp_path)
    assert not any(name.endswith(".rbu_broken") for name in sys.modules)


def _facts() -> ContainerFacts:
    return ContainerFacts(id="x" * 64, name="x", image_ref="x", image_id="x", state="running")


def test_check_files_share_helpers_through_relative_imports(tmp_path: Path) -> None:
    (tmp_path / "_shared.py").write_text("GOOD = 'pass'\n")
    (tmp_path / "rbu_rel.py").write_text(
        "from runbench.authoring import Severity, container_check, passed\n"
        "from ._shared import GOOD\n"
        "@container_check(id='container.rel', title='t', severity=Severity.LOW, rationale='r', remediation='m')\n"
        "def container_rel(c, ctx):\n"
        "    assert GOOD == 'pass'\n"
        "    return passed()\n"
    )
    cat = load_catalog(tmp_path)
    assert cat["container.rel"].evaluate(_facts()).status.value == "pass"
    again = load_catalog(tmp_path)  # a second load is fresh, not a duplicate
    assert list(again) == ["container.rel"]


def test_load_catalog_gives_the_20_host_and_24_file_checks(catalog: Catalog) -> None:
    host = catalog.of_scope(Scope.HOST)
    files = catalog.of_scope(Scope.FILE)
    assert len(host) == 20  # 1.1.1, 1.1.2, the audit family 1.1.3-1.1.18, 1.2.1, 1.2.2
    assert len(files) == 24  # 3.1-3.24, one family
    numbers = {c.meta.cis["1.8.0"] for c in (*host, *files)}
    assert numbers == {f"1.1.{i}" for i in range(1, 19)} | {"1.2.1", "1.2.2"} | {f"3.{i}" for i in range(1, 25)}
    assert all(c.meta.cis["1.6.0"] == c.meta.cis["1.8.0"] for c in (*host, *files))  # sections 1 and 3 did not shift
    assert catalog.resolve("1.1.3") == ("host.audit_dockerd",)
    assert catalog.resolve("3.16") == ("file.docker_sock_mode",)
    assert all(c.paths is not None for c in files)


def test_load_catalog_gives_the_17_image_2_ops_and_9_swarm_checks(catalog: Catalog) -> None:
    images = {c.id for c in catalog.of_scope(Scope.IMAGE)}
    assert len(images) == 17  # CIS 4.1-4.12, tag_pinning, labels, exposed_ssh, sensitive_files, world_writable
    assert {c.meta.cis.get("1.8.0") for c in catalog.of_scope(Scope.IMAGE)} - {None} == {f"4.{i}" for i in range(1, 13)}
    assert [c.id for c in catalog.of_scope(Scope.OPS)] == ["ops.image_sprawl", "ops.container_sprawl"]
    assert [c.meta.cis["1.8.0"] for c in catalog.of_scope(Scope.SWARM)] == [f"7.{i}" for i in range(1, 10)]
