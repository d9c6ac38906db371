"""The host checks (checks/host.py, CIS section 1) on fact builders: every check passes on `hardened_host()` (or
says manual where a human must judge) and fails when the field under test says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from builders import (
    AUDIT_PATHS,
    audit_rules,
    audit_targets,
    audit_watch,
    context,
    data_mount,
    engine,
    group,
    hardened_host,
)

from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.model import Scope, Severity, Status
from runbench.policy import Params
from runbench.snapshot import AuditFacts, AuditWatch, HostFacts


@dataclass(frozen=True)
class Case:
    check_id: str
    host: HostFacts
    expected: Status
    why: str = ""
    ctx: Callable[[HostFacts], Context] | None = None
    detail: str = ""  # a part of the finding's detail that must appear

    def __str__(self) -> str:
        return f"{self.check_id}-{self.expected.value}-{self.why}"


def ctx_of(h: HostFacts, **overrides: Any) -> Context:
    return context(host=h, **overrides)


def with_ctx(**overrides: Any) -> Callable[[HostFacts], Context]:
    return lambda h: ctx_of(h, **overrides)


REMOTE = hardened_host(local=False, local_reason="the engine is remote (tcp://10.0.0.5:2376)")
NO_AUDIT = hardened_host(audit=audit_rules())
AUDIT_IDS = [f"host.audit_{name}" for name in AUDIT_PATHS]

CASES = [
    # 1.1.1
    Case("host.docker_root_partition", hardened_host(), Status.PASS, "own devices"),
    Case(
        "host.docker_root_partition",
        hardened_host(data_mounts=(data_mount(mount_point="/", device="254:0", parent_device="", root="/"),)),
        Status.FAIL,
        "on the root fs",
        detail="is on the filesystem mounted at /",
    ),
    Case(
        "host.docker_root_partition",
        hardened_host(data_mounts=(data_mount(device="254:0", parent_device="254:0", root="/var/lib/docker"),)),
        Status.FAIL,
        "bind mount of the root fs",
        detail="same device (254:0)",
    ),
    Case(
        "host.docker_root_partition",
        hardened_host(data_mounts=(data_mount(), data_mount("containerd root", "/var/lib/containerd", exists=False))),
        Status.PASS,
        "containerd root missing",
    ),
    Case(
        "host.docker_root_partition",
        hardened_host(data_mounts=None, unread={"data_mounts": "cannot read /proc/self/mountinfo: no such file"}),
        Status.ERROR,
        "mounts unread",
        detail="mountinfo",
    ),
    Case("host.docker_root_partition", REMOTE, Status.SKIP, "remote", detail="not this machine"),
    # 1.1.2
    Case("host.docker_group_members", hardened_host(), Status.PASS, "nobody"),
    Case(
        "host.docker_group_members",
        hardened_host(groups=(group("docker", 999, "alice", "bob"),)),
        Status.MANUAL,
        "no list",
        detail="alice, bob",
    ),
    Case(
        "host.docker_group_members",
        hardened_host(groups=(group("docker", 999, "alice", "mallory"),)),
        Status.FAIL,
        "outside the list",
        ctx=with_ctx(params=Params(trusted_users=("alice",))),
        detail="mallory",
    ),
    Case(
        "host.docker_group_members",
        hardened_host(groups=(group("docker", 999, primary=("ci",)),)),
        Status.FAIL,
        "primary group counts",
        ctx=with_ctx(params=Params(trusted_users=("alice",))),
        detail="ci",
    ),
    Case(
        "host.docker_group_members",
        hardened_host(groups=(group("docker", 999, "alice", "root"),)),
        Status.PASS,
        "all trusted",
        ctx=with_ctx(params=Params(trusted_users=("alice",))),
    ),
    Case(
        "host.docker_group_members",
        hardened_host(groups=(group("docker", 999), group("adm", 4, "eve"))),
        Status.FAIL,
        "the socket's other group",
        ctx=with_ctx(params=Params(trusted_users=("alice",))),
        detail="eve",
    ),
    Case(
        "host.docker_group_members",
        hardened_host(groups=None, unread={"groups": "/etc/group: cannot read: Permission denied"}),
        Status.ERROR,
        "unreadable",
    ),
    Case("host.docker_group_members", REMOTE, Status.SKIP, "remote"),
    # 1.2.1
    Case("host.hardened", hardened_host(), Status.MANUAL, "evidence", detail="baseline"),
    Case("host.hardened", hardened_host(lsms=()), Status.MANUAL, "no MAC", detail="no AppArmor or SELinux"),
    Case("host.hardened", REMOTE, Status.SKIP, "remote"),
    # 1.2.2
    Case(
        "host.docker_version",
        hardened_host(),
        Status.PASS,
        "29.7.2",
        ctx=with_ctx(engine=engine(server_version="29.7.2")),
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.PASS,
        "newer",
        ctx=with_ctx(engine=engine(server_version="30.1.0")),
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.PASS,
        "25.0 before its end",
        ctx=with_ctx(engine=engine(server_version="25.0.17"), collected_at="2026-09-01T00:00:00+00:00"),
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.FAIL,
        "20.10 debian",
        ctx=with_ctx(engine=engine(server_version="20.10.24+dfsg1")),
        detail="no longer maintained",
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.FAIL,
        "28 unmaintained",
        ctx=with_ctx(engine=engine(server_version="28.5.2+dfsg4")),
        detail="28.5",
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.FAIL,
        "old patch",
        ctx=with_ctx(engine=engine(server_version="29.1.0")),
        detail="older than 29.7.2",
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.FAIL,
        "25.0 past its end",
        ctx=with_ctx(engine=engine(server_version="25.0.17"), collected_at="2026-12-10T00:00:00+00:00"),
        detail="2026-12-04",
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.MANUAL,
        "unknown",
        ctx=with_ctx(engine=engine(server_version="")),
    ),
    Case(
        "host.docker_version",
        hardened_host(),
        Status.MANUAL,
        "stale table",
        ctx=with_ctx(engine=engine(server_version="20.10.24"), collected_at="2027-09-01T00:00:00+00:00"),
        detail="days old",
    ),
]

# every audit row: watched on the hardened host, not watched without rules, skipped when the file is absent,
# an error when the rules cannot be read
for check_id in AUDIT_IDS:
    name = check_id.removeprefix("host.audit_")
    CASES += [
        Case(check_id, hardened_host(), Status.PASS, "watched"),
        Case(check_id, NO_AUDIT, Status.FAIL, "no rules", detail=f"-w {AUDIT_PATHS[name]} -k docker"),
        Case(check_id, hardened_host(audit_targets=audit_targets(**{name: None})), Status.SKIP, "absent"),
        Case(
            check_id,
            hardened_host(audit=AuditFacts(source="", why="run as root to read /etc/audit (Permission denied)")),
            Status.ERROR,
            "unreadable rules",
            detail="run as root",
        ),
        Case(check_id, REMOTE, Status.SKIP, "remote"),
    ]


@pytest.mark.parametrize("c", CASES, ids=str)
def test_host_checks(catalog: Catalog, c: Case) -> None:
    ctx = c.ctx(c.host) if c.ctx is not None else ctx_of(c.host)
    verdict = catalog[c.check_id].evaluate(c.host, ctx)
    assert verdict.status is c.expected, (verdict.detail, verdict.evidence)
    assert c.detail in verdict.detail


def test_every_host_check_has_a_pass_and_a_fail_case(catalog: Catalog) -> None:
    """host.hardened is manual by design (a human judges the host against a baseline): it has manual cases."""
    seen: dict[str, set[Status]] = {}
    for c in CASES:
        seen.setdefault(c.check_id, set()).add(c.expected)
    for check in catalog.of_scope(Scope.HOST):
        want = {Status.MANUAL} if check.id == "host.hardened" else {Status.PASS, Status.FAIL}
        assert want <= seen.get(check.id, set()), check.id


def test_the_audit_family_is_sixteen_rows_with_both_cis_numbers(catalog: Catalog) -> None:
    rows = [c for c in catalog.of_scope(Scope.HOST) if c.id.startswith("host.audit_")]
    assert [c.id for c in rows] == AUDIT_IDS
    assert [c.meta.cis["1.8.0"] for c in rows] == [f"1.1.{n}" for n in range(3, 19)]
    assert all(c.meta.cis["1.6.0"] == c.meta.cis["1.8.0"] for c in rows)
    assert "-w /usr/bin/dockerd -k docker" in catalog["host.audit_dockerd"].meta.remediation


def _audit(catalog: Catalog, check_id: str, h: HostFacts) -> tuple[Status, str, dict[str, str]]:
    v = catalog[check_id].evaluate(h, ctx_of(h))
    return v.status, v.detail, dict(v.evidence)


def test_a_directory_watch_covers_the_files_below_it(catalog: Catalog) -> None:
    h = hardened_host(audit=audit_rules(audit_watch("/etc/docker", tree=True)))
    status, _, evidence = _audit(catalog, "host.audit_daemon_json", h)
    assert status is Status.PASS
    assert evidence["rule"] == "-w /etc/docker -k docker"
    # a watch on a file does not cover its neighbours
    h = hardened_host(audit=audit_rules(audit_watch("/etc/docker/key.json")))
    assert _audit(catalog, "host.audit_daemon_json", h)[0] is Status.FAIL


def test_a_watch_matches_through_the_hosts_symlinks_and_var_run(catalog: Catalog) -> None:
    # /bin is a link to /usr/bin (merged /usr): the kernel watches the same file
    w = AuditWatch(path="/bin/runc", rule="-w /bin/runc -k docker", source="auditctl -l", real="/usr/bin/runc")
    assert _audit(catalog, "host.audit_runc", hardened_host(audit=audit_rules(w)))[0] is Status.PASS
    w = audit_watch("/var/run/containerd/containerd.sock")
    assert _audit(catalog, "host.audit_containerd_sock", hardened_host(audit=audit_rules(w)))[0] is Status.PASS


def test_an_exit_rule_on_the_path_counts_and_a_read_only_watch_does_not(catalog: Catalog) -> None:
    rule = "-a always,exit -F path=/usr/bin/dockerd -F perm=wa -F key=docker"
    w = AuditWatch(path="/usr/bin/dockerd", perms="wa", key="docker", rule=rule, source="/etc/audit/audit.rules:3")
    status, _, evidence = _audit(catalog, "host.audit_dockerd", hardened_host(audit=audit_rules(w)))
    assert status is Status.PASS and evidence["at"] == "/etc/audit/audit.rules:3"
    status, detail, _ = _audit(
        catalog, "host.audit_dockerd", hardened_host(audit=audit_rules(audit_watch("/usr/bin/dockerd", perms="r")))
    )
    assert status is Status.FAIL and "does not log writes" in detail


def test_the_failure_names_the_path_on_this_host(catalog: Catalog) -> None:
    h = replace(NO_AUDIT, audit_targets=audit_targets(dockerd="/usr/sbin/dockerd"))
    status, detail, evidence = _audit(catalog, "host.audit_dockerd", h)
    assert status is Status.FAIL
    assert "-w /usr/sbin/dockerd -k docker" in detail
    assert evidence["rules read"] == "auditctl -l"


def test_the_version_evidence_dates_the_table(catalog: Catalog) -> None:
    h = hardened_host()
    v = catalog["host.docker_version"].evaluate(h, ctx_of(h, engine=engine(server_version="20.10.24+dfsg1")))
    table = dict(v.evidence)["maintained lines"]
    assert table.startswith("as of 2026-08-23")
    assert "29.x" in table and "25.0" in table
    assert catalog["host.docker_version"].meta.severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28.5.2", (28, 5, 2)),
        ("20.10.24+dfsg1", (20, 10, 24)),
        ("29.0.0-rc.1", (29, 0, 0)),
        ("v24.0", (24, 0, 0)),
        ("dev", None),
        ("", None),
        ("17.03.1-ce", (17, 3, 1)),
    ],
)
def test_engine_version_parsing(catalog: Catalog, text: str, expected: tuple[int, int, int] | None) -> None:
    engine_version = catalog["host.docker_version"].fn.__globals__["engine_version"]  # the check file's helper
    assert engine_version(text) == expected
