"""A hostile or failing engine: fake Engine API servers that never answer, trickle, send 100 MB, nest JSON
deeply, send wrong types, or answer the list and die. Every run is bounded in time and memory, ends with a
clear reason, and a partial collection is incomplete (exit 3), never a pass."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runbench.cli import main  # noqa: E402
from runbench.collect.api import EngineAPI, EngineBadAnswer, EngineDown, EngineTimeout, parse_host  # noqa: E402
from runbench.collect.engine import CollectFailure, CollectRequest, collect  # noqa: E402
from runbench.snapshot import Fact  # noqa: E402
from tests.support.fakeengine import (  # noqa: E402
    FakeEngine,
    container_id,
    deep,
    die,
    huge,
    json_answer,
    never_answer,
    status,
    trickle,
)


def _collect(engine: FakeEngine, **kw: Any) -> Any:
    return collect(CollectRequest(docker_host=engine.url, read_host=False, **{"timeout": 2.0, **kw}))


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    try:
        return fn(), time.monotonic() - t0
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc, time.monotonic() - t0


# --- the engine as a whole --------------------------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True], ids=["unix", "tcp"])
def test_a_normal_fake_engine_is_collected(tcp: bool) -> None:
    with FakeEngine(containers=4, tcp=tcp) as engine:
        snap = _collect(engine)
    assert [c.name for c in snap.containers] == ["fake-0", "fake-1", "fake-2", "fake-3"]
    assert snap.incomplete == () and snap.engine is not None and snap.engine.hostname == "fake-engine"


@pytest.mark.parametrize(
    ("path", "handler", "message"),
    [
        ("/info", never_answer, "did not answer in time"),
        ("/version", trickle, "did not answer in time"),
        ("/containers/json", trickle, "did not answer in time"),
        ("/containers/json", huge, "over the 8 MB cap"),
        ("/info", deep, "nested too deeply"),
        ("/containers/json", json_answer({"not": "a list"}), "answered an object, not a list"),
        ("/info", json_answer(["a", "list"]), "answered a list, not an object"),
        ("/version", status(500, "\x1b[31mpanic\x1b[0m"), "HTTP 500"),
        ("/info", die, "closed the connection"),
    ],
)
def test_an_engine_that_cannot_be_used_is_a_bounded_collect_failure(path: str, handler: Any, message: str) -> None:
    with FakeEngine(behaviour={path: handler}) as engine:
        result, took = _timed(lambda: _collect(engine, max_response_bytes=8 * 1024 * 1024))
    assert isinstance(result, CollectFailure), result
    assert message in result.message
    assert took < 6.0, f"took {took:.1f} s with --timeout 2"


def test_the_deadline_bounds_the_whole_collection() -> None:
    slow = {f"/containers/{container_id(i)}/json": trickle for i in range(20)}
    with FakeEngine(containers=20, behaviour=slow) as engine:
        snap, took = _timed(lambda: _collect(engine, timeout=30.0, deadline=2.0))
    assert took < 5.0, f"took {took:.1f} s with --deadline 2"
    assert len(snap.incomplete) == 20 and snap.containers == ()
    assert any("deadline" in e.why for e in snap.incomplete)


# --- partial collections ------------------------------------------------------------------------------


def test_an_engine_that_dies_after_the_list_is_incomplete_quickly() -> None:
    with FakeEngine(containers=60, after_list=die) as engine:
        snap, took = _timed(lambda: _collect(engine, timeout=5.0))
    assert took < 3.0, f"took {took:.1f} s: each call waited for its own timeout"
    gaps = {(e.fact, e.subject) for e in snap.incomplete}
    assert {(Fact.CONTAINER, container_id(i)) for i in range(60)} <= gaps
    assert snap.containers == ()


def test_an_engine_that_freezes_after_the_list_is_bounded_by_one_timeout_and_a_ping() -> None:
    with FakeEngine(containers=40, after_list=never_answer) as engine:
        snap, took = _timed(lambda: _collect(engine, timeout=1.0))
    assert took < 6.0, f"took {took:.1f} s for 40 containers with --timeout 1"
    assert len([e for e in snap.incomplete if e.fact is Fact.CONTAINER]) == 40
    assert any("not attempted" in e.why for e in snap.incomplete)


def test_one_hung_inspect_does_not_abandon_the_others() -> None:
    with FakeEngine(containers=6, behaviour={f"/containers/{container_id(2)}/json": never_answer}) as engine:
        snap = _collect(engine, timeout=1.0)
    assert [c.name for c in snap.containers] == ["fake-0", "fake-1", "fake-3", "fake-4", "fake-5"]
    (gap,) = snap.incomplete
    assert gap.subject == container_id(2) and "1 s" in gap.why


@pytest.mark.parametrize(
    ("handler", "why"),
    [
        (deep, "nested too deeply"),
        (huge, "cap"),
        (json_answer(["wrong", "type"]), "answered a list, not an object"),
        (status(500, "boom"), "HTTP 500: boom"),
        (trickle, "1 s"),
    ],
)
def test_a_bad_container_answer_is_that_containers_gap(handler: Any, why: str) -> None:
    with FakeEngine(containers=3, behaviour={f"/containers/{container_id(1)}/json": handler}) as engine:
        snap = _collect(engine, timeout=1.0, max_response_bytes=4 * 1024 * 1024)
    assert [c.name for c in snap.containers] == ["fake-0", "fake-2"]
    (gap,) = snap.incomplete
    assert (gap.fact, gap.subject) == (Fact.CONTAINER, container_id(1)) and why in gap.why


def test_a_container_removed_mid_scan_is_churn_not_a_gap() -> None:
    with FakeEngine(containers=3, behaviour={f"/containers/{container_id(1)}/json": status(404, "gone")}) as engine:
        snap = _collect(engine)
    assert snap.incomplete == ()
    assert [e.fact for e in snap.errors if e.subject == container_id(1)] == [Fact.CONTAINER_GONE]


@pytest.mark.parametrize("path", ["/images/json", "/networks"])
def test_a_failed_list_of_images_or_networks_is_a_gap(path: str) -> None:
    with FakeEngine(behaviour={path: status(500, "nope")}) as engine:
        snap = _collect(engine)
    assert [e.fact for e in snap.incomplete] == [Fact.IMAGES if "images" in path else Fact.NETWORKS]


def test_huge_answers_do_not_blow_the_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with FakeEngine(containers=2, behaviour={f"/containers/{container_id(0)}/json": huge}) as engine:
        snap = _collect(engine, max_response_bytes=16 * 1024 * 1024)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "cap" in snap.incomplete[0].why
    assert grown_mb < 80, f"peak RSS grew by {grown_mb:.0f} MB for a 16 MB cap"


# --- the client on its own --------------------------------------------------------------------------


def test_keep_alive_connections_are_reused() -> None:
    with FakeEngine(containers=1) as engine:
        api = EngineAPI(parse_host(engine.url), timeout=2.0)
        for _ in range(5):
            assert api.get("/version", expect=dict)["ApiVersion"] == "1.43"
        api.close()
    assert engine.calls.count("/version") == 5


def test_client_errors_are_typed() -> None:
    with FakeEngine(behaviour={"/a": never_answer, "/b": deep}) as engine:
        api = EngineAPI(parse_host(engine.url), timeout=0.5)
        with pytest.raises(EngineTimeout):
            api.get("/a")
        with pytest.raises(EngineBadAnswer, match="nested too deeply"):
            EngineAPI(parse_host(engine.url), timeout=2.0).get("/b")
        api.close()
    with pytest.raises(EngineDown, match="no socket"):
        EngineAPI(parse_host("unix:///nonexistent/docker.sock"), timeout=1.0).get("/version")


# --- the CLI: exit codes and reports of partial runs ----------------------------------------------------


def test_the_cli_writes_an_incomplete_report_and_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with FakeEngine(containers=5, after_list=die) as engine:
        code = main(["scan", "--host", engine.url, "--timeout", "2", "-q", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert "could not collect everything" in err and "container fake-0 not inspected" in err
    report = json.loads(out.read_text())
    assert report["policy"]["met"] in (True, False)
    assert report["complete"] is False
    gaps = report["incomplete"]
    assert {f"container fake-{i} not inspected" for i in range(5)} <= {g.split(":")[0] for g in gaps}
    assert any(g.startswith("the list of local images not read") for g in gaps)  # asked after the list: gone too
    assert "\x1b" not in err


@pytest.mark.parametrize(
    "host",
    [
        "tcp://",
        "tcp://host:notaport",
        "tcp://host:99999",
        "ssh://user@host",
        "npipe:////./pipe/docker",
        "foo://x",
        "unix://relative.sock",
        "tcp://h:1/path",
    ],
)
def test_a_malformed_host_is_a_usage_error(capsys: pytest.CaptureFixture[str], host: str) -> None:
    code = main(["scan", "--host", host, "--no-color"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--host / DOCKER_HOST" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "0"],
        ["--timeout", "-1"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--timeout", "x"],
        ["--deadline", "0"],
        ["--deadline", "inf"],
        ["--max-response-mb", "0"],
        ["--max-response-mb", "1.5"],
    ],
)
def test_bad_bounds_are_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert main(["scan", *args]) == 2
    assert "Traceback" not in capsys.readouterr().err


# --- wrong types in any field the parsers read ---------------------------------------------------------


def _inspect_with(**changes: Any) -> dict[str, Any]:
    from tests.support.fakeengine import inspect_answer

    data = inspect_answer(1)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"HostConfig__Privileged": "yes"}, "HostConfig.Privileged: expected a boolean, got a string"),
        ({"HostConfig__CapAdd": "SYS_ADMIN"}, "HostConfig.CapAdd: expected a list, got a string"),
        ({"Mounts": {"Source": "/"}}, "Mounts: expected a list, got an object"),
        ({"Mounts": [{"Source": 5}]}, "Mounts[0].Source: expected a string, got a number"),
        ({"Config__Env": [1, 2]}, "Config.Env[0]: expected a string, got a number"),
        ({"State__Pid": "42"}, "State.Pid: expected a number, got a string"),
        ({"HostConfig": []}, "HostConfig: expected an object, got a list"),
        ({"Config__Labels": {"a": ["b"]}}, "Config.Labels['a']: expected a string, got a list"),
    ],
)
def test_a_wrong_type_in_an_inspect_names_the_endpoint_and_field(changes: dict[str, Any], field: str) -> None:
    path = f"/containers/{container_id(1)}/json"
    with FakeEngine(containers=3, behaviour={path: json_answer(_inspect_with(**changes))}) as engine:
        snap = _collect(engine)
    (gap,) = [e for e in snap.incomplete if e.fact is Fact.CONTAINER]
    assert gap.subject == container_id(1)
    assert f"GET {path}: unexpected answer: {field}" in gap.why
    assert [c.name for c in snap.containers] == ["fake-0", "fake-2"]


@pytest.mark.parametrize(
    ("path", "answer", "field"),
    [
        ("/info", {"Name": "x", "SecurityOptions": "name=seccomp"}, "SecurityOptions: expected a list"),
        ("/version", {"Version": 24}, "Version: expected a string, got a number"),
        ("/containers/json", [{"Id": 1}], "[0].Id: expected a string"),
    ],
)
def test_a_wrong_type_in_an_essential_answer_is_a_collect_failure(path: str, answer: Any, field: str) -> None:
    with FakeEngine(behaviour={path: json_answer(answer)}) as engine:
        result, _ = _timed(lambda: _collect(engine))
    assert isinstance(result, CollectFailure) and field in result.message and f"GET {path}" in result.message
