"""Container runtime checks: CIS Docker Benchmark section 5 (5.2–5.32) and runbench's own.

Each check is a pure function of one container's facts and the run's Context.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from runbench.authoring import (
    Context,
    Fact,
    Row,
    Severity,
    container_check,
    errored,
    failed,
    family,
    manual,
    passed,
    skipped,
)
from runbench.model import Verdict
from runbench.secrets import is_secret
from runbench.semantics import (
    DANGEROUS_CAPS,
    DEFAULT_CAPS,
    ENGINE_SOCKET_NAMES,
    SENSITIVE_DIRS,
    WELL_KNOWN_SOCKETS,
    cap_name,
    effective_capabilities,
    go_true,
    is_root_user,
    is_under,
    norm_path,
    restart_is_bounded,
    security_opt_values,
)
from runbench.snapshot import ContainerFacts, ExecFacts, MountFacts, PortBinding


def _binds(c: ContainerFacts) -> list[MountFacts]:
    return [m for m in c.mounts if m.type == "bind"]


def _mount_text(m: MountFacts) -> str:
    return f"{m.source}:{m.destination}:{'rw' if m.rw else 'ro'}"


def _security_opt(c: ContainerFacts, name: str) -> list[str]:
    return security_opt_values(c.security_opt, name)


def _not_running(c: ContainerFacts) -> Verdict:
    return skipped(f"container is {c.state}: no processes to inspect")


# --- 5.2 / 5.3: mandatory access control -------------------------------------------------------


@container_check(
    id="container.apparmor",
    cis={"1.8.0": "5.2", "1.6.0": "5.2"},
    level=1,
    severity=Severity.HIGH,
    title="Container runs under an AppArmor profile",
    rationale="AppArmor confines what a container's processes may touch on the host even if they break "
    "out of other isolation; an unconfined container loses that second wall.",
    remediation="Run with the default profile (docker-default) or your own: --security-opt "
    "apparmor=<profile>; never apparmor=unconfined.",
)
def container_apparmor(c: ContainerFacts, ctx: Context) -> Verdict:
    if ctx.engine is None:
        return errored(ctx.why(Fact.ENGINE))
    if not ctx.engine.apparmor:
        return skipped("AppArmor is not enabled on this host (docker info SecurityOptions has no name=apparmor)")
    profile = c.apparmor_profile
    if c.privileged:
        return failed("privileged containers run unconfined", **{"HostConfig.Privileged": True})
    if not profile or profile == "unconfined" or "unconfined" in _security_opt(c, "apparmor"):
        return failed("no AppArmor confinement", AppArmorProfile=profile or "(none)")
    return passed(f"profile {profile}", AppArmorProfile=profile)


@container_check(
    id="container.selinux",
    cis={"1.8.0": "5.3", "1.6.0": "5.3"},
    level=2,
    severity=Severity.HIGH,
    title="Container runs with SELinux labels",
    rationale="SELinux types separate containers from the host and from each other; label=disable turns "
    "that separation off for the container.",
    remediation="Run the daemon with --selinux-enabled and keep labels on; set a type with --security-opt "
    "label=type:<type> where needed, never label=disable.",
)
def container_selinux(c: ContainerFacts, ctx: Context) -> Verdict:
    if ctx.engine is None:
        return errored(ctx.why(Fact.ENGINE))
    if not ctx.engine.selinux:
        return skipped("SELinux support is not enabled in the daemon (docker info SecurityOptions has no name=selinux)")
    labels = _security_opt(c, "label")
    if "disable" in labels or "disable:true" in labels:
        return failed("SELinux labelling disabled", SecurityOpt=list(c.security_opt))
    if c.privileged:
        return failed("privileged containers run without SELinux separation", **{"HostConfig.Privileged": True})
    if not c.process_label:
        return failed("no SELinux process label", ProcessLabel="(none)")
    return passed(f"process label {c.process_label}", ProcessLabel=c.process_label, SecurityOpt=list(c.security_opt))


# --- 5.4 / 5.5: capabilities and privilege -----------------------------------------------------


@container_check(
    id="container.capabilities",
    cis={"1.8.0": "5.4", "1.6.0": "5.4"},
    level=1,
    severity=Severity.HIGH,
    title="Container holds no capabilities beyond Docker's defaults",
    rationale="Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE hand a container powers that lead "
    "to the host; each one added widens what a compromised process can do.",
    remediation="Start from --cap-drop ALL and add back only what the process needs (e.g. --cap-add "
    "NET_BIND_SERVICE); accept a reviewed extra capability with runbench --allow-cap CAP.",
)
def container_capabilities(c: ContainerFacts, ctx: Context) -> Verdict:
    caps = effective_capabilities(c.privileged, c.cap_add, c.cap_drop)
    allowed = {cap_name(x) for x in ctx.params.allowed_capabilities} - DANGEROUS_CAPS
    extra = sorted(caps - DEFAULT_CAPS - allowed)
    evidence: dict[str, object] = {"HostConfig.CapAdd": list(c.cap_add), "HostConfig.CapDrop": list(c.cap_drop)}
    if c.privileged:
        return failed("privileged: every capability", **{"HostConfig.Privileged": True})
    if extra:
        dangerous = [x for x in extra if x in DANGEROUS_CAPS]
        what = f"dangerous: {', '.join(dangerous)}" if dangerous else "beyond the defaults"
        return failed(f"extra capabilities ({what}): {', '.join(extra)}", **evidence)
    dropped = sorted(DEFAULT_CAPS - caps)
    return passed(f"{len(caps)} capabilities, {len(dropped)} defaults dropped", effective=sorted(caps), **evidence)


@container_check(
    id="container.privileged",
    cis={"1.8.0": "5.5", "1.6.0": "5.5"},
    level=1,
    severity=Severity.CRITICAL,
    title="Container is not privileged",
    rationale="A privileged container holds every capability, every host device and no seccomp, AppArmor "
    "or SELinux confinement; taking over the host from it is trivial.",
    remediation="Remove --privileged (compose: privileged: true); grant single capabilities with --cap-add "
    "and single devices with --device.",
)
def container_privileged(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.privileged:
        return failed("runs with --privileged", **{"HostConfig.Privileged": True})
    return passed()


# --- 5.6: sensitive host directories -----------------------------------------------------------


@container_check(
    id="container.sensitive_mounts",
    cis={"1.8.0": "5.6", "1.6.0": "5.6"},
    level=1,
    severity=Severity.CRITICAL,
    title="No sensitive host directory is mounted",
    rationale="Mounting /, /etc, /boot, /dev, /proc, /sys, /usr, /lib or /var/lib/docker lets the "
    "container read host secrets and, when writable, change the host itself.",
    remediation="Mount only the application's own data directories; if a host path must be visible, mount "
    "the narrowest file read-only.",
)
def container_sensitive_mounts(c: ContainerFacts, ctx: Context) -> Verdict:
    hits_rw: list[str] = []
    hits_ro: list[str] = []
    for m in _binds(c):
        src = norm_path(m.source)
        if src == "/" or any(is_under(src, d) for d in SENSITIVE_DIRS):
            (hits_rw if m.rw else hits_ro).append(_mount_text(m))
        elif inside := [d for d in SENSITIVE_DIRS if is_under(d, src)]:  # a parent: -v /var:/x holds /var/lib/docker
            (hits_rw if m.rw else hits_ro).append(f"{_mount_text(m)} (contains {', '.join(inside)})")
    if hits_rw:
        return failed(f"sensitive host paths mounted writable: {', '.join(hits_rw)}", mounts=hits_rw + hits_ro)
    if hits_ro:
        return failed(f"sensitive host paths mounted read-only: {', '.join(hits_ro)}", mounts=hits_ro).at(Severity.HIGH)
    return passed(binds=[_mount_text(m) for m in _binds(c)] or "none")


# --- 5.7: sshd ---------------------------------------------------------------------------------

_SSH_DAEMONS = frozenset({"sshd", "dropbear"})


@container_check(
    id="container.sshd",
    cis={"1.8.0": "5.7", "1.6.0": "5.7"},
    level=1,
    severity=Severity.MEDIUM,
    title="No SSH daemon runs inside the container",
    rationale="An SSH server in a container is another service to patch, another set of keys to manage and "
    "a way around the engine's access controls and audit trail.",
    remediation="Remove the SSH server from the image; use docker exec (audited) for debugging.",
)
def container_sshd(c: ContainerFacts, ctx: Context) -> Verdict:
    if not c.running:
        return _not_running(c)
    if c.processes is None:
        return errored(ctx.why(Fact.PROCESSES, c.id))
    found = [f"{p.name} (pid {p.pid})" for p in c.processes if p.name in _SSH_DAEMONS or p.exe in _SSH_DAEMONS]
    if found:
        return failed(f"SSH daemon running: {', '.join(found)}", processes=found)
    return passed(f"{len(c.processes)} processes, none an SSH daemon")


# --- 5.8 / 5.9 / 5.14: published ports ----------------------------------------------------------


def _port_text(p: PortBinding, default_ip: str = "") -> str:
    host = p.host_ip or default_ip or "(default address)"
    return f"{host}:{p.host_port or '(ephemeral)'}->{p.container_port}"


def _host_port_start(port: str) -> int | None:
    head = port.split("-", 1)[0]
    return int(head) if head.isdigit() else None


@container_check(
    id="container.privileged_ports",
    cis={"1.8.0": "5.8", "1.6.0": "5.8"},
    level=1,
    severity=Severity.MEDIUM,
    title="No privileged host port (below 1024) is published",
    rationale="Ports below 1024 are where host services and users expect trusted daemons; publishing a "
    "container on them invites confusion with, or shadowing of, host services.",
    remediation="Publish on a port of 1024 or above (-p 8080:80) and put a reverse proxy in front if the "
    "well-known port is needed.",
)
def container_privileged_ports(c: ContainerFacts, ctx: Context) -> Verdict:
    ip = _default_bind_ip(ctx)[0]
    low = [
        _port_text(p, ip) for p in c.port_bindings if (n := _host_port_start(p.host_port)) is not None and 0 < n < 1024
    ]
    if low:
        return failed(f"privileged host ports: {', '.join(low)}", ports=low)
    return passed(ports=[_port_text(p, ip) for p in c.port_bindings] or "none")


@container_check(
    id="container.open_ports",
    cis={"1.8.0": "5.9", "1.6.0": "5.9"},
    level=1,
    severity=Severity.LOW,
    title="Only needed ports are published",
    rationale="Every published port is reachable from outside the container; only the ones the service "
    "needs should be.",
    remediation="Publish only required ports (-p HOST:CONTAINER), never -P with images that EXPOSE more "
    "than they serve.",
)
def container_open_ports(c: ContainerFacts, ctx: Context) -> Verdict:
    ports = [_port_text(p, _default_bind_ip(ctx)[0]) for p in c.port_bindings]
    if c.publish_all_ports:
        ports += [f"(all exposed) {p}" for p in c.exposed_ports]
    if not ports:
        return passed("no published ports")
    return manual(f"review {len(ports)} published port(s)", ports=ports)


@container_check(
    id="container.ports_all_interfaces",
    cis={"1.8.0": "5.14", "1.6.0": "5.14"},
    level=1,
    severity=Severity.MEDIUM,
    title="Published ports are bound to a specific host interface",
    rationale="A port published without an address listens on every interface of the host, including "
    "public ones, and Docker's iptables rules bypass most host firewalls.",
    remediation="Bind to the interface that needs it: -p 127.0.0.1:8080:80 or -p 10.0.0.5:443:443.",
)
def container_ports_all_interfaces(c: ContainerFacts, ctx: Context) -> Verdict:
    default_ip, known = _default_bind_ip(ctx)
    wide = [_port_text(p, default_ip) for p in c.port_bindings if (p.host_ip or default_ip) in _ALL_INTERFACES]
    if c.publish_all_ports and c.exposed_ports:
        wide += [f"-P {default_ip}:{p}" for p in c.exposed_ports if default_ip in _ALL_INTERFACES]
    ports = [_port_text(p, default_ip) for p in c.port_bindings] or "none"
    if wide:
        note = "" if known else " (ports without an address bind the engine's default 0.0.0.0; its --ip is unknown)"
        return failed(f"published on all interfaces: {', '.join(wide)}{note}", ports=wide)
    return passed(ports=ports)


_ALL_INTERFACES = frozenset({"0.0.0.0", "::", "[::]"})


def _default_bind_ip(ctx: Context) -> tuple[str, bool]:
    """Where a port published without an address binds: the daemon's --ip / "ip", else 0.0.0.0.

    The second value says whether the daemon's configuration was read (False: the engine's default is assumed).
    """
    setting = ctx.setting("ip")
    if not setting.known:
        return "0.0.0.0", False
    return (setting.value if isinstance(setting.value, str) and setting.value else "0.0.0.0"), True


# --- namespaces: one table, one check per row ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Namespace:
    mode: Callable[[ContainerFacts], str]  # the container's mode for this namespace
    field: str  # the inspect field it came from, for the evidence
    namespace: str
    unset: str = "(private)"  # how an empty mode reads in the evidence


def _host_namespace(ns: _Namespace, c: ContainerFacts, ctx: Context) -> Verdict:
    mode = ns.mode(c)
    if mode == "host":
        return failed(f"uses the host {ns.namespace} namespace", **{ns.field: mode})
    return passed(**{ns.field: mode or ns.unset})


NAMESPACE_CHECKS: Final = family(
    container_check,
    [
        Row(
            id="container.host_network",
            cis={"1.8.0": "5.10", "1.6.0": "5.10"},
            severity=Severity.HIGH,
            title="Container does not share the host's network namespace",
            rationale="With the host network the container sees every host interface, can bind any host port and reach "
            "services listening on localhost, such as an unauthenticated Docker API.",
            remediation="Drop --network host; publish the ports the service needs on a user-defined network.",
            data=_Namespace(lambda c: c.network_mode, "HostConfig.NetworkMode", "network"),
        ),
        Row(
            id="container.host_pid",
            cis={"1.8.0": "5.16", "1.6.0": "5.16"},
            severity=Severity.HIGH,
            title="Container does not share the host's PID namespace",
            rationale="In the host PID namespace the container sees and can signal every host process, and with "
            "ptrace-like capabilities can enter them.",
            remediation="Drop --pid host.",
            data=_Namespace(lambda c: c.pid_mode, "HostConfig.PidMode", "PID"),
        ),
        Row(
            id="container.host_ipc",
            cis={"1.8.0": "5.17", "1.6.0": "5.17"},
            severity=Severity.HIGH,
            title="Container does not share the host's IPC namespace",
            rationale="The host IPC namespace exposes host shared memory segments and semaphores to the container.",
            remediation="Drop --ipc host; share IPC between containers with --ipc container:<name> or shareable.",
            data=_Namespace(lambda c: c.ipc_mode, "HostConfig.IpcMode", "IPC"),
        ),
        Row(
            id="container.host_uts",
            cis={"1.8.0": "5.21", "1.6.0": "5.21"},
            severity=Severity.MEDIUM,
            title="Container does not share the host's UTS namespace",
            rationale="In the host UTS namespace a container with the right capability can change the host's "
            "hostname and domain name.",
            remediation="Drop --uts host.",
            data=_Namespace(lambda c: c.uts_mode, "HostConfig.UTSMode", "UTS"),
        ),
        Row(
            id="container.host_userns",
            cis={"1.8.0": "5.31", "1.6.0": "5.31"},
            severity=Severity.HIGH,
            title="Container does not opt out of user namespace remapping",
            rationale="--userns host turns the daemon's user namespace remapping off for the container, so root "
            "inside is root on the host again.",
            remediation="Drop --userns host.",
            data=_Namespace(lambda c: c.userns_mode, "HostConfig.UsernsMode", "user", unset="(daemon default)"),
        ),
    ],
    _host_namespace,
)


# --- resources ---------------------------------------------------------------------------------


@container_check(
    id="container.memory_limit",
    cis={"1.8.0": "5.11", "1.6.0": "5.11"},
    level=1,
    severity=Severity.MEDIUM,
    title="Container memory is limited",
    rationale="Without a memory limit one container can exhaust the host's memory and take every other "
    "workload down with it.",
    remediation="Set --memory (compose: mem_limit / deploy.resources.limits.memory), e.g. --memory 512m.",
)
def container_memory_limit(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.memory > 0:
        return passed(f"{c.memory // (1024 * 1024)} MiB", **{"HostConfig.Memory": c.memory})
    return failed("no memory limit", **{"HostConfig.Memory": c.memory})


@container_check(
    id="container.cpu_limit",
    cis={"1.8.0": "5.12", "1.6.0": "5.12"},
    level=1,
    severity=Severity.MEDIUM,
    title="Container CPU is limited or weighted",
    rationale="Without a CPU limit or share weight one container can starve the others and the host.",
    remediation="Set --cpus (e.g. --cpus 1.5) or --cpu-shares other than the default 1024.",
)
def container_cpu_limit(c: ContainerFacts, ctx: Context) -> Verdict:
    evidence = {
        "HostConfig.NanoCpus": c.nano_cpus,
        "HostConfig.CpuQuota": c.cpu_quota,
        "HostConfig.CpuShares": c.cpu_shares,
    }
    if c.nano_cpus > 0 or c.cpu_quota > 0 or c.cpu_shares not in (0, 1024):
        return passed(**evidence)
    return failed("no CPU limit or weight", **evidence)


@container_check(
    id="container.pids_limit",
    cis={"1.8.0": "5.29", "1.6.0": "5.29"},
    level=1,
    severity=Severity.MEDIUM,
    title="Container process count is limited",
    rationale="A PID limit stops a fork bomb in one container from exhausting the host's process table.",
    remediation="Set --pids-limit (e.g. --pids-limit 200).",
)
def container_pids_limit(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.pids_limit is not None and c.pids_limit > 0:
        return passed(**{"HostConfig.PidsLimit": c.pids_limit})
    return failed("no PID limit", **{"HostConfig.PidsLimit": c.pids_limit if c.pids_limit is not None else "null"})


@container_check(
    id="container.oom_kill_disable",
    severity=Severity.MEDIUM,
    title="OOM killer is not disabled on a container without a memory limit",
    rationale="With the OOM killer disabled and no memory limit, a leaking container makes the kernel kill "
    "host processes instead of it.",
    remediation="Remove --oom-kill-disable, or set --memory alongside it.",
)
def container_oom_kill_disable(c: ContainerFacts, ctx: Context) -> Verdict:
    evidence = {"HostConfig.OomKillDisable": c.oom_kill_disable, "HostConfig.Memory": c.memory}
    if c.oom_kill_disable and c.memory <= 0:
        return failed("OOM killer disabled and no memory limit", **evidence)
    return passed(**evidence)


@container_check(
    id="container.ulimit_override",
    cis={"1.8.0": "5.19", "1.6.0": "5.19"},
    level=1,
    severity=Severity.LOW,
    title="Container keeps the daemon's default ulimits",
    rationale="Per-container ulimits override the daemon defaults; each override should be a deliberate, "
    "reviewed choice.",
    remediation="Remove --ulimit unless the value is needed; set defaults once with the daemon's --default-ulimit.",
)
def container_ulimit_override(c: ContainerFacts, ctx: Context) -> Verdict:
    if not c.ulimits:
        return passed("no overrides")
    values = [f"{u.name}={u.soft}:{u.hard}" for u in c.ulimits]
    return manual(f"review ulimit overrides: {', '.join(values)}", **{"HostConfig.Ulimits": values})


@container_check(
    id="container.cgroup_parent",
    cis={"1.8.0": "5.25", "1.6.0": "5.25"},
    level=1,
    severity=Severity.LOW,
    title="Container uses the default cgroup parent",
    rationale="A custom cgroup parent moves the container's resource accounting and limits under another "
    "hierarchy; it should be a deliberate choice.",
    remediation="Remove --cgroup-parent unless required, and review the hierarchy it points to.",
)
def container_cgroup_parent(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.cgroup_parent:
        return manual("custom cgroup parent", **{"HostConfig.CgroupParent": c.cgroup_parent})
    return passed()


# --- filesystem --------------------------------------------------------------------------------


@container_check(
    id="container.read_only_rootfs",
    cis={"1.8.0": "5.13", "1.6.0": "5.13"},
    level=1,
    severity=Severity.MEDIUM,
    title="Container root filesystem is read-only",
    rationale="A read-only root filesystem stops an intruder from dropping tools or changing binaries and "
    "makes every write location explicit.",
    remediation="Run with --read-only and mount writable paths explicitly (--tmpfs /tmp, -v data:/data).",
)
def container_read_only_rootfs(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.readonly_rootfs:
        return passed(**{"HostConfig.ReadonlyRootfs": True})
    return failed("root filesystem is writable", **{"HostConfig.ReadonlyRootfs": False})


@container_check(
    id="container.rw_host_mounts",
    severity=Severity.MEDIUM,
    title="Host bind mounts are read-only",
    rationale="A writable bind mount lets the container change files on the host, which outlive the "
    "container and may be read by host services.",
    remediation="Append :ro to bind mounts the container only reads (-v /srv/conf:/conf:ro); keep "
    "writable state in named volumes.",
)
def container_rw_host_mounts(c: ContainerFacts, ctx: Context) -> Verdict:
    rw = [_mount_text(m) for m in _binds(c) if m.rw]
    if rw:
        return failed(f"writable host mounts: {', '.join(rw)}", mounts=rw)
    return passed(binds=[_mount_text(m) for m in _binds(c)] or "none")


@container_check(
    id="container.mount_propagation",
    cis={"1.8.0": "5.20", "1.6.0": "5.20"},
    level=1,
    severity=Severity.MEDIUM,
    title="No mount uses shared propagation",
    rationale="With shared propagation, mounts made inside the container appear on the host (and the "
    "reverse), breaking the mount namespace boundary.",
    remediation="Use the default private propagation; drop bind-propagation=shared/rshared.",
)
def container_mount_propagation(c: ContainerFacts, ctx: Context) -> Verdict:
    shared = [
        f"{m.source}:{m.destination} ({m.propagation})" for m in c.mounts if m.propagation in ("shared", "rshared")
    ]
    if shared:
        return failed(f"shared propagation: {', '.join(shared)}", mounts=shared)
    return passed()


@container_check(
    id="container.docker_socket",
    cis={"1.8.0": "5.32", "1.6.0": "5.32"},
    level=1,
    severity=Severity.CRITICAL,
    title="No container engine socket is mounted",
    rationale="Whoever reaches the engine's socket controls the engine and so the host; mounting it "
    "read-only does not help, because the API still accepts every request over it.",
    remediation="Remove the socket mount. If a tool needs the API, give it a filtering proxy that allows "
    "only the calls it needs.",
)
def container_docker_socket(c: ContainerFacts, ctx: Context) -> Verdict:
    sockets = {norm_path(s) for s in WELL_KNOWN_SOCKETS}
    if ctx.daemon is not None:
        sockets |= {norm_path(s) for s in ctx.daemon.sockets}
    hits = []
    for m in _binds(c):
        src = norm_path(m.source)
        if posixpath.basename(src) in ENGINE_SOCKET_NAMES or src in sockets:
            hits.append(f"{_mount_text(m)} (engine socket)")
        elif exposed := sorted(s for s in sockets if is_under(s, src)):
            hits.append(f"{_mount_text(m)} (contains {', '.join(exposed)})")
    if hits:
        return failed(f"engine socket reachable: {'; '.join(hits)}", mounts=hits)
    return passed()


# --- configuration -----------------------------------------------------------------------------


@container_check(
    id="container.restart_policy",
    cis={"1.8.0": "5.15", "1.6.0": "5.15"},
    level=1,
    severity=Severity.LOW,
    title="Restart policy is bounded (on-failure with at most 5 retries)",
    rationale="An unbounded restart policy hides crash loops and can keep a failing or attacked container "
    "consuming the host indefinitely.",
    remediation="Use --restart on-failure:5 (or no restart policy).",
)
def container_restart_policy(c: ContainerFacts, ctx: Context) -> Verdict:
    name, retries = c.restart_policy or "no", c.restart_max_retries
    evidence = {"HostConfig.RestartPolicy.Name": name, "HostConfig.RestartPolicy.MaximumRetryCount": retries}
    if restart_is_bounded(name, retries):
        return passed(**evidence)
    if name == "on-failure":
        return failed(f"on-failure with {retries or 'unlimited'} retries", **evidence)
    return failed(f"restart policy {name} restarts forever", **evidence)


@container_check(
    id="container.devices",
    cis={"1.8.0": "5.18", "1.6.0": "5.18"},
    level=1,
    severity=Severity.HIGH,
    title="No host device is exposed to the container",
    rationale="A host device in a container gives direct access to hardware or kernel interfaces that "
    "can read or corrupt host data.",
    remediation="Remove --device / --device-cgroup-rule unless required, and limit permissions (e.g. "
    "--device /dev/xyz:/dev/xyz:r).",
)
def container_devices(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.privileged:
        return failed("privileged: every host device", **{"HostConfig.Privileged": True})
    items = [f"{d.host_path}:{d.container_path}:{d.permissions}" for d in c.devices]
    items += [f"cgroup rule {r}" for r in c.device_cgroup_rules]
    items += [f"device request {r}" for r in c.device_requests]
    if items:
        return failed(f"host devices: {', '.join(items)}", devices=items)
    return passed()


@container_check(
    id="container.seccomp",
    cis={"1.8.0": "5.22", "1.6.0": "5.22"},
    level=1,
    severity=Severity.HIGH,
    title="Container runs under a seccomp profile",
    rationale="Seccomp blocks the system calls most kernel exploits need; unconfined, the whole kernel "
    "syscall surface is open to the container.",
    remediation="Remove --security-opt seccomp=unconfined (and --privileged); use the default or a custom profile.",
)
def container_seccomp(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.privileged:
        return failed("privileged: seccomp is disabled", **{"HostConfig.Privileged": True})
    values = _security_opt(c, "seccomp")
    if "unconfined" in values:
        return failed("seccomp=unconfined", SecurityOpt=list(c.security_opt))
    if values:
        return passed(
            "custom profile", SecurityOpt=[f"seccomp={'(custom)' if v.startswith('{') else v}" for v in values]
        )
    if ctx.engine is None:
        return errored(ctx.why(Fact.ENGINE))
    profile = ctx.engine.seccomp_profile
    if profile is None:
        return failed("the engine has no seccomp support", SecurityOptions=list(ctx.engine.security_options))
    if profile == "unconfined":
        return failed(
            "the daemon's default seccomp profile is unconfined", SecurityOptions=list(ctx.engine.security_options)
        )
    return passed(f"daemon {profile} profile", SecurityOptions=list(ctx.engine.security_options))


@container_check(
    id="container.no_new_privileges",
    cis={"1.8.0": "5.26", "1.6.0": "5.26"},
    level=1,
    severity=Severity.MEDIUM,
    title="Container processes cannot gain new privileges",
    rationale="no-new-privileges stops setuid binaries and file capabilities from raising a process's "
    "privileges inside the container.",
    remediation='Run with --security-opt no-new-privileges (or set "no-new-privileges": true in '
    "daemon.json for every container).",
)
def container_no_new_privileges(c: ContainerFacts, ctx: Context) -> Verdict:
    values = _security_opt(c, "no-new-privileges")
    if values:
        last = values[-1]
        if last == "" or go_true(last):
            return passed(SecurityOpt=list(c.security_opt))
        return failed(f"explicitly disabled (no-new-privileges={last})", SecurityOpt=list(c.security_opt))
    default = ctx.setting("no-new-privileges")
    if not default.known:
        return errored("container does not set no-new-privileges and the daemon default is unknown: " + default.why)
    where = ", ".join(default.sources)
    if default.value is True:
        return passed(
            "daemon default no-new-privileges", SecurityOpt=list(c.security_opt) or "none", **{"daemon": where}
        )
    return failed(
        "not set on the container nor as the daemon default",
        SecurityOpt=list(c.security_opt) or "none",
        **{"daemon no-new-privileges": f"{_bool_text(default.value)} ({where})"},
    )


def _bool_text(value: object) -> str:
    return "true" if value is True else "false" if value is False else str(value)


@container_check(
    id="container.healthcheck",
    cis={"1.8.0": "5.27", "1.6.0": "5.27"},
    level=1,
    severity=Severity.LOW,
    title="Container has a healthcheck and is not unhealthy",
    rationale="A healthcheck lets the engine and orchestrators notice a hung or compromised service; an "
    "unhealthy state that nobody acts on is a finding of its own.",
    remediation="Add HEALTHCHECK to the image or --health-cmd to the container, and investigate unhealthy containers.",
)
def container_healthcheck(c: ContainerFacts, ctx: Context) -> Verdict:
    hc = c.healthcheck
    if hc is None or hc.disabled:
        image = ctx.images.get(c.image_id)
        if image is not None and image.healthcheck is not None and not image.healthcheck.disabled and hc is None:
            hc = image.healthcheck
    if hc is None or hc.disabled:
        return failed("no healthcheck", **{"Config.Healthcheck": "NONE" if hc else "(none)"})
    test = " ".join(hc.test)
    if c.health_status == "unhealthy":
        return failed("container is unhealthy", **{"State.Health.Status": "unhealthy", "Config.Healthcheck.Test": test})
    return passed(**{"State.Health.Status": c.health_status or "(not running)", "Config.Healthcheck.Test": test})


def _is_id_prefix(ref: str, image_id: str) -> bool:
    """`docker run 88742a6f44fe` records the (short) image id as Config.Image."""
    hex_id = image_id.removeprefix("sha256:")
    return len(ref) >= 12 and all(ch in "0123456789abcdef" for ch in ref) and hex_id.startswith(ref)


def _ref_forms(ref: str) -> list[str]:
    """A reference as the engine may list it: Docker Hub's docker.io/ and library/ prefixes are implicit."""
    prefixes = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "library/")
    return [ref, *(ref[len(p) :] for p in prefixes if ref.startswith(p))]


@container_check(
    id="container.image_current",
    cis={"1.8.0": "5.28", "1.6.0": "5.28"},
    level=1,
    severity=Severity.LOW,
    title="Container runs the image its tag points to now",
    rationale="When a tag has moved to a rebuilt image, containers still running the old one miss its "
    "fixes until they are recreated.",
    remediation="Recreate the container from the current image (docker compose up -d, or docker rm + run).",
)
def container_image_current(c: ContainerFacts, ctx: Context) -> Verdict:
    ref = c.image_ref
    if not ref or "@" in ref or ref.startswith("sha256:") or ref == c.image_id or _is_id_prefix(ref, c.image_id):
        return passed("created from an immutable reference", **{"Config.Image": ref or "(none)"})
    tagged = ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"
    current = next((ctx.image_tags[t] for t in _ref_forms(tagged) if t in ctx.image_tags), None)
    if current is None:
        return manual(f"tag {tagged} no longer exists locally", **{"Config.Image": ref, "Image": c.image_id[:19]})
    if current == c.image_id:
        return passed(**{"Config.Image": ref})
    return failed(
        f"{tagged} now points to {current.removeprefix('sha256:')[:12]}",
        **{"Config.Image": ref, "Image": c.image_id.removeprefix("sha256:")[:12]},
    )


@container_check(
    id="container.default_bridge",
    cis={"1.8.0": "5.30", "1.6.0": "5.30"},
    level=2,
    severity=Severity.LOW,
    title="Container is not attached to the default bridge network",
    rationale="On the default bridge every container can reach every other one; user-defined networks "
    "isolate groups of containers and give them DNS.",
    remediation="Create a network per application (docker network create app) and run with --network app.",
)
def container_default_bridge(c: ContainerFacts, ctx: Context) -> Verdict:
    on_bridge = "bridge" in c.networks if c.networks else c.network_mode in ("default", "bridge")
    if on_bridge:
        return failed("attached to the default bridge", networks=list(c.networks) or c.network_mode)
    return passed(networks=list(c.networks) or c.network_mode)


# --- execs ---------------------------------------------------------------------------------------


def _user_execs(c: ContainerFacts) -> list[ExecFacts]:
    """Exec sessions started by someone, not the engine's own healthcheck probes."""
    return [e for e in c.execs or () if not e.healthcheck]


@container_check(
    id="container.exec_privileged",
    cis={"1.8.0": "5.23", "1.6.0": "5.23"},
    level=2,
    severity=Severity.HIGH,
    title="No exec session runs privileged",
    rationale="docker exec --privileged gives the exec'd process every capability, regardless of how the "
    "container was started.",
    remediation="Do not use docker exec --privileged; end such sessions.",
)
def container_exec_privileged(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.execs is None:
        return errored(ctx.why(Fact.EXEC, c.id))
    bad = [f"{e.id[:12]} {e.entrypoint}" for e in _user_execs(c) if e.privileged]
    if bad:
        return failed(f"privileged exec sessions: {', '.join(bad)}", execs=bad)
    return passed(f"{len(_user_execs(c))} exec session(s)")


@container_check(
    id="container.exec_root",
    cis={"1.8.0": "5.24", "1.6.0": "5.24"},
    level=2,
    severity=Severity.MEDIUM,
    title="No exec session runs as root",
    rationale="An exec session as root bypasses the unprivileged user the container was designed to run as.",
    remediation="Use docker exec --user <uid> with the application's user.",
)
def container_exec_root(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.execs is None:
        return errored(ctx.why(Fact.EXEC, c.id))
    bad = [
        f"{e.id[:12]} {e.entrypoint} (user {e.user or c.user or 'root'})"
        for e in _user_execs(c)
        if is_root_user(e.user or c.user)
    ]
    if bad:
        return failed(f"exec sessions as root: {', '.join(bad)}", execs=bad)
    return passed(f"{len(_user_execs(c))} exec session(s)")


# --- identity and secrets ------------------------------------------------------------------------


@container_check(
    id="container.user",
    severity=Severity.MEDIUM,
    title="Container runs as a non-root user",
    rationale="Root in a container is root on the host unless user namespaces remap it; a non-root user "
    "makes most escapes and file-permission abuses fail.",
    remediation="Set USER in the image or --user <uid>:<gid>; or enable userns-remap on the daemon.",
)
def container_user(c: ContainerFacts, ctx: Context) -> Verdict:
    user = c.user or "(empty: root)"
    if not is_root_user(c.user):
        return passed(**{"Config.User": c.user})
    if c.userns_mode != "host" and ctx.engine is not None and (ctx.engine.userns_remap or ctx.engine.rootless):
        how = "rootless daemon" if ctx.engine.rootless else "userns-remap"
        return passed(f"root inside is remapped by the {how}", **{"Config.User": user})
    return failed("runs as root", **{"Config.User": user})


@container_check(
    id="container.env_secrets",
    severity=Severity.HIGH,
    title="No secrets in the container's environment",
    rationale="Environment variables are visible to anyone who can inspect the container, are inherited by "
    "every child process and end up in logs and crash reports.",
    remediation="Pass secrets as files (Docker/compose secrets, a mounted tmpfs) and point the application "
    "at them (e.g. DB_PASSWORD_FILE=/run/secrets/db).",
)
def container_env_secrets(c: ContainerFacts, ctx: Context) -> Verdict:
    found = []
    for var in c.env:
        secret, why = is_secret(var)
        if secret:
            found.append(f"{var.name}={var.stub} [{why}]")
    if found:
        names = ", ".join(v.split("=", 1)[0] for v in found)
        return failed(f"secrets in environment: {names}", variables=found)
    return passed(f"{len(c.env)} variables, none secret")
