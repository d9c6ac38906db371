"""Who can drive a real daemon through its socket: file.docker_sock_mode / _owner on a second, isolated dockerd
started by scripts/engine.sh (own socket, data root, exec root, pidfile and bridge rbhf1, 10.217.0.1/24).

Its socket is chmod'ed 0666, then 0646, then chown'ed to a group other than docker: each time runbench must fail
the named check on that socket with the evidence; 0660 root:docker passes. The daemon is stopped by its pid at
the end (engine.sh down) and the host's docker0 survives. Whatever engine generation the suite runs on
(RUNBENCH_DOCKERD) is the one started here.
"""

from __future__ import annotations

import grp
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.runner import JSON_ARGS, ROOT, run_runbench

pytestmark = pytest.mark.integration

ENGINE_SH = ROOT / "scripts" / "engine.sh"
STATE = Path("/tmp/runbench-hostfiles-engine")
SOCK = STATE / "docker.sock"
# The suite's own engine selection must not leak into the daemon started here (engine.sh would take its socket,
# state and bridge from RUNBENCH_ENGINE=current), nor register it as one of the suite's users.
_DROP = ("RUNBENCH_ENGINE", "RUNBENCH_ENGINE_USER", "RUNBENCH_DOCKERD_ARGS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
CHECKS = ("file.docker_sock_mode", "file.docker_sock_owner")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(
        DOCKER_HOST=f"unix://{SOCK}",
        RUNBENCH_ENGINE_STATE=str(STATE),
        RUNBENCH_ENGINE_BRIDGE="rbhf1",
        RUNBENCH_ENGINE_BRIDGE_CIDR="10.217.0.1/24",
    )
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd"
    except OSError:
        return False


def _docker0() -> bool:
    return subprocess.run(["ip", "link", "show", "docker0"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module")
def engine_socket() -> Iterator[Path]:
    """The socket of a second dockerd started for this module; stopped (by its pid) afterwards."""
    if os.geteuid() != 0:
        pytest.skip("starting a second dockerd and changing its socket's owner need root")
    docker0 = _docker0()
    env = _env()
    up = subprocess.run([str(ENGINE_SH), "up"], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    pidfile = STATE / "dockerd.pid"
    pid = int(pidfile.read_text()) if pidfile.exists() else None
    try:
        yield SOCK
    finally:
        down = subprocess.run([str(ENGINE_SH), "down"], env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr[-3000:]
        if pid is not None:
            assert not _alive(pid), f"dockerd pid {pid} still runs after engine.sh down"
        assert _docker0() == docker0, "the host's docker0 did not survive"


def _scan() -> dict[str, Any]:
    args = [a for c in CHECKS for a in ("--check", c)]
    run = run_runbench("scan", *args, *JSON_ARGS, "--fail-on", "none", env=_env())
    assert run.returncode == 0, run.describe()
    return run.json()


def _result(report: dict[str, Any], check_id: str, path: Path) -> dict[str, Any]:
    hits = [r for r in report["results"] if r["check"] == check_id and (r.get("subject") or {}).get("key") == str(path)]
    assert len(hits) == 1, f"{check_id} on {path}: {[(r['check'], r.get('subject')) for r in report['results']]}"
    return hits[0]


def _other_group() -> grp.struct_group:
    for name in ("nogroup", "daemon", "users", "adm", "staff"):
        try:
            found = grp.getgrnam(name)
        except KeyError:
            continue
        if found.gr_gid != 0:
            return found
    pytest.fail("no group other than root and docker on this host to chown the socket to")


def test_the_socket_too_open_or_in_another_group_fails(engine_socket: Path) -> None:
    sock = engine_socket
    before = os.lstat(sock)
    assert stat.S_ISSOCK(before.st_mode)
    try:
        docker_gid: int | None = grp.getgrnam("docker").gr_gid
    except KeyError:
        docker_gid = None  # dockerd leaves the socket root:root without a docker group
    try:
        os.chmod(sock, 0o660)
        if docker_gid is not None:
            os.chown(sock, 0, docker_gid)
        report = _scan()
        good_mode, good_owner = (_result(report, c, sock) for c in CHECKS)
        assert good_mode["status"] == "pass", good_mode
        assert good_mode["evidence"] == {"mode": "0660", "allowed": "0660"}
        assert good_owner["status"] == "pass", good_owner
        assert good_owner["evidence"]["owner"] in ("root:docker", "root:root")

        for mode in (0o666, 0o646):
            os.chmod(sock, mode)
            found = _result(_scan(), "file.docker_sock_mode", sock)
            assert found["status"] == "fail", found
            assert found["severity"] == "critical"
            assert f"mode {mode:04o} grants 0006 beyond 0660" in found["detail"]
            assert "any local user can run a privileged container" in found["detail"]
            assert found["evidence"]["mode"] == f"{mode:04o}"

        other = _other_group()
        os.chmod(sock, 0o660)
        os.chown(sock, 0, other.gr_gid)
        report = _scan()
        owner = _result(report, "file.docker_sock_owner", sock)
        assert owner["status"] == "fail", owner
        assert f"group {other.gr_name}, not docker" in owner["detail"]
        assert owner["evidence"]["owner"] == f"root:{other.gr_name}"
        assert _result(report, "file.docker_sock_mode", sock)["status"] == "pass"
    finally:
        os.chown(sock, before.st_uid, before.st_gid)
        os.chmod(sock, stat.S_IMODE(before.st_mode))
