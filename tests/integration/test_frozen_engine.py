"""A real dockerd frozen mid-scan: a second, isolated dockerd (own socket, data-root, exec-root, pidfile and
bridge, started by scripts/engine.sh) is stopped with SIGSTOP right after it answered the container list.
runbench must end in bounded time with exit 3 and a report marked incomplete that names the containers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.support.runner import run_runbench
from tests.support.scenarios import remove_container

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STATE = Path("/tmp/runbench-freeze-engine")
SOCK = STATE / "docker.sock"
N = 12


def _engine_env() -> dict[str, str]:
    return {
        **os.environ,
        "DOCKER_HOST": f"unix://{SOCK}",
        "RUNBENCH_ENGINE_STATE": str(STATE),
        "RUNBENCH_ENGINE_BRIDGE": "rbfz0",
        "RUNBENCH_ENGINE_BRIDGE_CIDR": "10.216.0.1/24",
    }


@pytest.fixture(scope="module")
def frozen_engine_pid() -> Iterator[int]:
    """A second dockerd holding N created containers; yields its pid and stops it at the end."""
    if os.geteuid() != 0:
        pytest.skip("starting a second dockerd needs root")
    env = _engine_env()
    up = subprocess.run([str(ROOT / "scripts/engine.sh"), "up"], env=env, capture_output=True, text=True, timeout=180)
    assert up.returncode == 0, up.stderr[-2000:]
    pid = int((STATE / "dockerd.pid").read_text())
    try:
        client = docker.DockerClient(base_url=f"unix://{SOCK}", timeout=60)
        from tests.support.testimages import BASE_IMAGE, ensure_test_images

        ensure_test_images(client)
        for old in client.containers.list(all=True, filters={"name": "rbfz-"}):  # an interrupted earlier run
            remove_container(old)
        for i in range(N):
            client.containers.create(BASE_IMAGE, ["sleep", "1"], name=f"rbfz-{i:02d}", labels={"runbench.test": "1"})
        client.close()
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)
        try:
            cleanup = docker.DockerClient(base_url=f"unix://{SOCK}", timeout=60)
            for c in cleanup.containers.list(all=True, filters={"name": "rbfz-"}):
                remove_container(c)
            cleanup.close()
        except docker.errors.DockerException:
            pass
        subprocess.run([str(ROOT / "scripts/engine.sh"), "down"], env=env, capture_output=True, timeout=120)


class FreezingRelay:
    """A unix-socket relay to the engine that SIGSTOPs the dockerd when the first container inspect arrives."""

    def __init__(self, upstream: Path, pid: int, path: Path) -> None:
        self.upstream, self.pid, self.path = upstream, pid, path
        self.frozen = threading.Event()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.close()
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(str(self.upstream))

        def back() -> None:
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass

        threading.Thread(target=back, daemon=True).start()
        try:
            while data := client.recv(65536):
                line = data.split(b"\r\n", 1)[0]
                inspect = b" /containers/" in line and b"/json" in line and b"/containers/json" not in line
                if inspect and not self.frozen.is_set():
                    os.kill(self.pid, signal.SIGSTOP)
                    self.frozen.set()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()


def test_an_engine_frozen_mid_scan_gives_exit_3_in_bounded_time_and_an_incomplete_report(
    frozen_engine_pid: int, tmp_path: Path
) -> None:
    relay = FreezingRelay(SOCK, frozen_engine_pid, tmp_path / "relay.sock")
    report_path = tmp_path / "report.json"
    try:
        t0 = time.monotonic()
        run = run_runbench(
            "scan",
            "--all",
            "--timeout",
            "3",
            "-q",
            "-o",
            str(report_path),
            "--no-color",
            env={"DOCKER_HOST": f"unix://{relay.path}"},
        )
        took = time.monotonic() - t0
    finally:
        os.kill(frozen_engine_pid, signal.SIGCONT)
        relay.close()
    assert relay.frozen.is_set(), "the relay never saw an inspect"
    assert run.returncode == 3, run.describe()
    assert took < 15, f"took {took:.1f} s for {N} containers with --timeout 3 (the engine is frozen)"
    assert "could not collect everything" in run.stderr
    report = json.loads(report_path.read_text())
    assert report["complete"] is False
    missing = {g.split(":")[0].removeprefix("container ").removesuffix(" not inspected") for g in report["incomplete"]}
    scanned = {r["subject"]["name"] for r in report["results"] if r["subject"]["kind"] == "container"}
    scanned -= missing
    # requests already on their way when SIGSTOP lands may still be answered: those containers are scanned
    assert {f"rbfz-{i:02d}" for i in range(N)} <= missing | scanned
    assert len(missing & {f"rbfz-{i:02d}" for i in range(N)}) >= N - 8
    assert report["policy"]["met"] in (True, False)  # the policy is still judged on what was collected
