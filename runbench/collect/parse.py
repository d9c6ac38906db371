"""Turn Engine API JSON into typed facts. Pure: no I/O, so recorded API answers test it.

Every free-text field from the host is redacted here, before it enters a fact (runbench.secrets): healthcheck
tests, commands and entrypoints, history steps, labels, network options, exec entrypoints. Whatever compares
such a field with something else (the health probe recognition in `probe_of`/`exec_facts`) compares the raw
answer, before redaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from runbench.collect.values import items as _l
from runbench.collect.values import number as _i
from runbench.collect.values import obj as _d
from runbench.collect.values import text as _s
from runbench.collect.values import texts as _strs
from runbench.secrets import SecretScanner, redact, redact_argv, redact_label
from runbench.snapshot import (
    ContainerFacts,
    DeviceMapping,
    EngineFacts,
    ExecFacts,
    Healthcheck,
    ImageFacts,
    MountFacts,
    NetworkFacts,
    PortBinding,
    SwarmFacts,
    Ulimit,
)

JSON = Mapping[str, Any]


def _labels(value: Any) -> dict[str, str]:
    return {str(k): _s(v) for k, v in _d(value).items()}


def _redacted_labels(value: Any, scanner: SecretScanner | None = None) -> dict[str, str]:
    """Labels (or options), each value stubbed under a secret-looking key (…password, …token) and otherwise
    redacted like any free text (a URL with a password, `TOKEN=…` inside, a token a detect-secrets plugin flags)."""
    return {k: redact_label(k, v, scanner) for k, v in _labels(value).items()}


def _health(value: Any) -> Healthcheck | None:
    """The healthcheck as the engine answered it, unredacted: only for comparing with exec sessions."""
    hc = _d(value)
    if not hc:
        return None
    return Healthcheck(
        test=_strs(hc.get("Test")),
        interval_ns=_i(hc.get("Interval")),
        timeout_ns=_i(hc.get("Timeout")),
        retries=_i(hc.get("Retries")),
    )


def healthcheck(value: Any, scanner: SecretScanner | None = None) -> Healthcheck | None:
    """The healthcheck as a fact: its test redacted (`CMD-SHELL PGPASSWORD=hu…(14 chars) pg_isready`)."""
    hc = _health(value)
    if hc is None or not hc.test:
        return hc
    kind, rest = hc.test[0], hc.test[1:]
    if kind in ("CMD", "CMD-SHELL", "NONE"):
        test = (kind, *redact_argv(rest, scanner))
    else:
        test = redact_argv(hc.test, scanner)
    return replace(hc, test=test)


def container_facts(data: JSON, execs: tuple[ExecFacts, ...], scanner: SecretScanner) -> ContainerFacts:
    config, host, state = _d(data.get("Config")), _d(data.get("HostConfig")), _d(data.get("State"))
    restart = _d(host.get("RestartPolicy"))
    bindings = []
    for port, binds in sorted(_d(host.get("PortBindings")).items()):
        for b in _l(binds) or [{}]:
            bd = _d(b)
            bindings.append(
                PortBinding(container_port=str(port), host_ip=_s(bd.get("HostIp")), host_port=_s(bd.get("HostPort")))
            )
    mounts = tuple(
        MountFacts(
            type=_s(m.get("Type")),
            source=_s(m.get("Source")),
            destination=_s(m.get("Destination")),
            rw=bool(m.get("RW")),
            propagation=_s(m.get("Propagation")),
            mode=_s(m.get("Mode")),
            name=_s(m.get("Name")),
            driver=_s(m.get("Driver")) if m.get("Type") == "volume" else None,
        )
        for m in map(_d, _l(data.get("Mounts")))
    )
    devices = tuple(
        DeviceMapping(
            host_path=_s(d.get("PathOnHost")),
            container_path=_s(d.get("PathInContainer")),
            permissions=_s(d.get("CgroupPermissions")),
        )
        for d in map(_d, _l(host.get("Devices")))
    )
    requests = tuple(
        f"{_s(r.get('Driver')) or 'default'} count={r.get('Count')} ids={','.join(_strs(r.get('DeviceIDs')))} "
        f"caps={','.join('+'.join(_strs(c)) for c in _l(r.get('Capabilities')))}"
        for r in map(_d, _l(host.get("DeviceRequests")))
    )
    ulimits = tuple(
        Ulimit(name=_s(u.get("Name")), soft=_i(u.get("Soft")), hard=_i(u.get("Hard")))
        for u in map(_d, _l(host.get("Ulimits")))
    )
    health = _d(state.get("Health"))
    pids_limit = host.get("PidsLimit")
    oom = host.get("OomKillDisable")
    return ContainerFacts(
        id=_s(data.get("Id")),
        name=_s(data.get("Name")).lstrip("/"),
        image_ref=_s(config.get("Image")),
        image_id=_s(data.get("Image")),
        state=_s(state.get("Status")) or "unknown",
        created=_s(data.get("Created")),
        pid=_i(state.get("Pid")),
        labels=_redacted_labels(config.get("Labels"), scanner),
        user=_s(config.get("User")),
        env=scanner.scan_env(_strs(config.get("Env"))),
        privileged=bool(host.get("Privileged")),
        cap_add=_strs(host.get("CapAdd")),
        cap_drop=_strs(host.get("CapDrop")),
        security_opt=_strs(host.get("SecurityOpt")),
        apparmor_profile=_s(data.get("AppArmorProfile")),
        process_label=_s(data.get("ProcessLabel")),
        readonly_rootfs=bool(host.get("ReadonlyRootfs")),
        network_mode=_s(host.get("NetworkMode")) or "default",
        networks=tuple(sorted(_d(_d(data.get("NetworkSettings")).get("Networks")))),
        pid_mode=_s(host.get("PidMode")),
        ipc_mode=_s(host.get("IpcMode")),
        uts_mode=_s(host.get("UTSMode")),
        userns_mode=_s(host.get("UsernsMode")),
        cgroup_parent=_s(host.get("CgroupParent")),
        memory=_i(host.get("Memory")),
        nano_cpus=_i(host.get("NanoCpus")),
        cpu_quota=_i(host.get("CpuQuota")),
        cpu_period=_i(host.get("CpuPeriod")),
        cpu_shares=_i(host.get("CpuShares")),
        cpuset_cpus=_s(host.get("CpusetCpus")),
        pids_limit=pids_limit if isinstance(pids_limit, int) and not isinstance(pids_limit, bool) else None,
        oom_kill_disable=oom if isinstance(oom, bool) else None,
        restart_policy=_s(restart.get("Name")) or "no",
        restart_max_retries=_i(restart.get("MaximumRetryCount")),
        mounts=mounts,
        port_bindings=tuple(bindings),
        publish_all_ports=bool(host.get("PublishAllPorts")),
        exposed_ports=tuple(sorted(_d(config.get("ExposedPorts")))),
        devices=devices,
        device_cgroup_rules=_strs(host.get("DeviceCgroupRules")),
        device_requests=requests,
        ulimits=ulimits,
        healthcheck=healthcheck(config.get("Healthcheck"), scanner),
        health_status=_s(health.get("Status")),
        execs=execs,
    )


def health_argv(hc: Healthcheck | None, shell: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The argv the engine execs for a healthcheck probe: CMD as is, CMD-SHELL under the image's SHELL
    (Config.Shell) or /bin/sh -c."""
    if hc is None or hc.disabled or len(hc.test) < 2:
        return None
    kind, rest = hc.test[0], hc.test[1:]
    if kind == "CMD":
        return rest
    if kind == "CMD-SHELL":
        return (*(shell or ("/bin/sh", "-c")), " ".join(rest))
    return None


def probe_of(inspect: JSON) -> tuple[tuple[str, ...], str] | None:
    """(argv, user) of the container's healthcheck probe execs, or None without a healthcheck."""
    config = _d(inspect.get("Config"))
    argv = health_argv(_health(config.get("Healthcheck")), _strs(config.get("Shell")))
    return None if argv is None else (argv, _s(config.get("User")))


def exec_facts(data: JSON, probe: tuple[tuple[str, ...], str] | None = None) -> ExecFacts:
    """An exec session; `probe` (from probe_of) marks the engine's own healthcheck probe: same argv, same
    user as the container (the engine runs probes as Config.User), not privileged, no tty. The argv is compared
    as the engine answered it; only argv[0], redacted, is kept."""
    proc = _d(data.get("ProcessConfig"))
    argv = (_s(proc.get("entrypoint")), *_strs(proc.get("arguments")))
    return ExecFacts(
        id=_s(data.get("ID")),
        running=bool(data.get("Running")),
        privileged=bool(proc.get("privileged", data.get("Privileged"))),
        user=_s(proc.get("user")),
        entrypoint=redact(argv[0]),
        healthcheck=probe is not None
        and argv == probe[0]
        and _s(proc.get("user")) == probe[1]
        and not proc.get("privileged")
        and not proc.get("tty"),
        pid=_i(data.get("Pid")) or None,
    )


def image_facts(data: JSON, history: list[Any] | None, scanner: SecretScanner) -> ImageFacts:
    """An image's facts (runbench.collect.images builds them: instructions, base hints, secrets)."""
    from runbench.collect.images import image_facts as build

    return build(data, history, scanner)


def network_facts(data: JSON) -> NetworkFacts:
    return NetworkFacts(
        id=_s(data.get("Id")),
        name=_s(data.get("Name")),
        driver=_s(data.get("Driver")),
        scope=_s(data.get("Scope")),
        internal=bool(data.get("Internal")),
        options=_redacted_labels(data.get("Options")),
    )


def engine_facts(info: JSON, version: JSON) -> EngineFacts:
    registry = _d(info.get("RegistryConfig"))
    return EngineFacts(
        hostname=_s(info.get("Name")),
        engine_id=_s(info.get("ID")),
        server_version=_s(version.get("Version")) or _s(info.get("ServerVersion")),
        api_version=_s(version.get("ApiVersion")),
        min_api_version=_s(version.get("MinAPIVersion")),
        os=_s(info.get("OperatingSystem")),
        os_type=_s(info.get("OSType")),
        kernel=_s(info.get("KernelVersion")),
        architecture=_s(info.get("Architecture")),
        root_dir=_s(info.get("DockerRootDir")),
        storage_driver=_s(info.get("Driver")),
        logging_driver=_s(info.get("LoggingDriver")),
        cgroup_driver=_s(info.get("CgroupDriver")),
        cgroup_version=_s(info.get("CgroupVersion")),
        security_options=_strs(info.get("SecurityOptions")),
        experimental=bool(info.get("ExperimentalBuild")),
        live_restore=bool(info.get("LiveRestoreEnabled")),
        insecure_registries=_strs(registry.get("InsecureRegistryCIDRs"))
        + tuple(k for k, v in _d(registry.get("IndexConfigs")).items() if not _d(v).get("Secure", True)),
        containers_total=_i(info.get("Containers")),
        images_total=_i(info.get("Images")),
    )


def host_cpus(info: JSON) -> int | None:
    """The engine host's CPU count (/info NCPU); None when the engine does not say."""
    ncpu = _i(info.get("NCPU"))
    return ncpu if ncpu > 0 else None


def swarm_facts(info: JSON) -> SwarmFacts:
    """The node's swarm membership as /info reports it (Managers and Nodes only on a manager)."""
    swarm = _d(info.get("Swarm"))
    manager = bool(swarm.get("ControlAvailable"))
    managers, nodes = swarm.get("Managers"), swarm.get("Nodes")
    return SwarmFacts(
        state=_s(swarm.get("LocalNodeState")) or "inactive",
        node_id=_s(swarm.get("NodeID")),
        node_addr=_s(swarm.get("NodeAddr")),
        cluster_id=_s(_d(swarm.get("Cluster")).get("ID")),
        manager=manager,
        managers=managers if manager and isinstance(managers, int) and not isinstance(managers, bool) else None,
        nodes=nodes if manager and isinstance(nodes, int) and not isinstance(nodes, bool) else None,
    )
