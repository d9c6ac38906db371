"""The installed wheel works outside the checkout: the catalog loads from runbench/_catalog (check files
share helpers the same way as in checks/), `runbench checks` lists it, and a scan runs against the test
engine. Built and installed into a fresh venv in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.support.runner import SELECTION

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `runbench` console script of a fresh venv holding only the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("runbench-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return env_dir / "bin" / "runbench"


def _run(exe: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def test_the_wheel_carries_the_catalog(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, "checks", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ids = {c["id"] for c in json.loads(done.stdout)["checks"]}
    assert {"container.privileged", "container.host_pid", "container.docker_socket"} <= ids
    where = _run(
        installed.with_name("python"),
        "-c",
        "import runbench.resources as r; print(r.resource_dir('checks'))",
        cwd=tmp_path,
    )
    assert "site-packages/runbench/_catalog" in where.stdout, where.stdout + where.stderr


def test_the_installed_runbench_scans_the_test_engine(installed: Path, tmp_path: Path, scenarios: Any) -> None:
    done = _run(installed, "scan", *SELECTION, "--format", "json", "-o", "-", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    names = {r["subject"]["name"] for r in report["results"] if r["subject"]["kind"] == "container"}
    assert "rbt-hardened" in names
    assert report["runbench_version"] and report["schema"] == "runbench/report@1"
