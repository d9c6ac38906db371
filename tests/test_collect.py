"""The collector against a stand-in engine: vanishing containers, failing calls, selection, no secret values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from runbench.collect.api import EngineDown, EngineHTTPError, EngineNotFound, EngineTimeout
from runbench.collect.engine import CollectFailure, CollectRequest, collect
from runbench.snapshot import Fact, Snapshot

SECRET = "s3cr3t-Value-that-must-not-leak-4242"

INFO = {
    "Name": "fakehost",
    "ID": "X",
    "ServerVersion": "24.0.7",
    "SecurityOptions": ["name=seccomp,profile=default"],
    "Swarm": {"LocalNodeState": "inactive"},
    "OperatingSystem": "FakeOS",
    "KernelVersion": "6.1",
}
VERSION = {"Version": "24.0.7", "ApiVersion": "1.43"}


def _inspect(cid: str, name: str, state: str = "running") -> dict[str, Any]:
    return {
        "Id": cid,
        "Name": "/" + name,
        "Image": "sha256:" + "a" * 64,
        "Created": "2026-01-01T00:00:00Z",
        "State": {"Status": state, "Pid": 0},
        "Config": {
            "Image": "app:1",
            "User": "",
            "Env": [f"DB_PASSWORD={SECRET}", "PATH=/bin"],
            "Labels": {"com.example.db.password": SECRET, "com.example.team": "payments"},
        },
        "HostConfig": {"NetworkMode": "default", "RestartPolicy": {"Name": "no"}},
        "NetworkSettings": {"Networks": {"bridge": {}}},
        "Mounts": [],
        "ExecIDs": None,
    }


class FakeAPI:
    def __init__(self, containers: list[tuple[str, str, str]]) -> None:
        self.rows = [{"Id": cid, "Names": ["/" + n], "Image": "app:1", "State": st} for cid, n, st in containers]
        self.vanish: set[str] = set()
        self.broken: set[str] = set()
        self.calls: list[str] = []
        self.hang_on: str | None = None

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.hang_on == what:
            raise EngineTimeout("no complete answer within 10 s (--timeout)")

    def version(self) -> dict[str, Any]:
        self._call("version")
        return VERSION

    def info(self) -> dict[str, Any]:
        self._call("info")
        return INFO

    def containers(self, labels: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        self._call("containers")
        return copy.deepcopy(self.rows)

    def images(self) -> list[dict[str, Any]]:
        self._call("images")
        return [{"Id": "sha256:" + "a" * 64, "RepoTags": ["app:1"]}]

    def networks(self) -> list[dict[str, Any]]:
        self._call("networks")
        return [{"Id": "n1", "Name": "bridge", "Driver": "bridge"}]

    def inspect_container(self, cid: str) -> dict[str, Any]:
        self._call("inspect_container")
        if cid in self.vanish:
            raise EngineNotFound(404, "No such container")
        if cid in self.broken:
            raise EngineHTTPError(500, "GET /containers/x/json: HTTP 500: boom")
        row = next(r for r in self.rows if r["Id"] == cid)
        return _inspect(cid, row["Names"][0][1:], row["State"])

    def exec_inspect(self, eid: str) -> dict[str, Any]:
        raise EngineNotFound(404, "gone")

    def inspect_image(self, iid: str) -> dict[str, Any]:
        self._call("inspect_image")
        config = {"Env": [f"API_TOKEN={SECRET}"], "Cmd": ["serve", f"--db-password={SECRET}"]}
        return {"Id": iid, "RepoTags": ["app:1"], "Config": config, "RootFS": {"Layers": []}}

    def history(self, iid: str) -> list[dict[str, Any]]:
        self._call("history")
        return [{"CreatedBy": f"/bin/sh -c #(nop) ENV API_TOKEN={SECRET}", "Size": 0, "Created": 1}]


def _req(**kw: Any) -> CollectRequest:
    return CollectRequest(read_host=False, **kw)


def _ids(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(1, n + 1)]


def test_vanished_container_is_recorded_and_skipped() -> None:
    a, b, c = _ids(3)
    api = FakeAPI([(a, "web", "running"), (b, "gone", "running"), (c, "db", "running")])
    api.vanish.add(b)
    snap = collect(_req(), api=api)
    assert [x.name for x in snap.containers] == ["db", "web"]
    (err,) = [e for e in snap.errors if e.fact is Fact.CONTAINER_GONE]
    assert err.subject == b and "removed between listing and inspection" in err.why


def test_failing_inspect_is_an_error_not_a_crash() -> None:
    a, b = _ids(2)
    api = FakeAPI([(a, "web", "running"), (b, "bad", "running")])
    api.broken.add(b)
    snap = collect(_req(), api=api)
    assert [x.name for x in snap.containers] == ["web"]
    assert any(e.subject == b and "boom" in e.why for e in snap.errors)


def test_hung_engine_is_a_collect_failure() -> None:
    api = FakeAPI([])
    api.hang_on = "info"
    with pytest.raises(CollectFailure, match="did not answer in time"):
        collect(_req(), api=api)


def test_one_inventory_pass() -> None:
    ids = _ids(5)
    api = FakeAPI([(i, f"c{n}", "running") for n, i in enumerate(ids)])
    collect(_req(), api=api)
    assert api.calls.count("containers") == 1
    assert api.calls.count("inspect_container") == 5
    assert api.calls.count("inspect_image") == 1  # one image in use, inspected once
    assert api.calls.count("info") == 1 and api.calls.count("version") == 1


def test_selection_running_by_default_all_with_flag_and_globs() -> None:
    a, b, c = _ids(3)
    api = FakeAPI([(a, "web-1", "running"), (b, "web-2", "exited"), (c, "db", "created")])
    assert [x.name for x in collect(_req(), api=api).containers] == ["web-1"]
    assert [x.name for x in collect(_req(all_containers=True), api=api).containers] == ["db", "web-1", "web-2"]
    snap = collect(_req(all_containers=True, container_globs=("web-*",), exclude_globs=("*-2",)), api=api)
    assert [x.name for x in snap.containers] == ["web-1"]
    assert len(snap.inventory) == 3


def test_no_secret_value_in_the_snapshot(tmp_path: Path) -> None:
    (a,) = _ids(1)
    snap = collect(_req(), api=FakeAPI([(a, "web", "running")]))
    text = snap.dumps()
    assert SECRET not in text and SECRET[:8] not in text
    env = {v.name: v for v in snap.containers[0].env}
    assert env["DB_PASSWORD"].length == len(SECRET) and env["DB_PASSWORD"].stub.endswith(f"({len(SECRET)} chars)")
    labels = snap.containers[0].labels
    assert labels["com.example.team"] == "payments" and labels["com.example.db.password"].endswith("chars)")
    assert Snapshot.loads(text) == snap
    image = json.loads(text)["images"][0]
    assert "API_TOKEN" in image["history"][0]["created_by"]
    assert image["cmd"][0] == "serve" and image["cmd"][1].startswith("--db-password=")


@pytest.mark.parametrize(
    ("error", "message", "hint"),
    [
        (EngineDown("permission denied on unix:///var/run/docker.sock"), "permission denied", "docker"),
        (EngineTimeout("no complete answer within 10 s (--timeout)"), "did not answer in time", "--timeout"),
        (EngineDown("no socket at /var/run/docker.sock"), "cannot connect", "DOCKER_HOST"),
        (EngineHTTPError(500, "GET /version: HTTP 500"), "cannot use", "DOCKER_HOST"),
    ],
)
def test_connection_failures_say_what_to_do(error: Any, message: str, hint: str) -> None:
    from runbench.collect.engine import _failure

    failure = _failure(error, "unix:///var/run/docker.sock")
    assert message in failure.message and "unix:///var/run/docker.sock" in failure.message
    assert hint in failure.hint


def test_collection_errors_are_sorted_so_identical_scans_give_identical_snapshots() -> None:
    ids = _ids(6)
    api = FakeAPI([(i, f"c{n}", "running") for n, i in enumerate(ids)])
    api.broken.update(ids[::2])
    first = collect(_req(), api=api)
    again = collect(_req(), api=api)
    assert [e.sort_key for e in first.errors] == sorted(e.sort_key for e in first.errors)
    assert first.errors == again.errors


def test_a_failed_inspect_is_a_container_error_and_a_vanished_one_is_churn() -> None:
    a, b = _ids(2)
    api = FakeAPI([(a, "bad", "running"), (b, "gone", "running")])
    api.broken.add(a)
    api.vanish.add(b)
    snap = collect(_req(), api=api)
    assert {(e.fact, e.subject) for e in snap.errors if e.fact in (Fact.CONTAINER, Fact.CONTAINER_GONE)} == {
        (Fact.CONTAINER, a),
        (Fact.CONTAINER_GONE, b),
    }


def test_the_collector_records_swarm_and_daemon_configuration_facts() -> None:
    snap = collect(_req(), api=FakeAPI([]))
    assert snap.swarm is not None and snap.swarm.state == "inactive"
    assert snap.daemon_config is not None and "info" in snap.daemon_config.read


def test_dockerd_argv_is_stored_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    import runbench.collect.engine as collect_engine
    from runbench.collect.host import DaemonJson
    from runbench.snapshot import DaemonFacts, HostFacts

    argv = (
        "/usr/bin/dockerd",
        "--registry-mirror=https://bob:" + SECRET + "@mirror.example",
        "--log-opt",
        "splunk-token=" + SECRET,
    )
    monkeypatch.setattr(
        collect_engine,
        "daemon_facts",
        lambda table, host, **_: (
            DaemonFacts(pid=1, uid=0, argv=argv, verified=True, verified_by="test"),
            "",
            DaemonJson(),
        ),
    )
    monkeypatch.setattr(collect_engine, "host_facts", lambda *a: HostFacts(hostname="h", local=True))
    snap = collect(CollectRequest(), api=FakeAPI([]))
    assert snap.daemon is not None and SECRET not in snap.dumps() and SECRET[:8] not in snap.dumps()
    assert snap.daemon.argv[1].startswith("--registry-mirror=https://bob:")
