"""Swarm facts, from what the engine reports of its node (docker info Swarm)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SwarmFacts:
    state: str  # LocalNodeState: inactive | pending | active | error | locked
    node_id: str = ""
    node_addr: str = ""
    cluster_id: str = ""
    manager: bool = False  # ControlAvailable: this node is a manager
    managers: int | None = None
    nodes: int | None = None

    @property
    def active(self) -> bool:
        return self.state not in ("inactive", "")
