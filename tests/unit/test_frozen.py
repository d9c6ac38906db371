"""fast_init: the same constructor as the dataclass's own, cheaper, and the class stays frozen."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from runbench.frozen import fast_init
from runbench.model import Finding, Status, Subject, Verdict
from runbench.snapshot import ContainerFacts, EnvVar


@fast_init
@dataclass(frozen=True, slots=True)
class _Sample:
    name: str
    count: int = 3
    tags: tuple[str, ...] = ()
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count")


def test_the_same_constructor() -> None:
    a = _Sample("x")
    assert (a.name, a.count, a.tags, a.seen) == ("x", 3, (), [])
    assert _Sample("x", 4, ("t",), ["s"]) == _Sample(name="x", count=4, tags=("t",), seen=["s"])
    assert _Sample("x").seen is not _Sample("x").seen  # a fresh default each time
    with pytest.raises(ValueError, match="count"):
        _Sample("x", -1)  # __post_init__ still runs
    with pytest.raises(TypeError):
        _Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Sample("x", colour="red")  # type: ignore[call-arg]


def test_still_frozen_and_replaceable() -> None:
    v = Verdict(Status.PASS, "ok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.detail = "changed"  # type: ignore[misc]
    assert dataclasses.replace(v, detail="other") == Verdict(Status.PASS, "other")
    assert hash(v) == hash(Verdict(Status.PASS, "ok"))


def test_applied_where_objects_are_built_by_the_thousand() -> None:
    for cls in (Finding, Verdict, Subject, ContainerFacts, EnvVar):
        assert cls.__init__.__module__ == "runbench.frozen" or "_set0" in cls.__init__.__code__.co_names, cls


def test_a_class_it_cannot_serve_keeps_its_own_init() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (NoSlots, NotFrozen):
        own = cls.__init__
        assert fast_init(cls).__init__ is own
