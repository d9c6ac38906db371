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
from collections.abc import Mapping
from typing import Any

from runbench import daemonconfig
from runbench.authoring import Context
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
    EnvVar,
    ExecFacts,
    Healthcheck,
    HostFacts,
    ImageFacts,
    MountFacts,
    PortBinding,
    ProcessFacts,
    Snapshot,
    Ulimit,
)

CONTAINER_ID = "c0ffee" + "0" * 58
IMAGE_REF = "registry.example/app:1.2"
IMAGE_ID = "sha256:" + "a" * 64
OTHER_IMAGE_ID = "sha256:" + "b" * 64
HEALTHCHECK = Healthcheck(test=("CMD", "/app", "--health"), interval_ns=30_000_000_000, retries=3)
SECCOMP_DEFAULT = "name=seccomp,profile=default"

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
    "processes": (),
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
