"""On a real engine: a collection whose container inspects are shared with a forked child (runbench.split, the
default on a large host) sees the same containers and facts as one done in a single process."""

from __future__ import annotations

from typing import Any

from runbench.collect.engine import CollectRequest, collect
from runbench.snapshot import ContainerFacts
from tests.support.scenarios import ScenarioSet


def _stable(c: ContainerFacts) -> tuple[Any, ...]:
    """What cannot change between two collections a second apart (not processes, exec sessions, health)."""
    return (c.id, c.name, c.image_id, c.env, c.labels, c.mounts, c.cap_add, c.cap_drop, c.security_opt, c.privileged)


def test_a_forked_share_collects_the_same_facts(scenarios: ScenarioSet) -> None:
    request = {"all_containers": True, "labels": ("runbench.test=1",)}
    whole = collect(CollectRequest(split=False, **request))
    shared = collect(CollectRequest(split=True, **request))
    assert len(whole.containers) >= 10
    assert [_stable(c) for c in shared.containers] == [_stable(c) for c in whole.containers]
    assert {(e.fact, e.subject) for e in shared.incomplete} == {(e.fact, e.subject) for e in whole.incomplete}
