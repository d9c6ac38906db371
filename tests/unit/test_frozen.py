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


def test_pickled_as_its_field_values_and_rebuilt_equal() -> None:
    import copy
    import pickle

    from runbench.snapshot import MountFacts

    facts = ContainerFacts(
        id="c" * 64,
        name="web",
        image_ref="nginx",
        image_id="sha256:" + "1" * 64,
        state="running",
        labels={"a": "b"},
        env=(EnvVar(name="DB_PASSWORD", length=6, stub="se…(6 chars)", detectors=("Secret Keyword",)),),
        mounts=(MountFacts(type="bind", source="/srv", destination="/data", rw=False),),
    )
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(facts, protocol=protocol))  # noqa: S301 - our own bytes
        assert back == facts and type(back) is ContainerFacts
        assert back.env[0] == facts.env[0] and back.mounts == facts.mounts
    assert facts.__reduce__()[0] is ContainerFacts  # the class itself: its (fast) __init__ rebuilds it
    assert copy.copy(facts) == facts and copy.deepcopy(facts) == facts
    sample = _Sample("x", 4, ("t",), ["s"])
    assert pickle.loads(pickle.dumps(sample)) == sample  # noqa: S301
