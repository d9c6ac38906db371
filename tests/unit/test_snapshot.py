"""The snapshot: every kind of fact round-trips through JSON; malformed input is a SnapshotFormatError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from builders import (
    HEALTHCHECK,
    container,
    daemon,
    daemon_config,
    device,
    engine,
    env,
    exec_session,
    host,
    image,
    mount,
    port,
    process,
    snapshot,
    ulimit,
    volume,
)

from runbench.snapshot import (
    SNAPSHOT_SCHEMA,
    CollectionError,
    CollectOptions,
    ContainerSummary,
    EngineFacts,
    Fact,
    FileFacts,
    FileType,
    Healthcheck,
    HistoryStep,
    NetworkFacts,
    Snapshot,
    SnapshotFormatError,
    SwarmFacts,
)

DOCKERD = daemon(
    argv=("/usr/bin/dockerd", "--no-new-privileges", "-H", "unix:///run/docker.sock"),
    config_file="/etc/docker/daemon.json",
    environment_content_trust=False,
)


def full_snapshot() -> Snapshot:
    """A snapshot holding every kind of fact, None and empty variants included."""
    busy = container(
        id="1" * 64,
        name="busy",
        labels={"com.example.team": "payments", "empty": ""},
        env=(env("DB_PASSWORD", "fake-db-password-0001"), env("PATH", "/usr/bin"), env("EMPTY", "")),
        cap_add=("NET_ADMIN",),
        security_opt=("seccomp=unconfined", "label=disable"),
        mounts=(mount("/etc", "/host/etc", rw=False), volume("data", "/data"), mount("/srv", propagation="rshared")),
        port_bindings=(port("80", host_ip=""), port("", host_ip="::", container_port="53/udp")),
        publish_all_ports=True,
        exposed_ports=("80/tcp", "53/udp"),
        devices=(device("/dev/fuse"),),
        device_cgroup_rules=("c 10:229 rwm",),
        device_requests=("nvidia count=-1 ids= caps=gpu",),
        ulimits=(ulimit("nofile", 1024, 2048), ulimit("nproc", 64, 64)),
        healthcheck=Healthcheck(
            test=("CMD-SHELL", "curl -f localhost || exit 1"), interval_ns=5, timeout_ns=6, retries=7
        ),
        health_status="unhealthy",
        execs=(
            exec_session(privileged=True, user="0", id="e1" * 32),
            exec_session(running=False, id="e2" * 32),
            exec_session(user="", entrypoint="/bin/sh", id="e3" * 32, healthcheck=True),
        ),
        processes=(process("app", pid=10, uid=1000), process("sshd", pid=11, exe="", uid=None)),
        pids_limit=None,
        oom_kill_disable=None,
        cpu_shares=512,
        cpuset_cpus="0-1",
    )
    stopped = container(
        id="2" * 64,
        name="stopped",
        state="exited",
        healthcheck=None,
        health_status="",
        processes=(),
        pids_limit=-1,
        oom_kill_disable=True,
    )
    unread = container(id="3" * 64, name="unread", processes=None)
    return snapshot(
        busy,
        stopped,
        unread,
        options=CollectOptions(
            docker_host="unix:///var/run/docker.sock",
            all_containers=True,
            container_globs=("b*",),
            exclude_globs=("tmp-*",),
            labels=("env=prod",),
        ),
        engine=engine(
            security_options=("name=seccomp,profile=default", "name=userns", "name=cgroupns"),
            experimental=True,
            live_restore=True,
            insecure_registries=("127.0.0.0/8", "registry.local:5000"),
            containers_total=3,
            images_total=2,
        ),
        daemon=DOCKERD,
        daemon_config=daemon_config(DOCKERD, daemon_json='{"icc": false,\n "log-driver": "journald"}'),
        swarm=SwarmFacts(state="active", node_id="n1", node_addr="10.0.0.5", cluster_id="c1", manager=True, managers=3),
        files=(
            FileFacts("/run/docker.sock", FileType.SOCKET, 0, 999, "root", "docker", 0o660),
            FileFacts("/etc/docker/daemon.json", FileType.MISSING),
            FileFacts("/etc/docker/key.pem", FileType.UNKNOWN, error="Permission denied"),
            FileFacts("/etc/docker/link", FileType.SYMLINK, 0, 0, "root", "root", 0o777, target="/etc/passwd"),
        ),
        host=host(local=False, local_reason="DOCKER_HOST is tcp://10.0.0.5:2376"),
        images=(
            image(
                digests=("registry.example/app@sha256:" + "d" * 64,),
                env=(env("API_TOKEN", "fake-token-value-0001"),),
                labels={"org.opencontainers.image.source": "https://example.invalid/app"},
                exposed_ports=("80/tcp",),
                entrypoint=("/app",),
                cmd=("--serve",),
                size=12345,
                history=(
                    HistoryStep("/bin/sh -c #(nop)  ENV API_TOKEN=fa…(21 chars)", 1700000000, 0, True),
                    HistoryStep("/bin/sh -c apk add curl", 1700000001, 4096, False),
                ),
            ),
            image(id="sha256:" + "e" * 64, tags=(), healthcheck=Healthcheck(test=("NONE",)), history=None),
        ),
        networks=(
            NetworkFacts("n1", "bridge", "bridge", options={"com.docker.network.bridge.enable_icc": "true"}),
            NetworkFacts("n2", "internal", "bridge", scope="local", internal=True),
        ),
        inventory=(
            ContainerSummary("1" * 64, "busy", "registry.example/app:1.2", "running"),
            ContainerSummary("2" * 64, "stopped", "registry.example/app:1.2", "exited"),
            ContainerSummary("4" * 64, "other", "nginx", "created"),
        ),
        image_tags={"registry.example/app:1.2": "sha256:" + "a" * 64, "nginx:latest": "sha256:" + "f" * 64},
        errors=(
            CollectionError(Fact.PROCESSES, "3" * 64, "no such process"),
            CollectionError(Fact.DAEMON_CONFIG, "/etc/docker/daemon.json", "cannot read: Permission denied"),
        ),
    )


def test_a_full_snapshot_round_trips() -> None:
    snap = full_snapshot()
    again = Snapshot.loads(snap.dumps())
    assert again == snap
    assert again.dumps() == snap.dumps()


def test_round_trip_keeps_none_and_empty_apart() -> None:
    again = Snapshot.loads(full_snapshot().dumps())
    busy, stopped, unread = again.containers
    assert busy.pids_limit is None and stopped.pids_limit == -1
    assert busy.oom_kill_disable is None and stopped.oom_kill_disable is True
    assert stopped.processes == () and unread.processes is None
    assert stopped.healthcheck is None and busy.healthcheck is not None
    assert again.images[1].history is None and again.images[0].history is not None
    assert isinstance(busy.mounts, tuple) and isinstance(busy.env[0].detectors, tuple)


def test_round_trip_of_a_snapshot_without_engine_daemon_host() -> None:
    snap = snapshot(engine=None, daemon=None, host=None, containers=(), images=(), inventory=())
    assert Snapshot.loads(snap.dumps()) == snap


def test_the_json_has_the_schema_and_no_secret_values() -> None:
    text = full_snapshot().dumps()
    data = json.loads(text)
    assert data["schema"] == SNAPSHOT_SCHEMA == "runbench/snapshot@2"
    for value in ("fake-db-password-0001", "fake-token-value-0001"):
        assert value not in text
    assert data["containers"][0]["env"][0] == {
        "name": "DB_PASSWORD",
        "length": 21,
        "stub": "fa…(21 chars)",
        "detectors": ["Secret Keyword"],
        "kind": "text",  # what the value looks like (runbench.secrets.value_kind), never the value
    }


# --- rejection ----------------------------------------------------------------------------------


def _valid() -> dict[str, Any]:
    return json.loads(full_snapshot().dumps())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


_DELETE = object()


@pytest.mark.parametrize("text", ["", "not json", "{", "[1, 2", "\x00"])
def test_non_json_is_rejected(text: str) -> None:
    with pytest.raises(SnapshotFormatError, match="not JSON"):
        Snapshot.loads(text)


@pytest.mark.parametrize(
    "text",
    ["[]", "null", "42", '"runbench/snapshot@2"', "{}", '{"schema": "runbench/report@1"}', '{"schema": null}'],
)
def test_wrong_schema_is_rejected(text: str) -> None:
    with pytest.raises(SnapshotFormatError, match="not a runbench snapshot"):
        Snapshot.loads(text)


@pytest.mark.parametrize("schema", ["runbench/snapshot@1", "runbench/snapshot@3"])
def test_another_snapshot_schema_says_collect_again(schema: str) -> None:
    with pytest.raises(SnapshotFormatError, match="collect it again"):
        Snapshot.loads(json.dumps({"schema": schema}))


def test_a_report_is_not_a_snapshot() -> None:
    with pytest.raises(SnapshotFormatError):
        Snapshot.loads(json.dumps({"schema": "runbench/report@1", "findings": []}))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("containers", "none"),
        ("containers", {"0": {}}),
        ("containers.0", []),
        ("containers.0.privileged", "yes"),
        ("containers.0.pid", "4242"),
        ("containers.0.pid", True),
        ("containers.0.pid", 1.5),
        ("containers.0.pids_limit", "100"),
        ("containers.0.name", None),
        ("containers.0.name", 7),
        ("containers.0.labels", ["a=b"]),
        ("containers.0.labels.empty", 1),
        ("containers.0.env.0", "DB_PASSWORD=x"),
        ("containers.0.env.0.length", "21"),
        ("containers.0.mounts.0.rw", "false"),
        ("containers.0.healthcheck", "CMD true"),
        ("containers.0.processes.0.uid", "root"),
        ("containers.0.cap_add", "NET_ADMIN"),
        ("containers.0.cap_add.0", None),
        ("containers.0.id", _DELETE),
        ("engine", []),
        ("engine.hostname", _DELETE),
        ("engine.security_options", "name=seccomp"),
        ("daemon.pid", "1234"),
        ("host.local", "true"),
        ("options", _DELETE),
        ("options", None),
        ("runbench_version", 1),
        ("image_tags", [["a:1", "sha256:x"]]),
        ("image_tags.nginx:latest", None),
        ("images.0.history.0", "RUN x"),
        ("errors.0", ["processes", "x", "why"]),
        ("errors.0.fact", "bogus"),
        ("files.0.type", "pipe"),
        ("files.0.mode", "0660"),
        ("daemon_config.values.icc", "false"),
        ("swarm.managers", "3"),
        ("networks.0.internal", "no"),
    ],
)
def test_wrong_types_are_a_format_error(path: str, value: Any) -> None:
    data = _valid()
    if path.startswith("image_tags."):
        data["image_tags"][path.split(".", 1)[1]] = value
    else:
        _set(path, value)(data)
    with pytest.raises(SnapshotFormatError, match="malformed snapshot"):
        Snapshot.loads(json.dumps(data))


@pytest.mark.parametrize("value", ["fast", None, [1], True])
def test_a_non_number_duration_is_a_format_error(value: Any) -> None:
    data = _valid()
    data["duration_s"] = value
    with pytest.raises(SnapshotFormatError):
        Snapshot.loads(json.dumps(data))


def test_integer_duration_is_accepted_as_float() -> None:
    data = _valid()
    data["duration_s"] = 2
    snap = Snapshot.loads(json.dumps(data))
    assert snap.duration_s == 2.0 and isinstance(snap.duration_s, float)


# --- forward and backward compatibility ---------------------------------------------------------


def test_unknown_keys_are_ignored() -> None:
    data = _valid()
    data["new_top_level_fact"] = {"anything": [1, 2]}
    data["containers"][0]["new_container_fact"] = "x"
    data["containers"][0]["mounts"][0]["subpath"] = "/a"
    data["engine"]["cdi_spec_dirs"] = ["/etc/cdi"]
    data["errors"][0]["hint"] = "newer collectors explain more"
    assert Snapshot.loads(json.dumps(data)) == full_snapshot()


def test_missing_optional_keys_take_their_defaults() -> None:
    data = _valid()
    for key in ("networks", "inventory", "image_tags", "errors", "images"):
        del data[key]
    del data["containers"][0]["execs"]
    del data["containers"][0]["processes"]
    snap = Snapshot.loads(json.dumps(data))
    assert (snap.networks, snap.inventory, snap.image_tags, snap.errors, snap.images) == ((), (), {}, (), ())
    assert snap.containers[0].execs == ()
    assert snap.containers[0].processes is None  # "not read", never guessed as "no processes"


# --- small helpers on the facts -----------------------------------------------------------------


def test_engine_security_options() -> None:
    e = EngineFacts(
        hostname="h",
        security_options=("name=apparmor", "name=seccomp,profile=default", "name=selinux", "name=rootless"),
    )
    assert e.security_option("seccomp") == {"name": "seccomp", "profile": "default"}
    assert (e.apparmor, e.selinux, e.rootless, e.userns_remap) == (True, True, True, False)
    assert e.seccomp_profile == "default"
    assert EngineFacts(hostname="h", security_options=("name=seccomp",)).seccomp_profile == "default"
    assert EngineFacts(hostname="h", security_options=("name=seccomp,profile=builtin",)).seccomp_profile == "builtin"
    assert EngineFacts(hostname="h").seccomp_profile is None
    assert EngineFacts(hostname="h", security_options=("name=userns",)).userns_remap


def test_container_helpers() -> None:
    c = container(id="abcdef0123456789" + "0" * 48)
    assert c.short_id == "abcdef012345"
    assert c.running
    assert not container(state="created").running
    assert container(state="paused").running and container(state="restarting").running
    assert HEALTHCHECK.disabled is False
    assert Healthcheck(test=("NONE",)).disabled and Healthcheck(test=()).disabled
    assert image(id="sha256:" + "0123456789ab" + "f" * 52).short_id == "0123456789ab"


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_json_is_a_format_error_not_a_crash(depth: int) -> None:
    with pytest.raises(SnapshotFormatError, match="nested too deeply"):
        Snapshot.loads("[" * depth + "]" * depth)
    data = _valid()
    data["daemon_config"]["values"]["labels"] = [{"value": json.loads("[" * 900 + "]" * 900), "origin": "argv"}]
    with pytest.raises(SnapshotFormatError):
        Snapshot.loads(json.dumps(data))
