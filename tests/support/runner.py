"""Run the real runbench CLI as a subprocess and read its JSON report (integration tests, bench)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# The selection every integration run uses: all test containers, running or not.
SELECTION = ["--all", "--label", "runbench.test=1"]
JSON_ARGS = ["--format", "json", "-o", "-", "--no-color"]


@dataclass(frozen=True)
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self, limit: int = 3000) -> str:
        return (
            f"runbench {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stderr ---\n{self.stderr[-limit:]}\n--- stdout (head) ---\n{self.stdout[:limit]}"
        )

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not JSON ({exc})\n{self.describe()}") from exc
        assert isinstance(data, dict), self.describe()
        return data


def run_runbench(
    *args: str,
    env: dict[str, str] | None = None,
    drop_env: tuple[str, ...] = ("FORCE_COLOR", "NO_COLOR", "CLICOLOR_FORCE"),
    timeout: float = 120,
) -> Run:
    """``python -m runbench ARGS`` from the repository root; the environment is ours plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if k not in drop_env}
    full_env.setdefault("COLUMNS", "300")  # wide: keep rich from wrapping the strings the tests look for
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "runbench", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(
        list(args),
        proc.returncode,
        proc.stdout.decode("utf-8", errors="replace"),
        proc.stderr.decode("utf-8", errors="replace"),
    )


def container_results(report: dict[str, Any], container_name: str) -> list[dict[str, Any]]:
    return [
        r
        for r in report["results"]
        if (r.get("subject") or {}).get("kind") == "container" and r["subject"].get("name") == container_name
    ]


def find_result(report: dict[str, Any], container_name: str, check_id: str) -> dict[str, Any]:
    matches = [r for r in container_results(report, container_name) if r.get("check") == check_id]
    assert len(matches) == 1, (
        f"expected exactly one {check_id} result for container {container_name}, got {len(matches)}: "
        f"{json.dumps(matches, indent=1)[:2000]}"
    )
    return matches[0]


def verdict(report: dict[str, Any], container_name: str, check_id: str) -> str:
    """The status of ``check_id`` for the container named ``container_name`` (exactly one must exist)."""
    status = find_result(report, container_name, check_id)["status"]
    assert isinstance(status, str)
    return status


def explain(result: dict[str, Any]) -> str:
    """One line per result for assertion messages: status, detail and evidence."""
    evidence = json.dumps(result.get("evidence"), default=str)
    if len(evidence) > 600:
        evidence = evidence[:600] + "…"
    return (
        f"{result.get('check')} [{(result.get('subject') or {}).get('name')}] -> {result.get('status')}: "
        f"{result.get('detail')!r} evidence={evidence}"
    )
