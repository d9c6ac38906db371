"""Container runtime checks: CIS Docker Benchmark section 5 (5.2–5.32) and runbench's own.

Each check is a pure function of one container's facts and the run's Context.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sized
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
from runbench.secrets import is_secret, secret_evidence
from runbench.semantics import (
    DANGEROUS_CAPS,
    DEFAULT_CAPS,
    ENGINE_SOCKET_NAMES,
    SENSITIVE_DIRS,
    WELL_KNOWN_SOCKETS,
    cap_name,
    cpu_limit_cpus,
    effective_capabilities,
    go_true,
    is_root_user,
    is_under,
    joined_container,
    norm_path,
    restart_is_bounded,
    seccomp_profile,
    security_opt_values,
)
from runbench.snapshot import (
    ContainerFacts,
    ExecFacts,
    FileType,
    MountFacts,
    NamespaceFacts,
    PortBinding,
    ProcessFacts,
    ProcessStatus,
)


def _binds(c: ContainerFacts) -> list[MountFacts]:
    """Every mount of a host path: bind mounts, and volumes of the local driver that bind a host path."""
    return [m for m in c.mounts if m.binds_host]


def _unresolved_volumes(c: ContainerFacts) -> list[MountFacts]:
    """Volumes whose inspect failed: what they mount cannot be told (None in older snapshots: not asked)."""
    return [m for m in c.mounts if m.type == "volume" and m.volume_bind is None and m.resolution is not None]


def _unresolved(c: ContainerFacts, what: str, *, writable: bool = False) -> Verdict | None:
    """An error when a volume (a writable one, with `writable`) might be a host bind that no other finding of
    the check covers."""
    unknown = [m for m in _unresolved_volumes(c) if m.rw or not writable]
    if not unknown:
        return None
    return errored(f"cannot tell whether {what}: {'; '.join(m.resolution or '' for m in unknown)}")


def _mount_text(m: MountFacts) -> str:
    """`SRC:DEST:rw`; the host path the kernel mounts when it is not the source as recorded (`/srv/link →
    /etc:/x:rw`, `volume etcvol → /etc:/x:ro`)."""
    mode = "rw" if m.rw else "ro"
    if m.type == "volume" and m.host_path is not None:
        return f"volume {m.name} → {m.host_path}:{m.destination}:{mode}"
    if m.host_path is not None and m.host_path != norm_path(m.source):
        return f"{m.source} → {m.host_path}:{m.destination}:{mode}"
    return f"{m.source}:{m.destination}:{mode}"


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
    allowed = ctx.once(_allowed_caps)
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
    rationale="Mounting /, /etc, /boot, /dev, /proc, /sys, /usr, /lib or the Docker root (/var/lib/docker) "
    "lets the container read host secrets and, when writable, change the host itself. Judged on the host path "
    "the kernel really mounts, not on the path Docker recorded: a bind source is resolved on the engine's host "
    "(a symlink to /etc is /etc), and a volume of the local driver created with type=none,o=bind,device=PATH "
    "is a bind of PATH (volume inspect); the sensitive directories are compared by their own real paths too. "
    "A mount of a parent (/var holds /var/lib/docker) counts. On a remote engine the recorded paths are judged.",
    remediation="Mount only the application's own data directories; if a host path must be visible, mount "
    "the narrowest file read-only.",
)
def container_sensitive_mounts(c: ContainerFacts, ctx: Context) -> Verdict:
    sensitive = ctx.once(_sensitive_dirs)
    hits_rw: list[str] = []
    hits_ro: list[str] = []
    for m in _binds(c):
        src = norm_path(m.real_source)
        if src == "/" or any(is_under(src, real) for real in sensitive.values()):
            (hits_rw if m.rw else hits_ro).append(_mount_text(m))
        elif inside := [d for d, real in sensitive.items() if is_under(real, src)]:  # -v /var:/x: /var/lib/docker
            (hits_rw if m.rw else hits_ro).append(f"{_mount_text(m)} (contains {', '.join(inside)})")
    if hits_rw:
        return failed(f"sensitive host paths mounted writable: {', '.join(hits_rw)}", mounts=hits_rw + hits_ro)
    if hits_ro:
        return failed(f"sensitive host paths mounted read-only: {', '.join(hits_ro)}", mounts=hits_ro).at(Severity.HIGH)
    return _unresolved(c, "a volume mounts a sensitive host path") or passed(
        binds=[_mount_text(m) for m in _binds(c)] or "none"
    )


def _allowed_caps(ctx: Context) -> frozenset[str]:
    return frozenset(cap_name(x) for x in ctx.params.allowed_capabilities) - DANGEROUS_CAPS


def _sensitive_dirs(ctx: Context) -> Mapping[str, str]:
    """The sensitive host directories (and, with resolved facts, the engine's Docker root), each to its real
    path on the engine's host where that is known."""
    dirs = list(SENSITIVE_DIRS)
    runtime = ctx.snapshot.runtime_host
    root_dir = ctx.engine.root_dir if ctx.engine is not None else ""
    if runtime is not None and root_dir.startswith("/") and not any(is_under(norm_path(root_dir), d) for d in dirs):
        dirs.append(norm_path(root_dir))
    real = runtime.real_paths if runtime is not None else {}
    return {d: norm_path(real.get(d, d)) for d in dirs}


# --- 5.7: sshd ---------------------------------------------------------------------------------

_SSH_DAEMONS = frozenset({"sshd", "dropbear"})


@container_check(
    id="container.sshd",
    cis={"1.8.0": "5.7", "1.6.0": "5.7"},
    level=1,
    severity=Severity.MEDIUM,
    title="No SSH daemon runs inside the container",
    rationale="An SSH server in a container is another service to patch, another set of keys to manage and "
    "a way around the engine's access controls and audit trail. Judged on the processes the container "
    "started, read from the host's /proc (never docker exec): its init (State.Pid) and everything below it, "
    "and the processes its exec sessions and its runtime supervisor (containerd shim) started for it, checked "
    "by their cgroup. The same rule holds whatever its PID mode: with --pid host or --pid container:<X> the "
    "container sees processes it did not start (the host's sshd, X's), and those are not its own.",
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
    return passed(f"{_n(c.processes)} started by the container, none an SSH daemon")


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
    kind: str = ""  # its /proc/<pid>/ns/ entry when the collector resolves it ("": the configuration only)


_NAMESPACE_RULE = (
    " Judged on what the container really gets: a `container:<X>` mode shares X's namespace, so the chain of "
    "joins is followed through the inspect data of every container (out of scope ones too) to the mode at its "
    "end; for a running container on this host the kernel decides, comparing the inode of "
    "/proc/<pid>/ns/{kind} of its init with the host's (pid 1's, or the engine's dockerd's when pid 1's cannot "
    "be read). A chain that cannot be followed is an error, never a pass."
)


def _short_mode(mode: str) -> str:
    """`container:3f2a0c1b9d8e…` for a joined container's full id."""
    ref = joined_container(mode)
    if ref is not None and len(ref) == 64 and all(ch in "0123456789abcdef" for ch in ref):
        return f"container:{ref[:12]}…"
    return mode


def _joins_text(ns: NamespaceFacts, unset: str) -> str:
    """The configured mode and, for a `container:` join, where it leads: `container:3f2a… → host (via rbf-x)`."""
    configured = _short_mode(ns.configured) or unset
    if joined_container(ns.configured) is None:
        return configured
    end = (ns.resolved or unset) if ns.followed else f"? ({ns.why})"
    return f"{configured} → {end} (via {' → '.join(ns.via)})" if ns.via else f"{configured} → {end}"


def _kernel_text(ns: NamespaceFacts, c: ContainerFacts, ctx: Context) -> str:
    """`/proc/812/ns/net: net:[4026531833], the host's (pid 1)` or `...: net:[4026532001], not the host's
    net:[4026531833] (pid 1)`."""
    whose = ctx.snapshot.runtime_host.namespace_reference if ctx.snapshot.runtime_host is not None else ""
    ref = f" ({whose})" if whose else ""
    own = f"/proc/{c.pid}/ns/{ns.kind}: {ns.kind}:[{ns.inode}]"
    if ns.shares_host:
        return f"{own}, the host's{ref}"
    return f"{own}, not the host's {ns.kind}:[{ns.host_inode}]{ref}"


def _host_namespace(ns: _Namespace, c: ContainerFacts, ctx: Context) -> Verdict:
    mode = ns.mode(c)
    got = c.namespace(ns.kind) if ns.kind else None
    if got is None:  # not resolved (a snapshot older than the resolution, or --userns): as configured
        if mode == "host":
            return failed(f"uses the host {ns.namespace} namespace", **{ns.field: mode})
        return passed(**{ns.field: mode or ns.unset})
    evidence: dict[str, object] = {ns.field: _joins_text(got, ns.unset)}
    via = f" (joined through {' → '.join(got.via)})" if got.via else ""
    configured_host = got.followed and got.resolved == "host"
    if got.shares_host is not None:
        evidence["kernel"] = _kernel_text(got, c, ctx)
        if got.shares_host:
            disagree = "" if configured_host else "; configuration and kernel disagree: the kernel puts it there"
            return failed(f"uses the host {ns.namespace} namespace{via}{disagree}", **evidence)
        if configured_host:
            return passed(
                f"configuration and kernel disagree: configured to use the host {ns.namespace} namespace{via}, but "
                f"the kernel gives it a namespace that is not the host's",
                **evidence,
            )
        return passed(**evidence)
    if not got.followed:
        return errored(f"cannot tell its {ns.namespace} namespace: {got.why}")
    if configured_host:
        return failed(f"uses the host {ns.namespace} namespace{via}", **evidence)
    return passed(**evidence)


NAMESPACE_CHECKS: Final = family(
    container_check,
    [
        Row(
            id="container.host_network",
            cis={"1.8.0": "5.10", "1.6.0": "5.10"},
            severity=Severity.HIGH,
            title="Container does not share the host's network namespace",
            rationale="With the host network the container sees every host interface, can bind any host port and reach "
            "services listening on localhost, such as an unauthenticated Docker API."
            + _NAMESPACE_RULE.format(kind="net"),
            remediation="Drop --network host (and --network container:<X> where X uses it); publish the ports the "
            "service needs on a user-defined network.",
            data=_Namespace(lambda c: c.network_mode, "HostConfig.NetworkMode", "network", kind="net"),
        ),
        Row(
            id="container.host_pid",
            cis={"1.8.0": "5.16", "1.6.0": "5.16"},
            severity=Severity.HIGH,
            title="Container does not share the host's PID namespace",
            rationale="In the host PID namespace the container sees and can signal every host process, and with "
            "ptrace-like capabilities can enter them." + _NAMESPACE_RULE.format(kind="pid"),
            remediation="Drop --pid host (and --pid container:<X> where X uses it).",
            data=_Namespace(lambda c: c.pid_mode, "HostConfig.PidMode", "PID", kind="pid"),
        ),
        Row(
            id="container.host_ipc",
            cis={"1.8.0": "5.17", "1.6.0": "5.17"},
            severity=Severity.HIGH,
            title="Container does not share the host's IPC namespace",
            rationale="The host IPC namespace exposes host shared memory segments and semaphores to the container."
            + _NAMESPACE_RULE.format(kind="ipc"),
            remediation="Drop --ipc host (and --ipc container:<X> where X uses it); share IPC between containers "
            "with --ipc shareable on one and --ipc container:<name> on the others.",
            data=_Namespace(lambda c: c.ipc_mode, "HostConfig.IpcMode", "IPC", kind="ipc"),
        ),
        Row(
            id="container.host_uts",
            cis={"1.8.0": "5.21", "1.6.0": "5.21"},
            severity=Severity.MEDIUM,
            title="Container does not share the host's UTS namespace",
            rationale="In the host UTS namespace a container with the right capability can change the host's "
            "hostname and domain name. Judged on what the container really gets: for a running container on this "
            "host the kernel decides, comparing the inode of /proc/<pid>/ns/uts of its init with the host's (pid "
            "1's, or the engine's dockerd's when pid 1's cannot be read); otherwise HostConfig.UTSMode.",
            remediation="Drop --uts host.",
            data=_Namespace(lambda c: c.uts_mode, "HostConfig.UTSMode", "UTS", kind="uts"),
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
    rationale="Without a CPU limit or share weight one container can starve the others and the host. A limit "
    "counts only when it limits: --cpus (NanoCpus / 1e9) or --cpu-quota / --cpu-period (a 100 ms period when "
    "unset) of as many CPUs as the engine's host has (docker info NCPU) or more leaves the container every "
    "CPU. A share weight other than the default 1024 counts whatever the host.",
    remediation="Set --cpus below the host's CPU count (e.g. --cpus 1.5) or --cpu-shares other than the default 1024.",
)
def container_cpu_limit(c: ContainerFacts, ctx: Context) -> Verdict:
    evidence: dict[str, object] = {
        "HostConfig.NanoCpus": c.nano_cpus,
        "HostConfig.CpuQuota": c.cpu_quota,
        "HostConfig.CpuShares": c.cpu_shares,
    }
    if c.cpu_quota > 0 and c.cpu_period:
        evidence["HostConfig.CpuPeriod"] = c.cpu_period
    if c.cpu_shares not in (0, 1024):
        return passed(**evidence)
    limit = cpu_limit_cpus(c.nano_cpus, c.cpu_quota, c.cpu_period)
    if limit is None:
        return failed("no CPU limit or weight", **evidence)
    host_cpus = ctx.snapshot.runtime_host.cpus if ctx.snapshot.runtime_host is not None else None
    if host_cpus is not None and limit >= host_cpus:
        evidence["host CPUs (NCPU)"] = host_cpus
        return failed(f"a limit of {limit:g} CPUs on a host with {host_cpus} limits nothing", **evidence)
    return passed(f"at most {limit:g} CPUs" + (f" of {host_cpus}" if host_cpus else ""), **evidence)


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
    "container and may be read by host services. Every mount of a host path counts: bind mounts, and volumes "
    "of the local driver created with type=none,o=bind,device=PATH (volume inspect), which bind PATH under "
    "another name; the evidence shows the host path each resolves to.",
    remediation="Append :ro to bind mounts the container only reads (-v /srv/conf:/conf:ro); keep "
    "writable state in named volumes.",
)
def container_rw_host_mounts(c: ContainerFacts, ctx: Context) -> Verdict:
    rw = [_mount_text(m) for m in _binds(c) if m.rw]
    if rw:
        return failed(f"writable host mounts: {', '.join(rw)}", mounts=rw)
    unknown = _unresolved(c, "a writable volume binds a host path", writable=True)
    return unknown or passed(binds=[_mount_text(m) for m in _binds(c)] or "none")


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
    "read-only does not help, because the API still accepts every request over it. Decided from the sockets "
    "that exist on the engine's host: every unix socket a dockerd, containerd, podman or crio process listens on "
    "(their open sockets against /proc/net/unix, so dockerd's own managed containerd counts) and the well-known "
    "socket paths where a socket exists. A mount exposes a socket when the socket's real path is at or below the "
    "real host path of the mount (bind sources and bind-backed volumes resolved on the host); a mounted socket "
    "file named like an engine's (docker.sock ...) counts too. The evidence names only sockets that exist. For a "
    "remote engine the well-known paths stand in, and the finding says so.",
    remediation="Remove the socket mount. If a tool needs the API, give it a filtering proxy that allows "
    "only the calls it needs.",
)
def container_docker_socket(c: ContainerFacts, ctx: Context) -> Verdict:
    runtime = ctx.snapshot.runtime_host
    if runtime is None:  # a snapshot older than the socket facts: the well-known and the daemon's paths
        return _socket_mounts_by_name(c, ctx)
    sockets = {norm_path(s.real): s for s in runtime.sockets}
    hits, exposed_sockets = [], []
    for m in _binds(c):
        src = norm_path(m.real_source)
        exposed = sorted(real for real in sockets if is_under(real, src))
        named = posixpath.basename(src) in ENGINE_SOCKET_NAMES and m.host_type in (None, FileType.SOCKET)
        if exposed == [src] or (named and not exposed):
            hits.append(f"{_mount_text(m)} (engine socket)")
        elif exposed:
            hits.append(f"{_mount_text(m)} (contains {', '.join(exposed)})")
        exposed_sockets += [f"{sockets[real].path} ({sockets[real].found_by})" for real in exposed]
    note = "" if runtime.local else " (judged against the well-known socket paths: the engine's host is not this one)"
    if hits:
        evidence: dict[str, object] = {"mounts": hits}
        if exposed_sockets:
            evidence["engine sockets"] = sorted(set(exposed_sockets))
        return failed(f"engine socket reachable: {'; '.join(hits)}{note}", **evidence)
    if unknown := _unresolved(c, "a volume exposes an engine socket"):
        return unknown
    known = len(runtime.sockets)
    incomplete = (
        "" if runtime.sockets_complete or not runtime.local else " (not every engine process's sockets could be read)"
    )
    return passed(f"no mount reaches any of {known} engine sockets{note or incomplete}")


def _socket_mounts_by_name(c: ContainerFacts, ctx: Context) -> Verdict:
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
    "syscall surface is open to the container. Judged on the confinement in effect: a custom profile (the "
    "engine keeps its JSON in SecurityOpt seccomp=<json>) whose default action lets syscalls through and that "
    "stops none of the syscalls escapes need (mount, umount2, unshare, setns, ptrace, kexec_load, "
    "init_module/finit_module, bpf, open_by_handle_at, keyctl ...) is unconfined in all but name. The kernel's "
    "own view of each process is container.runtime_seccomp.",
    remediation="Remove --security-opt seccomp=unconfined (and --privileged); use the default profile, or a custom "
    "one that denies by default or at least blocks the escape syscalls.",
)
def container_seccomp(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.privileged:
        return failed("privileged: seccomp is disabled", **{"HostConfig.Privileged": True})
    values = _security_opt(c, "seccomp")
    if "unconfined" in values:
        return failed("seccomp=unconfined", SecurityOpt=list(c.security_opt))
    if values:
        return _custom_seccomp(values[-1])
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


def _custom_seccomp(value: str) -> Verdict:
    """A container's own profile: a name (builtin, default) passes; a JSON profile is judged on what it stops."""
    if not value.startswith("{"):
        return passed(f"profile {value}", SecurityOpt=f"seccomp={value}")
    profile, why = seccomp_profile(value)
    if profile is None:
        return passed(f"custom profile (not read: {why})", SecurityOpt="seccomp=(custom)")
    evidence: dict[str, object] = {"SecurityOpt": "seccomp=(custom)", "defaultAction": profile.default_action}
    if not profile.confines:
        return failed(
            f"custom profile that lets every escape syscall through (defaultAction {profile.default_action}, none of "
            f"{', '.join(_ESCAPE_EXAMPLES)} ... blocked): unconfined in all but name",
            **evidence,
        )
    blocked = sorted(profile.blocked_escapes)
    evidence["escape syscalls stopped"] = (
        f"{len(blocked)}: {', '.join(blocked[:8])}{' ...' if len(blocked) > 8 else ''}"
    )
    return passed("custom profile", **evidence)


_ESCAPE_EXAMPLES = ("mount", "unshare", "setns", "ptrace", "bpf", "open_by_handle_at")


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
    "isolate groups of containers and give them DNS. A container joined to another one's network (--network "
    "container:<X>, followed through chains of such joins) is on the networks of the container at the end of "
    "the chain: joined to a container on the default bridge, it is on the default bridge.",
    remediation="Create a network per application (docker network create app) and run with --network app.",
)
def container_default_bridge(c: ContainerFacts, ctx: Context) -> Verdict:
    mode, networks = c.network_mode, c.networks
    evidence: dict[str, object] = {}
    ns = c.namespace("net")
    if ns is not None and joined_container(ns.configured) is not None:
        if not ns.followed:
            return errored(f"cannot tell its networks: {ns.why}")
        mode, networks = ns.resolved, ns.networks or ()
        evidence["HostConfig.NetworkMode"] = _joins_text(ns, "default")
    on_bridge = "bridge" in networks if networks else mode in ("default", "bridge")
    evidence["networks"] = list(networks) or mode
    if on_bridge:
        via = f" (through {' → '.join(ns.via)})" if ns is not None and ns.via else ""
        return failed(f"attached to the default bridge{via}", **evidence)
    return passed(**evidence)


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
    rationale="An exec session as root bypasses the unprivileged user the container was designed to run as. "
    "For a running session on this host the kernel decides: the real uid of its process on the host "
    "(/proc/<pid>/status; a root remapped by user namespaces is not root). Otherwise the --user it was started "
    "with (or the container's) is parsed as runc does: empty, root, or any spelling of uid 0 (0, 00, 0:...).",
    remediation="Use docker exec --user <uid> with the application's user.",
)
def container_exec_root(c: ContainerFacts, ctx: Context) -> Verdict:
    if c.execs is None:
        return errored(ctx.why(Fact.EXEC, c.id))
    bad = []
    for e in _user_execs(c):
        user = e.user or c.user
        host_uid = _exec_uid(c, e)
        if host_uid is not None:
            if host_uid == 0:
                bad.append(f"{e.id[:12]} {e.entrypoint} (pid {e.pid} runs as uid 0 on the host; user {user or 'root'})")
        elif is_root_user(user):
            bad.append(f"{e.id[:12]} {e.entrypoint} (user {user or 'root'})")
    if bad:
        return failed(f"exec sessions as root: {', '.join(bad)}", execs=bad)
    return passed(f"{len(_user_execs(c))} exec session(s)")


def _remap(ctx: Context) -> str:
    """Why root inside is not root on the host, as far as the engine says."""
    if ctx.engine is not None and ctx.engine.rootless:
        return " (a rootless daemon)"
    if ctx.engine is not None and ctx.engine.userns_remap:
        return " (userns-remap)"
    return " (it dropped root after starting)"


def _exec_uid(c: ContainerFacts, e: ExecFacts) -> int | None:
    """The host uid of a running exec session's process, when the container's processes were read here."""
    if not e.running or not e.pid:
        return None
    p = next((p for p in c.processes or () if p.pid == e.pid), None)
    return _host_uid(p) if p is not None else None


def _host_uid(p: ProcessFacts) -> int | None:
    """A process's real uid on the host: its status when read, else what psutil saw."""
    return p.status.uid[0] if p.status is not None else p.uid


# --- identity and secrets ------------------------------------------------------------------------


@container_check(
    id="container.user",
    severity=Severity.MEDIUM,
    title="Container runs as a non-root user",
    rationale="Root in a container is root on the host unless user namespaces remap it; a non-root user "
    "makes most escapes and file-permission abuses fail. For a running container on this host the kernel "
    "decides: the real uid on the host of its init process (/proc/<pid>/status), so a root remapped by "
    "userns-remap or a rootless daemon passes and an entrypoint that drops to another user passes. Otherwise "
    "Config.User is parsed as runc does (empty, root, or any spelling of uid 0: 0, 00, 0:...), and root inside "
    "passes only where the daemon remaps it and the container does not opt out (--userns host).",
    remediation="Set USER in the image or --user <uid>:<gid>; or enable userns-remap on the daemon.",
)
def container_user(c: ContainerFacts, ctx: Context) -> Verdict:
    user = c.user or "(empty: root)"
    init = next((p for p in c.processes or () if p.pid == c.pid), None) if c.running else None
    host_uid = _host_uid(init) if init is not None else None
    if init is not None and host_uid is not None:
        evidence = {"Config.User": user, "host uid": f"{host_uid} (pid {init.pid} {init.name})"}
        if host_uid == 0:
            disagree = "" if is_root_user(c.user) else " (configuration and kernel disagree: Config.User is not root)"
            return failed(f"its init process runs as root on the host{disagree}", **evidence)
        if is_root_user(c.user):
            return passed(
                f"Config.User is root, but its init runs as uid {host_uid} on the host{_remap(ctx)}", **evidence
            )
        return passed(**evidence)
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
    """The one detector of runbench.secrets, as for images: name rules, detect-secrets plugins, and what the
    value looks like (`TOKEN_TTL=3600`, `DB_PASSWORD_FILE=/run/secrets/db`, `${VAR}` are not secrets)."""
    found = [(var, why) for var in c.env for secret, why in [is_secret(var)] if secret]
    if found:
        names = ", ".join(var.name for var, _ in found)
        return failed(f"secrets in environment: {names}", variables=[secret_evidence(v, why) for v, why in found])
    return passed(f"{len(c.env)} variables, none secret")


# --- kernel truth: what /proc/<pid>/status says of every process of the container -------------------------


def _statuses(c: ContainerFacts, ctx: Context) -> tuple[list[tuple[ProcessFacts, ProcessStatus]], Verdict | None]:
    """The container's processes with their status, or the verdict that says why they cannot be judged."""
    if not c.running:
        return [], _not_running(c)
    if c.processes is None:
        return [], errored(ctx.why(Fact.PROCESSES, c.id))
    read = [(p, p.status) for p in c.processes if p.status is not None]
    if read:
        return read, None
    whys = [p.status_why for p in c.processes if p.status_why]
    if whys:
        return [], errored(f"the status of its processes could not be read: {whys[0]}")
    if not c.processes:
        return [], errored("none of its processes was seen in the host's /proc")
    return [], errored("process status not collected (a snapshot of an older runbench)")


def _unread(c: ContainerFacts, read: int) -> dict[str, object]:
    missing = len(c.processes or ()) - read
    return {"not read": f"{missing} of {len(c.processes or ())} processes (exited during the scan?)"} if missing else {}


def _n(processes: Sized) -> str:
    return f"{len(processes)} process" if len(processes) == 1 else f"{len(processes)} processes"


def _who(p: ProcessFacts) -> str:
    return f"pid {p.pid} ({p.name or p.exe or '?'})"


_RUNTIME_RULE = (
    " Read from the host, never docker exec: /proc/<pid>/status of every process the container started (its "
    "init and everything below it, and its exec sessions' processes), one read each."
)


@container_check(
    id="container.runtime_capabilities",
    severity=Severity.HIGH,
    title="No process of the container holds a capability beyond its configuration, or a dangerous one",
    rationale="The capability sets the kernel gives each process are the truth about what it can do: a "
    "capability outside the set the configuration grants (Docker's defaults + CapAdd − CapDrop, or all when "
    "privileged) means configuration and kernel disagree (docker exec --privileged, a runtime that ignores the "
    "configuration), and a dangerous capability (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE ...) held in the "
    "effective, permitted or bounding set is an escape aid whatever the configuration says." + _RUNTIME_RULE,
    remediation="Drop the capability (--cap-drop, or --cap-drop ALL and add back only what is needed); end exec "
    "sessions started with --privileged.",
)
def container_runtime_capabilities(c: ContainerFacts, ctx: Context) -> Verdict:
    procs, why = _statuses(c, ctx)
    if why is not None:
        return why
    configured = effective_capabilities(c.privileged, c.cap_add, c.cap_drop)
    outside: dict[str, str] = {}
    dangerous: dict[str, str] = {}
    for p, st in procs:
        sets = (("CapEff", st.cap_eff), ("CapPrm", st.cap_prm), ("CapBnd", st.cap_bnd))
        if not c.privileged and (text := _caps_text({k: [x for x in v if x not in configured] for k, v in sets})):
            outside[_who(p)] = text
        if text := _caps_text({k: [x for x in v if x in DANGEROUS_CAPS] for k, v in sets}):
            dangerous[_who(p)] = text
    evidence: dict[str, object] = {"configured": "all (privileged)" if c.privileged else sorted(configured) or "none"}
    if outside:
        first = next(iter(outside.items()))
        return failed(
            f"configuration and kernel disagree: {first[0]} holds {first[1]}, outside the configured set",
            **evidence,
            **outside,
        )
    if dangerous:
        first = next(iter(dangerous.items()))
        return failed(f"dangerous capabilities held: {first[0]} {first[1]}", **evidence, **dangerous)
    init = next((st for p, st in procs if p.pid == c.pid), procs[0][1])
    evidence["CapEff (init)"] = list(init.cap_eff) or "none"
    return passed(f"{_n(procs)} within the configured set", **evidence, **_unread(c, len(procs)))


def _caps_text(by_set: dict[str, list[str]]) -> str:
    """`CapEff SYS_ADMIN; CapBnd SYS_ADMIN` for the sets that hold any."""
    return "; ".join(f"{name} {', '.join(caps)}" for name, caps in by_set.items() if caps)


def _seccomp_claim(c: ContainerFacts, ctx: Context) -> tuple[bool | None, str]:
    """Whether the configuration asks for a seccomp profile (None: cannot be told), in words."""
    if c.privileged:
        return False, "privileged"
    values = _security_opt(c, "seccomp")
    if values:
        last = values[-1]
        return last != "unconfined", f"seccomp={'(custom)' if last.startswith('{') else last}"
    if ctx.engine is None:
        return None, ctx.why(Fact.ENGINE)
    profile = ctx.engine.seccomp_profile
    if profile is None:
        return False, "the engine has no seccomp support"
    return profile != "unconfined", f"the daemon's {profile} profile"


@container_check(
    id="container.runtime_seccomp",
    severity=Severity.HIGH,
    title="Every process of the container runs under a seccomp filter",
    rationale="A process whose status says Seccomp 0 has the whole kernel syscall surface open to it, whatever "
    "the configuration claims: when the configuration asks for a profile, configuration and kernel disagree; "
    "when it does not (seccomp=unconfined, privileged, an exec session started privileged), the kernel "
    "confirms it. Judged only where the kernel supports seccomp (its status files have a Seccomp field)."
    + _RUNTIME_RULE,
    remediation="Remove --security-opt seccomp=unconfined and --privileged (also from docker exec); keep the "
    "default profile or a custom one.",
)
def container_runtime_seccomp(c: ContainerFacts, ctx: Context) -> Verdict:
    procs, why = _statuses(c, ctx)
    if why is not None:
        return why
    runtime = ctx.snapshot.runtime_host
    if (runtime is not None and runtime.seccomp is False) or all(st.seccomp is None for _, st in procs):
        return skipped("the host's kernel has no seccomp (no Seccomp field in /proc/<pid>/status)")
    claims, config = _seccomp_claim(c, ctx)
    off = [_who(p) for p, st in procs if st.seccomp == 0]
    evidence: dict[str, object] = {"configured": config}
    if off:
        evidence["Seccomp 0 (disabled)"] = off
        if claims:
            return failed(f"configuration and kernel disagree: {config}, but {off[0]} runs with Seccomp 0", **evidence)
        return failed(f"{off[0]} runs with Seccomp 0 (disabled), as configured: {config}", **evidence)
    modes = sorted({"strict" if st.seccomp == 1 else "filter" for _, st in procs if st.seccomp})
    return passed(
        f"{_n(procs)} under seccomp ({', '.join(modes)})",
        Seccomp=", ".join(f"{_who(p)} {st.seccomp}" for p, st in procs[:5]),
        **evidence,
        **_unread(c, len(procs)),
    )


def _nnp_claim(c: ContainerFacts, ctx: Context) -> tuple[bool | None, str]:
    """Whether the configuration asks for no-new-privileges (None: cannot be told), and where that is said."""
    values = _security_opt(c, "no-new-privileges")
    if values:
        last = values[-1]
        return last == "" or go_true(last), f"SecurityOpt no-new-privileges{'=' + last if last else ''}"
    default = ctx.setting("no-new-privileges")
    if not default.known:
        return None, default.why
    return default.value is True, f"daemon default {_bool_text(default.value)} ({', '.join(default.sources)})"


@container_check(
    id="container.runtime_nnp",
    severity=Severity.MEDIUM,
    title="The kernel enforces the no-new-privileges the configuration asks for",
    rationale="no-new-privileges is a flag the kernel sets on a process (NoNewPrivs 1 in its status) and that "
    "every child inherits; a process with NoNewPrivs 0 in a container configured with no-new-privileges (on "
    "the container or as the daemon default) can gain privileges through setuid binaries after all: "
    "configuration and kernel disagree. A container that does not ask for it is judged by "
    "container.no_new_privileges; here it is skipped." + _RUNTIME_RULE,
    remediation="Find what starts the process without the flag (an exec session, a runtime that ignores the "
    "option) and run with --security-opt no-new-privileges.",
)
def container_runtime_nnp(c: ContainerFacts, ctx: Context) -> Verdict:
    procs, why = _statuses(c, ctx)
    if why is not None:
        return why
    if all(st.no_new_privs is None for _, st in procs):
        return skipped("the host's kernel does not report NoNewPrivs (older than Linux 4.10)")
    claims, config = _nnp_claim(c, ctx)
    off = [_who(p) for p, st in procs if st.no_new_privs is False]
    evidence: dict[str, object] = {"configured": config}
    if not off:
        evidence["NoNewPrivs 1"] = [_who(p) for p, _ in procs[:5]]
        note = " (though the configuration does not ask for it)" if claims is False else ""
        return passed(f"{_n(procs)} with NoNewPrivs 1{note}", **evidence, **_unread(c, len(procs)))
    evidence["NoNewPrivs 0"] = off
    if claims is True:
        return failed(f"configuration and kernel disagree: {config}, but {off[0]} runs with NoNewPrivs 0", **evidence)
    if claims is None:
        return errored(f"{off[0]} runs with NoNewPrivs 0 and whether the daemon asks for the flag is unknown: {config}")
    return skipped(f"the configuration does not ask for no-new-privileges ({config}): container.no_new_privileges")


@container_check(
    id="container.runtime_root",
    severity=Severity.MEDIUM,
    title="No process of the container runs as root on the host",
    rationale="A process whose real or effective uid on the host is 0 is root on the host as soon as it "
    "leaves its namespaces; the host uid is what the kernel shows from outside the container, so user namespace "
    "remapping (userns-remap, a rootless daemon) makes root inside a harmless uid and this check pass." + _RUNTIME_RULE,
    remediation="Run the container as a non-root user (--user <uid>, USER in the image), or enable "
    "userns-remap on the daemon.",
)
def container_runtime_root(c: ContainerFacts, ctx: Context) -> Verdict:
    procs, why = _statuses(c, ctx)
    if why is not None:
        return why
    root = {_who(p): "Uid " + " ".join(map(str, st.uid)) for p, st in procs if st.root}
    if root:
        first = next(iter(root))
        more = f" and {len(root) - 1} more" if len(root) > 1 else ""
        return failed(f"{first}{more} runs as uid 0 on the host", **root)
    uids = sorted({st.uid[0] for _, st in procs})
    return passed(f"{_n(procs)}, host uid {', '.join(map(str, uids))}", **{"Config.User": c.user or "(empty: root)"})
