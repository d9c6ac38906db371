"""runbench.collect.parse on Engine API answers recorded from a real engine (docker 20.10, cgroup v1).

The answers under tests/fixtures/ were captured with tests/fixtures/capture.py (containers rbu-*); every
environment value in them is fake. Each scenario's facts are asserted field by field, then evaluated
through the catalog, and no environment value may survive into the facts or the snapshot JSON.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from builders import SCANNER, context, kernel_view

from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.collect import parse
from runbench.model import Scope, Severity, Status
from runbench.policy import Params
from runbench.snapshot import (
    CollectOptions,
    ContainerFacts,
    DaemonFacts,
    DeviceMapping,
    EngineFacts,
    ExecFacts,
    Healthcheck,
    MountFacts,
    PortBinding,
    Snapshot,
    Ulimit,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENARIOS = ("hardened", "dangerous", "hostns", "defaults", "ports")
BASE_IMAGE_ID = "sha256:88742a6f44fee542fdfb6797c10ae3c832aedd4be98fcb7a0e7606830e199100"
FAKE_DB_PASSWORD = "fake-db-password-for-tests-0001"


def load(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text(encoding="utf-8"))


def raw(scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = load(f"inspect/{scenario}.json")
    return data


def facts(scenario: str) -> ContainerFacts:
    """What the collector makes of the recorded answer (the health probe argv decides which execs are probes)."""
    data = raw(scenario)
    probe = parse.probe_of(data)
    execs: tuple[ExecFacts, ...] = ()
    if scenario == "hardened":
        execs = (parse.exec_facts(load("inspect/exec-root.json"), probe),)
    return parse.container_facts(data, execs, SCANNER)


@pytest.fixture(scope="module")
def engine_facts() -> EngineFacts:
    return parse.engine_facts(load("engine/info.json"), load("engine/version.json"))


@pytest.fixture(scope="module")
def ctx(engine_facts: EngineFacts) -> Context:
    """The context the collector would build on that engine: dockerd found, no daemon.json."""
    dockerd = DaemonFacts(pid=100, uid=0, argv=("/usr/sbin/dockerd", "-H", "fd://"), sockets=("/run/docker.sock",))
    return context(
        engine=engine_facts,
        daemon=dockerd,
        info=load("engine/info.json"),
        image_tags={"rbdev/bb:1": BASE_IMAGE_ID},
        params=Params(),
    )


# --- container facts, scenario by scenario ------------------------------------------------------


def test_common_identity() -> None:
    for scenario in SCENARIOS:
        c = facts(scenario)
        assert c.name == f"rbu-{scenario}"
        assert c.id == raw(scenario)["Id"] and len(c.id) == 64
        assert (c.image_ref, c.image_id) == ("rbdev/bb:1", BASE_IMAGE_ID)
        assert c.labels["runbench.fixture"] == "1"
        assert c.processes is None  # read from /proc by the collector, never by parse


def test_hardened() -> None:
    c = facts("hardened")
    assert (c.state, c.running, c.pid > 0) == ("running", True, True)
    assert c.user == "1000:1000"
    assert (c.privileged, c.readonly_rootfs) == (False, True)
    assert (c.cap_add, c.cap_drop) == (("CAP_NET_BIND_SERVICE",), ("ALL",))
    assert c.security_opt == ("no-new-privileges",)
    assert (c.memory, c.nano_cpus, c.cpu_quota, c.cpu_shares) == (64 * 1024 * 1024, 500_000_000, 0, 0)
    assert (c.pids_limit, c.oom_kill_disable) == (100, False)
    assert (c.restart_policy, c.restart_max_retries) == ("on-failure", 3)
    assert c.port_bindings == (PortBinding("8080/tcp", "127.0.0.1", "18080"),)
    assert c.exposed_ports == ("8080/tcp",)
    assert (c.network_mode, c.networks) == ("rbu-net", ("rbu-net",))
    assert c.mounts == (
        MountFacts(
            type="volume",
            source="/var/lib/docker/volumes/rbu-vol/_data",
            destination="/data",
            rw=True,
            propagation="",
            mode="z",
            name="rbu-vol",
            driver="local",
        ),
    )
    assert c.healthcheck == Healthcheck(test=("CMD-SHELL", "true"), interval_ns=1_000_000_000, retries=1)
    assert c.health_status == "healthy"
    assert (c.devices, c.device_cgroup_rules, c.ulimits, c.cgroup_parent) == ((), (), (), "")
    assert c.execs == (
        ExecFacts(
            id="5a3fc7020d0d69e8270149e56076f2f0ff5906afdcd1722df02285cf00d79d33",
            running=True,
            privileged=False,
            user="0",
            entrypoint="sleep",
            healthcheck=False,
            pid=23553,
        ),
    )


def test_hardened_environment_is_name_length_stub_detectors() -> None:
    env = {v.name: v for v in facts("hardened").env}
    assert set(env) == {"DB_PASSWORD", "DB_PASSWORD_FILE", "EMPTY"}
    pw = env["DB_PASSWORD"]
    assert (pw.length, pw.stub) == (len(FAKE_DB_PASSWORD), "fa…(31 chars)")
    assert "Secret Keyword" in pw.detectors
    assert (env["DB_PASSWORD_FILE"].length, env["DB_PASSWORD_FILE"].stub) == (15, "/r…(15 chars)")
    assert (env["EMPTY"].length, env["EMPTY"].detectors) == (0, ())


def test_dangerous() -> None:
    c = facts("dangerous")
    assert (c.state, c.running, c.pid) == ("created", False, 0)
    assert c.privileged is True
    # the engine normalises capability names to CAP_ form
    assert (c.cap_add, c.cap_drop) == (("CAP_NET_ADMIN", "CAP_SYS_ADMIN"), ("CAP_MKNOD",))
    assert c.security_opt == ("seccomp=unconfined", "label=disable")
    assert c.mounts == (
        MountFacts("bind", "/etc", "/host-etc", rw=True, propagation="rprivate"),
        MountFacts("bind", "/tmp", "/hosttmp", rw=True, propagation="rshared"),
        MountFacts("bind", "/var/run/docker.sock", "/var/run/docker.sock", rw=False, propagation="rprivate", mode="ro"),
    )
    assert c.port_bindings == (PortBinding("8080/tcp", "", "80"), PortBinding("8443/tcp", "", ""))
    assert c.devices == (DeviceMapping("/dev/null", "/dev/xnull", "r"),)
    assert c.device_cgroup_rules == ("c 1:3 mr",)
    assert c.ulimits == (Ulimit("nofile", 1024, 2048),)
    assert (c.restart_policy, c.restart_max_retries) == ("always", 0)
    assert c.pids_limit is None  # --pids-limit -1 is recorded as null
    assert (c.oom_kill_disable, c.memory) == (True, 0)
    assert c.cgroup_parent == "/rbu-parent"
    assert (c.network_mode, c.networks) == ("default", ("bridge",))
    assert (c.healthcheck, c.health_status) == (None, "")


def test_dangerous_environment_detection() -> None:
    env = {v.name: v for v in facts("dangerous").env}
    assert "AWS Access Key" in env["AWS_ACCESS_KEY_ID"].detectors
    assert "AWS Access Key" in env["AWS_SECRET_ACCESS_KEY"].detectors
    assert env["GITHUB_TOKEN"].detectors == ("GitHub Token",)
    assert "Secret Keyword" not in env["GPG_KEY"].detectors


def test_hostns() -> None:
    c = facts("hostns")
    assert (c.network_mode, c.networks) == ("host", ("host",))
    assert (c.pid_mode, c.ipc_mode, c.uts_mode, c.userns_mode) == ("host", "host", "host", "host")
    assert c.healthcheck == Healthcheck(test=("NONE",)) and c.healthcheck.disabled
    assert c.user == "0:0"
    assert (c.restart_policy, c.restart_max_retries) == ("on-failure", 0)
    assert c.security_opt == ("no-new-privileges=false", "label=disable")
    assert (c.cap_add, c.cap_drop) == ((), ())  # null in the API


def test_defaults() -> None:
    c = facts("defaults")
    assert c.user == ""
    assert (c.cap_add, c.cap_drop, c.security_opt) == ((), (), ())
    assert (c.memory, c.nano_cpus, c.cpu_shares, c.pids_limit, c.oom_kill_disable) == (0, 0, 0, None, False)
    assert (c.restart_policy, c.restart_max_retries) == ("no", 0)
    assert (c.network_mode, c.networks, c.ipc_mode, c.pid_mode) == ("default", ("bridge",), "private", "")
    assert (c.mounts, c.port_bindings, c.env, c.healthcheck, c.readonly_rootfs) == ((), (), (), None, False)


def test_ports() -> None:
    c = facts("ports")
    assert c.port_bindings == (
        PortBinding("443/tcp", "::", "9443"),
        PortBinding("53/udp", "127.0.0.1", ""),
        PortBinding("9000/tcp", "0.0.0.0", "9000"),
        PortBinding("9001/tcp", "0.0.0.0", "9001"),
    )
    assert c.publish_all_ports is True
    assert c.exposed_ports == ("443/tcp", "53/udp", "9000/tcp", "9001/tcp", "9100/tcp")
    assert (c.restart_policy, c.restart_max_retries) == ("on-failure", 5)


# --- the recorded containers through the catalog ------------------------------------------------

EXPECTED: dict[str, dict[str, Status]] = {
    "hardened": {
        "container.exec_root": Status.FAIL,  # a root exec session was live at capture
        "container.env_secrets": Status.FAIL,  # DB_PASSWORD (fake), beside a harmless DB_PASSWORD_FILE
        "container.open_ports": Status.MANUAL,  # 127.0.0.1:18080 is published: a human reviews it
    },
    "dangerous": {
        "container.privileged": Status.FAIL,
        "container.capabilities": Status.FAIL,
        "container.sensitive_mounts": Status.FAIL,
        "container.docker_socket": Status.FAIL,
        "container.rw_host_mounts": Status.FAIL,
        "container.mount_propagation": Status.FAIL,
        "container.devices": Status.FAIL,
        "container.seccomp": Status.FAIL,
        "container.privileged_ports": Status.FAIL,
        "container.ports_all_interfaces": Status.FAIL,
        "container.open_ports": Status.MANUAL,
        "container.ulimit_override": Status.MANUAL,
        "container.cgroup_parent": Status.MANUAL,
        "container.restart_policy": Status.FAIL,
        "container.pids_limit": Status.FAIL,
        "container.oom_kill_disable": Status.FAIL,
        "container.memory_limit": Status.FAIL,
        "container.cpu_limit": Status.FAIL,
        "container.env_secrets": Status.FAIL,
        "container.user": Status.FAIL,
        "container.read_only_rootfs": Status.FAIL,
        "container.healthcheck": Status.FAIL,
        "container.default_bridge": Status.FAIL,
        "container.no_new_privileges": Status.FAIL,
        "container.sshd": Status.SKIP,
    },
    "hostns": {
        "container.host_network": Status.FAIL,
        "container.host_pid": Status.FAIL,
        "container.host_ipc": Status.FAIL,
        "container.host_uts": Status.FAIL,
        "container.host_userns": Status.FAIL,
        "container.healthcheck": Status.FAIL,
        "container.user": Status.FAIL,
        "container.no_new_privileges": Status.FAIL,
        "container.restart_policy": Status.FAIL,
        "container.memory_limit": Status.FAIL,
        "container.cpu_limit": Status.FAIL,
        "container.pids_limit": Status.FAIL,
        "container.read_only_rootfs": Status.FAIL,
        "container.sshd": Status.SKIP,
    },
    "defaults": {
        "container.default_bridge": Status.FAIL,
        "container.memory_limit": Status.FAIL,
        "container.cpu_limit": Status.FAIL,
        "container.pids_limit": Status.FAIL,
        "container.read_only_rootfs": Status.FAIL,
        "container.user": Status.FAIL,
        "container.healthcheck": Status.FAIL,
        "container.no_new_privileges": Status.FAIL,
        "container.sshd": Status.SKIP,
    },
    "ports": {
        "container.ports_all_interfaces": Status.FAIL,
        "container.open_ports": Status.MANUAL,
        "container.default_bridge": Status.FAIL,
        "container.memory_limit": Status.FAIL,
        "container.cpu_limit": Status.FAIL,
        "container.pids_limit": Status.FAIL,
        "container.read_only_rootfs": Status.FAIL,
        "container.user": Status.FAIL,
        "container.healthcheck": Status.FAIL,
        "container.no_new_privileges": Status.FAIL,
        "container.sshd": Status.SKIP,
    },
}
# on this engine (no AppArmor, SELinux off) these two skip for every container
ALWAYS = {"container.apparmor": Status.SKIP, "container.selinux": Status.SKIP}
# the kernel's view of a container's processes: none to read for a container that does not run
NOT_RUNNING = dict.fromkeys(
    ("container.runtime_capabilities", "container.runtime_seccomp", "container.runtime_nnp", "container.runtime_root"),
    Status.SKIP,
)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_recorded_scenario_verdicts(catalog: Catalog, ctx: Context, scenario: str) -> None:
    c = facts(scenario)
    if c.running:  # as the collector would give: /proc read, no sshd; its init as its configuration makes it
        c = replace(c, processes=(kernel_view(c),))
    got = {check.id: check.evaluate(c, ctx).status for check in catalog.of_scope(Scope.CONTAINER)}
    expected = dict.fromkeys(got, Status.PASS) | ALWAYS | ({} if c.running else NOT_RUNNING) | EXPECTED[scenario]
    assert got == expected


def test_recorded_env_secret_names_only_the_secret(catalog: Catalog, ctx: Context) -> None:
    verdict = catalog["container.env_secrets"].evaluate(facts("hardened"), ctx)
    assert verdict.detail == "secrets in environment: DB_PASSWORD"
    assert dict(verdict.evidence)["variables"] == "[DB_PASSWORD=fa…(31 chars) [secret-like name]]"


def test_recorded_read_only_socket_mount_is_still_critical(catalog: Catalog, ctx: Context) -> None:
    c = facts("dangerous")
    socket = catalog["container.docker_socket"].evaluate(c, ctx)
    assert "/var/run/docker.sock:/var/run/docker.sock:ro (engine socket)" in socket.detail
    mounts = catalog["container.sensitive_mounts"].evaluate(c, ctx)
    assert mounts.severity is None  # rw /etc: the check's critical severity
    assert catalog["container.sensitive_mounts"].meta.severity is Severity.CRITICAL


# --- no environment value survives ------------------------------------------------------------------


def _env_values(data: dict[str, Any]) -> list[str]:
    values = [e.partition("=")[2] for e in (data.get("Config") or {}).get("Env") or []]
    return [v for v in values if len(v) >= 8]


@pytest.mark.parametrize("scenario", ["hardened", "dangerous"])
def test_no_env_value_in_facts_or_snapshot(scenario: str, engine_facts: EngineFacts) -> None:
    data = raw(scenario)
    values = _env_values(data)
    assert len(values) >= 2  # the scenario really carries (fake) secrets
    c = parse.container_facts(data, (), SCANNER)
    snap = Snapshot(
        runbench_version="t",
        collected_at="t",
        duration_s=0.0,
        options=CollectOptions(),
        engine=engine_facts,
        daemon=None,
        host=None,
        containers=(c,),
    )
    text = repr(c) + snap.dumps()
    for value in values:
        assert value not in text
        assert value[2:] not in text


def test_no_env_value_in_image_facts() -> None:
    data = load("image/secretimg.json")
    img = parse.image_facts(data, load("image/secretimg-history.json"), SCANNER)
    assert FAKE_DB_PASSWORD in json.dumps(data)  # the recorded answer holds it ...
    assert FAKE_DB_PASSWORD not in repr(img)  # ... the facts do not
    assert FAKE_DB_PASSWORD[2:] not in repr(img)


# --- images, networks, engine -------------------------------------------------------------------


def test_image_facts() -> None:
    img = parse.image_facts(load("image/secretimg.json"), load("image/secretimg-history.json"), SCANNER)
    assert img.id == "sha256:d589165f6c01d51e82d9566494802c3b32cdc3482ddb92f1fd7723852aff9d19"
    assert (img.tags, img.digests) == (("rbu/secretimg:1",), ())
    assert img.user == "1000"
    assert img.healthcheck == Healthcheck(test=("CMD", "/bin/busybox", "true"), interval_ns=30_000_000_000)
    assert img.labels == {"runbench.fixture": "1"}
    assert img.layers == 1
    assert [v.name for v in img.env] == ["PATH", "DB_PASSWORD"]
    assert img.history is not None and len(img.history) == 5
    env_step = next(h for h in img.history if " ENV " in h.created_by)
    assert env_step.created_by == "/bin/sh -c #(nop)  ENV DB_PASSWORD=fa…(31 chars) PATH=/usr/bin:/bin"
    assert env_step.empty_layer is True
    assert img.history[0].created_by == "/bin/sh -c #(nop)  USER 1000"


def test_image_without_history() -> None:
    img = parse.image_facts(load("image/secretimg.json"), None, SCANNER)
    assert img.history is None


def test_network_facts() -> None:
    net = parse.network_facts(load("engine/network-rbu-net.json"))
    assert (net.name, net.driver, net.scope, net.internal, dict(net.options)) == (
        "rbu-net",
        "bridge",
        "local",
        False,
        {},
    )


def test_engine_facts_from_info_and_version(engine_facts: EngineFacts) -> None:
    info = load("engine/info.json")
    e = engine_facts
    assert e.server_version == "20.10.24+dfsg1"
    assert (e.api_version, e.min_api_version) == ("1.41", "1.12")
    assert (e.os_type, e.architecture, e.root_dir) == ("linux", "x86_64", "/var/lib/docker")
    assert (e.storage_driver, e.logging_driver, e.cgroup_driver, e.cgroup_version) == (
        "overlay2",
        "json-file",
        "cgroupfs",
        "1",
    )
    assert e.security_options == ("name=seccomp,profile=default",)
    assert (e.seccomp_profile, e.apparmor, e.selinux, e.rootless, e.userns_remap) == (
        "default",
        False,
        False,
        False,
        False,
    )
    assert (e.experimental, e.live_restore) == (False, False)
    assert e.insecure_registries == ("127.0.0.0/8",)
    # host-specific values come straight from the answer
    assert (e.hostname, e.engine_id, e.kernel, e.os) == (
        info["Name"],
        info["ID"],
        info["KernelVersion"],
        info["OperatingSystem"],
    )
    assert (e.containers_total, e.images_total) == (info["Containers"], info["Images"])


def test_engine_facts_insecure_index_configs() -> None:
    info = {
        "Name": "h",
        "RegistryConfig": {
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {
                "docker.io": {"Secure": True},
                "registry.local:5000": {"Secure": False},
            },
        },
    }
    assert parse.engine_facts(info, {}).insecure_registries == ("127.0.0.0/8", "registry.local:5000")


def test_engine_facts_version_falls_back_to_info() -> None:
    e = parse.engine_facts({"Name": "h", "ServerVersion": "24.0.7"}, {})
    assert (e.server_version, e.security_options) == ("24.0.7", ())


# --- robustness: answers with nulls or missing parts ---------------------------------------------


def test_container_facts_on_a_nearly_empty_answer() -> None:
    c = parse.container_facts(
        {"Id": "x", "Config": None, "HostConfig": None, "State": None, "Mounts": None}, (), SCANNER
    )
    assert (c.id, c.name, c.state, c.network_mode, c.restart_policy) == ("x", "", "unknown", "default", "no")
    assert (c.pids_limit, c.oom_kill_disable, c.healthcheck, c.env, c.mounts) == (None, None, None, (), ())


def test_container_facts_on_odd_values() -> None:
    data = raw("defaults")
    data["HostConfig"] = {
        **data["HostConfig"],
        "PortBindings": {"80/tcp": None},
        "PidsLimit": True,  # not a number: unknown, not 1
        "OomKillDisable": None,
        "Memory": "lots",
        "CapAdd": ["NET_ADMIN"],
    }
    c = parse.container_facts(data, (), SCANNER)
    assert c.port_bindings == (PortBinding("80/tcp", "", ""),)
    assert (c.pids_limit, c.oom_kill_disable, c.memory, c.cap_add) == (None, None, 0, ("NET_ADMIN",))


def test_exec_facts_privileged_from_either_place() -> None:
    recorded = load("inspect/exec-root.json")
    assert parse.exec_facts(recorded).privileged is False
    recorded["ProcessConfig"]["privileged"] = True
    assert parse.exec_facts(recorded).privileged is True
    assert parse.exec_facts({"ID": "e", "Privileged": True}).privileged is True


def test_health_argv() -> None:
    assert parse.health_argv(Healthcheck(test=("CMD-SHELL", "true"))) == ("/bin/sh", "-c", "true")
    assert parse.health_argv(Healthcheck(test=("CMD", "/bin/busybox", "true"))) == ("/bin/busybox", "true")
    assert parse.health_argv(Healthcheck(test=("NONE",))) is None
    assert parse.health_argv(None) is None


# --- the collector over recorded answers: exec sessions and the engine's health probes -----------


class RecordedAPI:
    """The Engine API as recorded for rbu-hardened, with exec sessions the test chooses."""

    def __init__(self, execs: dict[str, dict[str, Any]], config: dict[str, Any] | None = None) -> None:
        self.data = raw("hardened")
        self.data["ExecIDs"] = list(execs)
        self.data["Config"].update(config or {})
        self.execs = execs

    def version(self) -> dict[str, Any]:
        return dict(load("engine/version.json"))

    def info(self) -> dict[str, Any]:
        return dict(load("engine/info.json"))

    def containers(self, all: bool = False, filters: Any = None) -> list[dict[str, Any]]:
        return [{"Id": self.data["Id"], "Names": ["/rbu-hardened"], "Image": "rbdev/bb:1", "State": "running"}]

    def images(self) -> list[dict[str, Any]]:
        return [{"Id": BASE_IMAGE_ID, "RepoTags": ["rbdev/bb:1"]}]

    def networks(self) -> list[dict[str, Any]]:
        return [load("engine/network-rbu-net.json")]

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return self.data

    def exec_inspect(self, eid: str) -> dict[str, Any]:
        return self.execs[eid]

    def inspect_image(self, iid: str) -> dict[str, Any]:
        return {"Id": iid, "RepoTags": ["rbdev/bb:1"], "Config": {}, "RootFS": {"Layers": ["sha256:x"]}}

    def history(self, iid: str) -> list[dict[str, Any]]:
        return []

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return {"Name": name, "Driver": "local", "Mountpoint": f"/var/lib/docker/volumes/{name}/_data", "Options": None}


def _exec(eid: str, argv: list[str], user: str) -> dict[str, Any]:
    """The recorded exec answer, with another command line and user."""
    data = load("inspect/exec-root.json")
    data["ID"] = eid
    data["ProcessConfig"].update({"entrypoint": argv[0], "arguments": argv[1:], "user": user})
    return dict(data)


def _collect_hardened(execs: dict[str, dict[str, Any]], config: dict[str, Any] | None = None) -> ContainerFacts:
    from runbench.collect.engine import CollectRequest, collect

    snap = collect(CollectRequest(read_host=False), api=RecordedAPI(execs, config))
    (c,) = snap.containers
    return c


def test_collector_keeps_recorded_facts() -> None:
    c = _collect_hardened({"e" * 64: load("inspect/exec-root.json")})
    unresolved = replace(
        c, execs=(), namespaces=None, mounts=tuple(replace(m, volume_bind=None, resolution=None) for m in c.mounts)
    )
    assert unresolved == replace(facts("hardened"), execs=())
    assert [m.resolution for m in c.mounts] == ["volume rbu-vol of the local driver: its own directory"]
    assert [(e.user, e.entrypoint, e.healthcheck) for e in c.execs] == [("0", "sleep", False)]


def test_collector_marks_the_engines_health_probe(catalog: Catalog, ctx: Context) -> None:
    # rbu-hardened runs as 1000:1000 with HEALTHCHECK CMD-SHELL true: the engine execs /bin/sh -c true as it
    c = _collect_hardened({"p" * 64: _exec("p" * 64, ["/bin/sh", "-c", "true"], "1000:1000")})
    assert [e.healthcheck for e in c.execs] == [True]
    assert catalog["container.exec_root"].evaluate(c, ctx).status is Status.PASS


def test_a_root_exec_mimicking_the_probe_is_not_a_probe(catalog: Catalog, ctx: Context) -> None:
    c = _collect_hardened({"r" * 64: _exec("r" * 64, ["/bin/sh", "-c", "true"], "0")})
    assert [e.healthcheck for e in c.execs] == [False]
    assert catalog["container.exec_root"].evaluate(c, ctx).status is Status.FAIL


def test_probe_under_the_images_shell_is_a_probe(catalog: Catalog, ctx: Context) -> None:
    config = {"User": "", "Shell": ["/bin/bash", "-c"]}
    c = _collect_hardened({"s" * 64: _exec("s" * 64, ["/bin/bash", "-c", "true"], "")}, config)
    assert [e.healthcheck for e in c.execs] == [True]
    assert catalog["container.exec_root"].evaluate(c, ctx).status is Status.PASS


# --- secrets in free-text fields: redacted at collection, probes still recognised ----------------------

# Fake secrets planted in the recorded answers, one per field and form.
PLANTED = {
    "health_env": "pg-Fake-Health-7Qx2mWz9",
    "health_bearer": "bearer-Fake-4mT8qLz2Vw",
    "label_key": "label-key-Fake-9Rf3kP0s",
    "label_url": "url-Fake-2Hs8dJ5qLm",
    "label_assign": "assign-Fake-6Tn1vC8xQ",
    "label_token": "ghp_" + "Fk7Qm2Lx9Vb4Nc8Rt1Wy6Zs3Pd5Hj0Ga3Ke7",
    "cmd_flag": "cmd-Fake-8Yu3nB6wE1",
    "cmd_url": "cmdurl-Fake-3Lp9xR2v",
    "entrypoint_mysql": "ep-Fake-5Gh2kW8zQ4",
    "history_arg": "arg-Fake-1Nb7cV4mX9",
    "history_label": "hlabel-Fake-0Qw5eR8tY",
    "image_health": "img-health-Fake-4Zx7",
    "exec_arg": "exec-Fake-9Kj3hG6fD2",
}
HEALTH_CMD = (
    f"PGPASSWORD={PLANTED['health_env']} pg_isready -h db "
    f"|| curl -fsH 'Authorization: Bearer {PLANTED['health_bearer']}' http://localhost/"
)
LABELS = {
    "runbench.fixture": "1",
    "com.example.db-password": PLANTED["label_key"],
    "com.example.source": f"https://ci:{PLANTED['label_url']}@git.example/org/app",
    "com.example.run": f"docker run -e DB_PASSWORD={PLANTED['label_assign']} app",
    "com.example.note": PLANTED["label_token"],
    "com.example.docs": "https://docs.example/app",
}


def leaked(text: str) -> list[str]:
    """The planted secrets of which some 8-character window shows in `text`."""
    return [name for name, value in PLANTED.items() if any(value[i : i + 8] in text for i in range(len(value) - 7))]


def planted_container() -> dict[str, Any]:
    data = raw("hardened")
    data["Config"].update(
        {
            "Healthcheck": {"Test": ["CMD-SHELL", HEALTH_CMD], "Interval": 1_000_000_000, "Retries": 1},
            "Labels": dict(LABELS),
            "Cmd": ["app", f"--password={PLANTED['cmd_flag']}", f"postgres://app:{PLANTED['cmd_url']}@db/app"],
            "Entrypoint": ["mysql", f"-p{PLANTED['entrypoint_mysql']}"],
        }
    )
    return data


def planted_image() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = load("image/secretimg.json")
    data["Config"].update(
        {
            "Healthcheck": {"Test": ["CMD", "redis-cli", "-a", PLANTED["image_health"], "ping"]},
            "Labels": dict(LABELS),
            "Cmd": ["--password", PLANTED["cmd_flag"], f"postgres://app:{PLANTED['cmd_url']}@db/app"],
            "Entrypoint": ["mysql", f"-p{PLANTED['entrypoint_mysql']}"],
        }
    )
    history = load("image/secretimg-history.json")
    history[0]["CreatedBy"] = f"|1 NPM_TOKEN={PLANTED['history_arg']} /bin/sh -c npm ci"
    history[1]["CreatedBy"] = (
        f'/bin/sh -c #(nop)  HEALTHCHECK &{{["CMD-SHELL" "{HEALTH_CMD}"] "30s" "0s" "0s" \'\\x00\'}}'
    )
    history[2]["CreatedBy"] = f"/bin/sh -c #(nop)  LABEL com.example.api-key={PLANTED['history_label']} a=1"
    return data, history


def test_planted_answers_hold_every_secret() -> None:
    data, history = planted_image()
    text = json.dumps(planted_container()) + json.dumps(data) + json.dumps(history)
    assert sorted(leaked(text)) == sorted(set(PLANTED) - {"exec_arg"})


def test_container_free_text_is_redacted() -> None:
    c = parse.container_facts(planted_container(), (), SCANNER)
    assert c.healthcheck is not None
    kind, test = c.healthcheck.test
    assert kind == "CMD-SHELL"
    assert test == (
        "PGPASSWORD=pg…(23 chars) pg_isready -h db || curl -fsH 'Authorization: Bearer be…(22 chars)' http://localhost/"
    )
    assert c.labels == {
        "runbench.fixture": "1",
        "com.example.db-password": "la…(23 chars)",  # by key
        "com.example.source": "https://ci:***@git.example/org/app",  # by value: a URL with a password
        "com.example.run": "docker run -e DB_PASSWORD=as…(21 chars) app",  # by value: KEY=secret inside
        "com.example.note": "gh…(40 chars)",  # by value: a GitHub token (detect-secrets)
        "com.example.docs": "https://docs.example/app",
    }
    assert leaked(repr(c)) == []


def test_image_free_text_is_redacted() -> None:
    data, history = planted_image()
    img = parse.image_facts(data, history, SCANNER)
    assert img.healthcheck is not None
    assert img.healthcheck.test == ("CMD", "redis-cli", "-a", "im…(20 chars)", "ping")
    assert img.entrypoint == ("mysql", "-pep…(18 chars)")
    assert img.cmd == ("--password", "cm…(19 chars)", "postgres://app:***@db/app")
    assert img.labels["com.example.note"] == "gh…(40 chars)"
    assert img.labels["com.example.source"] == "https://ci:***@git.example/org/app"
    assert img.history is not None
    assert img.history[0].created_by == "|1 NPM_TOKEN=ar…(19 chars) /bin/sh -c npm ci"
    assert "PGPASSWORD=pg…(23 chars) pg_isready" in img.history[1].created_by
    assert img.history[2].created_by == "/bin/sh -c #(nop)  LABEL com.example.api-key=hl…(21 chars) a=1"
    assert leaked(repr(img)) == []


def test_no_planted_secret_in_the_snapshot(engine_facts: EngineFacts) -> None:
    data, history = planted_image()
    snap = Snapshot(
        runbench_version="t",
        collected_at="t",
        duration_s=0.0,
        options=CollectOptions(),
        engine=engine_facts,
        daemon=None,
        host=None,
        containers=(parse.container_facts(planted_container(), (), SCANNER),),
        images=(parse.image_facts(data, history, SCANNER),),
    )
    assert leaked(snap.dumps()) == []


def test_the_health_check_evidence_is_redacted(catalog: Catalog, ctx: Context) -> None:
    verdict = catalog["container.healthcheck"].evaluate(parse.container_facts(planted_container(), (), SCANNER), ctx)
    evidence = dict(verdict.evidence)["Config.Healthcheck.Test"]
    assert evidence.startswith("CMD-SHELL PGPASSWORD=pg…(23 chars) pg_isready")
    assert leaked(evidence) == []


def test_network_options_are_redacted() -> None:
    data = load("engine/network-rbu-net.json")
    data["Options"] = {"com.example.token": PLANTED["label_key"], "com.docker.network.bridge.name": "rbu0"}
    net = parse.network_facts(data)
    assert dict(net.options) == {"com.example.token": "la…(23 chars)", "com.docker.network.bridge.name": "rbu0"}


def test_exec_entrypoint_is_argv0_redacted() -> None:
    data = _exec("x" * 64, [f"PGPASSWORD={PLANTED['exec_arg']}", "psql"], "0")
    e = parse.exec_facts(data)
    assert e.entrypoint == "PGPASSWORD=ex…(20 chars)"
    assert leaked(repr(e)) == []


def test_probe_with_a_secret_in_its_test_is_still_a_probe(catalog: Catalog, ctx: Context) -> None:
    # The engine execs the health test as written (secret included); the collector compares before redacting.
    config = {"Healthcheck": {"Test": ["CMD-SHELL", HEALTH_CMD], "Interval": 1_000_000_000, "Retries": 1}}
    probe = _exec("p" * 64, ["/bin/sh", "-c", HEALTH_CMD], "1000:1000")
    other = _exec("o" * 64, ["/bin/sh", "-c", HEALTH_CMD], "0")  # same command as root: not the engine's
    c = _collect_hardened({"p" * 64: probe, "o" * 64: other}, config)
    assert [(e.entrypoint, e.healthcheck) for e in c.execs] == [("/bin/sh", True), ("/bin/sh", False)]
    assert catalog["container.exec_root"].evaluate(c, ctx).status is Status.FAIL  # the root one only
    assert leaked(repr(c)) == []


def test_cmd_probe_with_a_secret_argument_is_still_a_probe() -> None:
    test = ["CMD", "redis-cli", "-a", PLANTED["image_health"], "ping"]
    config = {"Healthcheck": {"Test": test, "Interval": 1_000_000_000}}
    c = _collect_hardened({"q" * 64: _exec("q" * 64, test[1:], "1000:1000")}, config)
    assert [e.healthcheck for e in c.execs] == [True]
    assert c.healthcheck is not None and c.healthcheck.test == ("CMD", "redis-cli", "-a", "im…(20 chars)", "ping")
