"""Image facts: one inspect and one history per image in scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runbench.snapshot.container import EnvVar, Healthcheck


@dataclass(frozen=True, slots=True)
class HistoryStep:
    created_by: str  # secret values redacted at collection
    created: int = 0
    size: int = 0
    empty_layer: bool = False


@dataclass(frozen=True, slots=True)
class ImageFacts:
    id: str
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    created: str = ""
    size: int = 0
    user: str = ""
    env: tuple[EnvVar, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    exposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    layers: int = 0
    history: tuple[HistoryStep, ...] | None = None  # None: history not read (see errors)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]
