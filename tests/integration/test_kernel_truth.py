"""What each container really gets, on a real engine: namespace joins followed to the host's namespaces (and
the kernel's inodes as evidence), bind sources resolved on the host, bind-backed volumes, the engine sockets
that exist, uid-0 spellings and the host uid of processes, an allow-all seccomp profile, a CPU quota above the
host's CPUs, sshd judged on the processes a container started; and the runtime truth checks, on the main
scenarios and on a second dockerd with --userns-remap default.

The rbk-* containers (tests/support/scenarios.py KernelTruthSet) join the main scenarios' containers and are
scanned on their own (`--label runbench.test.kernel=1`), so every container they join is out of the scan's
scope and is looked up on demand."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil
import pytest

from runbench.snapshot import Snapshot
from tests.integration.conftest import Scan
from tests.support.runner import JSON_ARGS, explain, find_result, run_runbench
from tests.support.scenarios import (
    KERNEL_SELECTION,
    KernelTruthSet,
    ScenarioSet,
    engine_socket_path,
    remove_container,
    remove_kernel_leftovers,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kernel_set(docker_client: docker.DockerClient, scenarios: ScenarioSet) -> Iterator[KernelTruthSet]:
    leftovers = remove_kernel_leftovers(docker_client)
    if leftovers:
        print(f"\nremoved leftovers of an earlier run: {', '.join(leftovers)}")
    made = KernelTruthSet.up(docker_client)
    print("\nkernel-truth containers on this engine:")
    for key, value in made.facts.items():
        print(f"  {key}: {value}")
    try:
        yield made
    finally:
        made.down()


@pytest.fixture(scope="module")
def kernel_report(kernel_set: KernelTruthSet) -> dict[str, Any]:
    run = run_runbench("scan", *KERNEL_SELECTION, *JSON_ARGS)
    assert run.returncode in (0, 1), run.describe()
    return run.json()


def result(report: dict[str, Any], container: str, check: str) -> dict[str, Any]:
    return find_result(report, container, check)


def status(report: dict[str, Any], container: str, check: str) -> str:
    return str(result(report, container, check)["status"])


def text(r: dict[str, Any]) -> str:
    return f"{r.get('detail')} {json.dumps(r.get('evidence'), ensure_ascii=False)}"


# --- namespace joins ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "check", "target"),
    [
        ("rbk-join-hostpid", "container.host_pid", "rbt-hostpid"),
        ("rbk-join-hostnet", "container.host_network", "rbt-hostnet"),
        ("rbk-join-hostipc", "container.host_ipc", "rbt-hostipc"),
    ],
)
def test_a_join_to_a_host_namespace_container_is_the_host_namespace(
    kernel_report: dict[str, Any], scenarios: ScenarioSet, container: str, check: str, target: str
) -> None:
    r = result(kernel_report, container, check)
    assert r["status"] == "fail", explain(r)
    assert f"joined through {target}" in r["detail"], explain(r)
    field = {"container.host_pid": "PidMode", "container.host_network": "NetworkMode"}.get(check, "IpcMode")
    target_id = scenarios.containers[target].id
    assert r["evidence"][f"HostConfig.{field}"] == f"container:{target_id[:12]}… → host (via {target})", explain(r)
    assert "the host's" in r["evidence"]["kernel"], explain(r)  # the kernel's inodes agree, as evidence


def test_a_join_to_a_default_bridge_container_is_on_the_default_bridge(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-join-bridge", "container.default_bridge")
    assert r["status"] == "fail" and "through rbt-nolimits" in r["detail"], explain(r)
    net = result(kernel_report, "rbk-join-bridge", "container.host_network")
    assert net["status"] == "pass" and "not the host's" in net["evidence"]["kernel"], explain(net)
    hostnet = result(kernel_report, "rbk-join-hostnet", "container.default_bridge")
    assert hostnet["status"] == "pass", explain(hostnet)


# --- mount sources --------------------------------------------------------------------------------------------


def test_a_symlinked_bind_source_to_a_sensitive_directory(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-etc-link", "container.sensitive_mounts")
    assert r["status"] == "fail" and r["severity"] == "high", explain(r)  # read-only
    assert "etc-link → /etc:/host-etc:ro" in r["detail"], explain(r)


def test_a_symlinked_bind_source_to_the_engine_socket(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-sock-link", "container.docker_socket")
    assert r["status"] == "fail" and "(engine socket)" in r["detail"], explain(r)
    assert "listens on it" in text(r), explain(r)  # the evidence names the socket and who listens


def test_a_bind_backed_local_volume_of_a_sensitive_directory(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-etc-volume", "container.sensitive_mounts")
    assert r["status"] == "fail" and "volume rbk-etc → /etc:/host-etc:ro" in r["detail"], explain(r)


def test_a_mount_of_the_daemons_own_containerd_socket_directory(
    kernel_report: dict[str, Any], kernel_set: KernelTruthSet
) -> None:
    where = kernel_set.facts["the engine's own containerd directory"]
    if where == "None":
        pytest.skip("this engine's dockerd uses a system containerd")
    r = result(kernel_report, "rbk-containerd-dir", "container.docker_socket")
    assert r["status"] == "fail" and "containerd.sock" in r["detail"], explain(r)
    assert "containerd pid" in text(r), explain(r)


def _sockets_of_the_engine_under_test() -> set[str]:
    """An oracle independent of runbench: the unix sockets the dockerd serving DOCKER_HOST and the containerd it
    started have open that exist on disk as sockets (real paths), per psutil. They live as long as the engine,
    so they exist for the whole session (other engines on this host may come and go meanwhile)."""
    sock = os.path.realpath(engine_socket_path())
    found = set()
    for proc in psutil.process_iter(["name", "cmdline"]):
        argv = proc.info["cmdline"] or []
        hosts = {os.path.realpath(a.removeprefix("unix://")) for a in argv if a.startswith("unix://")}
        if proc.info["name"] != "dockerd" or not (sock in hosts or (not hosts and sock == "/run/docker.sock")):
            continue
        for p in (proc, *(c for c in proc.children() if c.name() == "containerd")):
            for conn in p.net_connections(kind="unix"):
                path = conn.laddr if isinstance(conn.laddr, str) else ""
                if path.startswith("/") and os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode):
                    found.add(os.path.realpath(path))
    return found


def _named_sockets(r: dict[str, Any]) -> list[str]:
    listed = str((r.get("evidence") or {}).get("engine sockets", "")).strip("[]")
    return [s.split(" (", 1)[0] for s in listed.split(", ") if s]


def test_socket_evidence_names_only_sockets_that_exist(scan: Scan, kernel_report: dict[str, Any]) -> None:
    """The engine sockets runbench found are the ones that exist (the engine under test's among them), the
    evidence names only those, and rbt-varrun (a mount of /var/run) fails exactly when one of them is below /run
    (the default engine's /run/docker.sock and its containerd's; a second daemon keeps its sockets elsewhere)."""
    runtime = Snapshot.loads(scan.snapshot.read_text()).runtime_host
    assert runtime is not None and runtime.local, runtime
    found = {s.real: s for s in runtime.sockets}
    ours = _sockets_of_the_engine_under_test()
    assert ours and ours <= set(found), f"the engine's own sockets {sorted(ours)}; runbench found {sorted(found)}"
    assert found[os.path.realpath(engine_socket_path())].process == "dockerd"
    under_run = sorted(real for real in found if real.startswith("/run/"))
    r = result(scan.report, "rbt-varrun", "container.docker_socket")
    assert r["status"] == ("fail" if under_run else "pass"), f"engine sockets below /run: {under_run}; {explain(r)}"
    paths = {s.path for s in runtime.sockets}
    for report in (scan.report, kernel_report):
        for x in report["results"]:
            if x["check"] == "container.docker_socket" and x["status"] == "fail":
                assert set(_named_sockets(x)) <= paths, explain(x)


# --- users ----------------------------------------------------------------------------------------------------


def test_uid_0_spellings(kernel_report: dict[str, Any]) -> None:
    running = result(kernel_report, "rbk-uid00", "container.user")
    assert running["status"] == "fail" and running["evidence"]["host uid"].startswith("0 "), explain(running)
    assert status(kernel_report, "rbk-uid00", "container.runtime_root") == "fail"
    created = result(kernel_report, "rbk-uid-plus0", "container.user")
    assert created["status"] == "fail" and created["evidence"]["Config.User"] == "+0:0", explain(created)


def test_an_exec_session_as_uid_00_is_root_on_the_host(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-exec-root", "container.exec_root")
    assert r["status"] == "fail" and "runs as uid 0 on the host" in r["detail"], explain(r)
    assert status(kernel_report, "rbk-exec-root", "container.user") == "pass"  # its init runs as 1000
    root = result(kernel_report, "rbk-exec-root", "container.runtime_root")
    assert root["status"] == "fail" and "sleep" in root["detail"], explain(root)


# --- confinement in effect ------------------------------------------------------------------------------------


def test_an_allow_all_seccomp_profile_is_unconfined_in_all_but_name(kernel_report: dict[str, Any]) -> None:
    r = result(kernel_report, "rbk-allow-all", "container.seccomp")
    assert r["status"] == "fail" and "unconfined in all but name" in r["detail"], explain(r)
    kernel = result(kernel_report, "rbk-allow-all", "container.runtime_seccomp")
    assert kernel["status"] == "pass" and "filter" in kernel["detail"], explain(kernel)  # Seccomp 2 all the same


@pytest.mark.parametrize("container", ["rbk-cpu-quota", "rbk-cpus-all"])
def test_a_cpu_limit_of_the_hosts_cpus_or_more_limits_nothing(kernel_report: dict[str, Any], container: str) -> None:
    r = result(kernel_report, container, "container.cpu_limit")
    assert r["status"] == "fail" and "limits nothing" in r["detail"], explain(r)


# --- sshd: the processes a container started ------------------------------------------------------------------


def test_sshd_looks_only_at_the_processes_the_container_started(
    report: dict[str, Any], kernel_report: dict[str, Any], kernel_set: KernelTruthSet
) -> None:
    assert kernel_set.host_sshd is not None and kernel_set.host_sshd.poll() is None  # a host process named sshd
    assert psutil.Process(kernel_set.host_sshd.pid).name() == "sshd"
    for container in ("rbk-join-hostpid", "rbk-join-sshd"):  # they see sshd processes they did not start
        r = result(kernel_report, container, "container.sshd")
        assert r["status"] == "pass", explain(r)
    assert status(report, "rbt-hostpid", "container.sshd") == "pass"
    assert status(report, "rbt-sshd", "container.sshd") == "fail"  # the one that started it


# --- runtime truth on the main scenarios ---------------------------------------------------------------------


def test_cap_add_sys_admin_is_seen_in_capeff(report: dict[str, Any]) -> None:
    r = result(report, "rbt-sysadmin", "container.runtime_capabilities")
    assert r["status"] == "fail" and "CapEff SYS_ADMIN" in r["detail"], explain(r)


def test_seccomp_unconfined_is_seen_as_seccomp_0(report: dict[str, Any]) -> None:
    r = result(report, "rbt-seccomp", "container.runtime_seccomp")
    assert r["status"] == "fail" and "Seccomp 0" in r["detail"] and "seccomp=unconfined" in r["detail"], explain(r)


def test_no_new_privileges_is_seen_as_nonewprivs_1(report: dict[str, Any]) -> None:
    r = result(report, "rbt-hardened", "container.runtime_nnp")
    assert r["status"] == "pass" and "NoNewPrivs 1" in r["detail"], explain(r)
    off = result(report, "rbt-nnp-false", "container.runtime_nnp")
    assert off["status"] == "skip", explain(off)  # not asked for: container.no_new_privileges judges that


def test_root_on_the_host_and_not(report: dict[str, Any]) -> None:
    assert status(report, "rbt-nolimits", "container.runtime_root") == "fail"
    assert status(report, "rbt-hardened", "container.runtime_root") == "pass"
    for check in ("runtime_capabilities", "runtime_seccomp", "runtime_nnp", "runtime_root"):
        r = result(report, "rbt-privileged", f"container.{check}")  # created only: nothing runs
        assert r["status"] == "skip" and "created" in r["detail"], explain(r)


# --- a userns-remapped daemon ---------------------------------------------------------------------------------

USERNS_STATE = Path("/tmp/runbench-userns-engine")
USERNS_SOCK = USERNS_STATE / "docker.sock"


def _userns_env() -> dict[str, str]:
    return {
        **os.environ,
        "DOCKER_HOST": f"unix://{USERNS_SOCK}",
        "RUNBENCH_ENGINE_STATE": str(USERNS_STATE),
        "RUNBENCH_ENGINE_BRIDGE": "rbku0",
        "RUNBENCH_ENGINE_BRIDGE_CIDR": "10.220.0.1/24",
        "RUNBENCH_DOCKERD_ARGS": "--userns-remap default",
    }


@contextlib.contextmanager
def _exclusive(path: str, wait: float = 600) -> Iterator[None]:
    """One holder at a time on this host: test runs on the two engine generations may overlap, and the
    userns daemon's state dir and bridge are fixed."""
    with open(path, "a") as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test run has held {path} for {wait:.0f} s")
                time.sleep(1)
        yield  # closing the file releases the lock


@pytest.fixture(scope="module")
def userns_engine() -> Iterator[str]:
    """A second dockerd with --userns-remap default (its own socket, roots and bridge rbku0) running one
    container as root inside; yields its DOCKER_HOST and stops it, by its pid, at the end."""
    if os.geteuid() != 0:
        pytest.skip("starting a second dockerd needs root")
    env = _userns_env()
    engine = str(ROOT / "scripts/engine.sh")
    with _exclusive(f"{USERNS_STATE}.lock"):
        up = subprocess.run([engine, "up"], env=env, capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr[-2000:]
        pid = int((USERNS_STATE / "dockerd.pid").read_text())
        try:
            client = docker.DockerClient(base_url=env["DOCKER_HOST"], timeout=60)
            from tests.support.testimages import BASE_IMAGE, ensure_test_images

            ensure_test_images(client)
            for old in client.containers.list(all=True, filters={"name": "rbku-"}):  # an interrupted earlier run
                remove_container(old)
            labels = {"runbench.test": "1"}
            client.containers.run(BASE_IMAGE, ["sleep", "3600"], name="rbku-root", detach=True, labels=labels)
            client.close()
            yield env["DOCKER_HOST"]
        finally:
            try:
                cleanup = docker.DockerClient(base_url=env["DOCKER_HOST"], timeout=60)
                for c in cleanup.containers.list(all=True, filters={"name": "rbku-"}):
                    remove_container(c)
                cleanup.close()
            except docker.errors.DockerException:
                pass
            subprocess.run([engine, "down"], env=env, capture_output=True, timeout=120)  # stops pid `pid`
            if psutil.pid_exists(pid) and psutil.Process(pid).name() == "dockerd":
                os.kill(pid, signal.SIGTERM)


def test_a_userns_remapped_root_is_not_root_on_the_host(userns_engine: str) -> None:
    run = run_runbench("scan", "--all", "--label", "runbench.test=1", *JSON_ARGS, env={"DOCKER_HOST": userns_engine})
    assert run.returncode in (0, 1), run.describe()
    report = run.json()
    root = result(report, "rbku-root", "container.runtime_root")
    assert root["status"] == "pass", explain(root)
    uid = int(root["detail"].rsplit(" ", 1)[1])
    assert uid >= 65536, explain(root)  # a subordinate uid of dockremap, not 0
    user = result(report, "rbku-root", "container.user")
    assert user["status"] == "pass" and "userns-remap" in user["detail"], explain(user)
    assert user["evidence"]["Config.User"] == "(empty: root)", explain(user)
    caps = result(report, "rbku-root", "container.runtime_capabilities")
    assert caps["status"] == "pass", explain(caps)  # Docker's defaults, in the container's own user namespace
