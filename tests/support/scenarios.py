"""The integration scenarios: containers with one risky (or hardened) setting each, on a real engine.

``ScenarioSet.up(client)`` creates them all (in parallel), waits for the health states the verdicts depend
on, and ``down()`` removes everything it made. Every container is named ``rbt-*`` and labelled
``runbench.test=1``; ``remove_leftovers`` clears containers and networks that are both named ``rbt-*`` and
labelled so, left by an earlier, interrupted run. Nothing else is ever touched.

Facts of the test machines that shaped these (see DESIGN.md "Testing against a real engine"):
- the bounding set lacks CAP_SYS_RESOURCE, so ``--privileged`` cannot start: rbt-privileged is only created;
- ``/`` is not a shared mount, so a bind mount with rshared propagation is refused at start
  ("... is mounted on / but it is not a shared mount"): rbt-rshared stays created when that happens;
- raising an rlimit fails, lowering works: rbt-ulimit lowers nofile.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import psutil
import requests
from docker.types import Healthcheck, Mount, Ulimit

from tests.support.testimages import (
    APP_IMAGE,
    BASE_IMAGE,
    IMAGE_SECRETS,
    SECRETS_IMAGE,
    SSHD_IMAGE,
    TEST_LABELS,
)

NETWORK = "rbt-net"
SECONDS = 1_000_000_000  # healthcheck durations are nanoseconds

DB_PASSWORD = "hunter2-correct-horse-battery"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRET_KEYS = ("DB_PASSWORD", "AWS_SECRET_ACCESS_KEY")

# rbt-secrets: fake secrets in every free-text field of one container (created, never started, so no health
# probe runs); its image (SECRETS_IMAGE) carries IMAGE_SECRETS in its history, labels, healthcheck and CMD.
PLANTED = {
    "env": "env-Fake-Vq3Lr8Mx1Kw",
    "label_value": "ghp_" + "Rb7Kx2Wq9Lm4Tz8Nc3Vf6Hs1Jd5Gp0Ya2Ue7",  # a GitHub-shaped token under an innocent key
    "label_key": "lkey-Fake-Dn4Pw7Tx2Qs",
    "label_url": "lurl-Fake-Zc8Hv3Bn6Rk",
    "health_env": "hpg-Fake-Wt5Ke9Lq2Xm",
    "health_bearer": "hbr-Fake-Jy3Fs7Uc1Np",
    "cmd_flag": "cflag-Fake-Mq6Rt2Vz8Lw",
    "cmd_url": "curl-Fake-Xp4Nd9Gs3Hb",
}
SECRETS_HEALTH_CMD = (
    f"PGPASSWORD={PLANTED['health_env']} false "
    f"|| curl -fsH 'Authorization: Bearer {PLANTED['health_bearer']}' http://localhost/"
)
SECRET_VALUES = (DB_PASSWORD, AWS_SECRET, *PLANTED.values(), *IMAGE_SECRETS.values())

HOSTILE_LABEL_KEY = "rbt.hostile"
HOSTILE_LABEL = "[red]x[/red] \x1b[31mEVIL\x1b[0m " + "A" * 1_000_000
HOSTILE_HEALTH_CMD = "echo '[bold]boom[/bold]' \x1b[2J; true"

SLEEP = ["sleep", "3600"]


def engine_socket_path() -> str:
    """The engine's unix socket on this host (DOCKER_HOST when it names one, else the default)."""
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host[len("unix://") :]
    return "/var/run/docker.sock"


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(candidates: list[int], host: str = "0.0.0.0") -> int:
    for port in candidates:
        if port_is_free(port, host):
            return port
    raise RuntimeError(f"none of the ports {candidates} is free on {host}")


@dataclass
class Scenario:
    name: str
    image: str
    start: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    # "healthy" / "unhealthy": wait until State.Health.Status says so before the scan.
    wait_health: str | None = None
    # Start may be refused by this engine with an error containing this text: then keep it created.
    start_may_fail: str | None = None


@dataclass
class ScenarioSet:
    client: docker.DockerClient
    tmpdir: str
    port80: int
    port_local: int
    containers: dict[str, Any] = field(default_factory=dict)  # name -> Container
    facts: dict[str, str] = field(default_factory=dict)  # what this engine did, for the test log
    network: Any = None

    @classmethod
    def up(cls, client: docker.DockerClient, health_timeout: float = 45.0) -> ScenarioSet:
        tmpdir = tempfile.mkdtemp(prefix="rbt-")
        os.chmod(tmpdir, 0o755)
        data_dir = os.path.join(tmpdir, "data")
        shared_dir = os.path.join(tmpdir, "shared")
        os.mkdir(data_dir)
        os.mkdir(shared_dir)
        port80 = pick_port([80, 81, 82, 88, 89, 800, 801, 888, 999])
        port_local = pick_port([8080, 18080, 28080, 38080], host="127.0.0.1")
        self = cls(client, tmpdir, port80, port_local)
        try:
            self.network = client.networks.create(NETWORK, driver="bridge", labels=dict(TEST_LABELS))
            scenarios = self._scenarios(data_dir, shared_dir)
            with ThreadPoolExecutor(max_workers=8) as pool:
                for scenario, container in zip(scenarios, pool.map(self._make, scenarios), strict=False):
                    self.containers[scenario.name] = container
            with ThreadPoolExecutor(max_workers=4) as pool:
                waits = [s for s in scenarios if s.wait_health and s.name in self.containers]
                list(pool.map(lambda s: self._wait_health(s, health_timeout), waits))
            self._record_facts()
        except BaseException:
            self.down()
            raise
        return self

    def _scenarios(self, data_dir: str, shared_dir: str) -> list[Scenario]:
        sock = engine_socket_path()
        return [
            Scenario(
                "rbt-hardened",
                APP_IMAGE,
                options={
                    "read_only": True,
                    "cap_drop": ["ALL"],
                    "mem_limit": "64m",
                    "nano_cpus": 500_000_000,
                    "pids_limit": 64,
                    "security_opt": ["no-new-privileges"],
                    "network": NETWORK,
                    "restart_policy": {"Name": "on-failure", "MaximumRetryCount": 5},
                },
                wait_health="healthy",
            ),
            Scenario("rbt-nolimits", BASE_IMAGE, options={"command": SLEEP}),
            Scenario("rbt-privileged", BASE_IMAGE, start=False, options={"command": SLEEP, "privileged": True}),
            Scenario("rbt-sysadmin", BASE_IMAGE, options={"command": SLEEP, "cap_add": ["SYS_ADMIN"]}),
            Scenario(
                "rbt-netbind",
                BASE_IMAGE,
                options={"command": SLEEP, "cap_drop": ["ALL"], "cap_add": ["NET_BIND_SERVICE"]},
            ),
            Scenario("rbt-seccomp", BASE_IMAGE, options={"command": SLEEP, "security_opt": ["seccomp=unconfined"]}),
            Scenario(
                "rbt-sock-rw",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {sock: {"bind": "/var/run/docker.sock", "mode": "rw"}}},
            ),
            Scenario(
                "rbt-sock-ro",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {sock: {"bind": "/var/run/docker.sock", "mode": "ro"}}},
            ),
            Scenario(
                "rbt-varrun",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {"/var/run": {"bind": "/x", "mode": "rw"}}},
            ),
            Scenario(
                "rbt-etc-rw",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {"/etc": {"bind": "/host-etc", "mode": "rw"}}},
            ),
            Scenario(
                "rbt-root-ro",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {"/": {"bind": "/host", "mode": "ro"}}},
            ),
            Scenario(
                "rbt-data-rw",
                BASE_IMAGE,
                options={"command": SLEEP, "volumes": {data_dir: {"bind": "/data", "mode": "rw"}}},
            ),
            Scenario("rbt-hostnet", BASE_IMAGE, options={"command": SLEEP, "network_mode": "host"}),
            Scenario("rbt-hostpid", BASE_IMAGE, options={"command": SLEEP, "pid_mode": "host"}),
            Scenario("rbt-hostipc", BASE_IMAGE, options={"command": SLEEP, "ipc_mode": "host"}),
            Scenario("rbt-hostuts", BASE_IMAGE, options={"command": SLEEP, "uts_mode": "host"}),
            Scenario("rbt-port80", BASE_IMAGE, options={"command": SLEEP, "ports": {"80/tcp": self.port80}}),
            Scenario(
                "rbt-port-local",
                BASE_IMAGE,
                options={"command": SLEEP, "ports": {"8080/tcp": ("127.0.0.1", self.port_local)}},
            ),
            Scenario("rbt-device", BASE_IMAGE, options={"command": SLEEP, "devices": ["/dev/null:/dev/xnull:rwm"]}),
            Scenario(
                "rbt-ulimit",
                BASE_IMAGE,
                options={"command": SLEEP, "ulimits": [Ulimit(name="nofile", soft=512, hard=512)]},
            ),
            Scenario(
                "rbt-envsecret",
                BASE_IMAGE,
                options={
                    "command": SLEEP,
                    "environment": {"DB_PASSWORD": DB_PASSWORD, "AWS_SECRET_ACCESS_KEY": AWS_SECRET},
                },
            ),
            Scenario(
                "rbt-secrets",
                SECRETS_IMAGE,
                start=False,
                options={
                    "command": [
                        "app",
                        f"--password={PLANTED['cmd_flag']}",
                        f"postgres://app:{PLANTED['cmd_url']}@db:5432/app",
                    ],
                    "environment": {"API_TOKEN": PLANTED["env"]},
                    "labels": {
                        "com.example.note": PLANTED["label_value"],
                        "com.example.db-password": PLANTED["label_key"],
                        "com.example.source": f"https://ci:{PLANTED['label_url']}@git.example/org/app",
                    },
                    "healthcheck": Healthcheck(test=["CMD-SHELL", SECRETS_HEALTH_CMD], interval=30 * SECONDS),
                },
            ),
            Scenario(
                "rbt-restart-always",
                BASE_IMAGE,
                options={"command": SLEEP, "restart_policy": {"Name": "always"}},
            ),
            Scenario("rbt-sshd", SSHD_IMAGE),
            Scenario("rbt-root-user", BASE_IMAGE, options={"command": SLEEP, "user": "0:0"}),
            Scenario(
                "rbt-nnp-false",
                BASE_IMAGE,
                options={"command": SLEEP, "security_opt": ["no-new-privileges=false"]},
            ),
            Scenario(
                "rbt-rshared",
                BASE_IMAGE,
                options={
                    "command": SLEEP,
                    "mounts": [Mount(target="/shared", source=shared_dir, type="bind", propagation="rshared")],
                },
                start_may_fail="not a shared mount",
            ),
            Scenario("rbt-oomkill", BASE_IMAGE, options={"command": SLEEP, "oom_kill_disable": True}),
            Scenario(
                "rbt-unhealthy",
                BASE_IMAGE,
                options={
                    "command": SLEEP,
                    "healthcheck": Healthcheck(
                        test=["CMD", "false"], interval=1 * SECONDS, timeout=2 * SECONDS, retries=1
                    ),
                },
                wait_health="unhealthy",
            ),
            Scenario(
                "rbt-hostile",
                BASE_IMAGE,
                options={
                    "command": SLEEP,
                    "labels": {HOSTILE_LABEL_KEY: HOSTILE_LABEL},
                    "healthcheck": Healthcheck(
                        test=["CMD-SHELL", HOSTILE_HEALTH_CMD],
                        interval=1 * SECONDS,
                        timeout=2 * SECONDS,
                        retries=2,
                    ),
                },
                wait_health="healthy",
            ),
        ]

    def _make(self, scenario: Scenario) -> Any:
        options = dict(scenario.options)
        options["labels"] = {**options.get("labels", {}), **TEST_LABELS}
        container = self.client.containers.create(scenario.image, name=scenario.name, detach=True, **options)
        # Record it before starting so a failed start is still cleaned up.
        self.containers[scenario.name] = container
        if scenario.start:
            try:
                container.start()
            except docker.errors.APIError as exc:
                if scenario.start_may_fail and scenario.start_may_fail in str(exc):
                    self.facts[scenario.name] = f"engine refused to start it, left created: {exc.explanation or exc}"
                else:
                    raise
        return container

    def _wait_health(self, scenario: Scenario, timeout: float) -> None:
        container = self.containers[scenario.name]
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            container.reload()
            status = (container.attrs.get("State", {}).get("Health") or {}).get("Status")
            if status == scenario.wait_health:
                return
            time.sleep(0.25)
        raise RuntimeError(f"{scenario.name}: health is {status!r} after {timeout}s, wanted {scenario.wait_health!r}")

    def _record_facts(self) -> None:
        for name, container in self.containers.items():
            container.reload()
            state = container.attrs["State"]
            self.facts.setdefault(name, state["Status"])
        oom = self.containers["rbt-oomkill"].attrs["HostConfig"].get("OomKillDisable")
        self.facts["rbt-oomkill HostConfig.OomKillDisable"] = repr(oom)
        # Shapes that differ between engine generations (20.10: "default" and ""; 28: "bridge" and "no"),
        # logged so that a verdict that changes with the engine can be traced to its input.
        plain = self.containers["rbt-nolimits"].attrs["HostConfig"]
        self.facts["rbt-nolimits HostConfig.NetworkMode"] = repr(plain.get("NetworkMode"))
        self.facts["rbt-nolimits HostConfig.RestartPolicy.Name"] = repr((plain.get("RestartPolicy") or {}).get("Name"))

    def inspect(self, name: str) -> dict[str, Any]:
        container = self.containers[name]
        container.reload()
        attrs: dict[str, Any] = container.attrs
        return attrs

    def down(self) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(remove_container, self.containers.values()))
        self.containers.clear()
        if self.network is not None:
            with contextlib.suppress(docker.errors.APIError):
                self.network.remove()
            self.network = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _gone(container: Any) -> bool:
    try:
        container.reload()
    except docker.errors.NotFound:
        return True
    except (docker.errors.APIError, requests.exceptions.RequestException):
        return False
    return False


def remove_container(container: Any, attempts: int = 4) -> None:
    """Force-remove a test container, tolerating a busy engine.

    On a loaded 2-core CI machine a force DELETE (SIGKILL, wait for exit, unmount, network teardown) can take
    longer than the client's read timeout while dockerd carries on and finishes it. A timed-out or
    "removal already in progress" answer is therefore followed by waiting for the container to disappear,
    then by another DELETE; only a container still present after every attempt is an error.
    """
    for _ in range(attempts):
        try:
            container.remove(force=True, v=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: removal already in progress (or a conflict that may clear)
                raise
        except requests.exceptions.RequestException:
            pass  # timed out or connection dropped: dockerd may still be removing it
        if wait_until(lambda: _gone(container), timeout=90, interval=0.5):
            return
    raise RuntimeError(f"container {container.name or container.id} still present after {attempts} removals")


def remove_named(client: docker.DockerClient, name: str) -> None:
    """Remove the container called `name`, if there is one."""
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        return
    remove_container(container)


def remove_leftovers(client: docker.DockerClient) -> list[str]:
    """Remove what an interrupted run of these scenarios left: containers and networks that are BOTH
    named ``rbt-*`` and labelled runbench.test=1. The label alone is not enough: other tooling on the
    same engine (bench, a developer's smoke test) uses it too.
    """
    removed = []
    for container in client.containers.list(all=True, filters={"label": "runbench.test=1", "name": "rbt-"}):
        if container.name.startswith("rbt-"):
            remove_container(container)
            removed.append(container.name)
    for network in client.networks.list(filters={"label": "runbench.test=1"}):
        if network.name.startswith("rbt-"):
            with contextlib.suppress(docker.errors.APIError):
                network.remove()
                removed.append(f"network {network.name}")
    return removed


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- what a container really gets: namespace joins, resolved mounts, users, seccomp, CPUs ----------------------

KERNEL_LABEL = "runbench.test.kernel"
KERNEL_LABELS = {**TEST_LABELS, KERNEL_LABEL: "1"}
# The scan of these containers alone (the containers they join are out of its scope: looked up on demand).
KERNEL_SELECTION = ["--all", "--label", f"{KERNEL_LABEL}=1"]
ALLOW_ALL_SECCOMP = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]}
BIND_ETC_VOLUME = "rbk-etc"


def engine_containerd_dir() -> str | None:
    """The directory holding the socket of the containerd the engine's dockerd started itself (the directory of
    its --config, under the exec root); None when the engine uses a system containerd or none is found."""
    sock = os.path.realpath(engine_socket_path())
    for proc in psutil.process_iter(["name", "cmdline"]):
        argv = proc.info["cmdline"] or []
        if proc.info["name"] != "dockerd":
            continue
        hosts = [a.removeprefix("unix://") for a in argv if a.startswith("unix://")]
        serves = sock in {os.path.realpath(h) for h in hosts} or (not hosts and sock == "/run/docker.sock")
        for child in proc.children() if serves else ():
            config = next((a for a in child.cmdline() if a.endswith("containerd.toml")), "")
            if child.name() == "containerd" and config:
                return os.path.dirname(config)
    return None


@dataclass
class KernelTruthSet:
    """Containers whose configuration says one thing and the kernel another, made after the main ScenarioSet
    (they join its containers): named ``rbk-*``, labelled runbench.test=1 and runbench.test.kernel=1, beside a
    host process named sshd. ``down()`` removes everything it made (containers, the volume, the process, the
    temporary directory)."""

    client: docker.DockerClient
    tmpdir: str
    containers: dict[str, Any] = field(default_factory=dict)
    volume: Any = None
    host_sshd: subprocess.Popen[bytes] | None = None
    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def up(cls, client: docker.DockerClient) -> KernelTruthSet:
        tmpdir = tempfile.mkdtemp(prefix="rbk-")
        os.chmod(tmpdir, 0o755)
        self = cls(client, tmpdir)
        try:
            self._make_all()
        except BaseException:
            self.down()
            raise
        return self

    def _make_all(self) -> None:
        etc_link = os.path.join(self.tmpdir, "etc-link")
        sock_link = os.path.join(self.tmpdir, "sock-link")
        os.symlink("/etc", etc_link)
        os.symlink(os.path.realpath(engine_socket_path()), sock_link)
        sshd = os.path.join(self.tmpdir, "sshd")  # a host process named sshd: what --pid host containers see
        shutil.copy2(shutil.which("sleep") or "/bin/sleep", sshd)
        self.host_sshd = subprocess.Popen([sshd, "3600"], stdin=subprocess.DEVNULL)
        self.facts["host sshd"] = f"pid {self.host_sshd.pid}"
        bind = {"type": "none", "o": "bind", "device": "/etc"}
        self.volume = self.client.volumes.create(
            BIND_ETC_VOLUME, driver="local", driver_opts=bind, labels=KERNEL_LABELS
        )
        ncpu = int(self.client.info().get("NCPU") or os.cpu_count() or 1)
        self.facts["host CPUs (NCPU)"] = str(ncpu)
        containerd_dir = engine_containerd_dir()
        self.facts["the engine's own containerd directory"] = repr(containerd_dir)
        plain = {"command": SLEEP}
        made: list[tuple[str, dict[str, Any], bool]] = [
            ("rbk-join-hostpid", {**plain, "pid_mode": "container:rbt-hostpid"}, True),
            ("rbk-join-hostnet", {**plain, "network_mode": "container:rbt-hostnet"}, True),
            ("rbk-join-hostipc", {**plain, "ipc_mode": "container:rbt-hostipc"}, True),
            ("rbk-join-bridge", {**plain, "network_mode": "container:rbt-nolimits"}, True),
            ("rbk-join-sshd", {**plain, "pid_mode": "container:rbt-sshd"}, True),
            ("rbk-etc-link", {**plain, "volumes": {etc_link: {"bind": "/host-etc", "mode": "ro"}}}, True),
            ("rbk-sock-link", {**plain, "volumes": {sock_link: {"bind": "/engine.sock", "mode": "ro"}}}, True),
            ("rbk-etc-volume", {**plain, "volumes": {BIND_ETC_VOLUME: {"bind": "/host-etc", "mode": "ro"}}}, True),
            ("rbk-uid00", {**plain, "user": "00"}, True),
            ("rbk-uid-plus0", {**plain, "user": "+0:0"}, False),
            ("rbk-exec-root", {**plain, "user": "1000"}, True),
            ("rbk-allow-all", {**plain, "security_opt": ["seccomp=" + json.dumps(ALLOW_ALL_SECCOMP)]}, True),
            ("rbk-cpu-quota", {**plain, "cpu_period": 100_000, "cpu_quota": (ncpu + 1) * 100_000}, True),
            ("rbk-cpus-all", {**plain, "nano_cpus": ncpu * 1_000_000_000}, True),
        ]
        if containerd_dir is not None:
            made.append(
                ("rbk-containerd-dir", {**plain, "volumes": {containerd_dir: {"bind": "/c", "mode": "ro"}}}, True)
            )
        for name, options, start in made:  # in order: a join needs its target running
            container = self.client.containers.create(
                BASE_IMAGE, name=name, detach=True, labels=dict(KERNEL_LABELS), **options
            )
            self.containers[name] = container
            if start:
                container.start()
        # a running exec session as uid 0 (spelled 00) in a container configured as 1000
        self.containers["rbk-exec-root"].exec_run(["sleep", "3600"], user="00", detach=True)
        for name, container in self.containers.items():
            container.reload()
            self.facts[name] = container.attrs["State"]["Status"]

    def down(self) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(remove_container, self.containers.values()))
        self.containers.clear()
        if self.volume is not None:
            with contextlib.suppress(docker.errors.APIError):
                self.volume.remove(force=True)
            self.volume = None
        if self.host_sshd is not None:
            self.host_sshd.kill()
            self.host_sshd.wait(timeout=10)
            self.host_sshd = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def remove_kernel_leftovers(client: docker.DockerClient) -> list[str]:
    """What an interrupted KernelTruthSet left: rbk-* containers labelled runbench.test.kernel=1, its volume."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{KERNEL_LABEL}=1", "name": "rbk-"}):
        if container.name.startswith("rbk-"):
            remove_container(container)
            removed.append(container.name)
    for volume in client.volumes.list(filters={"label": f"{KERNEL_LABEL}=1"}):
        if volume.name == BIND_ETC_VOLUME:
            with contextlib.suppress(docker.errors.APIError):
                volume.remove(force=True)
                removed.append(f"volume {volume.name}")
    return removed
