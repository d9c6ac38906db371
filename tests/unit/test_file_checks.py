"""The file checks (checks/files.py, CIS section 3): the paths each row declares, owner and mode as bit masks on
fact builders, and real files on a tmp tree read through a host root (--host-root)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from builders import (
    REGISTRY_CERT,
    context,
    daemon,
    daemon_config,
    docker_service,
    file_facts,
    hardened_host,
    snapshot,
    socket_unit,
)

from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.collect.host import HostRoot, files_facts
from runbench.collect.hostinfo import list_files
from runbench.collect.systemd import load_unit
from runbench.engine import evaluate
from runbench.model import Scope, Severity, Status
from runbench.policy import Policy, Selection
from runbench.snapshot import DaemonFacts, DirListing, FileFacts, FileType, HostFacts, SystemdUnit

SOCK = "/run/docker.sock"
CONTAINERD = "/run/containerd/containerd.sock"
TLS_JSON = (
    '{"tlsverify": true, "tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/cert.pem", '
    '"tlskey": "/etc/docker/tls/key.pem", "hosts": ["tcp://0.0.0.0:2376"]}'
)

# each row: a compliant file, and what it is
COMPLIANT: dict[str, FileFacts] = {
    "docker_service": file_facts("/lib/systemd/system/docker.service"),
    "docker_socket_unit": file_facts("/lib/systemd/system/docker.socket"),
    "etc_docker": file_facts("/etc/docker", FileType.DIRECTORY, 0o755),
    "registry_certs": file_facts(REGISTRY_CERT, mode=0o444),
    "tls_ca": file_facts("/etc/docker/tls/ca.pem", mode=0o444),
    "tls_cert": file_facts("/etc/docker/tls/cert.pem", mode=0o444),
    "tls_key": file_facts("/etc/docker/tls/key.pem", mode=0o400),
    "docker_sock": file_facts(SOCK, FileType.SOCKET, 0o660, gid=999),
    "daemon_json": file_facts("/etc/docker/daemon.json"),
    "etc_default_docker": file_facts("/etc/default/docker"),
    "etc_sysconfig_docker": file_facts("/etc/sysconfig/docker", mode=0o600),
    "containerd_sock": file_facts(CONTAINERD, FileType.SOCKET, 0o660),
}


def tls_ctx(**overrides: Any) -> Context:
    values: dict[str, Any] = {"host": hardened_host(), "daemon": daemon(config_file="/etc/docker/daemon.json")}
    return context(daemon_json=TLS_JSON, **{**values, **overrides})


def plain_ctx(**overrides: Any) -> Context:
    return context(**{"host": hardened_host(), **overrides})


@dataclass(frozen=True)
class Case:
    check_id: str
    f: FileFacts
    expected: Status
    why: str
    tls: bool = False
    detail: str = ""
    severity: Severity | None = None  # the finding's, when it differs from the check's

    def __str__(self) -> str:
        return f"{self.check_id}-{self.expected.value}-{self.why}"


def _cases() -> Iterator[Case]:
    for stem, good in COMPLIANT.items():
        tls = stem.startswith("tls_")
        owner, mode = f"file.{stem}_owner", f"file.{stem}_mode"
        yield Case(owner, good, Status.PASS, "compliant", tls)
        yield Case(mode, good, Status.PASS, "compliant", tls)
        yield Case(owner, replace(good, uid=1000, owner="alice"), Status.FAIL, "owned by alice", tls, "alice")
        wider = (good.mode or 0) | 0o002
        yield Case(mode, replace(good, mode=wider), Status.FAIL, "others write", tls, "others write")
        yield Case(
            owner, replace(good, type=FileType.MISSING, mode=None), Status.SKIP, "missing", tls, "does not exist"
        )
        yield Case(
            mode, replace(good, type=FileType.UNKNOWN, error="Permission denied"), Status.ERROR, "unstat'able", tls
        )
        if good.type is not FileType.DIRECTORY:
            yield Case(mode, replace(good, type=FileType.DIRECTORY), Status.FAIL, "a directory", tls, "directory")
        yield Case(
            owner,
            replace(good, type=FileType.SYMLINK, target="/srv/elsewhere"),
            Status.FAIL,
            "a symlink",
            tls,
            "symlink to /srv/elsewhere",
        )


CASES = [
    *_cases(),
    # modes are bit masks, never numbers
    Case("file.docker_sock_mode", COMPLIANT["docker_sock"], Status.PASS, "0660"),
    Case(
        "file.docker_sock_mode",
        replace(COMPLIANT["docker_sock"], mode=0o646),
        Status.FAIL,
        "0646 is worse than 0660",
        detail="any local user can run a privileged container",
    ),
    Case(
        "file.docker_sock_mode",
        replace(COMPLIANT["docker_sock"], mode=0o666),
        Status.FAIL,
        "0666",
        detail="0006 beyond 0660",
    ),
    Case(
        "file.docker_sock_mode",
        replace(COMPLIANT["docker_sock"], mode=0o664),
        Status.FAIL,
        "0664: read only for others",
        detail="no write for others",
        severity=Severity.MEDIUM,
    ),
    Case("file.docker_sock_mode", replace(COMPLIANT["docker_sock"], mode=0o600), Status.PASS, "0600 is stricter"),
    Case("file.daemon_json_mode", replace(COMPLIANT["daemon_json"], mode=0o600), Status.PASS, "0600 vs 0644"),
    Case(
        "file.daemon_json_mode",
        replace(COMPLIANT["daemon_json"], mode=0o646),
        Status.FAIL,
        "0646 vs 0644",
        detail="0002 beyond 0644",
        severity=Severity.HIGH,
    ),
    Case(
        "file.etc_default_docker_mode",
        replace(COMPLIANT["etc_default_docker"], mode=0o4644),
        Status.FAIL,
        "setuid",
        detail="setuid",
    ),
    Case("file.tls_key_mode", replace(COMPLIANT["tls_key"], mode=0o440), Status.FAIL, "group read", True, "group read"),
    # sockets: group docker (by name), or root (stricter)
    Case(
        "file.docker_sock_owner",
        replace(COMPLIANT["docker_sock"], gid=4, group="adm"),
        Status.FAIL,
        "group adm",
        detail="group adm, not docker",
    ),
    Case(
        "file.docker_sock_owner",
        replace(COMPLIANT["docker_sock"], gid=4242, group=""),
        Status.FAIL,
        "nameless gid",
        detail="gid 4242 (no name on this host)",
    ),
    Case("file.docker_sock_owner", replace(COMPLIANT["docker_sock"], gid=0, group="root"), Status.PASS, "root group"),
    Case(
        "file.docker_sock_owner",
        replace(COMPLIANT["docker_sock"], type=FileType.FILE),
        Status.FAIL,
        "a regular file",
        detail="where a socket is expected",
    ),
    Case("file.daemon_json_owner", replace(COMPLIANT["daemon_json"], gid=4, group="adm"), Status.FAIL, "group adm"),
    Case(
        "file.daemon_json_owner",
        replace(COMPLIANT["daemon_json"], uid=1000, owner="alice"),
        Status.FAIL,
        "owner can change it",
        detail="that user can change it",
        severity=Severity.HIGH,
    ),
]


@pytest.mark.parametrize("c", CASES, ids=str)
def test_file_checks(catalog: Catalog, c: Case) -> None:
    ctx = tls_ctx() if c.tls else plain_ctx()
    check = catalog[c.check_id]
    verdict = check.evaluate(c.f, ctx)
    assert verdict.status is c.expected, (verdict.detail, verdict.evidence)
    assert c.detail in verdict.detail
    if c.severity is not None:
        assert verdict.severity is c.severity


def test_every_file_check_has_a_pass_and_a_fail_case(catalog: Catalog) -> None:
    seen: dict[str, set[Status]] = {}
    for c in CASES:
        seen.setdefault(c.check_id, set()).add(c.expected)
    checks = catalog.of_scope(Scope.FILE)
    assert len(checks) == 24
    for check in checks:
        assert {Status.PASS, Status.FAIL} <= seen.get(check.id, set()), check.id


def test_the_cis_numbers_run_3_1_to_3_24_with_sysconfig_mode_first(catalog: Catalog) -> None:
    checks = catalog.of_scope(Scope.FILE)
    assert [c.meta.cis["1.8.0"] for c in checks] == [f"3.{n}" for n in range(1, 25)]
    assert [c.id for c in checks][20:22] == ["file.etc_sysconfig_docker_mode", "file.etc_sysconfig_docker_owner"]
    assert catalog["file.docker_sock_mode"].meta.severity is Severity.CRITICAL
    assert "chmod 660 /var/run/docker.sock" in catalog["file.docker_sock_mode"].meta.remediation
    assert "chown root:docker /var/run/docker.sock" in catalog["file.docker_sock_owner"].meta.remediation


# --- the paths each row declares ------------------------------------------------------------------


def paths_of(catalog: Catalog, check_id: str, ctx: Context) -> list[str]:
    paths = catalog[check_id].paths
    assert paths is not None
    return sorted(paths(ctx))


def test_unit_paths_are_the_fragment_and_its_dropins(catalog: Catalog) -> None:
    unit = replace(
        docker_service("/usr/bin/dockerd", ("/usr/bin/dockerd",), path="/etc/systemd/system/docker.service"),
        dropins=("/etc/systemd/system/docker.service.d/override.conf",),
    )
    ctx = plain_ctx(host=hardened_host(systemd=(unit, socket_unit(SOCK))))
    assert paths_of(catalog, "file.docker_service_owner", ctx) == [
        "/etc/systemd/system/docker.service",
        "/etc/systemd/system/docker.service.d/override.conf",
    ]
    # no unit anywhere: the usual path, so that the report says it does not exist
    ctx = plain_ctx(host=hardened_host(systemd=(SystemdUnit(name="docker.service"),)))
    assert paths_of(catalog, "file.docker_service_mode", ctx) == ["/lib/systemd/system/docker.service"]
    assert paths_of(catalog, "file.docker_socket_unit_mode", ctx) == ["/lib/systemd/system/docker.socket"]


def test_engine_sockets_from_the_daemon_the_socket_unit_and_docker_host(catalog: Catalog) -> None:
    d = daemon(sockets=("/var/run/docker.sock", "/srv/alt.sock"))
    from runbench.snapshot import CollectOptions

    ctx = plain_ctx(
        daemon=d,
        host=hardened_host(systemd=(socket_unit("/run/docker.sock", "127.0.0.1:2375"),)),
        options=CollectOptions(docker_host="unix:///tmp/other/docker.sock"),
    )
    assert paths_of(catalog, "file.docker_sock_mode", ctx) == [
        "/run/docker.sock",
        "/srv/alt.sock",
        "/tmp/other/docker.sock",
    ]


def test_tls_paths_come_from_the_effective_configuration(catalog: Catalog) -> None:
    assert paths_of(catalog, "file.tls_key_mode", tls_ctx()) == ["/etc/docker/tls/key.pem"]
    # unset: dockerd's default under root's ~/.docker, judged only when TLS is on
    assert paths_of(catalog, "file.tls_ca_owner", plain_ctx()) == ["/root/.docker/ca.pem"]
    v = catalog["file.tls_ca_owner"].evaluate(file_facts("/root/.docker/ca.pem", mode=0o644), plain_ctx())
    assert v.status is Status.SKIP and "does not use TLS" in v.detail


def test_registry_certs_are_the_listed_files_or_the_directory(catalog: Catalog) -> None:
    assert paths_of(catalog, "file.registry_certs_mode", plain_ctx()) == [REGISTRY_CERT]
    empty = plain_ctx(host=hardened_host(registry_certs=DirListing("/etc/docker/certs.d", exists=True)))
    assert paths_of(catalog, "file.registry_certs_mode", empty) == ["/etc/docker/certs.d"]
    v = catalog["file.registry_certs_mode"].evaluate(
        file_facts("/etc/docker/certs.d", FileType.DIRECTORY, 0o755), empty
    )
    assert v.status is Status.SKIP and "no registry certificates" in v.detail
    broken = plain_ctx(
        host=hardened_host(registry_certs=DirListing("/etc/docker/certs.d", exists=True, why="Permission denied"))
    )
    v = catalog["file.registry_certs_owner"].evaluate(file_facts("/etc/docker/certs.d", FileType.DIRECTORY), broken)
    assert v.status is Status.ERROR and "Permission denied" in v.detail


def test_containerd_socket_from_the_daemons_flag_or_both_candidates(catalog: Catalog) -> None:
    assert paths_of(catalog, "file.containerd_sock_mode", plain_ctx()) == [CONTAINERD]
    own = daemon(argv=("/usr/bin/dockerd", "-H", "unix:///srv/d.sock", "--exec-root", "/srv/exec"))
    assert paths_of(catalog, "file.containerd_sock_mode", plain_ctx(daemon=own)) == [
        CONTAINERD,
        "/srv/exec/containerd/containerd.sock",
    ]


def test_a_rootless_daemon_owns_its_socket_and_daemon_json(catalog: Catalog) -> None:
    rootless = daemon(uid=1000, sockets=("/run/user/1000/docker.sock",))
    ctx = plain_ctx(daemon=rootless)
    sock = file_facts("/run/user/1000/docker.sock", FileType.SOCKET, 0o660, uid=1000, gid=1000)
    v = catalog["file.docker_sock_owner"].evaluate(sock, ctx)
    assert v.status is Status.PASS and "rootless" in dict(v.evidence)["group"]
    v = catalog["file.docker_sock_owner"].evaluate(replace(sock, uid=0, owner="root"), ctx)
    assert v.status is Status.FAIL and "not the daemon's user (uid 1000)" in v.detail
    v = catalog["file.daemon_json_owner"].evaluate(file_facts("/home/u/.config/docker/daemon.json", uid=1000), ctx)
    assert v.status is Status.PASS


def test_a_remote_engine_skips_every_file_check(catalog: Catalog) -> None:
    remote = HostFacts(hostname="h", local=False, local_reason="the engine is remote (tcp://10.0.0.5:2376)")
    f = FileFacts(path=SOCK, type=FileType.UNKNOWN, error="not stat'ed")
    v = catalog["file.docker_sock_mode"].evaluate(f, context(host=remote))
    assert v.status is Status.SKIP and v.detail.startswith("not this machine")


# --- real files below a host root (--host-root) ----------------------------------------------------


@pytest.fixture
def host_tree(tmp_path: Path) -> Iterator[Path]:
    """A host's / in a tmp dir: its own accounts, /var/run -> /run (absolute), a docker.service unit that is a
    directory, daemon.json 0644, /etc/default/docker 0646, /etc/sysconfig/docker 0600, a symlinked registry
    certificate, and a real listening socket at /run/docker.sock."""
    root = tmp_path / "host"
    (root / "etc/docker/certs.d/registry.example").mkdir(parents=True)
    (root / "etc/default").mkdir()
    (root / "etc/sysconfig").mkdir()
    (root / "run").mkdir()
    (root / "var").mkdir()
    (root / "lib/systemd/system/docker.service").mkdir(parents=True)
    os.symlink("/run", root / "var/run")  # absolute: the host's /run, never this system's
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\ndocker:x:4999:alice\nalice:x:1000:\n")
    for rel, mode in (
        ("etc/docker/daemon.json", 0o644),
        ("etc/default/docker", 0o646),
        ("etc/sysconfig/docker", 0o600),
    ):
        (root / rel).write_text("{}\n" if rel.endswith(".json") else "DOCKER_OPTS=\n")
        os.chmod(root / rel, mode)
    os.symlink("/etc/ssl/certs/ca.pem", root / "etc/docker/certs.d/registry.example/ca.crt")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(root / "run/docker.sock"))
    server.listen(1)
    os.chmod(root / "run/docker.sock", 0o660)
    if os.geteuid() == 0:
        os.chown(root / "run/docker.sock", 0, 4999)
        for rel in ("etc/docker/daemon.json", "etc/default/docker", "etc/sysconfig/docker"):
            os.chown(root / rel, 0, 0)
    try:
        yield root
    finally:
        server.close()


def _scan_tree(catalog: Catalog, root: Path, d: DaemonFacts) -> dict[tuple[str, str], tuple[Status, str]]:
    """Collect what the file checks declare below `root` and evaluate them, as `runbench --host-root` does."""
    host_root = HostRoot(str(root))
    host = hardened_host(
        host_root=str(root),
        systemd=(load_unit(host_root, "docker.service"), load_unit(host_root, "docker.socket")),
        registry_certs=list_files(host_root, "/etc/docker/certs.d"),
    )
    snap = snapshot(host=host, daemon=d, daemon_config=daemon_config(d))
    ids = frozenset(c.id for c in catalog.of_scope(Scope.FILE))
    paths = catalog.file_paths(Context(snap), ids)
    snap = replace(snap, files=files_facts(paths, str(root)))
    report = evaluate(catalog, snap, Policy(selection=Selection(include=ids)))
    return {(f.check.id, f.subject.key): (f.status, f.detail) for f in report.findings}


def test_files_below_a_host_root(catalog: Catalog, host_tree: Path) -> None:
    got = _scan_tree(catalog, host_tree, daemon(sockets=("/var/run/docker.sock",), config_file=""))
    # the socket through the host's own /var/run -> /run link; group docker by the host's /etc/group (gid 4999)
    assert got[("file.docker_sock_mode", "/run/docker.sock")][0] is Status.PASS
    if os.geteuid() == 0:
        assert got[("file.docker_sock_owner", "/run/docker.sock")][0] is Status.PASS
        assert got[("file.daemon_json_owner", "/etc/docker/daemon.json")][0] is Status.PASS
    assert got[("file.daemon_json_mode", "/etc/docker/daemon.json")][0] is Status.PASS  # 0644
    status, detail = got[("file.etc_default_docker_mode", "/etc/default/docker")]  # 0646
    assert status is Status.FAIL and "0646 grants 0002 beyond 0644" in detail
    assert got[("file.etc_sysconfig_docker_mode", "/etc/sysconfig/docker")][0] is Status.PASS  # 0600
    status, detail = got[("file.docker_service_mode", "/lib/systemd/system/docker.service")]
    assert status is Status.FAIL and "is a directory, where a file is expected" in detail
    cert = "/etc/docker/certs.d/registry.example/ca.crt"
    status, detail = got[("file.registry_certs_owner", cert)]
    assert status is Status.FAIL and "symlink to /etc/ssl/certs/ca.pem" in detail
    assert got[("file.docker_socket_unit_mode", "/lib/systemd/system/docker.socket")] == (
        Status.SKIP,
        "/lib/systemd/system/docker.socket does not exist",
    )


def test_a_wrong_owner_below_a_host_root_is_named_from_the_hosts_accounts(catalog: Catalog, host_tree: Path) -> None:
    if os.geteuid() == 0:
        os.chown(host_tree / "etc/docker/daemon.json", 1000, 1000)
        os.chown(host_tree / "run/docker.sock", 0, 1000)
    got = _scan_tree(catalog, host_tree, daemon(sockets=("/run/docker.sock",)))
    status, detail = got[("file.daemon_json_owner", "/etc/docker/daemon.json")]
    assert status is Status.FAIL
    if os.geteuid() == 0:
        assert "owned by alice (uid 1000)" in detail  # alice is the host root's uid 1000, whatever ours is
        status, detail = got[("file.docker_sock_owner", "/run/docker.sock")]
        assert status is Status.FAIL and "group alice, not docker" in detail
    os.chmod(host_tree / "run/docker.sock", 0o646)
    got = _scan_tree(catalog, host_tree, daemon(sockets=("/run/docker.sock",)))
    status, detail = got[("file.docker_sock_mode", "/run/docker.sock")]
    assert status is Status.FAIL and "any local user can run a privileged container" in detail


def test_a_missing_path_under_a_host_root_is_missing_not_ours(host_tree: Path) -> None:
    # /etc/hostname exists on this system but not in the tree: the tree is what is judged
    (facts,) = files_facts(["/etc/hostname"], str(host_tree))
    assert facts.type is FileType.MISSING
    (facts,) = files_facts(["/var/run/docker.sock"], str(host_tree))
    assert facts.type is FileType.SOCKET and facts.group in ("docker", "root")
