"""The forked share of the collection (runbench.split): results come back whole, and whatever the child
does not deliver (it dies, fails to send, runs past the deadline) is handed back to the parent to do."""

from __future__ import annotations

import dataclasses
import lzma
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runbench import engine, split
from runbench.catalog import load_catalog
from runbench.cli import main
from runbench.collect.engine import CollectRequest, collect
from runbench.engine import evaluate
from runbench.policy import Policy
from runbench.render import OutputFormat
from runbench.snapshot import Fact, Snapshot
from runbench.split import BATCH, Forked
from tests.support.fakeengine import FakeEngine, container_id, status
from tests.test_collect import FakeAPI
from tests.unit.test_output import fill, mounted_tmpfs

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def _square(x: int) -> int:
    return x * x


def _run(items: list[int], work: Any, deadline: float | None = None) -> tuple[list[Any], list[int], Forked[int, Any]]:
    forked = Forked.start(items, lambda: work, 4, deadline)
    assert forked is not None
    got: list[Any] = []
    while forked._fd is not None and len(got) < len(items):  # what the parent takes between its own work
        got += forked.poll()
        time.sleep(0.01)
    rest, undone = forked.finish()
    return got + rest, undone, forked


def _no_such_child(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_every_result_comes_back_once_and_the_child_is_reaped() -> None:
    items = list(range(3 * BATCH + 5))
    got, undone, forked = _run(items, _square)
    assert sorted(got) == [x * x for x in items] and undone == []
    assert forked._exit == 0 and _no_such_child(forked.pid)


def test_a_child_that_dies_hands_back_what_it_did_not_deliver() -> None:
    items = list(range(4 * BATCH))
    dies_at = 2 * BATCH + 3

    def work(x: int) -> int:
        if x == dies_at:
            os._exit(7)  # killed mid-way: no frame for its batch
        return x * x

    got, undone, forked = _run(items, work)
    assert dies_at in undone
    assert sorted(got + [x * x for x in undone]) == [x * x for x in items]  # nothing lost, nothing twice
    assert set(got).isdisjoint(x * x for x in undone)
    assert forked._exit == 7


def test_a_result_that_cannot_be_sent_leaves_its_items_to_the_parent() -> None:
    def work(x: int) -> Any:
        return threading.Lock() if x == 5 else x  # a lock cannot be pickled

    got, undone, forked = _run(list(range(2 * BATCH)), work)
    assert 5 in undone and set(got) | set(undone) == set(range(2 * BATCH))
    assert forked._exit == 1


def test_the_deadline_stops_a_slow_child() -> None:
    def work(x: int) -> int:
        time.sleep(30)
        return x

    t0 = time.monotonic()
    forked = Forked.start(list(range(8)), lambda: work, 2, time.monotonic() + 0.5)
    assert forked is not None
    got, undone = forked.finish()
    assert time.monotonic() - t0 < 10
    assert got == [] and undone == list(range(8))
    assert _no_such_child(forked.pid)


def test_close_stops_a_child_nobody_waits_for() -> None:
    forked = Forked.start([1, 2], lambda: lambda x: time.sleep(30), 2, None)
    assert forked is not None
    forked.close()
    assert _no_such_child(forked.pid)


def test_when_to_split() -> None:
    assert split.worth_splitting(1, True) and not split.worth_splitting(10_000, False)
    assert not split.worth_splitting(split.MIN_ITEMS - 1, None)
    many = split.MIN_ITEMS * 4
    assert split.worth_splitting(many, None) == (split.usable_cpus() >= 2 and threading.active_count() == 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # another thread runs: a fork could copy a lock it holds, so no automatic split
        assert not split.worth_splitting(many, None)
    finally:
        stop.set()
        other.join()


def _comparable(snap: Any) -> Any:
    return dataclasses.replace(snap, collected_at="", duration_s=0.0)


@pytest.fixture
def undone(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items each forked child left undone (0: it delivered everything)."""
    counts: list[int] = []
    finish = Forked.finish

    def spy(self: Forked[Any, Any]) -> Any:
        done, left = finish(self)
        counts.append(len(left))
        return done, left

    monkeypatch.setattr(Forked, "finish", spy)
    return counts


def test_a_split_collection_is_the_same_snapshot(undone: list[int]) -> None:
    ids = [f"{i:064x}" for i in range(1, 41)]
    api = FakeAPI([(cid, f"app-{i}", "running") for i, cid in enumerate(ids)])
    api.vanish.add(ids[3])  # the child's share
    api.broken.add(ids[30])  # the parent's
    whole = collect(CollectRequest(read_host=False, split=False), api=api)
    shared = collect(CollectRequest(read_host=False, split=True), api=api)
    assert _comparable(shared) == _comparable(whole)
    assert len(whole.containers) == 38
    assert {e.fact for e in whole.errors if e.subject in (ids[3], ids[30])} == {Fact.CONTAINER_GONE, Fact.CONTAINER}
    assert undone == [0]  # the child did its share


def test_a_split_collection_over_a_real_connection(undone: list[int]) -> None:
    """The child opens a connection of its own to the engine (here a fake one over a unix socket)."""
    with FakeEngine(containers=24, behaviour={f"/containers/{container_id(5)}/json": status(500, "boom")}) as engine:
        req = {"docker_host": engine.url, "read_host": False, "timeout": 5.0}
        whole = collect(CollectRequest(split=False, **req))
        shared = collect(CollectRequest(split=True, **req))
    assert _comparable(shared) == _comparable(whole)
    assert len(shared.containers) == 23 and [e.subject for e in shared.incomplete] == [container_id(5)]
    assert undone == [0]


# --- the renderers' share -------------------------------------------------------------

FLEET = Path(__file__).resolve().parents[1] / "fixtures" / "fleet" / "snapshot-1000.json.xz"


@pytest.fixture(scope="module")
def fleet() -> Snapshot:
    whole = Snapshot.loads(lzma.decompress(FLEET.read_bytes()).decode())
    return dataclasses.replace(whole, containers=whole.containers[:160])  # 160 containers: 6,000+ findings


def _always(monkeypatch: pytest.MonkeyPatch, value: bool) -> None:
    monkeypatch.setattr(split, "worth_splitting", lambda *a, **k: value)


def test_a_split_rendering_writes_every_file_and_reports_the_child_s_failures(
    fleet: Snapshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    undone: list[int],
) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(fleet.dumps())
    names = ["a.json", "a.html", "a.sarif", "a.xml", "a.md", "a.prom"]

    def report(outdir: Path, *extra: str) -> int:
        outdir.mkdir(exist_ok=True)
        return main(["report", str(snap), "-q", *(a for n in names for a in ("-o", str(outdir / n))), *extra])

    _always(monkeypatch, False)
    assert report(tmp_path / "one") == 1  # the policy is not met: exit 1, every file written
    _always(monkeypatch, True)
    assert report(tmp_path / "two") == 1
    for name in names:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    capsys.readouterr()
    started: list[Any] = []
    start = Forked.start.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Forked, "start", classmethod(lambda cls, items, *a: started.append(items) or start(cls, items, *a))
    )
    with mounted_tmpfs(tmp_path / "full", "size=64k") as full:
        fill(full)
        lost = full / "x.html"  # HTML is the costliest format: the child takes it, and cannot write it
        assert report(tmp_path / "three", "-o", str(lost)) == 2
    err = capsys.readouterr().err
    assert f"could not write {lost}" in err and "policy NOT met" in err, err
    assert all((tmp_path / "three" / name).exists() for name in names)
    assert OutputFormat.HTML in started[-1]  # the failure was the child's
    assert undone == [0, 0, 0, 0]  # each run forked twice (the container checks, the formats): all delivered


def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    """A parent killed outright (kill -9, cron's timeout) leaves no child behind (PR_SET_PDEATHSIG)."""
    script = (
        "import sys, time\n"
        "from runbench.split import Forked\n"
        "f = Forked.start([1], lambda: (lambda x: time.sleep(60)), 1, None)\n"
        "print(f.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)}
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child), "the forked child outlived its parent"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# --- the container checks' share ------------------------------------------------------


def test_a_split_evaluation_gives_the_same_report(fleet: Snapshot, undone: list[int]) -> None:
    catalog = load_catalog()
    whole = evaluate(catalog, fleet, Policy(), split_checks=False)
    shared = evaluate(catalog, fleet, Policy(), split_checks=True)
    assert undone == [0]  # one scope was split (the containers'), and the child judged its whole share
    assert shared == whole  # every finding, in the same order, and every score
    assert len(whole.findings) > 6000


def test_what_a_dying_child_did_not_judge_is_judged_here(
    fleet: Snapshot, undone: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog()
    whole = evaluate(catalog, fleet, Policy(), split_checks=False)
    parent, rows, calls = os.getpid(), engine._rows, [0]

    def dies_after_a_few(*args: Any) -> Any:
        if os.getpid() != parent:
            calls[0] += 1
            if calls[0] > 5:  # the child dies after 5 subjects (whatever it had sent may have arrived)
                os._exit(3)
        return rows(*args)

    monkeypatch.setattr(engine, "_rows", dies_after_a_few)
    assert evaluate(catalog, fleet, Policy(), split_checks=True) == whole
    assert undone[0] >= len(fleet.containers) // 2 - 5  # the parent judged the rest
