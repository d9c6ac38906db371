"""Which engine the integration suite runs against, and what it expects to find there.

The suite runs twice in ``make test``: on Debian bookworm's docker.io 20.10 (API 1.41, the default engine)
and on Debian's docker.io 28.x from unstable (API 1.51, a second isolated daemon; see scripts/engine.sh).
A test whose expectation depends on the engine generation says so explicitly by branching on
``engine.api`` (the ``engine`` fixture) and asserting what each generation must give; it never skips.

``RUNBENCH_EXPECT_ENGINE`` (a glob over the server version, e.g. ``28.*``; scripts/engine.sh sets it for
the current engine) makes the session fail when DOCKER_HOST reaches another engine.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Any

EXPECT_ENV = "RUNBENCH_EXPECT_ENGINE"


def _api_tuple(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return 0, 0


@dataclass(frozen=True)
class EngineInfo:
    """What ``/version`` says about the engine under test."""

    version: str  # "20.10.24+dfsg1", "28.5.2+dfsg4"
    api_version: str  # "1.41", "1.51"
    min_api_version: str
    docker_host: str  # DOCKER_HOST as the tests (and the runbench subprocesses) see it; "" = default

    @classmethod
    def from_version(cls, data: dict[str, Any]) -> EngineInfo:
        return cls(
            version=str(data.get("Version") or ""),
            api_version=str(data.get("ApiVersion") or ""),
            min_api_version=str(data.get("MinAPIVersion") or ""),
            docker_host=os.environ.get("DOCKER_HOST", ""),
        )

    @property
    def api(self) -> tuple[int, int]:
        """The API version as a comparable tuple: ``engine.api >= (1, 44)``."""
        return _api_tuple(self.api_version)

    @property
    def major(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else 0

    def describe(self) -> str:
        return (
            f"Docker {self.version} (API {self.api_version}, min {self.min_api_version}) "
            f"on {self.docker_host or 'the default socket'}"
        )

    def mismatch(self) -> str | None:
        """Why this is not the engine RUNBENCH_EXPECT_ENGINE asks for (None when it is, or nothing is asked)."""
        expected = os.environ.get(EXPECT_ENV, "")
        if expected and not fnmatch.fnmatchcase(self.version, expected):
            return f"{EXPECT_ENV}={expected} but the engine under test is {self.describe()}"
        return None
