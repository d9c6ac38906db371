"""Every scope through one engine: a test catalog with one check per scope, evaluated end to end from a
snapshot. Each yields a finding per subject; a scope whose facts are missing yields `error` with the
collector's recorded reason, never silence."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from builders import IMAGE_ID, container, image, snapshot

from runbench.authoring import (
    Context,
    DaemonView,
    Inventory,
    Row,
    container_check,
    daemon_check,
    failed,
    family,
    file_check,
    host_check,
    image_check,
    ops_check,
    passed,
    skipped,
    swarm_check,
)
from runbench.catalog import Catalog, CatalogError
from runbench.engine import evaluate
from runbench.model import Scope, Severity, Status, Verdict
from runbench.policy import Policy
from runbench.snapshot import (
    CollectionError,
    ContainerFacts,
    ContainerSummary,
    Fact,
    FileFacts,
    FileType,
    HostFacts,
    ImageFacts,
    SwarmFacts,
)

TEXT = {"title": "A good state", "rationale": "Because.", "remediation": "Do it."}


@host_check(id="host.kernel_known", severity=Severity.LOW, **TEXT)
def host_kernel_known(h: HostFacts, ctx: Context) -> Verdict:
    return passed(kernel=h.kernel) if h.kernel else failed("kernel unknown")


@daemon_check(id="daemon.icc_off", severity=Severity.MEDIUM, **TEXT)
def daemon_icc_off(d: DaemonView, ctx: Context) -> Verdict:
    icc = d.setting("icc")
    if not icc.known:
        return Verdict(Status.ERROR, icc.why)
    return passed(icc=icc.value) if icc.value is False else failed("icc on", icc=icc.value, source=icc.sources)


def _docker_files(ctx: Context) -> Iterable[str]:
    return ("/etc/docker", "/run/docker.sock")


@file_check(id="file.root_owned", severity=Severity.HIGH, paths=_docker_files, **TEXT)
def file_root_owned(f: FileFacts, ctx: Context) -> Verdict:
    if not f.exists:
        return skipped(f"{f.path} does not exist")
    return passed(owner=f.owner) if f.uid == 0 else failed(f"owned by {f.owner}", owner=f.owner)


@image_check(id="image.non_root", severity=Severity.MEDIUM, **TEXT)
def image_non_root(i: ImageFacts, ctx: Context) -> Verdict:
    return passed(user=i.user) if i.user not in ("", "0", "root") else failed("runs as root")


@container_check(id="container.memory_set", severity=Severity.MEDIUM, **TEXT)
def container_memory_set(c: ContainerFacts, ctx: Context) -> Verdict:
    return passed() if c.memory else failed("no memory limit")


@ops_check(id="ops.few_stopped", severity=Severity.LOW, **TEXT)
def ops_few_stopped(inv: Inventory, ctx: Context) -> Verdict:
    stopped = [s.name for s in inv.containers if s.state == "exited"]
    return failed("stopped containers", stopped=stopped) if stopped else passed()


@swarm_check(id="swarm.inactive", severity=Severity.LOW, **TEXT)
def swarm_inactive(s: SwarmFacts, ctx: Context) -> Verdict:
    return skipped("swarm is not active") if not s.active else passed()


ALL = [
    host_kernel_known,
    daemon_icc_off,
    file_root_owned,
    image_non_root,
    container_memory_set,
    ops_few_stopped,
    swarm_inactive,
]

FILES = (
    FileFacts("/etc/docker", FileType.DIRECTORY, 0, 0, "root", "root", 0o755),
    FileFacts("/run/docker.sock", FileType.SOCKET, 1000, 999, "eve", "docker", 0o660),
)


def _findings(snap: object, checks: list[object] | None = None) -> dict[tuple[str, str], tuple[Status, str]]:
    report = evaluate(Catalog(checks or ALL), snap, Policy())  # type: ignore[arg-type]
    return {(f.check.id, f.subject.key): (f.status, f.detail) for f in report.findings}


def test_every_scope_yields_its_findings() -> None:
    snap = snapshot(
        container(name="a"),
        container(id="9" * 64, name="b", memory=0),
        files=FILES,
        swarm=SwarmFacts(state="inactive"),
        inventory=(ContainerSummary("1" * 64, "old", "x", "exited"),),
    )
    got = _findings(snap)
    assert {k: v[0] for k, v in got.items()} == {
        ("host.kernel_known", "host"): Status.PASS,
        ("daemon.icc_off", "daemon"): Status.FAIL,  # the default: icc on
        ("file.root_owned", "/etc/docker"): Status.PASS,
        ("file.root_owned", "/run/docker.sock"): Status.FAIL,
        ("image.non_root", "registry.example/app:1.2"): Status.PASS,
        ("container.memory_set", "a"): Status.PASS,
        ("container.memory_set", "b"): Status.FAIL,
        ("ops.few_stopped", "ops"): Status.FAIL,
        ("swarm.inactive", "swarm"): Status.SKIP,
    }


def test_sections_and_subject_scores_cover_every_scope() -> None:
    snap = snapshot(container(name="a"), files=FILES, swarm=SwarmFacts(state="inactive"))
    report = evaluate(Catalog(ALL), snap, Policy())
    assert set(report.sections) == set(Scope)
    assert report.sections[Scope.SWARM].score is None  # only a skip: nothing to score
    assert report.sections[Scope.FILE].score == 50.0
    assert list(report.containers) == ["a"]
    assert list(report.images) == ["registry.example/app:1.2"]
    assert {f.key for f in report.findings} >= {"file.root_owned:/run/docker.sock", "container.memory_set:a"}


@pytest.mark.parametrize(
    ("missing", "fact", "check_id", "key"),
    [
        ({"host": None}, Fact.HOST, "host.kernel_known", "host"),
        ({"engine": None}, Fact.ENGINE, "daemon.icc_off", "daemon"),
        ({"engine": None}, Fact.ENGINE, "ops.few_stopped", "ops"),
        ({"swarm": None}, Fact.SWARM, "swarm.inactive", "swarm"),
        ({"files": None}, Fact.FILES, "file.root_owned", "/etc/docker"),
        ({"files": None}, Fact.FILES, "file.root_owned", "/run/docker.sock"),
    ],
)
def test_a_scope_without_facts_is_an_error_with_the_recorded_reason(
    missing: dict[str, None], fact: Fact, check_id: str, key: str
) -> None:
    reason = f"{fact.value} could not be read: the test says so"
    facts: dict[str, object] = {"files": FILES, "swarm": SwarmFacts(state="active")}
    snap = snapshot(errors=(CollectionError(fact, "", reason),), **{**facts, **missing})
    status, detail = _findings(snap)[(check_id, key)]
    assert status is Status.ERROR
    assert reason in detail


def test_a_path_that_was_not_collected_is_an_error_naming_it() -> None:
    snap = snapshot(files=FILES[:1])
    status, detail = _findings(snap, [file_root_owned])[("file.root_owned", "/run/docker.sock")]
    assert status is Status.ERROR and "/run/docker.sock was not collected" in detail


def test_a_raising_paths_function_is_that_checks_error() -> None:
    def broken(ctx: Context) -> Iterable[str]:
        raise KeyError("tlscacert")

    @file_check(id="file.broken", severity=Severity.LOW, paths=broken, **TEXT)
    def file_broken(f: FileFacts, ctx: Context) -> Verdict:
        return passed()

    got = _findings(snapshot(files=FILES), [file_broken, file_root_owned])
    assert got[("file.broken", "(paths)")][0] is Status.ERROR
    assert "KeyError" in got[("file.broken", "(paths)")][1]
    assert got[("file.root_owned", "/etc/docker")][0] is Status.PASS  # the others go on


def test_an_image_or_container_that_failed_to_inspect_yields_errors_not_silence() -> None:
    snap = snapshot(
        container(name="a"),
        inventory=(
            ContainerSummary("c" * 64, "broken", "x", "running"),
            ContainerSummary("d" * 64, "gone", "x", "running"),
        ),
        errors=(
            CollectionError(Fact.CONTAINER, "c" * 64, "broken: 500 Server Error"),
            CollectionError(Fact.CONTAINER_GONE, "d" * 64, "gone disappeared between listing and inspection"),
            CollectionError(Fact.IMAGE, "sha256:" + "e" * 64, "500 Server Error"),
        ),
    )
    got = _findings(snap, [container_memory_set, image_non_root])
    assert got[("container.memory_set", "broken")][0] is Status.ERROR
    assert "500 Server Error" in got[("container.memory_set", "broken")][1]
    assert not any(k[1] == "gone" for k in got)  # churn is a note, not a finding
    assert got[("image.non_root", "sha256:" + "e" * 64)][0] is Status.ERROR
    report = evaluate(Catalog([container_memory_set]), snap, Policy())
    assert "1 container(s) removed while the scan ran (not scanned)" in report.notes


def test_image_subjects_are_keyed_by_tag_or_id() -> None:
    untagged = image(id="sha256:" + "f" * 64, tags=())
    snap = snapshot(images=(image(), untagged))
    report = evaluate(Catalog([image_non_root]), snap, Policy())
    assert [(f.subject.name, f.subject.key, f.subject.id) for f in report.findings] == [
        ("registry.example/app:1.2", "registry.example/app:1.2", IMAGE_ID.removeprefix("sha256:")[:12]),
        ("f" * 12, "sha256:" + "f" * 64, "f" * 12),
    ]


# --- family -------------------------------------------------------------------------------------


def _owner_is(expected: str, f: FileFacts, ctx: Context) -> Verdict:
    return passed() if f.owner == expected else failed(f"owner {f.owner}")


def test_family_builds_one_check_per_row_with_its_own_id_and_name() -> None:
    checks = family(
        container_check,
        [
            Row(id="container.mem_a", severity=Severity.LOW, data=1, **TEXT),
            Row(id="container.mem_b", severity=Severity.HIGH, data=2, cis={"1.8.0": "5.11", "1.6.0": "5.11"}, **TEXT),
        ],
        lambda limit, c, ctx: passed() if c.memory >= limit else failed("too little"),
    )
    assert [(c.id, c.name, c.meta.severity) for c in checks] == [
        ("container.mem_a", "container_mem_a", Severity.LOW),
        ("container.mem_b", "container_mem_b", Severity.HIGH),
    ]
    cat = Catalog(checks)
    assert cat["container.mem_b"].evaluate(container(memory=1)).status is Status.FAIL
    assert cat["container.mem_a"].evaluate(container(memory=1)).status is Status.PASS


def test_a_file_family_row_declares_its_paths() -> None:
    from runbench.authoring import Declare

    checks = family(
        Declare[FileFacts](Scope.FILE),
        [Row(id="file.etc_owner", severity=Severity.LOW, data="root", paths=lambda ctx: ("/etc/docker",), **TEXT)],
        _owner_is,
    )
    got = _findings(snapshot(files=FILES), list(checks))
    assert got == {("file.etc_owner", "/etc/docker"): (Status.PASS, "")}


def test_the_catalog_rejects_a_file_check_without_paths_and_paths_elsewhere() -> None:
    from runbench.authoring import Check, Declare

    meta = Declare[FileFacts](Scope.FILE).meta(id="file.nopaths", severity=Severity.LOW, **TEXT)
    with pytest.raises(CatalogError, match="must declare the paths"):
        Catalog([Check(meta=meta, fn=lambda f, ctx: passed(), name="file_nopaths")])
    meta = container_check.meta(id="container.paths", severity=Severity.LOW, **TEXT)
    with pytest.raises(CatalogError, match="declares paths but is not a file check"):
        Catalog([Check(meta=meta, fn=lambda c, ctx: passed(), name="container_paths", paths=lambda ctx: ())])
