"""The fast shape test (`_fits`) says yes exactly when the full check finds no problem, for every shape the
collector uses: answers built from a shape, then with one value replaced by another JSON type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbench.collect import shape as shapes
from runbench.collect.shape import MapOf, _fits, first_problem, problems

PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SHAPES = {
    name: value
    for name, value in vars(shapes).items()
    if name.isupper() and isinstance(value, (dict, list)) and name not in ("_NAMES",)
}
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=5)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8,
)


def fitting(shape: Any) -> st.SearchStrategy[Any]:
    """Values of `shape`: None anywhere, whole floats for ints, optional fields left out, unknown fields added."""
    if isinstance(shape, type):
        base = {
            str: st.text(max_size=6),
            int: st.one_of(st.integers(-(2**40), 2**40), st.integers(-1000, 1000).map(float)),
            bool: st.booleans(),
            dict: st.dictionaries(st.text(max_size=4), SCALARS, max_size=2),
            list: st.lists(SCALARS, max_size=2),
        }[shape]
        return st.one_of(st.none(), base)
    if isinstance(shape, list):
        return st.one_of(st.none(), st.lists(fitting(shape[0]), max_size=3))
    if isinstance(shape, MapOf):
        return st.one_of(st.none(), st.dictionaries(st.text(max_size=4), fitting(shape.item), max_size=3))
    fields = {key: fitting(sub) for key, sub in shape.items()}
    return st.one_of(
        st.none(),
        st.fixed_dictionaries({}, optional=fields).flatmap(
            lambda d: st.dictionaries(st.text(min_size=8, max_size=9), SCALARS, max_size=1).map(
                lambda extra: {**extra, **d}
            )
        ),
    )


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def answers(draw: st.DrawFn) -> tuple[Any, Any]:
    name = draw(st.sampled_from(sorted(SHAPES)))
    shape = SHAPES[name]
    value = draw(fitting(shape))
    if draw(st.booleans()):
        paths = _paths(value)
        value = _replace(value, draw(st.sampled_from(paths)), draw(JSON))
    return shape, value


@PROPERTY
@given(answers())
def test_fits_exactly_when_the_full_check_finds_nothing(case: tuple[Any, Any]) -> None:
    shape, value = case
    assert _fits(value, shape) == (problems(value, shape) == [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Id": "x", "State": {"Pid": "7"}}, "State.Pid: expected a number, got a string"),
        ({"Id": "x", "Config": {"Env": ["A=1", 2]}}, "Config.Env[1]: expected a string, got a number"),
        ({"Id": "x", "HostConfig": {"Privileged": 1}}, "HostConfig.Privileged: expected a boolean, got a number"),
    ],
)
def test_a_misfit_still_names_its_field(value: dict[str, Any], message: str) -> None:
    assert message in first_problem("/containers/x/json", value, shapes.CONTAINER)
    assert first_problem("/containers/x/json", {"Id": "x", "HostConfig": {"Memory": 1.0}}, shapes.CONTAINER) == ""
