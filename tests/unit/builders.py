"""Typed fact builders for unit tests.

`container()` is COMPLIANT by default: every container check passes (or skips, where the engine lacks the
feature) on `container()` evaluated with `context()`, so a test states only the field under test:

    container(privileged=True)                      # fails container.privileged (and friends)
    container(mounts=(mount("/etc", rw=False),))    # fails container.sensitive_mounts at high severity
    context(engine=engine(security_options=()))     # an engine without seccomp support

`env()` goes through runbench.secrets' real scanner, so detection in tests is the product's detection.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbench import daemonconfig
from runbench.authoring import Context, DaemonView, Inventory
from runbench.policy import Params
from runbench.secrets import SecretScanner
from runbench.snapshot import (
    CollectOptions,
    ContainerFacts,
    ContainerSummary,
    DaemonConfig,
    DaemonFacts,
    DeviceMapping,
    EngineFacts,
    EnvAssignment,
    EnvironmentFileFacts,
    EnvVar,
    ExecFacts,
    Fact,
    FileFinding,
    Healthcheck,
    HostFacts,
    ImageContents,
    ImageFacts,
    MountFacts,
    PortBinding,
    ProbeAttempt,
    ProbeOutcome,
    ProcessFacts,
    ProcessStatus,
    Snapshot,
    SwarmFacts,
    SwarmNode,
    SystemdUnit,
    TcpExposure,
    TcpListener,
    Ulimit,
    UnitCommand,
    UnitSetting,
)

CONTAINER_ID = "c0ffee" + "0" * 58
IMAGE_REF = "registry.example/app:1.2"
IMAGE_ID = "sha256:" + "a" * 64
OTHER_IMAGE_ID = "sha256:" + "b" * 64
HEALTHCHECK = Healthcheck(test=("CMD", "/app", "--health"), interval_ns=30_000_000_000, retries=3)
SECCOMP_DEFAULT = "name=seccomp,profile=default"
# What the kernel says of the compliant container's one process: uid 1000, no capability (--cap-drop ALL),
# a seccomp filter, no-new-privileges.
COMPLIANT_STATUS = ProcessStatus(
    uid=(1000, 1000, 1000, 1000),
    gid=(1000, 1000, 1000, 1000),
    cap_eff=(),
    cap_prm=(),
    cap_bnd=(),
    seccomp=2,
    no_new_privs=True,
)

# One scanner for the whole session: it caches per (name, value) and loads detect-secrets once.
SCANNER = SecretScanner()

_COMPLIANT: dict[str, Any] = {
    "id": CONTAINER_ID,
    "name": "app",
    "image_ref": IMAGE_REF,
    "image_id": IMAGE_ID,
    "state": "running",
    "created": "2026-01-01T00:00:00Z",
    "pid": 4242,
    "labels": {},
    "user": "1000",
    "env": (),
    "privileged": False,
    "cap_add": (),
    "cap_drop": ("ALL",),
    "security_opt": ("no-new-privileges",),
    "apparmor_profile": "docker-default",
    "process_label": "system_u:system_r:container_t:s0:c1,c2",
    "readonly_rootfs": True,
    "network_mode": "app",
    "networks": ("app",),
    "pid_mode": "",
    "ipc_mode": "private",
    "uts_mode": "",
    "userns_mode": "",
    "cgroup_parent": "",
    "memory": 256 * 1024 * 1024,
    "nano_cpus": 1_000_000_000,
    "cpu_quota": 0,
    "cpu_shares": 0,
    "cpuset_cpus": "",
    "pids_limit": 100,
    "oom_kill_disable": False,
    "restart_policy": "on-failure",
    "restart_max_retries": 5,
    "mounts": (),
    "port_bindings": (),
    "publish_all_ports": False,
    "exposed_ports": (),
    "devices": (),
    "device_cgroup_rules": (),
    "device_requests": (),
    "ulimits": (),
    "healthcheck": HEALTHCHECK,
    "health_status": "healthy",
    "execs": (),
    "processes": (ProcessFacts(pid=4242, name="app", exe="app", uid=1000, status=COMPLIANT_STATUS),),
    "cpu_period": 0,
    "namespaces": None,  # not resolved: the checks judge the configuration (resolutions: see the end of this file)
}


assert set(_COMPLIANT) == {f.name for f in dataclasses.fields(ContainerFacts)}, "state every field's compliant value"


def container(**overrides: Any) -> ContainerFacts:
    """A compliant running container; keyword arguments replace single fields."""
    return ContainerFacts(**{**_COMPLIANT, **overrides})


def engine(**overrides: Any) -> EngineFacts:
    """Engine facts of a plain Linux engine with the default seccomp profile, no AppArmor, no SELinux."""
    values: dict[str, Any] = {
        "hostname": "testhost",
        "engine_id": "TEST:ENGINE",
        "server_version": "24.0.7",
        "api_version": "1.43",
        "min_api_version": "1.12",
        "os": "Debian GNU/Linux 12 (bookworm)",
        "os_type": "linux",
        "kernel": "6.1.0",
        "architecture": "x86_64",
        "root_dir": "/var/lib/docker",
        "storage_driver": "overlay2",
        "logging_driver": "json-file",
        "cgroup_driver": "systemd",
        "cgroup_version": "2",
        "security_options": (SECCOMP_DEFAULT,),
    }
    values.update(overrides)
    return EngineFacts(**values)


def daemon(**overrides: Any) -> DaemonFacts:
    """A found dockerd (pid 1234, root) without daemon.json, serving the default socket."""
    values: dict[str, Any] = {
        "pid": 1234,
        "uid": 0,
        "argv": ("/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"),
        "config_file": "",
        "sockets": ("/run/docker.sock",),
    }
    values.update(overrides)
    return DaemonFacts(**values)


def host(**overrides: Any) -> HostFacts:
    values: dict[str, Any] = {"hostname": "testhost", "local": True, "kernel": "6.1.0", "os": "Debian 12"}
    values.update(overrides)
    return HostFacts(**values)


def daemon_config(
    daemon_facts: DaemonFacts | None = None,
    *,
    daemon_json: str | None = None,
    daemon_json_why: str = "",
    info: Mapping[str, Any] | None = None,
) -> DaemonConfig:
    """The effective configuration the collector builds for `daemon_facts` (default: `daemon()`), its
    daemon.json text (or why it could not be read) and /info, through the product's own builder."""
    d = daemon() if daemon_facts is None else daemon_facts
    found = d.pid is not None
    return daemonconfig.build(
        argv=d.argv if found else None,
        argv_why="" if found else "no dockerd process is visible on this host",
        daemon_json=daemon_json,
        daemon_json_path=d.config_file,
        daemon_json_why=daemon_json_why,
        info=info,
    )


def context(
    *,
    daemon_json: str | None = None,
    daemon_json_why: str = "",
    info: Mapping[str, Any] | None = None,
    params: Params | None = None,
    images: Mapping[str, ImageFacts] | tuple[ImageFacts, ...] = (),
    **overrides: Any,
) -> Context:
    """The run's context: engine, daemon and host present; the container's tag points to its image.

    The daemon's effective configuration is built from `daemon` (its argv), `daemon_json` and `info`
    unless `daemon_config` is given; `daemon=None` is a daemon process that was not found."""
    d = overrides.get("daemon", daemon())
    if "daemon_config" not in overrides:
        found = d if d is not None else DaemonFacts(pid=None)
        overrides["daemon_config"] = daemon_config(
            found, daemon_json=daemon_json, daemon_json_why=daemon_json_why, info=info
        )
    image_list = tuple(images.values()) if isinstance(images, Mapping) else images
    snap = snapshot(container(), images=image_list, **{"image_tags": {IMAGE_REF: IMAGE_ID}, **overrides})
    return Context(snap, params)


def env(name: str, value: str) -> EnvVar:
    """An environment variable as the collector stores it (name, length, stub, detectors): real detection."""
    return SCANNER.scan_env([f"{name}={value}"])[0]


def mount(
    source: str,
    destination: str | None = None,
    *,
    rw: bool = True,
    type: str = "bind",
    propagation: str = "rprivate",
    name: str = "",
) -> MountFacts:
    return MountFacts(
        type=type,
        source=source,
        destination=destination or f"/mnt{source if source != '/' else '/root'}",
        rw=rw,
        propagation=propagation if type == "bind" else "",
        mode="" if rw else "ro",
        name=name,
    )


def volume(name: str, destination: str, *, rw: bool = True) -> MountFacts:
    return mount(f"/var/lib/docker/volumes/{name}/_data", destination, rw=rw, type="volume", name=name)


def port(host_port: str = "8080", *, host_ip: str = "127.0.0.1", container_port: str = "80/tcp") -> PortBinding:
    return PortBinding(container_port=container_port, host_ip=host_ip, host_port=host_port)


def device(host_path: str = "/dev/fuse", container_path: str | None = None, permissions: str = "rwm") -> DeviceMapping:
    return DeviceMapping(host_path=host_path, container_path=container_path or host_path, permissions=permissions)


def ulimit(name: str = "nofile", soft: int = 1024, hard: int = 2048) -> Ulimit:
    return Ulimit(name=name, soft=soft, hard=hard)


def process(name: str, *, pid: int = 100, exe: str | None = None, uid: int | None = 1000) -> ProcessFacts:
    return ProcessFacts(pid=pid, name=name, exe=name if exe is None else exe, uid=uid)


def exec_session(
    *,
    privileged: bool = False,
    user: str = "1000",
    running: bool = True,
    entrypoint: str = "sh",
    id: str = "",
    healthcheck: bool = False,
) -> ExecFacts:
    return ExecFacts(
        id=id or ("e" * 64),
        running=running,
        privileged=privileged,
        user=user,
        entrypoint=entrypoint,
        healthcheck=healthcheck,
    )


def image(**overrides: Any) -> ImageFacts:
    values: dict[str, Any] = {
        "id": IMAGE_ID,
        "tags": (IMAGE_REF,),
        "created": "2026-01-01T00:00:00Z",
        "user": "1000",
        "healthcheck": HEALTHCHECK,
        "layers": 3,
        "history": (),
    }
    values.update(overrides)
    return ImageFacts(**values)


def snapshot(*containers: ContainerFacts, **overrides: Any) -> Snapshot:
    """A snapshot of an engine with the given containers (default: one compliant container)."""
    cs = containers or (container(),)
    values: dict[str, Any] = {
        "runbench_version": "0.0.0-test",
        "collected_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 0.5,
        "options": CollectOptions(),
        "engine": engine(),
        "daemon": daemon(),
        "host": host(),
        "containers": cs,
        "images": (image(),),
        "inventory": tuple(ContainerSummary(id=c.id, name=c.name, image=c.image_ref, state=c.state) for c in cs),
        "image_tags": {IMAGE_REF: IMAGE_ID},
    }
    values.update(overrides)
    if "daemon_config" not in values:
        found = values["daemon"] if values["daemon"] is not None else DaemonFacts(pid=None)
        values["daemon_config"] = daemon_config(found)
    return Snapshot(**values)


# --- the daemon scope (checks/daemon.py) ------------------------------------------------------------

HARDENED_ARGV = (
    "/usr/bin/dockerd",
    "-H",
    "fd://",
    "--containerd=/run/containerd/containerd.sock",
    "--icc=false",
    "--no-new-privileges",
    "--userland-proxy=false",
    "--live-restore",
    "--userns-remap=default",
    "--authorization-plugin=authz-broker",
    "--default-ulimit=nofile=1024:2048",
    "--log-driver=syslog",
)


def info(**overrides: Any) -> dict[str, Any]:
    """A /info answer of a plain engine: overlay2, json-file logs, the default seccomp profile, no swarm."""
    values: dict[str, Any] = {
        "ServerVersion": "24.0.7",
        "Driver": "overlay2",
        "LoggingDriver": "json-file",
        "LiveRestoreEnabled": False,
        "ExperimentalBuild": False,
        "Debug": False,
        "DefaultRuntime": "runc",
        "DockerRootDir": "/var/lib/docker",
        "Plugins": {"Authorization": None},
        "RegistryConfig": {"InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"], "IndexConfigs": {}, "Mirrors": []},
        "SecurityOptions": [SECCOMP_DEFAULT],
        "Swarm": {"LocalNodeState": "inactive"},
    }
    values.update(overrides)
    return values


def hardened_info(**overrides: Any) -> dict[str, Any]:
    """/info of the daemon HARDENED_ARGV starts (what info reports live agrees with the flags)."""
    values = info(
        LoggingDriver="syslog",
        LiveRestoreEnabled=True,
        Plugins={"Authorization": ["authz-broker"]},
        SecurityOptions=[SECCOMP_DEFAULT, "name=userns", "name=no-new-privileges"],
    )
    values.update(overrides)
    return values


def verified_daemon(**overrides: Any) -> DaemonFacts:
    """`daemon()` proven to serve the engine's socket (as the collector records it)."""
    values: dict[str, Any] = {"verified": True, "verified_by": "the kernel names dockerd pid 1234 (SO_PEERCRED)"}
    values.update(overrides)
    return daemon(**values)


def daemon_view(ctx: Context) -> DaemonView:
    """The daemon scope's subject as the engine builds it from `ctx`."""
    assert ctx.engine is not None
    return DaemonView(ctx.engine, ctx.daemon, ctx.daemon_config, ctx.why(Fact.DAEMON_CONFIG))


def probe_attempt(outcome: ProbeOutcome, *, tls: bool = False, why: str = "", api_version: str = "") -> ProbeAttempt:
    return ProbeAttempt(
        tls=tls, outcome=outcome, why=why or f"{'TLS' if tls else 'plain'}: {outcome}", api_version=api_version
    )


def tcp_listener(
    address: str = "127.0.0.1",
    port: int = 2375,
    *outcomes: ProbeOutcome,
    process: str = "dockerd",
    pid: int | None = 1234,
    daemon_pid: int | None = 1234,
) -> TcpListener:
    """A TCP listener probed with the given outcomes (plain first, then TLS); none: not probed."""
    attempts = tuple(probe_attempt(o, tls=i == 1) for i, o in enumerate(outcomes))
    probed = "" if not outcomes else f"{'127.0.0.1' if address == '0.0.0.0' else address}:{port}"
    found_by = f"listening socket held by {process} pid {pid}" if pid is not None else "configured"
    return TcpListener(address, port, process, pid, daemon_pid, found_by, probed, attempts)


def tcp(*listeners: TcpListener, complete: bool = True, notes: tuple[str, ...] = ()) -> TcpExposure:
    return TcpExposure(listeners=listeners, notes=notes, complete=complete)


def docker_service(
    exec_start: str,
    argv: tuple[str, ...],
    *,
    environment: tuple[EnvAssignment, ...] = (),
    environment_files: tuple[EnvironmentFileFacts, ...] = (),
    path: str = "/lib/systemd/system/docker.service",
    line: int = 12,
) -> SystemdUnit:
    """docker.service as runbench.collect.systemd records it: ExecStart= as written and as expanded."""
    command = UnitCommand(setting=UnitSetting(exec_start, path, line), argv=argv)
    return SystemdUnit(
        name="docker.service",
        fragment_path=path,
        exec_start=(command,),
        environment=environment,
        environment_files=environment_files,
    )


def env_file(path: str, **values: str) -> EnvironmentFileFacts:
    """An EnvironmentFile read line by line (line N holds the N-th assignment)."""
    assignments = tuple(EnvAssignment(k, v, path, i) for i, (k, v) in enumerate(values.items(), 1))
    return EnvironmentFileFacts(path=path, read=True, values=assignments)


# --- the host and file scopes (checks/host.py, checks/files.py) ---------------------------------------

from runbench.snapshot import (  # noqa: E402 - kept with the builders that use them
    AuditFacts,
    AuditTarget,
    AuditWatch,
    DirListing,
    FileFacts,
    FileType,
    GroupFacts,
    PathMount,
)

# Where each audit target (runbench.collect.hostinfo.audit_targets) is on the compliant host.
AUDIT_PATHS: dict[str, str] = {
    "dockerd": "/usr/bin/dockerd",
    "run_containerd": "/run/containerd",
    "var_lib_docker": "/var/lib/docker",
    "etc_docker": "/etc/docker",
    "docker_service": "/lib/systemd/system/docker.service",
    "containerd_sock": "/run/containerd/containerd.sock",
    "docker_sock": "/lib/systemd/system/docker.socket",
    "etc_default_docker": "/etc/default/docker",
    "daemon_json": "/etc/docker/daemon.json",
    "containerd_config": "/etc/containerd/config.toml",
    "etc_sysconfig_docker": "/etc/sysconfig/docker",
    "containerd_bin": "/usr/bin/containerd",
    "containerd_shim": "/usr/bin/containerd-shim",
    "containerd_shim_runc_v1": "/usr/bin/containerd-shim-runc-v1",
    "containerd_shim_runc_v2": "/usr/bin/containerd-shim-runc-v2",
    "runc": "/usr/bin/runc",
}
REGISTRY_CERT = "/etc/docker/certs.d/registry.example:5000/ca.crt"


def audit_watch(path: str, *, perms: str = "", key: str = "docker", tree: bool = False) -> AuditWatch:
    rule = f"-w {path}" + (f" -p {perms}" if perms else "") + f" -k {key}"
    return AuditWatch(path=path, perms=perms, key=key, rule=rule, source="auditctl -l", tree=tree, real=path)


def audit_rules(*watches: AuditWatch, source: str = "auditctl -l") -> AuditFacts:
    return AuditFacts(source=source, watches=watches)


def audit_targets(**paths: str | None) -> tuple[AuditTarget, ...]:
    """Every target at its AUDIT_PATHS place, existing; `name=None` makes one missing, `name="/x"` moves it."""
    out = []
    for name, default in AUDIT_PATHS.items():
        path = paths.get(name, default)
        out.append(AuditTarget(name=name, path=path or default, exists=path is not None, real=path or default))
    return tuple(out)


def data_mount(role: str = "Docker root", path: str = "/var/lib/docker", **overrides: Any) -> PathMount:
    """A data directory that is a filesystem of its own (its own device, mounted at the directory)."""
    values: dict[str, Any] = {
        "role": role,
        "path": path,
        "found_by": "docker info DockerRootDir",
        "mount_point": path,
        "fs_type": "ext4",
        "source": "/dev/vg0/docker",
        "device": "253:1",
        "root": "/",
        "parent_device": "253:0",
    }
    values.update(overrides)
    return PathMount(**values)


def group(name: str = "docker", gid: int = 999, *members: str, primary: tuple[str, ...] = ()) -> GroupFacts:
    return GroupFacts(name=name, gid=gid, members=members, primary=primary, reasons=("the docker group",))


def socket_unit(*listen: str, path: str = "/lib/systemd/system/docker.socket") -> SystemdUnit:
    """docker.socket with its ListenStream= lines (root:docker 0660)."""
    return SystemdUnit(
        name="docker.socket",
        fragment_path=path,
        listen_streams=tuple(UnitSetting(v, path, 7 + i) for i, v in enumerate(listen)),
        socket_mode=UnitSetting("0660", path, 8),
        socket_user=UnitSetting("root", path, 9),
        socket_group=UnitSetting("docker", path, 10),
    )


def hardened_host(**overrides: Any) -> HostFacts:
    """`host()` with everything the host checks read, COMPLIANT: every audit target watched, Docker's data on
    filesystems of their own, nobody in the docker group, AppArmor on, cgroup v2, the units in /lib."""
    values: dict[str, Any] = {
        "host_root": "/",
        "euid": 0,
        "lsms": ("capability", "yama", "apparmor"),
        "cgroup_version": "2",
        "systemd": (
            docker_service("/usr/bin/dockerd -H fd://", ("/usr/bin/dockerd", "-H", "fd://")),
            socket_unit("/run/docker.sock"),
        ),
        "default_files": (),
        "audit": audit_rules(*(audit_watch(p) for p in AUDIT_PATHS.values())),
        "audit_targets": audit_targets(),
        "data_mounts": (data_mount(), data_mount("containerd root", "/var/lib/containerd", device="253:2")),
        "groups": (group(),),
        "registry_certs": DirListing(path="/etc/docker/certs.d", exists=True, files=(REGISTRY_CERT,)),
        "unread": {},
    }
    values.update(overrides)
    return host(**values)


def file_facts(
    path: str,
    type: FileType = FileType.FILE,
    mode: int = 0o644,
    *,
    uid: int = 0,
    gid: int = 0,
    owner: str | None = None,
    group: str | None = None,
    target: str = "",
    error: str = "",
) -> FileFacts:
    """lstat facts of one path (names default to root/docker/user<N> by id)."""
    names = {0: "root", 999: "docker"}
    return FileFacts(
        path=path,
        type=type,
        uid=uid,
        gid=gid,
        owner=owner if owner is not None else names.get(uid, f"user{uid}"),
        group=group if group is not None else names.get(gid, f"group{gid}"),
        mode=mode,
        target=target,
        error=error,
    )


# --- images (checks/images.py), ops and swarm (checks/operations.py, checks/swarm.py) ---------------------

# The OCI labels, healthcheck, user and references of an image that passes every image check.
OCI_LABELS = {
    "org.opencontainers.image.source": "https://git.example/app",
    "org.opencontainers.image.version": "1.2.0",
    "org.opencontainers.image.authors": "security@example.com",
}


def history_rows(*steps: str, tags: Mapping[int, tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    """GET /images/{id}/history rows for `steps` given in Dockerfile order (oldest first); the engine answers
    newest first. `tags`: step number (1 = oldest) -> the local tags of the image that step produced."""
    rows = [
        {"CreatedBy": text, "Created": 1_767_000_000 + i, "Size": 0, "Tags": list((tags or {}).get(i + 1, ()))}
        for i, text in enumerate(steps)
    ]
    return list(reversed(rows))


COMPLIANT_HISTORY = (
    "/bin/sh -c #(nop) ADD file:0123abcd in / ",  # a base image's root filesystem
    '/bin/sh -c #(nop)  CMD ["sh"]',
    "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates",
    "/bin/sh -c #(nop) COPY file:4567 in /app ",
    "/bin/sh -c #(nop)  USER 1000",
)


def built_image(
    *,
    env: tuple[str, ...] = (),
    labels: Mapping[str, str] | None = None,
    history: tuple[str, ...] | list[dict[str, Any]] | None = COMPLIANT_HISTORY,
    user: str = "1000",
    healthcheck: Mapping[str, Any] | None = None,
    exposed: tuple[str, ...] = (),
    tags: tuple[str, ...] = (IMAGE_REF,),
    digests: tuple[str, ...] = (),
    created: str = "2025-12-01T00:00:00.123456789Z",
    references: tuple[str, ...] | None = (IMAGE_REF,),
    **overrides: Any,
) -> ImageFacts:
    """An image as the collector builds it from inspect and history answers (runbench.collect.images, the real
    secret scanner): compliant by default, so a case states only what it changes."""
    from runbench.collect.images import image_facts

    config = {
        "User": user,
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", *env],
        "Labels": dict(OCI_LABELS if labels is None else labels),
        "Healthcheck": {"Test": ["CMD", "/app", "--health"], "Interval": 30_000_000_000}
        if healthcheck is None
        else dict(healthcheck),
        "ExposedPorts": {p: {} for p in exposed},
        "Cmd": ["/app"],
    }
    data = {
        "Id": IMAGE_ID,
        "RepoTags": list(tags),
        "RepoDigests": list(digests),
        "Created": created,
        "Size": 42_000_000,
        "Config": config,
        "RootFS": {"Layers": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
    }
    rows = history_rows(*history) if isinstance(history, tuple) else history
    facts = image_facts(data, rows, SCANNER, references)
    return dataclasses.replace(facts, **overrides)


def image_contents(**overrides: Any) -> ImageContents:
    """What --deep read of a clean image."""
    values: dict[str, Any] = {"complete": True, "layers": 2, "files": 120, "bytes_read": 9_000_000}
    values.update(overrides)
    return ImageContents(**values)


def file_finding(path: str, mode: int = 0o644, what: str = "", layer: int = 1) -> FileFinding:
    return FileFinding(path=path, mode=mode, what=what, layer=layer)


def inventory(containers: tuple[ContainerSummary, ...] = (), image_tags: Mapping[str, str] | None = None) -> Inventory:
    """The ops scope's subject: the listed containers and every tagged image."""
    return Inventory(containers=containers, image_tags=dict(image_tags or {}))


def summary(
    name: str, state: str = "running", image: str = IMAGE_REF, image_id: str | None = IMAGE_ID
) -> ContainerSummary:
    return ContainerSummary(id=f"{abs(hash(name)):064x}"[:64], name=name, image=image, state=state, image_id=image_id)


def swarm_node(
    id: str, role: str = "manager", *, addr: str = "10.0.0.1", leader: bool = False, hostname: str = ""
) -> SwarmNode:
    return SwarmNode(
        id=id,
        hostname=hostname or id,
        role=role,
        state="ready",
        availability="active",
        addr=addr,
        manager_addr=f"{addr}:2377" if role == "manager" else "",
        leader=leader,
        reachability="reachable" if role == "manager" else "",
    )


def swarm(**overrides: Any) -> SwarmFacts:
    """An active manager of a compliant swarm: 3 managers of 5 nodes, autolock on, 30-day node certificates,
    services with swarm secrets and none in their environment."""
    nodes = (
        swarm_node("m1", leader=True, addr="10.0.0.1"),
        swarm_node("m2", addr="10.0.0.2"),
        swarm_node("m3", addr="10.0.0.3"),
        swarm_node("w1", "worker", addr="10.0.0.4"),
        swarm_node("w2", "worker", addr="10.0.0.5"),
    )
    values: dict[str, Any] = {
        "state": "active",
        "node_id": "m1",
        "node_addr": "10.0.0.1",
        "cluster_id": "cluster1",
        "manager": True,
        "managers": 3,
        "nodes": 5,
        "node_list": nodes,
        "autolock": True,
        "unlock_key_set": True,
        "node_cert_expiry_s": 30 * 86_400,
        "ca_cert_expiry": "2046-01-01T00:00:00+00:00",
        "external_cas": 0,
        "root_rotation_in_progress": False,
        "data_path_port": 4789,
        "services": 2,
        "services_with_secrets": 2,
        "services_with_env_secrets": 0,
        "secrets": 3,
    }
    values.update(overrides)
    return SwarmFacts(**values)


def tcp_exposure(*endpoints: tuple[str, int], process: str = "dockerd", complete: bool = True) -> TcpExposure:
    """TCP listeners of the engine's processes: (address, port) pairs."""
    listeners = tuple(TcpListener(address=a, port=p, process=process, pid=1234) for a, p in endpoints)
    return TcpExposure(listeners=listeners, complete=complete, notes=() if complete else ("not root",))


# --- what a container really gets (runbench.collect.resolve, runbench.collect.proc) ---------------------

from runbench.snapshot import EngineSocket, NamespaceFacts, RuntimeHost  # noqa: E402 - kept with their builders

RUNTIME_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"


def recorded_status(name: str) -> ProcessStatus:
    """/proc/<pid>/status of a recorded container's init (tests/fixtures/runtime/status-<name>.txt)."""
    from runbench.collect.proc import parse_status

    status, why = parse_status((RUNTIME_FIXTURES / f"status-{name}.txt").read_text())
    assert status is not None, why
    return status


def recorded_inspect(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RUNTIME_FIXTURES / f"inspect-{name}.json").read_text())
    return data


def kernel_status(
    *,
    uid: int = 1000,
    caps: tuple[str, ...] = (),
    cap_eff: tuple[str, ...] | None = None,
    seccomp: int | None = 2,
    no_new_privs: bool | None = True,
) -> ProcessStatus:
    """What the kernel shows of a process: `caps` in every set (root keeps them effective; another uid only in
    its bounding set, unless `cap_eff` says otherwise)."""
    eff = cap_eff if cap_eff is not None else (caps if uid == 0 else ())
    return ProcessStatus(
        uid=(uid,) * 4,
        gid=(uid,) * 4,
        cap_eff=eff,
        cap_prm=eff,
        cap_bnd=caps,
        seccomp=seccomp,
        no_new_privs=no_new_privs,
    )


def running_process(
    status: ProcessStatus | None,
    *,
    pid: int = 4242,
    name: str = "app",
    status_why: str | None = None,
) -> ProcessFacts:
    """A process of a running container with the kernel's view of it (None: its status could not be read)."""
    uid = status.uid[0] if status is not None else 1000
    return ProcessFacts(pid=pid, name=name, exe=name, uid=uid, status=status, status_why=status_why)


def namespace(
    kind: str,
    configured: str,
    resolved: str | None = None,
    *,
    via: tuple[str, ...] = (),
    why: str = "",
    networks: tuple[str, ...] | None = None,
    kernel_host: bool | None = None,
) -> NamespaceFacts:
    """A resolved namespace; `kernel_host` True/False gives it inodes equal to / other than the host's."""
    inode = host_inode = None
    if kernel_host is not None:
        host_inode = 4026531833
        inode = host_inode if kernel_host else 4026532001
    return NamespaceFacts(
        kind=kind,
        configured=configured,
        resolved=configured if resolved is None else resolved,
        via=via,
        why=why,
        networks=networks,
        inode=inode,
        host_inode=host_inode,
    )


def namespaces(**modes: NamespaceFacts) -> tuple[NamespaceFacts, ...]:
    """The four resolved namespaces of a private container, with `modes` (net=..., pid=...) replacing some."""
    private = {
        "net": namespace("net", "app", networks=("app",)),
        "pid": namespace("pid", ""),
        "ipc": namespace("ipc", "private"),
        "uts": namespace("uts", ""),
    }
    return tuple({**private, **modes}.values())


def resolved_mount(
    source: str,
    host_path: str,
    destination: str = "/mnt/x",
    *,
    rw: bool = True,
    host_type: FileType = FileType.DIRECTORY,
    resolution: str = "resolved on the host",
) -> MountFacts:
    """A bind mount whose source the collector resolved on the host."""
    return dataclasses.replace(
        mount(source, destination, rw=rw), host_path=host_path, host_type=host_type, resolution=resolution
    )


def bind_volume(name: str, device: str, destination: str = "/data", *, rw: bool = True) -> MountFacts:
    """A volume of the local driver created with type=none,o=bind,device=DEVICE, resolved."""
    return dataclasses.replace(
        volume(name, destination, rw=rw),
        driver="local",
        volume_bind=True,
        host_path=device,
        host_type=FileType.DIRECTORY,
        resolution=f"volume {name} of the local driver binds {device} (o=bind); resolved on the host",
    )


def engine_socket(path: str, process: str = "dockerd", real: str | None = None) -> EngineSocket:
    return EngineSocket(
        path=path, real=real or path, found_by=f"{process} pid 1234 listens on it", process=process, pid=1234
    )


def runtime_host(*sockets: EngineSocket, **overrides: Any) -> RuntimeHost:
    """The engine host as resolved on a local engine: 8 CPUs, seccomp, pid 1 readable, the given sockets."""
    values: dict[str, Any] = {
        "local": True,
        "cpus": 8,
        "seccomp": True,
        "namespace_reference": "pid 1",
        "sockets": sockets or (engine_socket("/var/run/docker.sock", real="/run/docker.sock"),),
    }
    values.update(overrides)
    return RuntimeHost(**values)


def kernel_view(c: ContainerFacts) -> ProcessFacts:
    """The init of running container `c` as the kernel shows it when the runtime honours the configuration:
    Config.User's uid (root for a name), the configured capabilities (effective only for root), seccomp on
    unless unconfined or privileged, NoNewPrivs as the container asks."""
    from runbench.semantics import effective_capabilities, security_opt_values, user_uid

    uid = user_uid(c.user) or 0
    caps = tuple(sorted(effective_capabilities(c.privileged, c.cap_add, c.cap_drop)))
    seccomp = 0 if c.privileged or "unconfined" in security_opt_values(c.security_opt, "seccomp") else 2
    nnp = security_opt_values(c.security_opt, "no-new-privileges")
    status = kernel_status(uid=uid, caps=caps, seccomp=seccomp, no_new_privs=bool(nnp) and nnp[-1] in ("", "true"))
    return running_process(status, pid=c.pid, name="sleep")
