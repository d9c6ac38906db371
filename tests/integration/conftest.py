"""Integration fixtures: real engine, real containers, the real runbench CLI as a subprocess.

Session flow: connect (fail in CI, skip elsewhere when no engine answers) -> build the test images
offline -> remove rbt-* leftovers of an interrupted run -> create every scenario container -> run
``runbench scan`` once with the JSON report on stdout -> tests read it -> remove everything.

The engine is whatever DOCKER_HOST names: ``make test`` runs this suite once on the default engine
(docker.io 20.10) and once on the current one (docker.io 28.x, a second daemon; DOCKER_HOST points at its
socket, for the docker SDK here and for the runbench subprocesses alike). The ``engine`` fixture tells which;
a test that depends on the generation branches on it (tests/support/engine.py). With CI=true nothing here
may skip: a skipped integration test is reported as a failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.support` must import however pytest was started
    sys.path.insert(0, str(ROOT))

import docker  # noqa: E402
import docker.errors  # noqa: E402

from tests.support.engine import EngineInfo  # noqa: E402
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


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_report_header(config: pytest.Config) -> str:
    """Name the engine under test at the top of the run (this conftest is loaded early when the run is
    started on tests/integration, as `make test` does)."""
    try:
        client = docker.from_env(timeout=5)
        try:
            return "engine: " + EngineInfo.from_version(client.version()).describe()
        finally:
            client.close()
    except Exception as exc:  # the docker_client fixture reports this properly
        return f"engine: not reachable on DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')} ({exc})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """With CI=true an integration test must run on every engine: turn a skip into a failure."""
    report = yield
    if report.skipped and _in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"integration tests must not skip when CI=true (DOCKER_HOST={_host()}): {reason}"
    return report


def _host() -> str:
    return os.environ.get("DOCKER_HOST", "unset")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # DockerException, requests errors, a missing socket: all mean "no engine"
        message = (
            f"no Docker engine reachable (DOCKER_HOST={_host()}): {exc}. "
            "Run the integration tests through scripts/with-engine.sh (make integration, "
            "make integration-current)."
        )
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def engine(docker_client: docker.DockerClient) -> EngineInfo:
    """The engine under test (version, API version). Fails when RUNBENCH_EXPECT_ENGINE names another."""
    info = EngineInfo.from_version(docker_client.version())
    problem = info.mismatch()
    if problem:
        pytest.fail(problem, pytrace=False)
    return info


@pytest.fixture(scope="session")
def scenarios(docker_client: docker.DockerClient, engine: EngineInfo) -> Iterator[ScenarioSet]:
    print(f"\nengine under test: {engine.describe()}")
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
