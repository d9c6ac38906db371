"""Host checks: CIS Docker Benchmark section 1 (the host Docker runs on).

Each check is a pure function of the host's facts (runbench.collect.hostinfo) and the run's Context. On an
engine whose host is not this machine (and no --host-root), the host's facts are not the engine's: skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from runbench.authoring import (
    Context,
    Fact,
    Row,
    Severity,
    errored,
    failed,
    family,
    host_check,
    manual,
    passed,
    skipped,
)
from runbench.model import Verdict
from runbench.semantics import is_under, norm_path
from runbench.snapshot import AuditFacts, AuditTarget, AuditWatch, HostFacts

from ._versions import MAINTAINED, NEWEST_MAJOR, STALE_AFTER_DAYS, TABLE_DATE, TABLE_SOURCE, ReleaseLine


def _elsewhere(h: HostFacts) -> Verdict | None:
    """skip when the host's facts are not the engine's (a remote engine, no --host-root)."""
    if not h.local:
        return skipped(f"not this machine: {h.local_reason or 'the engine runs elsewhere'}")
    return None


# --- 1.1.1 a separate filesystem for Docker's data --------------------------------------------------


@host_check(
    id="host.docker_root_partition",
    cis={"1.8.0": "1.1.1", "1.6.0": "1.1.1"},
    level=2,
    severity=Severity.LOW,
    title="Docker's data lives on a filesystem of its own",
    rationale="Images, containers and volumes grow without bound; on the root filesystem they can fill it and "
    "stop the host's own services and logging. A separate filesystem also lets you mount it nodev/nosuid.",
    remediation="Create a dedicated partition or logical volume for the Docker root (and the containerd root), "
    "e.g. `lvcreate -L 100G -n docker vg0 && mkfs.ext4 /dev/vg0/docker`, mount it at /var/lib/docker through "
    "/etc/fstab, and move the data there with the daemon stopped.",
)
def host_docker_root_partition(h: HostFacts, ctx: Context) -> Verdict:
    if (elsewhere := _elsewhere(h)) is not None:
        return elsewhere
    if h.data_mounts is None:
        return errored(h.why("data_mounts"))
    evidence: dict[str, str] = {}
    shared: list[str] = []
    for m in h.data_mounts:
        if not m.exists:
            evidence[m.role] = f"{m.path} does not exist ({m.found_by})"
            continue
        where = f"{m.path} on {m.mount_point or '?'} ({m.fs_type or '?'} {m.source or '?'}, device {m.device or '?'})"
        if m.mount_point == m.path and m.root not in ("", "/"):
            where += f", a bind mount of {m.root}"
        evidence[m.role] = where
        if m.own_filesystem:
            continue
        if m.mount_point == m.path:
            shared.append(
                f"{m.role} {m.path} is a mount point on the same device ({m.device}) as the directory above it"
            )
        else:
            shared.append(f"{m.role} {m.path} is on the filesystem mounted at {m.mount_point}")
    if not any(m.exists for m in h.data_mounts):
        return skipped("neither the Docker root nor the containerd root exists on this host")
    if not any(m.role == "Docker root" for m in h.data_mounts):
        evidence["Docker root"] = "unknown (docker info gave no DockerRootDir)"
    if shared:
        return failed("; ".join(shared), **evidence)
    return passed(**evidence)


# --- 1.1.2 who is in the groups that can drive the engine --------------------------------------------


@host_check(
    id="host.docker_group_members",
    cis={"1.8.0": "1.1.2", "1.6.0": "1.1.2"},
    level=1,
    severity=Severity.HIGH,
    title="Only trusted users can drive the engine through its socket group",
    rationale="Members of the group owning the engine's socket (usually `docker`) can start a privileged "
    "container with the host's / mounted: the group is equivalent to root on this host.",
    remediation="Remove users who should not be root-equivalent: `gpasswd -d USER docker` (and change the "
    "primary group of users whose primary group it is: `usermod -g USERGROUP USER`); list the trusted ones "
    "in the policy's trusted_users.",
)
def host_docker_group_members(h: HostFacts, ctx: Context) -> Verdict:
    if (elsewhere := _elsewhere(h)) is not None:
        return elsewhere
    if h.groups is None:
        return errored(h.why("groups"))
    evidence: dict[str, object] = {}
    members: set[str] = set()
    for g in h.groups:
        name = g.name or f"(no name, gid {g.gid})"
        who = [u for u in g.everyone if u != "root"]
        shown = ", ".join(who) or "(none)"
        if g.primary:
            shown += f" (primary group of {', '.join(g.primary)})"
        evidence[f"group {name} (gid {g.gid})"] = f"{shown}; {', '.join(g.reasons)}"
        members.update(who)
    if not h.groups:
        return passed("there is no docker group and no engine socket owned by another group")
    if not any(g.name == "docker" for g in h.groups):
        evidence["group docker"] = "does not exist on this host"
    if not members:
        return passed("no user besides root is in a group that can use the engine's socket", **evidence)
    trusted = set(ctx.params.trusted_users)
    if not trusted:
        return manual(
            f"{len(members)} user(s) can drive the engine (root-equivalent): {', '.join(sorted(members))}; "
            "set trusted_users in the policy to judge them",
            **evidence,
        )
    untrusted = sorted(members - trusted)
    if untrusted:
        return failed(f"not in trusted_users, yet root-equivalent: {', '.join(untrusted)}", **evidence)
    return passed(f"every member is in trusted_users: {', '.join(sorted(members))}", **evidence)


# --- 1.1.3-1.1.18 audit rules, one row per file -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Audited:
    target: str  # the collector's target name (runbench.collect.hostinfo.audit_targets)
    default: str  # where it usually is, for the remediation


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and norm_path(a) == norm_path(b)


def _covers(w: AuditWatch, t: AuditTarget) -> bool:
    """A watch covers a target: the same path (as written or resolved), or a tree watch above it."""
    if _same(w.path, t.path) or _same(w.real, t.real) or _same(w.path, t.real) or _same(w.real, t.path):
        return True
    if not w.tree:
        return False
    return any(a and b and is_under(norm_path(a), norm_path(b)) for a in (t.path, t.real) for b in (w.path, w.real))


def watching(audit: AuditFacts, target: AuditTarget) -> AuditWatch | None:
    """The watch that covers `target`: one on the path itself first, else a tree watch above it."""
    hits = [w for w in audit.watches if _covers(w, target)]
    exact = [w for w in hits if not w.tree or _same(w.path, target.path) or _same(w.real, target.real)]
    chosen = exact or hits
    return chosen[-1] if chosen else None


def _audit(row: _Audited, h: HostFacts, ctx: Context) -> Verdict:
    if (elsewhere := _elsewhere(h)) is not None:
        return elsewhere
    if h.audit_targets is None:
        return errored(h.why("audit_targets"))
    found = [t for t in h.audit_targets if t.name == row.target]
    if not found:
        return errored(f"audit target {row.target} was not collected")
    present = [t for t in found if t.exists]
    if not present:
        unknown = next((t for t in found if t.exists is None), None)
        if unknown is not None:
            return errored(unknown.why)
        how = f" ({found[0].found_by})" if found[0].found_by else ""
        return skipped(f"{found[0].path} does not exist on this host{how}")
    if h.audit is None:
        return errored(h.why("audit"))
    if h.audit.why:
        return errored(h.audit.why)
    target = present[0]
    where = target.path + (f" ({target.found_by})" if target.found_by else "")
    source = h.audit.source + (f": {', '.join(h.audit.files)}" if h.audit.files else "")
    watch = watching(h.audit, target)
    if watch is None:
        evidence: dict[str, object] = {"target": where, "rules read": source or "(none)"}
        if h.audit.notes:
            evidence["notes"] = "; ".join(h.audit.notes)
        return failed(f"no audit rule watches {target.path}; add: -w {target.path} -k docker", **evidence)
    perms = watch.perms or "rwxa"
    if "w" not in perms:
        return failed(
            f"the rule watching {target.path} does not log writes (-p {perms}); use: -w {target.path} -k docker",
            rule=watch.rule,
            at=watch.source,
        )
    return passed(rule=watch.rule, at=watch.source, target=where)


def _audit_row(name: str, cis: str, level: int, default: str, what: str) -> Row[_Audited]:
    return Row(
        id=f"host.audit_{name}",
        cis={"1.8.0": cis, "1.6.0": cis},
        level=level,
        severity=Severity.LOW,
        title=f"Audit rules watch {what}",
        rationale=f"Changes to {what} (and, for programs, their execution) are security events: an audit watch "
        "leaves a record of who touched it and when, for detection and for the investigation afterwards.",
        remediation=f"Add `-w {default} -k docker` to /etc/audit/rules.d/docker.rules and load it with "
        "`augenrules --load` (the failure names the path on this host).",
        data=_Audited(target=name, default=default),
    )


AUDIT_CHECKS: Final = family(
    host_check,
    [
        _audit_row("dockerd", "1.1.3", 1, "/usr/bin/dockerd", "the Docker daemon binary (dockerd)"),
        _audit_row("run_containerd", "1.1.4", 1, "/run/containerd", "containerd's state directory /run/containerd"),
        _audit_row("var_lib_docker", "1.1.5", 1, "/var/lib/docker", "Docker's data root (/var/lib/docker)"),
        _audit_row("etc_docker", "1.1.6", 1, "/etc/docker", "Docker's configuration directory /etc/docker"),
        _audit_row("docker_service", "1.1.7", 1, "/lib/systemd/system/docker.service", "the docker.service unit"),
        _audit_row("containerd_sock", "1.1.8", 2, "/run/containerd/containerd.sock", "containerd's socket"),
        _audit_row("docker_sock", "1.1.9", 1, "/lib/systemd/system/docker.socket", "the docker.socket unit"),
        _audit_row("etc_default_docker", "1.1.10", 2, "/etc/default/docker", "/etc/default/docker"),
        _audit_row("daemon_json", "1.1.11", 2, "/etc/docker/daemon.json", "the daemon's daemon.json"),
        _audit_row("containerd_config", "1.1.12", 2, "/etc/containerd/config.toml", "containerd's configuration file"),
        _audit_row("etc_sysconfig_docker", "1.1.13", 2, "/etc/sysconfig/docker", "/etc/sysconfig/docker"),
        _audit_row("containerd_bin", "1.1.14", 1, "/usr/bin/containerd", "the containerd binary"),
        _audit_row("containerd_shim", "1.1.15", 2, "/usr/bin/containerd-shim", "the containerd-shim binary"),
        _audit_row(
            "containerd_shim_runc_v1", "1.1.16", 2, "/usr/bin/containerd-shim-runc-v1", "containerd-shim-runc-v1"
        ),
        _audit_row(
            "containerd_shim_runc_v2", "1.1.17", 2, "/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2"
        ),
        _audit_row("runc", "1.1.18", 1, "/usr/bin/runc", "the runc binary"),
    ],
    _audit,
)


# --- 1.2.1 / 1.2.2 the host and the engine version ------------------------------------------------------


@host_check(
    id="host.hardened",
    cis={"1.8.0": "1.2.1", "1.6.0": "1.2.1"},
    level=1,
    severity=Severity.MEDIUM,
    title="The container host is hardened",
    rationale="Containers share the host's kernel: a kernel exploit or a weak host configuration undoes every "
    "container boundary. A mandatory access control module (AppArmor or SELinux) and cgroup v2 narrow what a "
    "container that breaks out can do.",
    remediation="Apply your platform's hardening baseline (e.g. the CIS benchmark of the distribution), keep "
    "the kernel patched, run only what the host needs, and enable AppArmor or SELinux.",
)
def host_hardened(h: HostFacts, ctx: Context) -> Verdict:
    if (elsewhere := _elsewhere(h)) is not None:
        return elsewhere
    lsms = "unknown: " + h.why("lsms") if h.lsms is None else (", ".join(h.lsms) or "(none)")
    if h.lsms is not None and h.unread and "lsms" in h.unread:
        lsms += f" ({h.unread['lsms']})"
    mac = [m for m in (h.lsms or ()) if m in ("apparmor", "selinux")]
    evidence: dict[str, object] = {
        "kernel": h.kernel or "?",
        "os": h.os or "?",
        "LSMs": lsms,
        "cgroup version": h.cgroup_version or h.why("cgroup_version"),
    }
    if ctx.engine is not None and ctx.engine.security_options:
        evidence["engine security options"] = list(ctx.engine.security_options)
    note = "review the host against your hardening baseline"
    if h.lsms is not None and not mac:
        note += "; no AppArmor or SELinux is active"
    return manual(note, **evidence)


def engine_version(text: str) -> tuple[int, int, int] | None:
    """`28.5.2`, `20.10.24+dfsg1`, `29.0.0-rc.1`, `24.0` -> (major, minor, patch); None when not a version."""
    head = text.strip().lstrip("v")
    parts: list[int] = []
    for piece in head.split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    if len(parts) < 2:
        return None
    return (parts[0], parts[1], parts[2] if len(parts) > 2 else 0)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _dotted(v: tuple[int, int, int]) -> str:
    return ".".join(str(p) for p in v)


def _table_text() -> str:
    lines = []
    for line in MAINTAINED:
        text = f"{line.name} (newest {_dotted(line.newest)} of {line.released}"
        text += f", maintained until about {line.end})" if line.end else ")"
        lines.append(text)
    return f"as of {TABLE_DATE} ({TABLE_SOURCE}): " + "; ".join(lines)


@host_check(
    id="host.docker_version",
    cis={"1.8.0": "1.2.2", "1.6.0": "1.2.2"},
    level=1,
    severity=Severity.MEDIUM,
    title="The Docker Engine is a maintained, current release",
    rationale="Engine releases fix container escapes and authorization bypasses; a release line that is no "
    "longer maintained gets no fixes, and an old patch release of a maintained line lacks the ones it got.",
    remediation="Upgrade to the newest patch release of a maintained line (`apt-get install docker-ce` from "
    "Docker's repository, or your distribution's package); when your vendor maintains an older line (Debian, "
    "Mirantis), check that its security updates are installed.",
)
def host_docker_version(h: HostFacts, ctx: Context) -> Verdict:
    if ctx.engine is None:
        return errored(ctx.why(Fact.ENGINE))
    raw = ctx.engine.server_version
    version = engine_version(raw)
    evidence: dict[str, object] = {"ServerVersion": raw or "(none)", "maintained lines": _table_text()}
    if version is None:
        return manual("the engine's version is unknown: compare it with the maintained releases by hand", **evidence)
    collected, table = _day(ctx.snapshot.collected_at), _day(TABLE_DATE)
    if collected is not None and table is not None and (collected - table).days > STALE_AFTER_DAYS:
        age = (collected - table).days
        return manual(
            f"runbench's release table is {age} days old: check {raw} against the current releases", **evidence
        )
    if version[0] > NEWEST_MAJOR:
        return passed(f"{raw} is newer than the newest line the table knows ({NEWEST_MAJOR}.x)", **evidence)
    line: ReleaseLine | None = next((ln for ln in MAINTAINED if ln.holds(version)), None)
    vendor = "; a distribution may still patch it (e.g. Debian's docker.io): check its security updates"
    if line is None:
        return failed(f"Docker {raw}: the {version[0]}.{version[1]} line is no longer maintained{vendor}", **evidence)
    end = _day(line.end) if line.end else None
    if end is not None and collected is not None and collected > end:
        return failed(f"Docker {raw}: the {line.name} line was expected to end maintenance on {line.end}", **evidence)
    if version < line.newest:
        return failed(
            f"Docker {raw} is older than {_dotted(line.newest)}, the newest {line.name} release as of {TABLE_DATE}",
            **evidence,
        )
    return passed(f"{raw} is the newest {line.name} release as of {TABLE_DATE} (or newer)", **evidence)
