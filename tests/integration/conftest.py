"""Integration fixtures: real engine, real containers, the real runbench CLI as a subprocess.

Session flow: connect (fail in CI, skip elsewhere when no engine answers) -> build the test images
offline -> remove rbt-* leftovers of an interrupted run -> create every scenario container -> run
``runbench scan`` once with the JSON report on stdout -> tests read it -> remove everything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.support` must import however pytest was started
    sys.path.insert(0, str(ROOT))

import docker  # noqa: E402
import docker.errors  # noqa: E402

from tests.support.runner import JSON_ARGS, SELECTION, Run, run_runbench  # noqa: E402
from tests.support.runner import verdict as verdict  # noqa: E402  (re-exported for the tests)
from tests.support.scenarios import ScenarioSet, remove_leftovers  # noqa: E402
from tests.support.testimages import ensure_test_images  # noqa: E402


@dataclass(frozen=True)
class Scan:
    report: dict[str, Any]
    stdout: str
    run: Run
    snapshot: Path  # what `scan --snapshot` kept of the facts it evaluated


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # DockerException, requests errors, a missing socket: all mean "no engine"
        message = (
            f"no Docker engine reachable (DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')}): {exc}. "
            "Run the integration tests through scripts/with-engine.sh (make integration)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def scenarios(docker_client: docker.DockerClient) -> Iterator[ScenarioSet]:
    ensure_test_images(docker_client)
    leftovers = remove_leftovers(docker_client)
    if leftovers:
        print(f"\nremoved leftovers of an earlier run: {', '.join(leftovers)}")
    scenario_set = ScenarioSet.up(docker_client)
    print("\nscenario containers on this engine:")
    for key, value in scenario_set.facts.items():
        print(f"  {key}: {value}")
    try:
        yield scenario_set
    finally:
        scenario_set.down()


@pytest.fixture(scope="session")
def scan(scenarios: ScenarioSet, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """One ``runbench scan`` over every test container, JSON report on stdout, facts kept with --snapshot."""
    snapshot = tmp_path_factory.mktemp("scan") / "scan-snapshot.json"
    run = run_runbench("scan", *SELECTION, *JSON_ARGS, "--snapshot", str(snapshot))
    assert run.returncode in (0, 1), run.describe()
    return Scan(run.json(), run.stdout, run, snapshot)


@pytest.fixture(scope="session")
def report(scan: Scan) -> dict[str, Any]:
    return scan.report


@pytest.fixture(scope="session")
def snapshot_path(scenarios: ScenarioSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``runbench collect -o snap.json`` over the same selection as ``scan``."""
    path = tmp_path_factory.mktemp("snapshot") / "snap.json"
    run = run_runbench("collect", "-o", str(path), *SELECTION)
    assert run.returncode == 0, run.describe()
    assert path.is_file(), f"collect wrote no {path}\n{run.describe()}"
    return path


@pytest.fixture(scope="session")
def terminal_verbose(scenarios: ScenarioSet) -> Run:
    """The plain-text terminal report listing passes too: ``scan -v --no-color``."""
    run = run_runbench("scan", *SELECTION, "-v", "--no-color")
    assert run.returncode in (0, 1), run.describe()
    return run
