"""The swarm checks (CIS 7.x) on a real swarm: a second, isolated dockerd (scripts/engine.sh: its own socket,
data and exec roots, pidfile and bridge rbsw0 10.219.0.1/24) is made a one-node swarm with `docker swarm init
--advertise-addr 127.0.0.1`, given an encrypted and an unencrypted overlay network and a service holding a
secret in its environment, autolock and the certificate lifetime are toggled between scans, and the swarm is
left at the end (then every swarm check skips) before the daemon is stopped by its pid.

Swarm ports listen on 127.0.0.1 only (--listen-addr), docker_gwbridge is created beforehand on a subnet and
bridge name of our own (10.219.1.0/24, rbswgw0) and removed afterwards: nothing of the host's own networking
is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import pytest

from tests.support.runner import Run, explain, run_runbench

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STATE = Path("/tmp/runbench-swarm-engine")
SOCK = STATE / "docker.sock"
LABELS = {"runbench.test": "1"}
DAY_NS = 86_400 * 1_000_000_000
SECRET_ENV = "Fake-swarm-svc-pw-3141"


def _engine_env() -> dict[str, str]:
    return {
        **os.environ,
        "DOCKER_HOST": f"unix://{SOCK}",
        "RUNBENCH_ENGINE_STATE": str(STATE),
        "RUNBENCH_ENGINE_BRIDGE": "rbsw0",
        "RUNBENCH_ENGINE_BRIDGE_CIDR": "10.219.0.1/24",
    }


def _leave(client: docker.DockerClient) -> None:
    with contextlib.suppress(docker.errors.APIError):
        client.swarm.leave(force=True)


@pytest.fixture(scope="module")
def swarm_client() -> Iterator[docker.DockerClient]:
    """A second dockerd made a one-node swarm; left and stopped (by its pid) at the end."""
    if os.geteuid() != 0:
        pytest.skip("starting a second dockerd needs root")
    env = _engine_env()
    up = subprocess.run([str(ROOT / "scripts/engine.sh"), "up"], env=env, capture_output=True, text=True, timeout=180)
    assert up.returncode == 0, up.stderr[-2000:]
    client = docker.DockerClient(base_url=f"unix://{SOCK}", timeout=60)
    try:
        _leave(client)  # an interrupted earlier run may have left one
        with contextlib.suppress(docker.errors.NotFound):
            client.networks.get("docker_gwbridge").remove()
        client.networks.create(
            "docker_gwbridge",
            driver="bridge",
            ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.219.1.0/24")]),
            options={
                "com.docker.network.bridge.name": "rbswgw0",
                "com.docker.network.bridge.enable_icc": "false",
                "com.docker.network.bridge.enable_ip_masquerade": "false",
            },
        )
        client.swarm.init(
            advertise_addr="127.0.0.1",
            listen_addr="127.0.0.1:2377",
            default_addr_pool=["10.219.64.0/18"],
            subnet_size=24,
        )
        client.networks.create("rbsw-enc", driver="overlay", options={"encrypted": ""}, labels=LABELS)
        client.networks.create("rbsw-plain", driver="overlay", labels=LABELS)
        client.services.create(
            "runbench-test/base:1",
            ["sleep", "3600"],
            name="rbsw-envsecret",
            env=[f"DB_PASSWORD={SECRET_ENV}", "MODE=test"],
            mode=docker.types.ServiceMode("replicated", replicas=0),
            labels=LABELS,
        )
        yield client
    finally:
        _leave(client)
        with contextlib.suppress(docker.errors.APIError):
            client.networks.get("docker_gwbridge").remove()
        client.close()
        down = subprocess.run([str(ROOT / "scripts/engine.sh"), "down"], env=env, capture_output=True, timeout=120)
        assert down.returncode == 0, down.stderr[-2000:]


def _scan(tmp_path: Path, name: str) -> tuple[Run, dict[str, Any], str]:
    snapshot = tmp_path / f"{name}.json"
    run = run_runbench(
        "scan", "--check", "swarm.*", "--format", "json", "-o", "-", "--no-color", "--snapshot", str(snapshot),
        env={"DOCKER_HOST": f"unix://{SOCK}"},
    )  # fmt: skip
    assert run.returncode in (0, 1), run.describe()
    return run, run.json(), snapshot.read_text()


def _result(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    (result,) = [r for r in report["results"] if r["check"] == check_id]
    return result


def _secrets(client: docker.DockerClient) -> list[str]:
    client.swarm.reload()
    tokens = client.swarm.attrs.get("JoinTokens", {})
    key = client.api.get_unlock_key().get("UnlockKey", "")
    return [v for v in (*tokens.values(), key, SECRET_ENV) if v]


def test_a_swarm_as_created(swarm_client: docker.DockerClient, tmp_path: Path) -> None:
    run, report, snapshot = _scan(tmp_path, "created")
    expected = {
        "swarm.managers": "pass",
        "swarm.overlay_encrypted": "fail",
        "swarm.secrets": "fail",
        "swarm.autolock": "fail",
        "swarm.autolock_rotation": "manual",
        "swarm.node_cert_rotation": "pass",  # the default 90 days
        "swarm.ca_rotation": "manual",
        "swarm.plane_separation": "manual",
    }
    got = {check_id: _result(report, check_id)["status"] for check_id in expected}
    assert got == expected, "\n".join(explain(_result(report, c)) for c in expected)
    overlay = _result(report, "swarm.overlay_encrypted")
    assert "rbsw-plain" in overlay["detail"] and "rbsw-enc" in json.dumps(overlay["evidence"]), explain(overlay)
    assert _result(report, "swarm.secrets")["evidence"]["services"] == "1"
    assert _result(report, "swarm.ca_rotation")["evidence"]["root CA expires"] != "unknown"
    assert _result(report, "swarm.plane_separation")["evidence"]["manager address"] == "127.0.0.1:2377"
    bind = _result(report, "swarm.bind_interface")  # the listeners of the engine's processes, read as root
    assert bind["status"] == "pass" and "127.0.0.1:2377" in json.dumps(bind["evidence"]), explain(bind)
    for secret in _secrets(swarm_client):
        assert secret[:16] not in run.stdout + run.stderr and secret[:16] not in snapshot


def test_autolock_on_and_a_long_certificate_lifetime(swarm_client: docker.DockerClient, tmp_path: Path) -> None:
    swarm_client.swarm.update(autolock_managers=True, node_cert_expiry=365 * DAY_NS)
    try:
        run, report, snapshot = _scan(tmp_path, "locked")
        autolock = _result(report, "swarm.autolock")
        assert autolock["status"] == "pass" and autolock["evidence"]["unlock key"] == "set", explain(autolock)
        certs = _result(report, "swarm.node_cert_rotation")
        assert certs["status"] == "fail" and "365 days" in certs["detail"], explain(certs)
        for secret in _secrets(swarm_client):  # the unlock key now exists: it must not show anywhere
            assert secret[:16] not in run.stdout + run.stderr and secret[:16] not in snapshot
    finally:
        swarm_client.swarm.update(autolock_managers=False, node_cert_expiry=90 * DAY_NS)


def test_after_leaving_every_swarm_check_skips(swarm_client: docker.DockerClient, tmp_path: Path) -> None:
    swarm_client.swarm.leave(force=True)
    _, report, _ = _scan(tmp_path, "left")
    statuses = {r["check"]: r["status"] for r in report["results"]}
    assert len(statuses) == 9 and set(statuses.values()) == {"skip"}, statuses
    assert all("not active" in r["detail"] for r in report["results"])
