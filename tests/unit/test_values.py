"""The collector's small value helpers: `evolve` copies a fact like dataclasses.replace."""

from __future__ import annotations

import dataclasses

import pytest

from runbench.collect.values import evolve
from runbench.snapshot import MountFacts, NamespaceFacts


def test_evolve_is_replace() -> None:
    m = MountFacts(type="bind", source="/srv", destination="/data", rw=True, propagation="rprivate")
    assert evolve(m, rw=False, host_path="/srv") == dataclasses.replace(m, rw=False, host_path="/srv")
    assert evolve(m) == m and evolve(m) is not m
    ns = NamespaceFacts("pid", "host", "host", ())
    assert evolve(ns, inode=4026531836, host_inode=4026531836) == dataclasses.replace(
        ns, inode=4026531836, host_inode=4026531836
    )


def test_evolve_refuses_a_field_the_class_has_not() -> None:
    m = MountFacts(type="bind", source="/srv", destination="/data", rw=True)
    with pytest.raises(TypeError, match="no field colour"):
        evolve(m, colour="red")
