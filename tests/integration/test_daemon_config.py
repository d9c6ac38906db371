"""The daemon's effective configuration and its TCP exposure, on real daemons this test starts.

Each daemon is a second, isolated dockerd started by scripts/engine.sh (own socket, data root, exec root,
pidfile and bridge rbdcN, 10.218.N.1/24) inside a network namespace of its own (`ip netns`, entered with
nsenter --net): there it may manage iptables (--icc=false needs it) without touching the host's chains, and its
TCP listener on 127.0.0.1 is reachable only from that namespace, so no other daemon on this host sees it or
collides with its port. runbench scans it from inside the same network namespace. Several flags share one
daemon start (each costs a few seconds); every daemon is stopped by its pid; the host's docker0 must survive.

Whatever engine generation the suite runs on (RUNBENCH_DOCKERD, scripts/engine.sh) is the one started here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.runner import ROOT, Run
from tests.support.tlscerts import CertSet, make_ca

pytestmark = pytest.mark.integration

ENGINE_SH = ROOT / "scripts" / "engine.sh"
# The suite's own engine selection must not leak into the daemons started here (engine.sh would take its
# socket, state and bridge from RUNBENCH_ENGINE=current), nor register them as the suite's users.
_DROP = ("RUNBENCH_ENGINE", "RUNBENCH_ENGINE_USER", "RUNBENCH_DOCKERD_ARGS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


@dataclass(frozen=True)
class Daemon:
    name: str
    state: Path
    netns: str
    pid: int
    env: dict[str, str]

    @property
    def sock(self) -> Path:
        return self.state / "docker.sock"

    def inside(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `argv` in the daemon's network namespace, with DOCKER_HOST pointing at it."""
        return subprocess.run(
            ["nsenter", f"--net=/run/netns/{self.netns}", *argv],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd"


def _docker0() -> bool:
    return subprocess.run(["ip", "link", "show", "docker0"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def host_docker0_survives() -> Iterator[None]:
    """The host's docker0 (when it has one) is still there after every daemon of this module."""
    before = _docker0()
    yield
    assert _docker0() == before, "the host's docker0 bridge was removed"


def _unmount_below(root: Path) -> None:
    prefix = f"{root}/"
    with open("/proc/mounts", encoding="utf-8") as fh:
        targets = [line.split()[1] for line in fh if line.split()[1].startswith(prefix)]
    for target in sorted(targets, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, check=False)


@contextmanager
def second_daemon(name: str, index: int, args: list[str], files: dict[str, str] | None = None) -> Iterator[Daemon]:
    """A dockerd started by scripts/engine.sh in network namespace rbdc<index> with extra `args`; `files` are
    written into its state directory first (a --config-file daemon.json)."""
    if os.geteuid() != 0:
        pytest.skip("starting a second dockerd needs root")
    if shutil.which("nsenter") is None or shutil.which("ip") is None:
        pytest.skip("needs ip(8) and nsenter(1)")
    state = Path(f"/tmp/runbench-dc-{name}")
    netns = f"rbdc{index}"
    _unmount_below(state)  # an interrupted run's daemon leaves its netns and overlay mounts behind
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {}).items():
        (state / rel).write_text(text)
    subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)  # an interrupted run's
    subprocess.run(["ip", "netns", "add", netns], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(
        DOCKER_HOST=f"unix://{state}/docker.sock",
        RUNBENCH_ENGINE_STATE=str(state),
        RUNBENCH_ENGINE_BRIDGE=netns,
        RUNBENCH_ENGINE_BRIDGE_CIDR=f"10.218.{index}.1/24",
        # engine.sh passes --iptables=false (a second daemon must not rewrite the host's chains); inside a
        # network namespace of its own it may manage them, and --icc=false needs that
        RUNBENCH_DOCKERD_ARGS=" ".join(["--iptables=true", *args]),
    )
    pid: int | None = None
    try:
        subprocess.run(["nsenter", f"--net=/run/netns/{netns}", "ip", "link", "set", "lo", "up"], check=True)
        up = subprocess.run(
            ["nsenter", f"--net=/run/netns/{netns}", str(ENGINE_SH), "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert up.returncode == 0, f"engine.sh up ({' '.join(args)}):\n{up.stderr[-3000:]}"
        pid = int((state / "dockerd.pid").read_text())
        yield Daemon(name, state, netns, pid, env)
    finally:
        subprocess.run(
            ["nsenter", f"--net=/run/netns/{netns}", str(ENGINE_SH), "down"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if pid is not None and _alive(pid):  # engine.sh stops it by its pid; make sure
            os.kill(pid, signal.SIGKILL)
            time.sleep(1)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
        shutil.rmtree(state, ignore_errors=True)


def scan(daemon: Daemon, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`runbench scan` of the daemon's checks from inside its network namespace: (report, snapshot)."""
    snap = tmp_path / f"{daemon.name}-snapshot.json"
    args = ["scan", "--check", "daemon.*", "--format", "json", "-o", "-", "--no-color", "--snapshot", str(snap)]
    proc = daemon.inside(sys.executable, "-m", "runbench", *args)
    run = Run(args, proc.returncode, proc.stdout, proc.stderr)
    assert proc.returncode in (0, 1), run.describe()
    report = run.json()
    assert report["host"]["engine_version"].startswith(_expected_version()), report["host"]
    return report, json.loads(snap.read_text())


def _expected_version() -> str:
    """The version prefix of the dockerd engine.sh starts: RUNBENCH_DOCKERD's (the current engine), or PATH's."""
    dockerd = os.environ.get("RUNBENCH_DOCKERD") or shutil.which("dockerd") or "dockerd"
    out = subprocess.run([dockerd, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split("version ", 1)[1].split(".", 1)[0] + "."  # "Docker version 28.5.2+dfsg4, build ..." -> "28."


def result(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    (found,) = [r for r in report["results"] if r["check"] == check_id]
    return found


def verdict(report: dict[str, Any], check_id: str) -> str:
    return str(result(report, check_id)["status"])


def evidence(report: dict[str, Any], check_id: str, key: str) -> str:
    shown = result(report, check_id)["evidence"]
    assert key in shown, f"{check_id}: no evidence {key!r} in {shown}"
    return str(shown[key])


# --- a plain TCP listener, and most configuration flags ------------------------------------------------

DAEMON_JSON = """{
  "live-restore": true,
  "no-new-privileges": true,
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 4096, "Soft": 2048}}
}
"""
# written after the start: dockerd refuses to start with a key both as a flag and in the file
DAEMON_JSON_LATER = """{
  "live-restore": true,
  "no-new-privileges": true,
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 4096, "Soft": 2048}},
  "icc": false
}
"""


def test_a_plain_tcp_listener_and_flags_from_argv_and_daemon_json(tmp_path: Path) -> None:
    args = [
        "-H", "tcp://127.0.0.1:2375",
        "--icc=false",
        "--log-level", "debug",
        "--insecure-registry", "10.218.99.0/24",
        "--userland-proxy=false",
        "--config-file", "/tmp/runbench-dc-plain/daemon.json",
    ]  # fmt: skip
    with second_daemon("plain", 0, args, {"daemon.json": DAEMON_JSON}) as daemon:
        (daemon.state / "daemon.json").write_text(DAEMON_JSON_LATER)
        report, snapshot = scan(daemon, tmp_path)

    # the live probe: the API answers anyone in plain HTTP
    (listener,) = [x for x in snapshot["tcp"]["listeners"] if x["port"] == 2375]
    assert (listener["address"], listener["process"], listener["pid"]) == ("127.0.0.1", "dockerd", daemon.pid)
    assert listener["attempts"][0]["outcome"] == "answered"
    assert listener["attempts"][0]["api_version"]
    assert verdict(report, "daemon.tcp_unauthenticated") == "fail"
    assert result(report, "daemon.tcp_unauthenticated")["severity"] == "critical"
    assert "127.0.0.1:2375 (plain HTTP)" in result(report, "daemon.tcp_unauthenticated")["detail"]
    assert verdict(report, "daemon.tls") == "fail"
    assert "tcp://127.0.0.1:2375] (argv)" in evidence(report, "daemon.tls", "hosts")
    assert evidence(report, "daemon.tls", "tlsverify") == "false (default)"
    exposure = result(report, "daemon.tcp_exposure")
    assert (exposure["status"], exposure["severity"]) == ("fail", "high")  # on the loopback: any local user

    # each flag's verdict and where its value came from
    assert verdict(report, "daemon.icc") == "pass"
    assert evidence(report, "daemon.icc", "network bridge com.docker.network.bridge.enable_icc").startswith("false")
    icc = evidence(report, "daemon.icc", "icc")
    assert icc.startswith("false (argv, daemon.json:5)") and "dockerd refuses" in icc  # the conflict, named
    assert verdict(report, "daemon.config_conflicts") == "fail"
    assert "icc (argv, daemon.json:5)" in result(report, "daemon.config_conflicts")["detail"]
    assert verdict(report, "daemon.log_level") == "fail"
    assert evidence(report, "daemon.log_level", "log-level") == "debug (argv)"
    assert verdict(report, "daemon.insecure_registries") == "fail"
    assert evidence(report, "daemon.insecure_registries", "insecure-registries") == "[10.218.99.0/24] (argv, info)"
    assert verdict(report, "daemon.userland_proxy") == "pass"
    assert evidence(report, "daemon.userland_proxy", "userland-proxy") == "false (argv)"
    assert verdict(report, "daemon.live_restore") == "pass"
    assert evidence(report, "daemon.live_restore", "live-restore") == "true (daemon.json:2, info)"
    assert verdict(report, "daemon.no_new_privileges") == "pass"
    assert evidence(report, "daemon.no_new_privileges", "no-new-privileges").startswith("true (daemon.json:3")
    assert verdict(report, "daemon.default_ulimits") == "pass"
    assert evidence(report, "daemon.default_ulimits", "default-ulimits").endswith("(daemon.json:4)")
    assert verdict(report, "daemon.iptables") == "pass"  # engine.sh's --iptables=false, then ours: the last wins
    assert verdict(report, "daemon.userns_remap") == "fail"
    assert verdict(report, "daemon.rootless") == "fail"
    assert not _alive(daemon.pid)


# --- TLS with client verification, user namespace remapping ------------------------------------------


def _get_with_client_cert(daemon: Daemon, certs: CertSet, port: int) -> str:
    code = (
        "import socket, ssl, sys\n"
        f"ctx = ssl.create_default_context(cafile={str(certs.ca)!r})\n"
        f"ctx.load_cert_chain({str(certs.client_cert)!r}, {str(certs.client_key)!r})\n"
        f"with socket.create_connection(('127.0.0.1', {port}), timeout=5) as raw:\n"
        "    with ctx.wrap_socket(raw, server_hostname='127.0.0.1') as conn:\n"
        "        conn.sendall(b'GET /_ping HTTP/1.1\\r\\nHost: docker\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "        sys.stdout.write(conn.recv(4096).decode('latin-1').split('\\r\\n')[0])\n"
    )
    proc = daemon.inside(sys.executable, "-c", code, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_tlsverify_refuses_the_probe_and_lets_a_certified_client_in(tmp_path: Path) -> None:
    certs = make_ca(tmp_path / "ca")
    args = [
        "-H", "tcp://127.0.0.1:2376",
        "--tlsverify",
        "--tlscacert", str(certs.ca),
        "--tlscert", str(certs.server_cert),
        "--tlskey", str(certs.server_key),
        "--userns-remap", "default",
        "--live-restore",
        "--no-new-privileges",
    ]  # fmt: skip
    with second_daemon("tls", 1, args) as daemon:
        report, snapshot = scan(daemon, tmp_path)
        assert _get_with_client_cert(daemon, certs, 2376).startswith("HTTP/1.1 200")

    (listener,) = [x for x in snapshot["tcp"]["listeners"] if x["port"] == 2376]
    outcomes = [a["outcome"] for a in listener["attempts"]]
    assert outcomes == ["tls-required", "cert-required"], listener["attempts"]
    assert verdict(report, "daemon.tcp_unauthenticated") == "pass"
    assert verdict(report, "daemon.tls") == "pass"
    assert evidence(report, "daemon.tls", "tlsverify") == "true (argv)"
    assert verdict(report, "daemon.tcp_exposure") == "pass"
    assert verdict(report, "daemon.userns_remap") == "pass"
    assert evidence(report, "daemon.userns_remap", "userns-remap") == "true (argv, info)"
    assert verdict(report, "daemon.icc") == "fail"  # the default: containers on the bridge talk freely
    assert evidence(report, "daemon.icc", "icc") == "true (default)"
    assert verdict(report, "daemon.live_restore") == "pass"
    assert evidence(report, "daemon.live_restore", "live-restore") == "true (argv, info)"
    assert verdict(report, "daemon.no_new_privileges") == "pass"
    assert evidence(report, "daemon.no_new_privileges", "no-new-privileges").startswith("true (argv")  # info: v24+
    assert verdict(report, "daemon.config_conflicts") == "pass"
    assert not _alive(daemon.pid)
