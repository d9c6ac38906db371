"""The snapshot codec: every fact type round-trips with every field set; bad JSON is refused with its path."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

import pytest

import runbench.snapshot
from runbench.snapshot import SNAPSHOT_SCHEMA, Fact, FileType, Origin, Snapshot, SnapshotFormatError
from runbench.snapshot.codec import DecodeError, decode, encode

# --- a generic builder: every field of every fact type set to a value that is not its default -----

JSON_ANY: Any = {"list": [1, 2.5, "three", True, None, {"deep": []}], "nested": {"k": "v"}}
MAPPING_KEYS = ("repo:tag", "other.key")


class Builder:
    """Builds an instance of a dataclass with every field set, each to a distinct non-default value.

    It knows the shapes the codec supports and fails on any other type hint, so a new fact type with a
    field shape nobody taught the codec (or this builder) fails the round trip instead of slipping by."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def build(self, cls: type) -> Any:
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            default = _default(f)
            value = self.value(hints[f.name], f"{cls.__name__}.{f.name}", default)
            if default is not dataclasses.MISSING and value == default:
                pytest.fail(f"builder: {cls.__name__}.{f.name} left at its default {default!r}")
            kwargs[f.name] = value
        return cls(**kwargs)

    def value(self, tp: Any, where: str, default: Any = dataclasses.MISSING) -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            arm = next(a for a in args if a is not type(None))  # an Optional: its non-None arm
            return self.value(arm, where)
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(self.value(args[0], f"{where}[{i}]") for i in range(2))
            return tuple(self.value(a, f"{where}[{i}]") for i, a in enumerate(args))
        if origin in (Mapping, dict) and len(args) == 2 and args[0] is str:
            return {k: self.value(args[1], f"{where}[{k!r}]") for k in MAPPING_KEYS}
        if tp is Any:
            return json.loads(json.dumps(JSON_ANY))
        if tp is bool:
            return not default if isinstance(default, bool) else True
        if tp is int:
            return next(self._n)
        if tp is float:
            return next(self._n) + 0.25
        if tp is str:
            return f"s{next(self._n)}:{where}"
        if isinstance(tp, type) and issubclass(tp, Enum):
            return next(m for m in list(tp)[1:] if m != default)  # not the first member, not the default
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.build(tp)
        pytest.fail(f"builder: no rule for the type hint {tp!r} of {where}")


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _dataclasses_in(tp: Any, found: dict[str, type]) -> None:
    """Every dataclass a type hint reaches, whatever its shape (the builder judges the shapes)."""
    for arg in typing.get_args(tp):
        _dataclasses_in(arg, found)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and tp.__name__ not in found:
        found[tp.__name__] = tp
        for hint in typing.get_type_hints(tp).values():
            _dataclasses_in(hint, found)


def _fact_types() -> dict[str, type]:
    found: dict[str, type] = {}
    _dataclasses_in(Snapshot, found)
    for name in runbench.snapshot.__all__:  # what is not stored in a snapshot but is a fact type (Setting)
        _dataclasses_in(getattr(runbench.snapshot, name), found)
    return dict(sorted(found.items()))


FACT_TYPES = _fact_types()


def typed(value: Any) -> Any:
    """A value with its types spelled out, so `==` cannot take "engine" for Fact.ENGINE, 1 for 1.0 or True."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value), tuple((f.name, typed(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, tuple | list):
        return (type(value), tuple(typed(v) for v in value))
    if isinstance(value, dict):
        return (type(value), tuple((typed(k), typed(v)) for k, v in value.items()))
    return (type(value), value)


def through_json(value: Any) -> Any:
    return json.loads(json.dumps(encode(value), allow_nan=False))


def test_the_round_trip_covers_every_fact_type() -> None:
    expected = {
        "ContainerFacts",
        "ImageFacts",
        "EngineFacts",
        "DaemonFacts",
        "DaemonConfig",
        "ConfigValue",
        "Setting",
        "HostFacts",
        "FileFacts",
        "SwarmFacts",
        "CollectionError",
        "Snapshot",
    }
    assert expected <= set(FACT_TYPES)


@pytest.mark.parametrize("cls", FACT_TYPES.values(), ids=FACT_TYPES.keys())
def test_every_fact_type_round_trips_with_every_field_set(cls: type) -> None:
    original = Builder().build(cls)
    again = decode(cls, through_json(original))
    assert again == original
    assert typed(again) == typed(original)


def test_the_builder_refuses_a_type_hint_it_does_not_know() -> None:
    with pytest.raises(pytest.fail.Exception, match="no rule for the type hint"):
        Builder().value(frozenset[str], "X.tags")


def test_enums_encode_to_their_plain_value() -> None:
    assert type(encode(Fact.ENGINE)) is str and encode(Fact.ENGINE) == "engine"
    assert encode(Level.HIGH) == 2
    assert encode({Color.RED: (Origin.ARGV,)}) == {"red": ["argv"]}


# --- generic shapes, on small dataclasses of the test's own --------------------------------------


class Color(StrEnum):
    RED = "red"
    GREEN = "green"


class Level(Enum):
    LOW = 1
    HIGH = 2


@dataclass(frozen=True, slots=True)
class Pair:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Holder:
    items: tuple[Pair, ...]
    best: Pair | None = None
    color: Color = Color.RED
    note: str | None = "x"
    tags: Mapping[str, str] = field(default_factory=dict)


GOOD: list[tuple[Any, Any, Any]] = [
    (str, "", ""),
    (int, -3, -3),
    (int, 2**70, 2**70),
    (bool, False, False),
    (float, 1, 1.0),
    (float, 1.5, 1.5),
    (float, -0.0, -0.0),
    (tuple[str, int], ["a", 1], ("a", 1)),
    (tuple[()], [], ()),
    (tuple[int, ...], [], ()),
    (tuple[int, ...], [1, 2, 3], (1, 2, 3)),
    (tuple[tuple[str, int], ...], [["a", 1], ["b", 2]], (("a", 1), ("b", 2))),
    (int | str, 1, 1),
    (int | str, "1", "1"),
    (str | int, 1, 1),
    (int | bool, True, True),
    (bool | int, 1, 1),
    (float | str, 1, 1.0),
    (str | None, None, None),
    (str | None, "", ""),
    (bool | None, False, False),
    (bool | None, None, None),
    (int | None, 0, 0),
    (tuple[str, ...] | None, None, None),
    (tuple[str, ...] | None, [], ()),
    (tuple[str, ...] | None, ["a"], ("a",)),
    (Color | int, "green", Color.GREEN),
    (Color, "green", Color.GREEN),
    (Level, 2, Level.HIGH),
    (Any, None, None),
    (Any, 1.5, 1.5),
    (Any, {"a": [1, 2.5, None, True, "s", {}]}, {"a": [1, 2.5, None, True, "s", {}]}),
    (Mapping[str, int], {}, {}),
    (Mapping[str, int], {"a": 1, "b": 2}, {"a": 1, "b": 2}),
    (Mapping[str, tuple[int, ...]], {"a": [1]}, {"a": (1,)}),
    (dict[str, Color], {"x": "red"}, {"x": Color.RED}),
    (Mapping[Color, str], {"green": "g"}, {Color.GREEN: "g"}),
    (Pair, {"name": "a", "count": 1, "newer_key": [1]}, Pair("a", 1)),
    (Holder, {"items": []}, Holder(items=())),
    (Holder, {"items": [], "note": None, "best": None}, Holder(items=(), note=None)),
    (
        Holder,
        {"items": [{"name": "a", "count": 1}], "best": {"name": "b", "count": 2}, "color": "green", "tags": {"k": ""}},
        Holder(items=(Pair("a", 1),), best=Pair("b", 2), color=Color.GREEN, tags={"k": ""}),
    ),
]


@pytest.mark.parametrize(("tp", "data", "expected"), GOOD, ids=[f"{i}-{t}" for i, (t, _, _) in enumerate(GOOD)])
def test_good_json_decodes(tp: Any, data: Any, expected: Any) -> None:
    assert typed(decode(tp, data)) == typed(expected)


LONG = "x" * 1000

BAD: list[tuple[Any, Any, str]] = [
    # scalars
    (str, 1, "expected str, got int"),
    (str, None, "expected str, got null"),
    (int, True, "expected int, got bool"),
    (int, 1.0, "expected int, got float"),
    (int, "1", "expected int, got str"),
    (bool, 1, "expected bool, got int"),
    (bool, "true", "expected bool, got str"),
    (float, True, "expected float, got bool"),
    (float, "1.5", "expected float, got str"),
    (float, None, "expected float, got null"),
    (float, math.nan, "expected a finite number, got nan"),
    (float, math.inf, "expected a finite number, got inf"),
    (float, -math.inf, "expected a finite number, got -inf"),
    # enums
    (Color, "bogus", "'bogus' is not one of red, green"),
    (Color, "RED", "'RED' is not one of red, green"),
    (Color, 1, "1 is not one of red, green"),
    (Color, ["red"], "['red'] is not one of red, green"),
    (Level, True, "True is not one of 1, 2"),
    (Level, 1.0, "1.0 is not one of 1, 2"),
    (Level, "1", "'1' is not one of 1, 2"),
    # tuples
    (tuple[str, int], ["a"], "expected 2 items, got 1"),
    (tuple[str, int], ["a", 1, 2], "expected 2 items, got 3"),
    (tuple[str, int], ["a", "b"], "[1]: expected int, got str"),
    (tuple[str, int], {"0": "a"}, "expected list, got object"),
    (tuple[str, int], "ab", "expected list, got str"),
    (tuple[()], [1], "expected 0 items, got 1"),
    (tuple[int, ...], [1, True], "[1]: expected int, got bool"),
    (tuple[int, ...], None, "expected list, got null"),
    (tuple[tuple[str, int], ...], [["a", 1], ["b"]], "[1]: expected 2 items, got 1"),
    # unions
    (int | str, [1], "expected int | str, got list"),
    (int | str, None, "expected int | str, got null"),
    (int | str, 1.5, "expected int | str, got float"),
    (str | None, 1, "expected str | None, got int"),
    (bool | None, 1, "expected bool | None, got int"),
    (bool | None, 0, "expected bool | None, got int"),
    (int | None, True, "expected int | None, got bool"),
    (int | None, "1", "expected int | None, got str"),
    (float | None, math.nan, "expected a finite number, got nan"),
    (tuple[str, ...] | None, "a", "expected tuple[str, ...] | None, got str"),
    (tuple[str, ...] | None, ["a", 1], "[1]: expected str, got int"),
    (int | Color, "bogus", "'bogus' is not one of red, green"),
    (Pair | None, {"name": "a"}, "count: required field is missing"),
    (Pair | None, [], "expected Pair | None, got list"),
    # Any
    (Any, (1, 2), "expected a JSON value, got tuple"),
    (Any, {1: "a"}, "object key 1 is not a str"),
    (Any, [1, {"a": {2, 3}}], "[1]['a']: expected a JSON value, got set"),
    (Any, {"a": [math.nan]}, "['a'][0]: expected a finite number, got nan"),
    (Any, Color.RED, "expected a JSON value, got Color"),
    # mappings
    (Mapping[str, int], [], "expected object, got list"),
    (Mapping[str, int], {"a": "x"}, "['a']: expected int, got str"),
    (Mapping[str, tuple[int, ...]], {"repo:tag": [1, "2"]}, "['repo:tag'][1]: expected int, got str"),
    (Mapping[Color, str], {"blue": "b"}, "['blue']: 'blue' is not one of red, green"),
    # dataclasses
    (Pair, [], "expected object, got list"),
    (Pair, None, "expected object, got null"),
    (Pair, {"name": "a"}, "count: required field is missing"),
    (Pair, {"name": "a", "count": None}, "count: expected int, got null"),
    (Holder, {}, "items: required field is missing"),
    (Holder, {"items": [{"name": "a", "count": 1}, {"name": 1, "count": 1}]}, "items[1].name: expected str, got int"),
    (Holder, {"items": [], "best": {"name": "a", "count": "1"}}, "best.count: expected int, got str"),
    (Holder, {"items": [], "color": "blue"}, "color: 'blue' is not one of red, green"),
    (Holder, {"items": [], "tags": {"k": 1}}, "tags['k']: expected str, got int"),
    (Holder, {"items": [], "note": 1}, "note: expected str | None, got int"),
]


@pytest.mark.parametrize(("tp", "data", "message"), BAD, ids=[f"{i}-{t}" for i, (t, _, _) in enumerate(BAD)])
def test_bad_json_is_refused_with_its_path(tp: Any, data: Any, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(tp, data)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_the_path_is_its_own_attribute() -> None:
    with pytest.raises(DecodeError) as caught:
        decode(Holder, {"items": [{"name": "a", "count": 1}, {"name": 1, "count": 1}]})
    assert (caught.value.path, caught.value.problem) == ("items[1].name", "expected str, got int")


@pytest.mark.parametrize(
    ("tp", "data"),
    [
        (Color, LONG),
        (Mapping[str, int], {LONG: "x"}),
        (Any, {LONG: {1, 2}}),
        (Level, "\x1b[31m" + LONG),
        (float, float("nan")),
    ],
)
def test_echoed_values_are_short_and_printable(tp: Any, data: Any) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(tp, data)
    message = str(caught.value)
    assert len(message) < 120
    assert message.isprintable()
    assert LONG not in message


def test_a_deep_path_is_shortened() -> None:
    deep: Any = {1: 2}
    for _ in range(200):
        deep = [deep]
    with pytest.raises(DecodeError) as caught:
        decode(Mapping[str, Any], {"k": deep})
    assert caught.value.path.startswith("['k'][0][0]") and caught.value.path.endswith("[0][0]")
    assert "nested deeper than 32 levels" in str(caught.value) and len(str(caught.value)) < 200


def test_a_type_hint_the_codec_does_not_know_is_a_bug_not_bad_data() -> None:
    with pytest.raises(NotImplementedError):
        decode(frozenset[str], [])
    with pytest.raises(NotImplementedError):
        decode(Mapping[int, str], {})


# --- the real snapshot --------------------------------------------------------------------------


def snapshot_json() -> Any:
    data = through_json(Builder().build(Snapshot))
    data["schema"] = SNAPSHOT_SCHEMA  # the builder sets every field to a non-default value, this one included
    return data


def _edit(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    *parents, last = path
    for key in parents:
        data = data[key]
    if value is DELETE:
        del data[last]
    else:
        data[last] = value


DELETE = object()

SNAPSHOT_BAD: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("errors", 0, "fact"), "bogus", "errors[0].fact: 'bogus' is not one of engine, networks, images, container, "),
    (("files", 1, "type"), "regular", "files[1].type: 'regular' is not one of file, directory, symlink, "),
    (("files", 0, "type"), None, "files[0].type: None is not one of file, "),
    (("daemon_config", "values", "repo:tag", 1, "origin"), "cli", "daemon_config.values['repo:tag'][1].origin: 'cli'"),
    (("containers", 1, "mounts", 0, "type"), 5, "containers[1].mounts[0].type: expected str, got int"),
    (("containers", 0, "pids_limit"), "100", "containers[0].pids_limit: expected int | None, got str"),
    (("containers", 0, "oom_kill_disable"), 1, "containers[0].oom_kill_disable: expected bool | None, got int"),
    (("containers", 0, "processes"), "none", "containers[0].processes: expected tuple[ProcessFacts, ...] | None"),
    (("containers", 0, "processes", 1, "uid"), True, "containers[0].processes[1].uid: expected int | None, got bool"),
    (("containers", 0, "healthcheck", "test"), DELETE, "containers[0].healthcheck.test: required field is missing"),
    (("containers", 0, "id"), DELETE, "containers[0].id: required field is missing"),
    (("containers", 0, "pid"), 1.0, "containers[0].pid: expected int, got float"),
    (("containers", 0, "labels", "other.key"), 1, "containers[0].labels['other.key']: expected str, got int"),
    (("image_tags", "repo:tag"), None, "image_tags['repo:tag']: expected str, got null"),
    (("images", 1, "history", 0, "empty_layer"), "no", "images[1].history[0].empty_layer: expected bool, got str"),
    (("duration_s",), True, "duration_s: expected float, got bool"),
    (("duration_s",), math.inf, "duration_s: expected a finite number, got inf"),
    (
        ("daemon_config", "values", "other.key", 0, "value"),
        {"a": {3}},
        "daemon_config.values['other.key'][0].value['a']: expected a JSON value, got set",
    ),
    (("swarm", "managers"), 2.5, "swarm.managers: expected int | None, got float"),
    (("runbench_version",), DELETE, "runbench_version: required field is missing"),
    (("engine",), [], "engine: expected EngineFacts | None, got list"),
]


@pytest.mark.parametrize(("path", "value", "message"), SNAPSHOT_BAD, ids=[str(p) for p, _, _ in SNAPSHOT_BAD])
def test_a_bad_snapshot_names_the_path(path: tuple[str | int, ...], value: Any, message: str) -> None:
    data = snapshot_json()
    _edit(data, path, value)
    with pytest.raises(DecodeError, match="^" + re.escape(message)):
        decode(Snapshot, data)
    with pytest.raises(SnapshotFormatError) as caught:
        Snapshot.from_json(data)
    assert str(caught.value).startswith("malformed snapshot: " + message)


def test_a_snapshot_missing_facts_added_later_reads_them_as_not_collected() -> None:
    data = snapshot_json()
    for key in ("daemon_config", "swarm", "files"):
        del data[key]
    del data["containers"][0]["processes"]
    del data["images"][0]["history"]
    snap = decode(Snapshot, data)
    assert (snap.daemon_config, snap.swarm, snap.files) == (None, None, None)
    assert snap.containers[0].processes is None and snap.images[0].history is None
    assert Snapshot.from_json(data) == snap


def test_a_snapshot_missing_defaulted_fields_takes_the_defaults() -> None:
    data = snapshot_json()
    for key in ("images", "image_tags", "errors"):
        del data[key]
    for key in ("propagation", "mode", "name"):
        del data["containers"][0]["mounts"][0][key]
    del data["networks"][0]["options"]
    del data["files"][0]["uid"]
    snap = decode(Snapshot, data)
    assert (snap.images, snap.image_tags, snap.errors) == ((), {}, ())
    mount = snap.containers[0].mounts[0]
    assert (mount.propagation, mount.mode, mount.name) == ("", "", "")
    assert snap.networks[0].options == {}
    assert snap.files is not None and snap.files[0].uid is None


def test_unknown_keys_are_ignored() -> None:
    original = Builder().build(Snapshot)
    data = through_json(original)
    data["a_newer_fact"] = {"anything": [1]}
    data["containers"][0]["mounts"][0]["subpath"] = "/a"
    data["errors"][0]["hint"] = "newer collectors explain more"
    assert decode(Snapshot, data) == original


def test_fact_types_decode_to_their_enums() -> None:
    snap = decode(Snapshot, snapshot_json())
    assert snap.files is not None and type(snap.files[0].type) is FileType
    assert type(snap.errors[0].fact) is Fact
    assert snap.daemon_config is not None
    assert all(type(v.origin) is Origin for vs in snap.daemon_config.values.values() for v in vs)
