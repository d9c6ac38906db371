"""What the user asks of a run: which checks, which thresholds, which parameters the checks read.

runbench.toml (a later addition) fills the same types; the CLI builds them from flags today.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runbench.model import Severity


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters that checks read through their Context. Defaults are the documented ones."""

    allowed_capabilities: frozenset[str] = frozenset()
    trusted_users: tuple[str, ...] = ()
    trusted_registries: tuple[str, ...] = ()
    max_image_age_days: int = 90
    max_unused_images: int = 50  # ops.image_sprawl: tagged images no container uses
    max_stopped_containers: int = 25  # ops.container_sprawl: created, exited or dead containers
    max_node_cert_days: int = 90  # swarm.node_cert_rotation: the swarm's node certificate lifetime


@dataclass(frozen=True, slots=True)
class Selection:
    """Check ids to run (empty: all) and to leave out; already resolved from CIS numbers."""

    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    def wants(self, check_id: str) -> bool:
        if check_id in self.exclude:
            return False
        return not self.include or check_id in self.include


@dataclass(frozen=True, slots=True)
class Policy:
    fail_on: Severity | None = Severity.HIGH  # None: failures never fail the run
    min_score: float | None = None
    fail_on_error: bool = False
    selection: Selection = field(default_factory=Selection)
    params: Params = field(default_factory=Params)
